/**
 * The material the cloud provisions for one endpoint (protocol §8.3): the {@linkcode Provisioned}
 * value that every provisioning source produces and the installer writes, and the names of its
 * PEM files.
 *
 * @module
 */

/** The prefix of every cloud.iO endpoint property key. */
export const PROPERTY_PREFIX = "ch.hevs.cloudio.endpoint.";

/** What the cloud hands out for one endpoint, checked. */
export interface Provisioned {
  /** The endpoint's UUID; the client certificate's CN. */
  uuid: string;
  /**
   * The endpoint's properties as stored in the cloud (keys as given, usually with the
   * `ch.hevs.cloudio.endpoint.` prefix), without `uuid` and without certificate paths: the
   * installer adds those.
   */
  properties: Map<string, string>;
  /** The CA certificate(s) that signed the broker's certificate, PEM. */
  caPem: string;
  /** The endpoint's client certificate, PEM (possibly followed by its chain). */
  certPem: string;
  /** The endpoint's private key, PEM, unless the cloud does not know it. */
  keyPem?: string;
}

/** The file names the cloud's ZIP archive uses, and the installer too. */
export interface ProvisionedFileNames {
  /** `ca-cert.pem`. */
  authorityCert: string;
  /** `<uuid>-client-cert.pem`. */
  clientCert: string;
  /** `<uuid>-private-key.pem`. */
  clientKey: string;
}

/**
 * Returns the names of the PEM files of an endpoint, as the cloud's ZIP archive names them.
 *
 * @param uuid The endpoint's UUID.
 * @returns The three file names.
 *
 * @example
 * ```ts
 * import { provisionedFileNames } from "./provisioned.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(provisionedFileNames("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55"), {
 *   authorityCert: "ca-cert.pem",
 *   clientCert: "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55-client-cert.pem",
 *   clientKey: "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55-private-key.pem",
 * });
 * ```
 */
export function provisionedFileNames(uuid: string): ProvisionedFileNames {
  return {
    authorityCert: "ca-cert.pem",
    clientCert: `${uuid}-client-cert.pem`,
    clientKey: `${uuid}-private-key.pem`,
  };
}

/** The settings that name the three PEM files. */
export type PemSetting = "authorityCert" | "clientCert" | "clientKey";

/** What each PEM file holds, as messages name it. */
export const PEM_NAMES: Record<PemSetting, string> = {
  authorityCert: "CA certificate",
  clientCert: "client certificate",
  clientKey: "private key",
};
