/**
 * A small, strict ZIP reader for the archives the cloud hands out (protocol §8.3): it reads the
 * central directory, inflates with the web's `DecompressionStream("deflate-raw")`, and refuses
 * whatever a provisioning archive never needs and an attacker might use.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";

/** A file read from a ZIP archive. */
export interface ZipEntry {
  /** The name as stored, with `/` separators, such as `ca-cert.pem` or `cloud.io/x.properties`. */
  name: string;
  /** The uncompressed content. */
  data: Uint8Array;
}

/** Limits of {@linkcode readZip}, against zip bombs and oversized archives. */
export interface ReadZipOptions {
  /**
   * The most entries (files and directories) the archive may hold.
   *
   * @default {64}
   */
  maxEntries?: number;
  /**
   * The largest uncompressed size of one file, in bytes.
   *
   * @default {1048576}
   */
  maxEntrySize?: number;
  /**
   * The largest uncompressed size of all files together, in bytes.
   *
   * @default {4194304}
   */
  maxTotalSize?: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const ZIP64_EXTRA = 0x0001;

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * Computes the CRC-32 (ISO-HDLC, as ZIP and gzip use it) of some bytes.
 *
 * @param bytes The bytes.
 * @returns The CRC, as an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * import { crc32 } from "./zip.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function fail(problem: string): ConfigError {
  return new ConfigError(`Cannot read the ZIP archive: ${problem}`);
}

/** Why an entry name cannot be extracted safely, or `undefined` when it can. */
function nameProblem(name: string): string | undefined {
  if (name === "" || name === "/") return "it is empty";
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return "it contains control characters";
  if (name.includes("\\")) return 'it contains "\\"';
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) return "it is an absolute path";
  const parts = name.replace(/\/$/, "").split("/");
  if (parts.includes("..")) return 'it contains ".." (zip slip)';
  if (parts.some((part) => part === "" || part === ".")) return 'it has an empty or "." part';
  return undefined;
}

/** Quotes an entry name for a message, without letting control characters through. */
function shown(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}

interface CentralEntry {
  name: string;
  nameBytes: Uint8Array;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function findEndOfCentralDirectory(bytes: Uint8Array, view: DataView): number {
  const lowest = Math.max(0, bytes.length - 22 - 0xffff);
  for (let pos = bytes.length - 22; pos >= lowest; pos--) {
    if (view.getUint32(pos, true) !== EOCD) continue;
    // The comment must run exactly to the end, or this is a signature inside the comment.
    if (pos + 22 + view.getUint16(pos + 20, true) === bytes.length) return pos;
  }
  throw fail("it is not a ZIP archive (no end of central directory record)");
}

function hasZip64Extra(view: DataView, start: number, length: number): boolean {
  let offset = start;
  const end = start + length;
  while (offset + 4 <= end) {
    const id = view.getUint16(offset, true);
    const size = view.getUint16(offset + 2, true);
    if (id === ZIP64_EXTRA) return true;
    offset += 4 + size;
  }
  return false;
}

function readCentralDirectory(
  bytes: Uint8Array,
  view: DataView,
  limits: Required<ReadZipOptions>,
): { entries: CentralEntry[]; centralStart: number } {
  const eocd = findEndOfCentralDirectory(bytes, view);
  const disk = view.getUint16(eocd + 4, true);
  const centralDisk = view.getUint16(eocd + 6, true);
  const diskEntries = view.getUint16(eocd + 8, true);
  const count = view.getUint16(eocd + 10, true);
  const centralSize = view.getUint32(eocd + 12, true);
  const centralStart = view.getUint32(eocd + 16, true);
  if (
    count === 0xffff || diskEntries === 0xffff || centralSize === 0xffffffff ||
    centralStart === 0xffffffff ||
    (eocd >= 20 && view.getUint32(eocd - 20, true) === ZIP64_LOCATOR)
  ) {
    throw fail("ZIP64 archives are not supported");
  }
  if (disk !== 0 || centralDisk !== 0 || diskEntries !== count) {
    throw fail("archives split over several disks are not supported");
  }
  if (count > limits.maxEntries) {
    throw fail(`it holds ${count} entries, more than the ${limits.maxEntries} allowed`);
  }
  if (centralStart + centralSize !== eocd) {
    throw fail("the central directory is not where the end record says it is");
  }

  const entries: CentralEntry[] = [];
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let offset = centralStart;
  for (let i = 0; i < count; i++) {
    if (offset + 46 > eocd || view.getUint32(offset, true) !== CENTRAL) {
      throw fail(`central directory entry ${i + 1} is malformed`);
    }
    const flags = view.getUint16(offset + 8, true);
    const method = view.getUint16(offset + 10, true);
    const crc = view.getUint32(offset + 16, true);
    const compressedSize = view.getUint32(offset + 20, true);
    const size = view.getUint32(offset + 24, true);
    const nameLength = view.getUint16(offset + 28, true);
    const extraLength = view.getUint16(offset + 30, true);
    const commentLength = view.getUint16(offset + 32, true);
    const startDisk = view.getUint16(offset + 34, true);
    const localOffset = view.getUint32(offset + 42, true);
    const next = offset + 46 + nameLength + extraLength + commentLength;
    if (next > eocd) throw fail(`central directory entry ${i + 1} is truncated`);
    const nameBytes = bytes.subarray(offset + 46, offset + 46 + nameLength);
    let name: string;
    try {
      name = decoder.decode(nameBytes);
    } catch {
      throw fail(`the name of entry ${i + 1} is not UTF-8`);
    }
    const problem = nameProblem(name);
    if (problem !== undefined) throw fail(`entry ${shown(name)} is refused: ${problem}`);
    if (flags & 0x0001 || flags & 0x0040 || flags & 0x2000) {
      throw fail(`entry ${shown(name)} is encrypted`);
    }
    if (
      compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff ||
      startDisk === 0xffff || hasZip64Extra(view, offset + 46 + nameLength, extraLength)
    ) {
      throw fail(`entry ${shown(name)} uses ZIP64, which is not supported`);
    }
    if (method !== 0 && method !== 8) {
      throw fail(
        `entry ${shown(name)} uses compression method ${method} (only stored and deflate)`,
      );
    }
    if (method === 0 && compressedSize !== size) {
      throw fail(`stored entry ${shown(name)} has different compressed and uncompressed sizes`);
    }
    if (size > limits.maxEntrySize) {
      throw fail(
        `entry ${shown(name)} is ${size} bytes uncompressed, more than the ` +
          `${limits.maxEntrySize} allowed`,
      );
    }
    entries.push({ name, nameBytes, method, crc, compressedSize, size, localOffset });
    offset = next;
  }
  if (offset !== eocd) throw fail("the central directory has bytes after its last entry");
  return { entries, centralStart };
}

async function inflate(
  data: Uint8Array<ArrayBuffer>,
  size: number,
  name: string,
): Promise<Uint8Array> {
  const input = new ReadableStream<BufferSource>({
    start(controller) {
      controller.enqueue(data);
      controller.close();
    },
  });
  const reader = input.pipeThrough(new DecompressionStream("deflate-raw")).getReader();
  const output = new Uint8Array(size);
  let length = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (length + value.length > size) {
        await reader.cancel().catch(() => {});
        throw fail(`entry ${shown(name)} inflates to more than its declared ${size} bytes`);
      }
      output.set(value, length);
      length += value.length;
    }
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(
      `Cannot read the ZIP archive: entry ${shown(name)} is not valid deflate data`,
      { cause: error },
    );
  }
  if (length !== size) {
    throw fail(`entry ${shown(name)} inflates to ${length} bytes, not its declared ${size}`);
  }
  return output;
}

/**
 * Reads every file of a ZIP archive into memory, trusting only its central directory and
 * checking each entry against it.
 *
 * Stored and deflated entries are read; directory entries are checked but not returned. Refused,
 * with a `ConfigError` that names the entry: names that are absolute (`/x`, `C:x`), contain `..`
 * (zip slip), `\`, control characters, or empty parts; duplicate names; encrypted entries; ZIP64
 * and multi-disk archives; other compression methods; entries that overlap or lie outside the
 * archive; sizes above the limits, or data that inflates beyond its declared size (zip bombs); a
 * CRC-32 that does not match.
 *
 * @param bytes The archive.
 * @param options Size and count limits.
 * @returns The files, in the order of the central directory.
 * @throws {ConfigError} When the archive is malformed or refused; the message says why.
 *
 * @example Reading an archive made with `zip`
 * ```ts
 * import { readZip } from "./zip.ts";
 * import assert from "node:assert/strict";
 *
 * // One stored entry, "a.txt" holding "hi".
 * const archive = Uint8Array.from(atob(
 *   "UEsDBBQAAAAAAAAAIVCsKpPYAgAAAAIAAAAFAAAAYS50eHRoaVBLAQIUAxQAAAAAAAAAIVCsKpPYAgAAAAIAAAAF" +
 *     "AAAAAAAAAAAAAACAAQAAAABhLnR4dFBLBQYAAAAAAQABADMAAAAlAAAAAAA=",
 * ), (c) => c.charCodeAt(0));
 * const [entry] = await readZip(archive);
 * assert.equal(entry.name, "a.txt");
 * assert.equal(new TextDecoder().decode(entry.data), "hi");
 * ```
 *
 * @example A zip-slip name is refused
 * ```ts
 * import { readZip } from "./zip.ts";
 * import assert from "node:assert/strict";
 *
 * // One entry named "../a.txt".
 * const archive = Uint8Array.from(atob(
 *   "UEsDBBQAAAAAAAAAIVCsKpPYAgAAAAIAAAAIAAAALi4vYS50eHRoaVBLAQIUAxQAAAAAAAAAIVCsKpPYAgAAAAIA" +
 *     "AAAIAAAAAAAAAAAAAACAAQAAAAAuLi9hLnR4dFBLBQYAAAAAAQABADYAAAAoAAAAAAA=",
 * ), (c) => c.charCodeAt(0));
 * await assert.rejects(readZip(archive), { name: "ConfigError", message: /zip slip/ });
 * ```
 */
export async function readZip(
  bytes: Uint8Array,
  options: ReadZipOptions = {},
): Promise<ZipEntry[]> {
  const limits: Required<ReadZipOptions> = {
    maxEntries: options.maxEntries ?? 64,
    maxEntrySize: options.maxEntrySize ?? 1 << 20,
    maxTotalSize: options.maxTotalSize ?? 4 << 20,
  };
  if (bytes.length < 22) throw fail("it is not a ZIP archive (too short)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { entries, centralStart } = readCentralDirectory(bytes, view, limits);

  const names = new Set<string>();
  let total = 0;
  for (const entry of entries) {
    const key = entry.name.replace(/\/$/, "");
    if (names.has(key)) throw fail(`entry ${shown(entry.name)} appears twice`);
    names.add(key);
    total += entry.size;
    if (total > limits.maxTotalSize) {
      throw fail(`its files add up to more than the ${limits.maxTotalSize} bytes allowed`);
    }
  }

  // Where each entry's data lies, checked against its local header; no two may overlap.
  const spans = entries.map((entry) => {
    const at = entry.localOffset;
    if (at + 30 > centralStart || view.getUint32(at, true) !== LOCAL) {
      throw fail(`the local header of entry ${shown(entry.name)} is missing`);
    }
    const flags = view.getUint16(at + 6, true);
    const method = view.getUint16(at + 8, true);
    const nameLength = view.getUint16(at + 26, true);
    const extraLength = view.getUint16(at + 28, true);
    const localName = bytes.subarray(at + 30, at + 30 + nameLength);
    if (
      nameLength !== entry.nameBytes.length || localName.some((b, i) => b !== entry.nameBytes[i])
    ) {
      throw fail(`the local header of entry ${shown(entry.name)} names another file`);
    }
    if (flags & 0x0001 || flags & 0x0040) throw fail(`entry ${shown(entry.name)} is encrypted`);
    if (method !== entry.method) {
      throw fail(`the local header of entry ${shown(entry.name)} disagrees on the method`);
    }
    if (hasZip64Extra(view, at + 30 + nameLength, extraLength)) {
      throw fail(`entry ${shown(entry.name)} uses ZIP64, which is not supported`);
    }
    const dataStart = at + 30 + nameLength + extraLength;
    const dataEnd = dataStart + entry.compressedSize;
    if (dataEnd > centralStart) throw fail(`the data of entry ${shown(entry.name)} is truncated`);
    return { entry, start: at, dataStart, dataEnd };
  });
  const ordered = [...spans].sort((a, b) => a.start - b.start);
  for (let i = 1; i < ordered.length; i++) {
    if (ordered[i].start < ordered[i - 1].dataEnd) {
      throw fail(
        `entries ${shown(ordered[i - 1].entry.name)} and ${shown(ordered[i].entry.name)} overlap`,
      );
    }
  }

  const files: ZipEntry[] = [];
  for (const { entry, dataStart, dataEnd } of spans) {
    const raw = bytes.subarray(dataStart, dataEnd);
    if (entry.name.endsWith("/")) {
      if (entry.size !== 0) throw fail(`directory entry ${shown(entry.name)} has content`);
      continue;
    }
    const data = entry.method === 0
      ? raw.slice()
      : await inflate(raw.slice(), entry.size, entry.name);
    if (crc32(data) !== entry.crc) throw fail(`entry ${shown(entry.name)} fails its CRC-32 check`);
    files.push({ name: entry.name, data });
  }
  return files;
}
