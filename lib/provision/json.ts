/**
 * The cloud's provisioning JSON (`Accept: application/json`, protocol §8.3), read and checked,
 * and written back to keep what was fetched.
 *
 * @module
 */

import { isRecord } from "../_record.ts";
import { ConfigError } from "../errors.ts";
import { uuidProblem } from "../model/names.ts";
import { checkProvisioned } from "./check.ts";
import type { PemSetting, Provisioned } from "./provisioned.ts";

/**
 * Parses and checks the provisioning JSON of the cloud (`Accept: application/json`):
 * `{"endpoint": uuid, "properties": {…}, "caCertificate": PEM, "clientCertificate": PEM,
 * "clientPrivateKey": PEM}`, where `clientPrivateKey` is absent, `null` or empty when the cloud
 * does not know the key (it certified a public key it was sent). Property values may be strings,
 * numbers or booleans; other members are ignored.
 *
 * @param text The JSON text.
 * @returns The checked material (see {@linkcode checkProvisioned}).
 * @throws {ConfigError} When the text is not JSON, a member is missing or of the wrong type, or a
 * check of {@linkcode checkProvisioned} fails.
 *
 * @example Malformed provisioning data
 * ```ts
 * import { parseProvisioningJson } from "./json.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseProvisioningJson("<html>"), { name: "ConfigError", message: /not JSON/ });
 * assert.throws(() => parseProvisioningJson('{"endpoint": "pump"}'), {
 *   name: "ConfigError",
 *   key: "uuid",
 * });
 * ```
 */
export function parseProvisioningJson(text: string): Provisioned {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new ConfigError("Cannot parse the provisioning data: it is not JSON", { cause: error });
  }
  if (!isRecord(data)) {
    throw new ConfigError("Cannot parse the provisioning data: it is not a JSON object");
  }
  const { endpoint, properties, caCertificate, clientCertificate, clientPrivateKey } = data;
  if (typeof endpoint !== "string") {
    throw new ConfigError('Cannot parse the provisioning data: "endpoint" is not a UUID string', {
      key: "uuid",
    });
  }
  const problem = uuidProblem(endpoint);
  if (problem !== undefined) {
    throw new ConfigError(
      `Cannot parse the provisioning data: "endpoint" ${JSON.stringify(endpoint)} is not a ` +
        `valid UUID (${problem})`,
      { key: "uuid" },
    );
  }
  const props = new Map<string, string>();
  if (properties !== undefined && properties !== null) {
    if (!isRecord(properties)) {
      throw new ConfigError('Cannot parse the provisioning data: "properties" is not an object');
    }
    for (const [key, value] of Object.entries(properties)) {
      if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
        throw new ConfigError(
          `Cannot parse the provisioning data: property "${key}" is not a string, number or boolean`,
          { key },
        );
      }
      props.set(key, String(value));
    }
  }
  const member = (value: unknown, name: string, setting: PemSetting): string => {
    if (typeof value !== "string") {
      throw new ConfigError(`Cannot parse the provisioning data: "${name}" is not a PEM string`, {
        key: `ssl.${setting}`,
      });
    }
    return value;
  };
  const provisioned: Provisioned = {
    uuid: endpoint,
    properties: props,
    caPem: member(caCertificate, "caCertificate", "authorityCert"),
    certPem: member(clientCertificate, "clientCertificate", "clientCert"),
  };
  if (clientPrivateKey !== undefined && clientPrivateKey !== null && clientPrivateKey !== "") {
    provisioned.keyPem = member(clientPrivateKey, "clientPrivateKey", "clientKey");
  }
  return checkProvisioned(provisioned);
}

/**
 * Writes provisioned material as the cloud's provisioning JSON, which
 * {@linkcode parseProvisioningJson} reads back: to keep what was fetched when it cannot be
 * installed yet. The result holds the private key: store it readable by the owner only.
 *
 * @param provisioned The material.
 * @returns The JSON text.
 *
 * @example
 * ```ts ignore
 * import { stringifyProvisioningJson } from "./json.ts";
 *
 * await Deno.writeTextFile("saved.json", stringifyProvisioningJson(provisioned), { mode: 0o600 });
 * ```
 */
export function stringifyProvisioningJson(provisioned: Provisioned): string {
  const data: Record<string, unknown> = {
    endpoint: provisioned.uuid,
    properties: Object.fromEntries(provisioned.properties),
    caCertificate: provisioned.caPem,
    clientCertificate: provisioned.certPem,
  };
  if (provisioned.keyPem !== undefined) data.clientPrivateKey = provisioned.keyPem;
  return JSON.stringify(data, null, 2) + "\n";
}
