/**
 * Provisioning by the cloud (protocol §8.3): what `GET /api/v1/provision/<token>` hands out, as
 * JSON or as a ZIP archive, checked and turned into a {@linkcode Provisioned} value that an
 * installer writes to disk (`install.ts`).
 *
 * Every check happens before anything is installed: the UUID, that each PEM holds the right kind
 * of block, that the client certificate's CN is the UUID (the broker takes the CN as the login),
 * that the private key belongs to the certificate, and that the cloud's properties neither name
 * another endpoint nor point the certificate settings at other files.
 *
 * Certificates and keys are read with `node:crypto` (`lib/adapters/deno_certificates.ts`), so
 * provisioning runs under Deno, not in browsers.
 *
 * @module
 */

import { certificateMatchesKey, readCertificate } from "../adapters/deno_certificates.ts";
import { isRecord } from "../_record.ts";
import { parseProperties } from "../config/properties.ts";
import { parseBrokerUri } from "../config/settings.ts";
import { ConfigError, ConnectionError } from "../errors.ts";
import { uuidProblem } from "../model/names.ts";
import { normalizePem, type PemBlock, pemBlocks, toPem } from "./_pem.ts";
import { generateKeyPair } from "./keys.ts";
import { readZip, type ReadZipOptions } from "./zip.ts";

/** The prefix of every cloud.iO endpoint property key. */
const PREFIX = "ch.hevs.cloudio.endpoint.";

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
 * import { provisionedFileNames } from "./provision.ts";
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

// ---------------------------------------------------------------------------------------------
// Checks

type PemSetting = "authorityCert" | "clientCert" | "clientKey";

const WHAT: Record<PemSetting, string> = {
  authorityCert: "CA certificate",
  clientCert: "client certificate",
  clientKey: "private key",
};

const CERTIFICATE_LABELS = ["CERTIFICATE", "X509 CERTIFICATE"];
const KEY_LABELS = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];

function pemError(what: PemSetting, problem: string): ConfigError {
  return new ConfigError(`Cannot use the provisioned ${WHAT[what]}: ${problem}`, {
    key: `ssl.${what}`,
  });
}

function blocksOf(text: unknown, what: PemSetting): PemBlock[] {
  if (typeof text !== "string") throw pemError(what, "it is not text");
  const blocks = pemBlocks(text);
  if ("problem" in blocks) throw pemError(what, blocks.problem);
  if (blocks.length === 0) throw pemError(what, 'it is not PEM (no "-----BEGIN " line)');
  return blocks;
}

/** What the certificate readers found wrong: node:crypto's words when it has some. */
function detail(error: SyntaxError): string {
  return error.cause instanceof Error ? error.cause.message : error.message;
}

/** Checks certificate PEM text; returns the CN and the DER of its first certificate. */
function checkCertificates(text: unknown, what: "authorityCert" | "clientCert"): {
  commonName?: string;
  der: Uint8Array;
} {
  const blocks = blocksOf(text, what);
  if (blocks.some((block) => block.label.includes("PRIVATE KEY"))) {
    throw pemError(what, "it holds a private key, which must never travel with a certificate");
  }
  const other = blocks.find((block) => !CERTIFICATE_LABELS.includes(block.label));
  if (other !== undefined) throw pemError(what, `it holds a "${other.label}" block`);
  const infos = blocks.map((block, i) => {
    try {
      return readCertificate(block.der);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw pemError(
        what,
        `certificate ${i + 1} is not a valid X.509 certificate (${detail(error)})`,
      );
    }
  });
  return { commonName: infos[0].commonName, der: blocks[0].der };
}

/** Checks private key PEM text; returns its one private key block. */
function checkKey(text: unknown): PemBlock {
  const blocks = blocksOf(text, "clientKey");
  if (blocks.some((block) => block.label === "ENCRYPTED PRIVATE KEY" || block.encrypted)) {
    throw pemError("clientKey", "it is encrypted, which is not supported");
  }
  const keys = blocks.filter((block) => KEY_LABELS.includes(block.label));
  if (keys.length === 0) {
    const certificate = blocks.some((block) => CERTIFICATE_LABELS.includes(block.label));
    throw pemError(
      "clientKey",
      certificate ? "it holds a certificate, not a private key" : "it holds no private key",
    );
  }
  // `openssl ecparam -genkey` writes an "EC PARAMETERS" block before the key; TLS ignores it.
  const others = blocks.filter((block) => block.label !== "EC PARAMETERS");
  if (others.length > 1) {
    throw pemError("clientKey", `it holds ${others.length} blocks, not one private key`);
  }
  return keys[0];
}

/** The keys, prefixed and bare, under which a property is present. */
function both(props: ReadonlyMap<string, string>, key: string): string[] {
  return [PREFIX + key, key].filter((name) => props.has(name));
}

/** The last part of a location such as `home:/.config/cloud.io/ca-cert.pem` or `C:\x\ca.pem`. */
function baseName(location: string): string {
  return location.trim().split(/[/\\:]/).pop() ?? "";
}

function checkProperties(uuid: string, input: ReadonlyMap<string, string>): Map<string, string> {
  const props = new Map<string, string>();
  for (const [key, value] of input) {
    if (typeof key !== "string" || key.trim() === "") {
      throw new ConfigError("Cannot use the provisioned properties: a key is empty");
    }
    if (typeof value !== "string") {
      throw new ConfigError(`Cannot use the provisioned property "${key}": its value is not text`, {
        key,
      });
    }
    props.set(key, value);
  }
  for (const key of both(props, "uuid")) {
    const value = props.get(key)!.trim();
    if (value.toLowerCase() !== uuid.toLowerCase()) {
      throw new ConfigError(
        `Cannot use the provisioned properties: "${key}" names endpoint "${value}", ` +
          `but the certificate is for "${uuid}"`,
        { key: "uuid" },
      );
    }
    props.delete(key);
  }
  const names = provisionedFileNames(uuid);
  for (const setting of ["authorityCert", "clientCert", "clientKey"] as const) {
    for (const key of both(props, `ssl.${setting}`)) {
      const value = props.get(key)!;
      if (baseName(value) !== names[setting]) {
        throw new ConfigError(
          `Cannot use the provisioned properties: "${key}" points to "${value}", but ` +
            `provisioning installs the ${WHAT[setting]} as "${names[setting]}" and sets ` +
            `"ssl.${setting}" itself; remove "${key}" from the endpoint's configuration in the cloud`,
          { key: `ssl.${setting}` },
        );
      }
      props.delete(key);
    }
  }
  for (const key of both(props, "hostUri")) {
    if (props.get(key)!.trim() !== "") parseBrokerUri(props.get(key)!);
  }
  return props;
}

/**
 * Checks provisioned material and returns it normalized (PEM line ends made `\n`; `uuid` and
 * certificate-path properties taken out of `properties`).
 *
 * Checked: the UUID is valid; `caPem` and `certPem` hold only well-formed X.509 certificates and
 * no private key; the first certificate of `certPem` has the UUID as its CN; `keyPem`, when
 * present, is one unencrypted private key (PKCS#8, PKCS#1 or SEC 1) that belongs to that
 * certificate; every
 * property value is text; a `uuid` property names the same endpoint; `ssl.authorityCert`,
 * `ssl.clientCert` and `ssl.clientKey` properties, if any, name the files provisioning installs
 * (`ca-cert.pem`, `<uuid>-client-cert.pem`, `<uuid>-private-key.pem`) and nothing else; a
 * `hostUri` property is a valid broker address.
 *
 * @param provisioned The material, from the cloud or assembled by hand.
 * @returns The same material, normalized.
 * @throws {ConfigError} With `key` set to the property or setting at fault (`uuid`,
 * `ssl.authorityCert`, `ssl.clientCert`, `ssl.clientKey`, `hostUri`…); messages never quote PEM
 * content.
 *
 * @example A certificate that is not PEM
 * ```ts
 * import { checkProvisioned } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(
 *   () =>
 *     checkProvisioned({
 *       uuid: "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55",
 *       properties: new Map(),
 *       caPem: "not a certificate",
 *       certPem: "",
 *     }),
 *   { name: "ConfigError", key: "ssl.authorityCert", message: /not PEM/ },
 * );
 * ```
 */
export function checkProvisioned(provisioned: Provisioned): Provisioned {
  const { uuid } = provisioned;
  const problem = uuidProblem(uuid);
  if (problem !== undefined) {
    throw new ConfigError(`Cannot use ${JSON.stringify(uuid)} as endpoint UUID: ${problem}`, {
      key: "uuid",
    });
  }
  checkCertificates(provisioned.caPem, "authorityCert");
  const leaf = checkCertificates(provisioned.certPem, "clientCert");
  if (leaf.commonName !== uuid) {
    throw pemError(
      "clientCert",
      leaf.commonName === undefined
        ? `its subject has no CN; the broker needs CN=${uuid}`
        : `its CN is ${JSON.stringify(leaf.commonName)}, not the endpoint's UUID "${uuid}"`,
    );
  }
  if (provisioned.keyPem !== undefined) {
    const key = checkKey(provisioned.keyPem);
    let belongs: boolean;
    try {
      belongs = certificateMatchesKey(leaf.der, toPem(key.label, key.der));
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw pemError("clientKey", `it is not a valid "${key.label}" (${detail(error)})`);
    }
    if (!belongs) throw pemError("clientKey", "it does not belong to the client certificate");
  }
  if (!(provisioned.properties instanceof Map)) {
    throw new ConfigError("Cannot use the provisioned properties: they are not a Map");
  }
  const result: Provisioned = {
    uuid,
    properties: checkProperties(uuid, provisioned.properties),
    caPem: normalizePem(provisioned.caPem),
    certPem: normalizePem(provisioned.certPem),
  };
  if (provisioned.keyPem !== undefined) result.keyPem = normalizePem(provisioned.keyPem);
  return result;
}

// ---------------------------------------------------------------------------------------------
// JSON

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
 * import { parseProvisioningJson } from "./provision.ts";
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
 * import { stringifyProvisioningJson } from "./provision.ts";
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

// ---------------------------------------------------------------------------------------------
// ZIP

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
 * import { parseProvisioningZip } from "./provision.ts";
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
  const uuid = (props.get(`${PREFIX}uuid`) ?? props.get("uuid"))?.trim() ||
    (uuidProblem(stem) === undefined ? stem : undefined);
  if (uuid === undefined) {
    throw new ConfigError(
      `Cannot use the provisioning archive: "${propertiesFile.name}" has no property ` +
        `"${PREFIX}uuid"`,
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
        `Cannot use the provisioning archive: it has no "${name}" (the ${WHAT[setting]})`,
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

// ---------------------------------------------------------------------------------------------
// The properties file

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
 * import { installedProperties } from "./provision.ts";
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
  const result = new Map<string, string>([[`${PREFIX}uuid`, provisioned.uuid]]);
  const skip = new Set<string>();
  for (const key of ["uuid", "ssl.authorityCert", "ssl.clientCert", "ssl.clientKey"]) {
    skip.add(key).add(PREFIX + key);
  }
  if (options.hostUri !== undefined) {
    parseBrokerUri(options.hostUri);
    skip.add("hostUri");
    result.set(`${PREFIX}hostUri`, options.hostUri);
  }
  for (const [key, value] of provisioned.properties) {
    if (!skip.has(key) && !(key === `${PREFIX}hostUri` && options.hostUri !== undefined)) {
      result.set(key, value);
    }
  }
  result.set(`${PREFIX}ssl.authorityCert`, files.authorityCert);
  result.set(`${PREFIX}ssl.clientCert`, files.clientCert);
  result.set(`${PREFIX}ssl.clientKey`, files.clientKey);
  return result;
}

// ---------------------------------------------------------------------------------------------
// HTTP

/**
 * The provisioning API could not be reached or refused the request: a network failure
 * (`status` undefined), a timeout, or an HTTP error status with the server's message.
 *
 * @example Telling a used token from a network failure
 * ```ts
 * import { ProvisioningError } from "./provision.ts";
 * import { ConnectionError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const error = new ProvisioningError("Forbidden", { status: 403, serverMessage: "Forbidden" });
 * assert.ok(error instanceof ConnectionError);
 * assert.equal(error.status, 403);
 * ```
 */
export class ProvisioningError extends ConnectionError {
  /** The HTTP status, when the server answered. */
  readonly status?: number;
  /** What the server said (its error message or the start of its body), when it said anything. */
  readonly serverMessage?: string;

  /**
   * Creates a provisioning error.
   *
   * @param message What failed.
   * @param options The URL (token redacted), the status, the server's message and the cause.
   */
  constructor(
    message: string,
    options: ErrorOptions & { url?: string; status?: number; serverMessage?: string } = {},
  ) {
    super(message, options);
    this.name = "ProvisioningError";
    this.status = options.status;
    this.serverMessage = options.serverMessage;
  }
}

/** Options of {@linkcode provision}. */
export interface ProvisionOptions {
  /**
   * Generate the key pair here ({@linkcode generateKeyPair}) and send only the public key, so
   * that the private key never leaves the device. With `false`, the cloud generates the key pair
   * (or reuses the endpoint's existing certificate and key) and sends the private key.
   *
   * @default {true}
   */
  generateKey?: boolean;
  /**
   * The format to ask for: the JSON document or the ZIP archive (same content). Whatever the
   * server actually sends, JSON or ZIP, is read.
   *
   * @default {"json"}
   */
  format?: "json" | "zip";
  /**
   * The `fetch` to use, for tests or proxies.
   *
   * @default {globalThis.fetch}
   */
  fetch?: typeof fetch;
  /** Aborts the request; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * How long the request may take, in milliseconds.
   *
   * @default {30000}
   */
  timeout?: number;
  /**
   * Allow plain `http:` to a host other than the loopback interface. The answer carries the
   * private key when the cloud generates it, and the token is in the URL: never over a network.
   *
   * @default {false}
   */
  allowInsecureHttp?: boolean;
}

/** The largest answer accepted, in bytes. */
const MAX_RESPONSE_BYTES = 1 << 20;
const TOKEN = /^[A-Za-z0-9]{64}$/;

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** The request URL and the same URL with the token redacted, for messages. */
function requestUrl(
  apiUrl: string,
  token: string,
  allowInsecureHttp: boolean,
): { url: URL; shown: string } {
  if (typeof token !== "string" || !TOKEN.test(token)) {
    const problem = typeof token !== "string"
      ? "it is not a string"
      : token.length !== 64
      ? `it has ${token.length} characters, not 64`
      : "it contains characters other than letters and digits";
    throw new ConfigError(`Cannot use the provisioning token: ${problem}`, { key: "token" });
  }
  let base: URL;
  try {
    base = new URL(apiUrl);
  } catch (error) {
    throw new ConfigError(
      `Cannot use API URL ${JSON.stringify(apiUrl)}: it is not an absolute URL`,
      {
        key: "apiUrl",
        cause: error,
      },
    );
  }
  const where = `Cannot use API URL "${base.origin}${base.pathname}"`;
  if (base.username !== "" || base.password !== "") {
    throw new ConfigError("Cannot use the API URL: it contains credentials", { key: "apiUrl" });
  }
  if (base.protocol !== "https:" && base.protocol !== "http:") {
    throw new ConfigError(`${where}: only https (or http to this machine) is supported`, {
      key: "apiUrl",
    });
  }
  if (base.search !== "" || base.hash !== "") {
    throw new ConfigError(`${where}: a query or fragment is not supported`, { key: "apiUrl" });
  }
  if (base.protocol === "http:" && !isLoopback(base.hostname) && !allowInsecureHttp) {
    throw new ConfigError(
      `${where}: plain http would expose the token and the private key on the network; use https`,
      { key: "apiUrl" },
    );
  }
  const path = base.pathname.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
  const url = new URL(`${base.origin}${path}/api/v1/provision/${token}`);
  return { url, shown: `${base.origin}${path}/api/v1/provision/${token.slice(0, 4)}…` };
}

/**
 * Reads at most `limit` bytes of a body: `undefined` when it is longer, or with `truncate` its
 * first `limit` bytes.
 */
async function readBody(
  response: Response,
  limit: number,
  truncate = false,
): Promise<Uint8Array | undefined> {
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    if (length + value.length > limit) {
      await reader.cancel().catch(() => {});
      if (!truncate) return undefined;
      chunks.push(value.subarray(0, limit - length));
      length = limit;
      break;
    }
    length += value.length;
    chunks.push(value);
  }
  const body = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}

/** The server's message from an error body: Spring's `message`/`error`, or the text itself. */
function serverMessage(body: Uint8Array | undefined, token: string): string | undefined {
  if (body === undefined || body.length === 0) return undefined;
  let text = new TextDecoder().decode(body);
  try {
    const data = JSON.parse(text);
    if (isRecord(data)) {
      const message = [data.message, data.error, data.detail, data.title].find((value) =>
        typeof value === "string" && value.trim() !== ""
      );
      if (typeof message === "string") text = message;
    }
  } catch {
    // Not JSON: the text itself.
  }
  // deno-lint-ignore no-control-regex
  text = text.replace(/[\x00-\x1f\x7f]+/g, " ").replace(/\s+/g, " ").trim().split(token).join("…");
  if (text === "") return undefined;
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

const HINTS: Record<number, string> = {
  400: "the server refused the request",
  401: "the token is unknown or was already used (tokens are single-use)",
  403: "the token is unknown or was already used (tokens are single-use)",
  404: "there is no provisioning API at this URL, or the endpoint no longer exists",
};

/**
 * Fetches an endpoint's configuration from the cloud with a provisioning token
 * (`GET <apiUrl>/api/v1/provision/<token>`, protocol §8.3) and checks it.
 *
 * By default the key pair is generated here and only the public key is sent (query parameter
 * `publicKey`, URL-encoded PEM); the cloud returns a certificate for it, which must certify
 * exactly that key, and the result carries the private key generated here. The `Endpoint`
 * response header, when present, must name the UUID of the body. Tokens are single-use: a second
 * call with the same token fails with status 403.
 *
 * @param apiUrl The cloud's base URL, such as `https://cloudio.example.com` (a trailing `/api/v1`
 * is accepted). Plain `http:` only to the loopback interface, unless `allowInsecureHttp`.
 * @param token The provisioning token: 64 letters and digits. It never appears in messages.
 * @param options Key generation, format, `fetch`, signal, timeout.
 * @returns The checked configuration, ready to install.
 * @throws {ConfigError} When the token or URL is malformed (key `token` or `apiUrl`, nothing is
 * sent), the answer is not valid provisioning data, its `Endpoint` header names another endpoint,
 * or its certificate does not certify the public key sent.
 * @throws {ProvisioningError} (a `ConnectionError`) When the server cannot be reached, times out,
 * redirects, answers with an error status (`status` and `serverMessage` set), or sends more than
 * 1 MiB or an unknown content type.
 *
 * @example Provisioning, then installing with the Deno adapter
 * ```ts ignore
 * import { provision } from "./provision.ts";
 * import { installProvisioned } from "./install.ts";
 *
 * const provisioned = await provision("https://cloudio.example.com", Deno.env.get("TOKEN")!);
 * const files = await installProvisioned(provisioned);
 * console.log(`Installed ${files.properties}`);
 * ```
 *
 * @example A malformed token is refused before any request
 * ```ts
 * import { provision } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * const fetch = () => Promise.reject(new Error("no request expected"));
 * await assert.rejects(provision("https://cloudio.example.com", "abc", { fetch }), {
 *   name: "ConfigError",
 *   key: "token",
 * });
 * ```
 */
export async function provision(
  apiUrl: string,
  token: string,
  options: ProvisionOptions = {},
): Promise<Provisioned> {
  const {
    generateKey = true,
    format = "json",
    fetch: fetchImpl = globalThis.fetch,
    signal,
    timeout = 30_000,
    allowInsecureHttp = false,
  } = options;
  if (!(timeout > 0)) {
    throw new RangeError(
      `Cannot provision: the timeout must be positive: current value is ${timeout}`,
    );
  }
  const { url, shown } = requestUrl(apiUrl, token, allowInsecureHttp);
  signal?.throwIfAborted();
  const keys = generateKey ? await generateKeyPair() : undefined;
  if (keys) url.search = `publicKey=${encodeURIComponent(keys.publicKeyPem)}`;

  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException("The provisioning request timed out", "TimeoutError"));
  }, timeout);
  let response: Response;
  let body: Uint8Array | undefined;
  try {
    response = await fetchImpl(url, {
      headers: { Accept: format === "zip" ? "application/zip" : "application/json" },
      redirect: "manual",
      signal: controller.signal,
    });
    const ok = response.status >= 200 && response.status < 300;
    body = await readBody(response, ok ? MAX_RESPONSE_BYTES : 8192, !ok);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timedOut) {
      throw new ProvisioningError(
        `Cannot provision from ${shown}: no answer within ${timeout} ms`,
        {
          url: shown,
          cause: error,
        },
      );
    }
    const detail = error instanceof Error ? error.message : String(error);
    throw new ProvisioningError(`Cannot reach the provisioning API at ${shown}: ${detail}`, {
      url: shown,
      cause: error,
    });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }

  const { status } = response;
  if (status >= 300 && status < 400 || response.type === "opaqueredirect") {
    const location = response.headers.get("location");
    throw new ProvisioningError(
      `Cannot provision from ${shown}: the server redirects (${status})` +
        (location ? ` to ${location.split(token).join("…")}; use that URL as the API URL` : ""),
      { url: shown, status },
    );
  }
  if (status < 200 || status >= 300) {
    const message = serverMessage(body, token);
    const hint = HINTS[status] ?? (status >= 500 ? "the server failed" : "the request was refused");
    throw new ProvisioningError(
      `Cannot provision from ${shown}: the server answered ${status} (${hint})` +
        (message ? `: ${message}` : ""),
      message === undefined
        ? { url: shown, status }
        : { url: shown, status, serverMessage: message },
    );
  }
  if (body === undefined) {
    throw new ProvisioningError(
      `Cannot provision from ${shown}: the answer is larger than ${MAX_RESPONSE_BYTES} bytes`,
      { url: shown, status },
    );
  }

  const type = (response.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const isZip = body[0] === 0x50 && body[1] === 0x4b && body[2] === 0x03 && body[3] === 0x04;
  let provisioned: Provisioned;
  if (type === "application/java-archive") {
    throw new ConfigError(
      "Cannot use the provisioning answer: it is the Java archive (JKS and PKCS#12), not JSON or ZIP",
    );
  } else if (type.endsWith("json") || (type !== "application/zip" && !isZip && body[0] === 0x7b)) {
    provisioned = parseProvisioningJson(new TextDecoder().decode(body));
  } else if (type === "application/zip" || type === "application/x-zip-compressed" || isZip) {
    provisioned = await parseProvisioningZip(body);
  } else {
    throw new ProvisioningError(
      `Cannot provision from ${shown}: the answer is ${type || "untyped"}, not JSON or ZIP`,
      { url: shown, status },
    );
  }

  const header = response.headers.get("endpoint");
  if (header !== null && header.trim().toLowerCase() !== provisioned.uuid.toLowerCase()) {
    throw new ConfigError(
      `Cannot use the provisioning answer: its Endpoint header names "${header.trim()}", ` +
        `but its content is for "${provisioned.uuid}"`,
      { key: "uuid" },
    );
  }
  if (keys) {
    if (!certificateMatchesKey(provisioned.certPem, keys.publicKeyPem)) {
      throw new ConfigError(
        "Cannot use the provisioning answer: its certificate does not certify the public key " +
          "that was sent (the cloud may have reused an older certificate)",
        { key: "ssl.clientCert" },
      );
    }
    provisioned = { ...provisioned, keyPem: keys.privateKeyPem };
  }
  return provisioned;
}
