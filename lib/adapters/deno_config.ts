/**
 * Configuration files under Deno: the {@linkcode ConfigReader} that the properties search uses,
 * and reading the PEM files that the settings point to.
 *
 * Needs `--allow-read` for the files, and `--allow-env=HOME` for `home:` and `~` locations.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import type { ConfigReader } from "../config/discover.ts";

function isMissing(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory;
}

function isForbidden(error: unknown): boolean {
  return error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.NotCapable;
}

function describe(error: unknown): string {
  if (error instanceof Deno.errors.NotCapable) return "read access is not granted (--allow-read)";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory";
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads configuration files with `Deno.readTextFile`, and takes the home directory from the
 * `HOME` environment variable when it is first asked for; without permission to read it, the home
 * is unknown (`undefined`) and `home:` locations are skipped.
 *
 * `readTextFile` resolves to `undefined` when the file or a directory on its path does not
 * exist, and throws a `ConfigError` naming the file when reading it is not permitted. Other errors
 * (a directory in place of the file, I/O errors) are thrown as Deno raised them.
 *
 * @example Reading a file, and one that does not exist
 * ```ts
 * import { denoConfigReader } from "./deno_config.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/demo.properties`, "hostUri=example.com\n");
 *   const text = await denoConfigReader.readTextFile(`${dir}/demo.properties`);
 *   assert.equal(text, "hostUri=example.com\n");
 *   assert.equal(await denoConfigReader.readTextFile(`${dir}/nope.properties`), undefined);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export const denoConfigReader: ConfigReader = {
  /**
   * Reads a UTF-8 text file.
   *
   * @param path The file.
   * @returns The text, or `undefined` when the file or a directory on its path does not exist.
   * @throws {ConfigError} When reading the file is not permitted.
   * @throws {Error} Any other error of `Deno.readTextFile`.
   */
  async readTextFile(path: string): Promise<string | undefined> {
    try {
      return await Deno.readTextFile(path);
    } catch (error) {
      if (isMissing(error)) return undefined;
      if (isForbidden(error)) {
        throw new ConfigError(`Cannot read ${path}: ${describe(error)}`, { path, cause: error });
      }
      throw error;
    }
  },
  /** The `HOME` environment variable, or `undefined` when it is unset or may not be read. */
  get home(): string | undefined {
    try {
      const home = Deno.env.get("HOME");
      return home === "" ? undefined : home;
    } catch {
      return undefined;
    }
  },
};

/** The PEM labels each kind of file may hold. */
const LABELS = {
  certificate: ["CERTIFICATE", "X509 CERTIFICATE"],
  key: ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"],
  encrypted: ["ENCRYPTED PRIVATE KEY"],
};

/** Why PEM text cannot serve as `what`, or `undefined` when it can. The text is never quoted. */
function pemProblem(
  text: string,
  what: "authorityCert" | "clientCert" | "clientKey",
): string | undefined {
  const labels = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g)].map((match) => match[1]);
  if (labels.length === 0) {
    return 'it is not a PEM file (no "-----BEGIN " line); convert DER, PKCS#12 or JKS files ' +
      "to PEM with openssl";
  }
  const has = (kind: keyof typeof LABELS) => labels.some((label) => LABELS[kind].includes(label));
  const legacyEncrypted = /^Proc-Type:\s*4,\s*ENCRYPTED/m.test(text);
  if (what === "clientKey") {
    if (has("encrypted") || (has("key") && legacyEncrypted)) {
      return "the private key is encrypted, which is not supported; decrypt it with openssl";
    }
    if (has("key")) return undefined;
    return has("certificate")
      ? "it holds a certificate, not a private key"
      : "it holds no private key";
  }
  if (has("certificate")) return undefined;
  return has("key") || has("encrypted")
    ? "it holds a private key, not a certificate"
    : "it holds no certificate";
}

// Certificate files are read again on every connection attempt (renewed ones are used at the next
// reconnect); a gateway's endpoints share a CA file and reconnect together after a broker restart.
// A file is read again only when it changed since the last read: another inode (renewed by a
// rename), another size, modification or status-change time (a rewrite in place; the ctime also
// moves where the mtime's resolution is coarse).
const pemCache = new Map<string, { stamp: string; text: string }>();

async function readCached(path: string): Promise<string> {
  const info = await Deno.stat(path);
  const times = [info.mtime, info.ctime].map((t) => t?.getTime());
  const stamp = [info.ino, info.size, ...times].join(":");
  const cached = pemCache.get(path);
  if (cached && cached.stamp === stamp) return cached.text;
  const text = await Deno.readTextFile(path);
  if (times.every(Number.isFinite)) pemCache.set(path, { stamp, text });
  return text;
}

/**
 * Reads a PEM file named by the settings and checks that it holds the right kind of block: a
 * certificate (`-----BEGIN CERTIFICATE-----`) for `authorityCert` and `clientCert`, an
 * unencrypted private key (`PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`) for `clientKey`.
 * Error messages never contain the file's content.
 *
 * @param path The file, such as `EndpointSettings.clientKey`.
 * @param what Which setting names the file; the error's key is `ssl.<what>`.
 * @returns The file's text.
 * @throws {ConfigError} With key `ssl.<what>` and the path, when the file does not exist, cannot
 * be read, is not PEM, holds the wrong kind of block, or holds an encrypted private key.
 *
 * @example Reading a CA certificate
 * ```ts
 * import { readPem } from "./deno_config.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".pem" });
 * try {
 *   const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
 *   await Deno.writeTextFile(path, pem);
 *   assert.match(await readPem(path, "authorityCert"), /BEGIN CERTIFICATE/);
 *   await assert.rejects(readPem(path, "clientKey"), {
 *     name: "ConfigError",
 *     key: "ssl.clientKey",
 *     message: /holds a certificate, not a private key/,
 *   });
 * } finally {
 *   await Deno.remove(path);
 * }
 * ```
 */
export async function readPem(
  path: string,
  what: "authorityCert" | "clientCert" | "clientKey",
): Promise<string> {
  const key = `ssl.${what}`;
  let text: string;
  try {
    text = await readCached(path);
  } catch (error) {
    const problem = isMissing(error) ? "it does not exist" : describe(error);
    throw new ConfigError(`Cannot read ${key} file ${path}: ${problem}`, {
      key,
      path,
      cause: error,
    });
  }
  const problem = pemProblem(text, what);
  if (problem !== undefined) {
    throw new ConfigError(`Cannot use ${key} file ${path}: ${problem}`, { key, path });
  }
  return text;
}
