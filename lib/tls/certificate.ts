/**
 * What the endpoint reads from an X.509 certificate, whichever reader reads it: the small DER
 * reader of the web build (`x509.ts`) or the platform's (`node:crypto` under Deno, see
 * `lib/adapters/deno_certificates.ts`). The TLS stack validates certificates; the endpoint only
 * checks that the client certificate names it and reports when it expires.
 *
 * This module is browser compatible.
 *
 * @module
 */

/** What a certificate reader finds in a certificate. */
export interface CertificateInfo {
  /** The subject's common name (CN); the first one when there are several. */
  commonName?: string;
  /** The issuer's common name. */
  issuerCommonName?: string;
  /** Not valid before, in ms since the epoch. */
  notBefore: number;
  /** Not valid after, in ms since the epoch. */
  notAfter: number;
  /**
   * The serial number: the bytes of its DER integer in lower-case hexadecimal (so `"05"`, and
   * `"0080aa"` for 0x80AA, whose DER integer needs a leading zero byte).
   */
  serial: string;
}

/**
 * Reads the first certificate of PEM text.
 *
 * @param pem The PEM text; text around the certificate is ignored.
 * @returns What the certificate says, or a promise of it (a reader that loads what it needs first).
 * @throws {SyntaxError} When there is no certificate or it cannot be read.
 */
export type CertificateReader = (pem: string) => CertificateInfo | Promise<CertificateInfo>;
