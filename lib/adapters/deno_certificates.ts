/**
 * Certificates under Deno, read with `node:crypto`'s `X509Certificate`: what the endpoint checks
 * of its client certificate on every connection attempt (the Deno platform's `readCertificate`,
 * giving what `lib/tls/x509.ts` gives in the web build), and whether a certificate certifies a
 * key (provisioning's checks).
 *
 * @module
 */

import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
import type { CertificateInfo } from "../tls/certificate.ts";

const CERTIFICATE =
  /-----BEGIN (?:X509 )?CERTIFICATE-----[\s\S]*?-----END (?:X509 )?CERTIFICATE-----/;

function detail(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

/** The first certificate of PEM text, or DER bytes, as node:crypto reads it. */
function x509(certificate: string | Uint8Array): X509Certificate {
  let input: string | Uint8Array = certificate;
  if (typeof certificate === "string") {
    const match = CERTIFICATE.exec(certificate);
    if (match === null) throw new SyntaxError("No certificate in the PEM text");
    input = match[0];
  }
  try {
    return new X509Certificate(input);
  } catch (cause) {
    throw new SyntaxError(`Not an X.509 certificate (${detail(cause)})`, { cause });
  }
}

/**
 * The first common name of a name, as `toLegacyObject()` gives it: a string, or an array when
 * the name has several.
 */
function commonName(name: unknown): string | undefined {
  const cn = (name as { CN?: unknown } | undefined)?.CN;
  const first = Array.isArray(cn) ? cn[0] : cn;
  if (typeof first !== "string") return undefined;
  // Deno 2.9.6 gives a BMPString (UTF-16) as its bytes: "\0A" for "A". A UUID is ASCII, so the
  // UTF-16 of ASCII text is read back, as x509.ts reads it.
  // deno-lint-ignore no-control-regex
  return /^(?:\0[\x01-\x7f])+$/.test(first) ? first.replace(/\0/g, "") : first;
}

/** node:crypto's serial (upper-case hex, no leading zeros) as the DER integer's bytes. */
function serialBytes(serialNumber: string): string {
  const hex = serialNumber.length % 2 === 1
    ? `0${serialNumber.toLowerCase()}`
    : serialNumber.toLowerCase();
  return /^[89a-f]/.test(hex) ? `00${hex}` : hex;
}

/**
 * Reads a certificate with `node:crypto`: the Deno platform's certificate reader.
 *
 * @param certificate PEM text (its first certificate; text around it is ignored) or DER bytes.
 * @returns Subject and issuer common names, validity and serial, as `lib/tls/x509.ts` gives them.
 * @throws {SyntaxError} When there is no certificate or it cannot be read (the cause is
 * node:crypto's error).
 *
 * @example
 * ```ts ignore
 * import { readCertificate } from "./deno_certificates.ts";
 *
 * const info = readCertificate(await Deno.readTextFile("client-cert.pem"));
 * console.log(info.commonName, new Date(info.notAfter));
 * ```
 */
export function readCertificate(certificate: string | Uint8Array): CertificateInfo {
  const cert = x509(certificate);
  const { subject, issuer } = cert.toLegacyObject();
  return {
    commonName: commonName(subject),
    issuerCommonName: commonName(issuer),
    notBefore: cert.validFromDate.getTime(),
    notAfter: cert.validToDate.getTime(),
    serial: serialBytes(cert.serialNumber),
  };
}

/**
 * Tells whether a certificate certifies a key: whether its public key is the key, or the public
 * half of the private key.
 *
 * @param certificate PEM text (its first certificate) or DER bytes.
 * @param keyPem One key, PEM: a public key (`PUBLIC KEY`), or an unencrypted private key
 * (`PRIVATE KEY`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`), whose public half is derived.
 * @returns Whether the certificate certifies that key.
 * @throws {SyntaxError} When the certificate or the key cannot be read (the cause is
 * node:crypto's error).
 *
 * @example
 * ```ts ignore
 * import { certificateMatchesKey } from "./deno_certificates.ts";
 *
 * if (!certificateMatchesKey(certPem, keyPem)) throw new Error("The key is not the certificate's");
 * ```
 */
export function certificateMatchesKey(certificate: string | Uint8Array, keyPem: string): boolean {
  const cert = x509(certificate);
  const isPrivate = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(keyPem);
  let key: KeyObject;
  try {
    key = isPrivate ? createPublicKey(createPrivateKey(keyPem)) : createPublicKey(keyPem);
  } catch (cause) {
    throw new SyntaxError(`Not a ${isPrivate ? "private" : "public"} key (${detail(cause)})`, {
      cause,
    });
  }
  return key.equals(cert.publicKey);
}
