/**
 * Reads what the endpoint needs to know of an X.509 certificate in PEM: its subject's common
 * name (the endpoint UUID for cloud.iO), its issuer's, and its validity. A small DER reader, not
 * a validator: the TLS stack validates. It is the certificate reader of the web build (the web
 * platform's `readCertificate`) and the default of `inspectCredentials()`; the Deno platform
 * reads certificates with `node:crypto` instead (`lib/adapters/deno_certificates.ts`).
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { CertificateInfo } from "./certificate.ts";

interface Tlv {
  tag: number;
  start: number; // first content byte
  end: number; // one past the last content byte
}

function tlv(der: Uint8Array, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new SyntaxError("Truncated DER");
  const tag = der[at];
  let length = der[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4 || start + bytes > limit) {
      throw new SyntaxError("Unsupported DER length");
    }
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i];
    start += bytes;
  }
  const end = start + length;
  if (end > limit) throw new SyntaxError("Truncated DER");
  return { tag, start, end };
}

function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end;) {
    const child = tlv(der, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

const CN = [0x55, 0x04, 0x03]; // 2.5.4.3

function commonName(der: Uint8Array, name: Tlv): string | undefined {
  for (const rdn of children(der, name)) {
    for (const pair of children(der, rdn)) {
      const [oid, value] = children(der, pair);
      if (!oid || !value || oid.tag !== 0x06) continue;
      const id = der.subarray(oid.start, oid.end);
      if (id.length === 3 && id.every((b, i) => b === CN[i])) {
        const bytes = der.subarray(value.start, value.end);
        if (value.tag === 0x1e) {
          let text = "";
          for (let i = 0; i + 1 < bytes.length; i += 2) {
            text += String.fromCharCode((bytes[i] << 8) | bytes[i + 1]);
          }
          return text;
        }
        return new TextDecoder().decode(bytes);
      }
    }
  }
  return undefined;
}

function time(der: Uint8Array, t: Tlv): number {
  const text = new TextDecoder().decode(der.subarray(t.start, t.end));
  const match = t.tag === 0x17
    ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(text)
    : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(text);
  if (!match) throw new SyntaxError(`Unsupported certificate time ${JSON.stringify(text)}`);
  let year = Number(match[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900; // RFC 5280 §4.1.2.5.1
  return Date.UTC(
    year,
    Number(match[2]) - 1,
    Number(match[3]),
    Number(match[4]),
    Number(match[5]),
    Number(match[6] ?? 0),
  );
}

/**
 * Reads the first certificate of a PEM text.
 *
 * @param pem The PEM text.
 * @returns Subject and issuer common names, validity and serial.
 * @throws {SyntaxError} When there is no certificate or it cannot be read.
 *
 * @example
 * ```ts ignore
 * import { readCertificate } from "./x509.ts";
 *
 * const info = readCertificate(await Deno.readTextFile("client-cert.pem"));
 * console.log(info.commonName, new Date(info.notAfter));
 * ```
 */
export function readCertificate(pem: string): CertificateInfo {
  const match = /-----BEGIN (?:X509 )?CERTIFICATE-----([\s\S]*?)-----END (?:X509 )?CERTIFICATE-----/
    .exec(pem);
  if (!match) throw new SyntaxError("No certificate in the PEM text");
  let der: Uint8Array;
  try {
    der = Uint8Array.from(atob(match[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  } catch {
    throw new SyntaxError("The certificate is not valid base64");
  }
  const certificate = tlv(der, 0, der.length);
  const [tbs] = children(der, certificate);
  if (!tbs || certificate.tag !== 0x30 || tbs.tag !== 0x30) {
    throw new SyntaxError("Not an X.509 certificate");
  }
  const fields = children(der, tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] version is optional
  const [serial, , issuer, validity, subject] = fields.slice(offset);
  if (!serial || !issuer || !validity || !subject || validity.tag !== 0x30) {
    throw new SyntaxError("Not an X.509 certificate");
  }
  const [notBefore, notAfter] = children(der, validity);
  if (!notBefore || !notAfter) throw new SyntaxError("The certificate has no validity");
  return {
    commonName: commonName(der, subject),
    issuerCommonName: commonName(der, issuer),
    notBefore: time(der, notBefore),
    notAfter: time(der, notAfter),
    serial: Array.from(
      der.subarray(serial.start, serial.end),
      (b) => b.toString(16).padStart(2, "0"),
    ).join(""),
  };
}
