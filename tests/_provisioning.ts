/**
 * Fixtures of the provisioning unit tests (`lib/provision/*_test.ts`): one endpoint with an RSA
 * key pair certified by the test CA, what the cloud sends for it (JSON members, ZIP files), and
 * an assertion for the `ConfigError`s the checks throw.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConfigError } from "../lib/errors.ts";
import { testPki } from "./_certs.ts";
import { createSigner } from "./_provision_server.ts";

/** The test PKI. */
export const pki = await testPki();
/** Certifies keys with the test CA, as the cloud does. */
export const signer = await createSigner(pki);
/** The endpoint. */
export const UUID = crypto.randomUUID();
/** The endpoint's key pair (PKCS#8 and SPKI PEM). */
export const rsa = await signer.generate();
/** The endpoint's certificate, for `rsa`. */
export const CERT = await signer.certify(UUID, rsa.publicKeyPem);

/**
 * The cloud's provisioning JSON for the endpoint, with some members replaced (`undefined`
 * removes one).
 */
export function json(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    endpoint: UUID,
    properties: { "ch.hevs.cloudio.endpoint.hostUri": "ssl://cloudio.example.com:8883" },
    caCertificate: pki.caPem,
    clientCertificate: CERT,
    clientPrivateKey: rsa.keyPem,
    ...overrides,
  });
}

/** The files of the cloud's provisioning ZIP archive for the endpoint. */
export function archiveFiles(prefix = "", withKey = true): { name: string; data: string }[] {
  const files = [
    {
      name: `${prefix}${UUID}.properties`,
      data: "#Tue Mar 07 10:00:00 CET 2023\n" +
        "ch.hevs.cloudio.endpoint.hostUri=ssl\\://cloudio.example.com\\:8883\n" +
        `ch.hevs.cloudio.endpoint.uuid=${UUID}\n`,
    },
    { name: `${prefix}ca-cert.pem`, data: pki.caPem },
    { name: `${prefix}${UUID}-client-cert.pem`, data: CERT },
  ];
  if (withKey) files.push({ name: `${prefix}${UUID}-private-key.pem`, data: rsa.keyPem });
  return files;
}

/**
 * Asserts a `ConfigError` whose message matches and whose key is `key`, and which quotes no PEM.
 */
export function configError(pattern: RegExp, key?: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ConfigError, `a ConfigError, not ${error}`);
    assert.match(error.message, pattern);
    if (key !== undefined) assert.equal(error.key, key);
    // PEM content never appears in messages.
    assert.ok(!error.message.includes("MII"), error.message);
    return true;
  };
}
