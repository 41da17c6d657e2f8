/**
 * PEM text: finding its blocks, decoding them, and writing DER as PEM.
 *
 * @module
 */

/** One `-----BEGIN <label>-----` … `-----END <label>-----` block. */
export interface PemBlock {
  label: string;
  /** The decoded body. */
  der: Uint8Array<ArrayBuffer>;
  /** Whether the block has RFC 1421 headers saying it is encrypted (`Proc-Type: 4,ENCRYPTED`). */
  encrypted: boolean;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/**
 * Finds the PEM blocks of a text. Text between blocks is ignored, as OpenSSL ignores it.
 *
 * @param text The PEM text.
 * @returns The blocks, or a problem (never quoting the text).
 */
export function pemBlocks(text: string): PemBlock[] | { problem: string } {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const [, label, body, endLabel] = match;
    if (label !== endLabel) {
      return { problem: `a "BEGIN ${label}" block ends with "END ${endLabel}"` };
    }
    const lines = body.split(/\r?\n/);
    const headers = lines.filter((line) => line.includes(":"));
    const encrypted = headers.some((line) => /^Proc-Type:\s*4,\s*ENCRYPTED/i.test(line));
    const base64 = lines.filter((line) => !line.includes(":")).join("").replace(/\s+/g, "");
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
      return { problem: `the "${label}" block is not valid base64` };
    }
    const binary = atob(base64);
    const der = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) der[i] = binary.charCodeAt(i);
    if (der.length === 0 && !encrypted) return { problem: `the "${label}" block is empty` };
    blocks.push({ label, der, encrypted });
  }
  if (blocks.length === 0 && /-----BEGIN /.test(text)) {
    return { problem: 'a "-----BEGIN" line has no matching "-----END" line' };
  }
  return blocks;
}

/**
 * Writes DER as a PEM block with 64-character lines.
 *
 * @param label The label, such as `PUBLIC KEY`.
 * @param der The bytes.
 * @returns The PEM text, ending with a newline.
 */
export function toPem(label: string, der: Uint8Array | ArrayBuffer): string {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  const base64 = btoa(binary);
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Line ends made `\n`, surrounding blank space removed, one final newline. */
export function normalizePem(text: string): string {
  return text.replace(/\r\n?/g, "\n").trim() + "\n";
}
