/**
 * The cloud's provisioning ZIP archive (`Accept: application/zip`, protocol §8.3), read and
 * checked.
 *
 * @module
 */

import { parseProperties } from "../config/properties.ts";
import { ConfigError } from "../errors.ts";
import { uuidProblem } from "../model/names.ts";
import { checkProvisioned } from "./check.ts";
import {
  PEM_NAMES,
  type PemSetting,
  PROPERTY_PREFIX,
  type Provisioned,
  provisionedFileNames,
} from "./provisioned.ts";
import { readZip, type ReadZipOptions } from "./zip.ts";

function decodeText(data: Uint8Array, name: string, latin1Fallback: boolean): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch (error) {
    if (latin1Fallback) return new TextDecoder("latin1").decode(data);
    throw new ConfigError(
      `Cannot read "${name}" of the provisioning archive: it is not UTF-8 text`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Parses and checks the provisioning ZIP archive of the cloud (`Accept: application/zip`):
 * `<name>.properties` (the stored properties plus `ch.hevs.cloudio.endpoint.uuid`), `ca-cert.pem`,
 * `<uuid>-client-cert.pem` and, when the cloud knows it, `<uuid>-private-key.pem`. The files may
 * also all sit in one top-level directory (such as `cloud.io/`). Other files are ignored.
 *
 * The archive is read by {@linkcode readZip}, which refuses zip-slip and absolute names,
 * encrypted entries, ZIP64 and oversized content.
 *
 * @param bytes The archive.
 * @param options Limits for the ZIP reader.
 * @returns The checked material (see {@linkcode checkProvisioned}).
 * @throws {ConfigError} When the archive is refused, a file is missing (the message names the
 * expected files), the properties cannot be parsed, the UUID is missing, or a check of
 * {@linkcode checkProvisioned} fails.
 *
 * @example Not an archive
 * ```ts
 * import { parseProvisioningZip } from "./archive.ts";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(parseProvisioningZip(new TextEncoder().encode("{}")), {
 *   name: "ConfigError",
 *   message: /not a ZIP archive/,
 * });
 * ```
 */
export async function parseProvisioningZip(
  bytes: Uint8Array,
  options: ReadZipOptions = {},
): Promise<Provisioned> {
  const entries = await readZip(bytes, options);
  let files = entries.filter((entry) => !entry.name.includes("/"));
  if (files.length === 0) {
    const tops = new Set(entries.map((entry) => entry.name.split("/")[0]));
    if (tops.size === 1) {
      const [top] = tops;
      files = entries
        .filter((entry) => entry.name.split("/").length === 2)
        .map((entry) => ({ name: entry.name.slice(top.length + 1), data: entry.data }));
    }
  }
  const byName = new Map(files.map((file) => [file.name, file.data]));
  if (!byName.has("ca-cert.pem") && files.some((file) => /\.(jks|p12)$/.test(file.name))) {
    throw new ConfigError(
      "Cannot use the provisioning archive: it is the Java archive (authority.jks, <uuid>.p12); " +
        "ask for application/zip instead",
    );
  }
  const propertiesFiles = files.filter((file) => file.name.endsWith(".properties"));
  if (propertiesFiles.length !== 1) {
    throw new ConfigError(
      `Cannot use the provisioning archive: ${
        propertiesFiles.length === 0
          ? "it holds no .properties file"
          : `it holds ${propertiesFiles.length} .properties files, not one`
      }`,
    );
  }
  const [propertiesFile] = propertiesFiles;
  let props: Map<string, string>;
  try {
    props = parseProperties(decodeText(propertiesFile.data, propertiesFile.name, true));
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new ConfigError(
      `Cannot parse "${propertiesFile.name}" of the provisioning archive: ${detail}`,
      {
        cause: error,
      },
    );
  }
  const stem = propertiesFile.name.slice(0, -".properties".length);
  const uuid = (props.get(`${PROPERTY_PREFIX}uuid`) ?? props.get("uuid"))?.trim() ||
    (uuidProblem(stem) === undefined ? stem : undefined);
  if (uuid === undefined) {
    throw new ConfigError(
      `Cannot use the provisioning archive: "${propertiesFile.name}" has no property ` +
        `"${PROPERTY_PREFIX}uuid"`,
      { key: "uuid" },
    );
  }
  const problem = uuidProblem(uuid);
  if (problem !== undefined) {
    throw new ConfigError(`Cannot use ${JSON.stringify(uuid)} as endpoint UUID: ${problem}`, {
      key: "uuid",
    });
  }
  const names = provisionedFileNames(uuid);
  const text = (name: string, setting: PemSetting): string => {
    const data = byName.get(name);
    if (data === undefined) {
      throw new ConfigError(
        `Cannot use the provisioning archive: it has no "${name}" (the ${PEM_NAMES[setting]})`,
        { key: `ssl.${setting}` },
      );
    }
    return decodeText(data, name, false);
  };
  const provisioned: Provisioned = {
    uuid,
    properties: props,
    caPem: text(names.authorityCert, "authorityCert"),
    certPem: text(names.clientCert, "clientCert"),
  };
  if (byName.has(names.clientKey)) provisioned.keyPem = text(names.clientKey, "clientKey");
  return checkProvisioned(provisioned);
}
