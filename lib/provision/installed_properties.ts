/**
 * The properties of the file an installer writes for provisioned material: the cloud's
 * properties, the UUID, and the certificate settings naming the installed PEM files.
 *
 * @module
 */

import { parseBrokerUri } from "../config/broker_uri.ts";
import {
  PROPERTY_PREFIX,
  type Provisioned,
  type ProvisionedFileNames,
  provisionedFileNames,
} from "./provisioned.ts";

/** Options of {@linkcode installedProperties}. */
export interface InstalledPropertiesOptions {
  /**
   * The broker, replacing the cloud's `hostUri` (or supplying it when the cloud stores none).
   *
   * @default {undefined} the cloud's `hostUri`
   */
  hostUri?: string;
  /**
   * The certificate locations written into the file.
   *
   * @default {provisionedFileNames(uuid)} relative names, resolved against the file's directory
   */
  files?: ProvisionedFileNames;
}

/**
 * Returns the properties of the file an installer writes: `ch.hevs.cloudio.endpoint.uuid`, the
 * cloud's properties, and `ssl.authorityCert`, `ssl.clientCert` and `ssl.clientKey` naming the
 * installed PEM files (relative names, which the settings loader resolves against the
 * properties file's directory).
 *
 * @param provisioned Checked material.
 * @param options A broker to use instead of the cloud's, and other file locations.
 * @returns The properties, in the order to write them.
 * @throws {ConfigError} With key `hostUri`, when the given `hostUri` is not a broker address.
 *
 * @example
 * ```ts
 * import { installedProperties } from "./installed_properties.ts";
 * import assert from "node:assert/strict";
 *
 * const uuid = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";
 * const props = installedProperties(
 *   { uuid, properties: new Map([["ch.hevs.cloudio.endpoint.hostUri", "ssl://example.com"]]), caPem: "", certPem: "" },
 * );
 * assert.deepEqual([...props.keys()], [
 *   "ch.hevs.cloudio.endpoint.uuid",
 *   "ch.hevs.cloudio.endpoint.hostUri",
 *   "ch.hevs.cloudio.endpoint.ssl.authorityCert",
 *   "ch.hevs.cloudio.endpoint.ssl.clientCert",
 *   "ch.hevs.cloudio.endpoint.ssl.clientKey",
 * ]);
 * assert.equal(props.get("ch.hevs.cloudio.endpoint.ssl.clientKey"), `${uuid}-private-key.pem`);
 * ```
 */
export function installedProperties(
  provisioned: Provisioned,
  options: InstalledPropertiesOptions = {},
): Map<string, string> {
  const files = options.files ?? provisionedFileNames(provisioned.uuid);
  const result = new Map<string, string>([[`${PROPERTY_PREFIX}uuid`, provisioned.uuid]]);
  const skip = new Set<string>();
  for (const key of ["uuid", "ssl.authorityCert", "ssl.clientCert", "ssl.clientKey"]) {
    skip.add(key).add(PROPERTY_PREFIX + key);
  }
  if (options.hostUri !== undefined) {
    parseBrokerUri(options.hostUri);
    skip.add("hostUri");
    result.set(`${PROPERTY_PREFIX}hostUri`, options.hostUri);
  }
  for (const [key, value] of provisioned.properties) {
    if (!skip.has(key) && !(key === `${PROPERTY_PREFIX}hostUri` && options.hostUri !== undefined)) {
      result.set(key, value);
    }
  }
  result.set(`${PROPERTY_PREFIX}ssl.authorityCert`, files.authorityCert);
  result.set(`${PROPERTY_PREFIX}ssl.clientCert`, files.clientCert);
  result.set(`${PROPERTY_PREFIX}ssl.clientKey`, files.clientKey);
  return result;
}
