/**
 * Generating an endpoint's key pair on the device with Web Crypto, so that only the public key
 * is sent to the cloud for certification (protocol §8.3).
 *
 * @module
 */

import { toPem } from "./_pem.ts";

/** A key pair in PEM, as the provisioning API and the TLS settings take it. */
export interface GeneratedKeyPair {
  /** The public key: SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`). */
  publicKeyPem: string;
  /** The private key: unencrypted PKCS#8 (`-----BEGIN PRIVATE KEY-----`). */
  privateKeyPem: string;
}

/** Options of {@linkcode generateKeyPair}. */
export interface GenerateKeyPairOptions {
  /**
   * The RSA modulus length in bits: 2048 (what the cloud generates itself), 3072 or 4096.
   *
   * @default {2048}
   */
  modulusLength?: 2048 | 3072 | 4096;
}

/**
 * Generates an RSA key pair (RSASSA-PKCS1-v1_5 with SHA-256, public exponent 65537), the kind of
 * key the cloud's certificates carry, and returns both halves as PEM.
 *
 * @param options The modulus length.
 * @returns The public key (SPKI PEM) to send to the cloud and the private key (PKCS#8 PEM) to keep.
 * @throws {RangeError} When the modulus length is not 2048, 3072 or 4096.
 *
 * @example Generating a key pair and using the private key with Web Crypto
 * ```ts
 * import { generateKeyPair } from "./keys.ts";
 * import assert from "node:assert/strict";
 *
 * const { publicKeyPem, privateKeyPem } = await generateKeyPair();
 * assert.match(publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
 * assert.match(privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
 * ```
 */
export async function generateKeyPair(
  options: GenerateKeyPairOptions = {},
): Promise<GeneratedKeyPair> {
  const { modulusLength = 2048 } = options;
  if (modulusLength !== 2048 && modulusLength !== 3072 && modulusLength !== 4096) {
    throw new RangeError(
      `Cannot generate an RSA key pair: the modulus length must be 2048, 3072 or 4096: ` +
        `current value is ${modulusLength}`,
    );
  }
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  const [spki, pkcs8] = await Promise.all([
    crypto.subtle.exportKey("spki", pair.publicKey),
    crypto.subtle.exportKey("pkcs8", pair.privateKey),
  ]);
  return { publicKeyPem: toPem("PUBLIC KEY", spki), privateKeyPem: toPem("PRIVATE KEY", pkcs8) };
}
