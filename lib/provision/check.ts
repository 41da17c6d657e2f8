/**
 * Checking provisioned material before anything is installed: the UUID, that each PEM holds the
 * right kind of block, that the client certificate's CN is the UUID (the broker takes the CN as
 * the login), that the private key belongs to the certificate, and that the cloud's properties
 * neither name another endpoint nor point the certificate settings at other files.
 *
 * Certificates and keys are read with `node:crypto` (`lib/adapters/deno_certificates.ts`), so
 * provisioning runs under Deno, not in browsers.
 *
 * @module
 */

import { certificateMatchesKey, readCertificate } from "../adapters/deno_certificates.ts";
import { parseBrokerUri } from "../config/broker_uri.ts";
import { ConfigError } from "../errors.ts";
import { uuidProblem } from "../model/names.ts";
import { normalizePem, type PemBlock, pemBlocks, toPem } from "./_pem.ts";
import {
  PEM_NAMES,
  type PemSetting,
  PROPERTY_PREFIX,
  type Provisioned,
  provisionedFileNames,
} from "./provisioned.ts";

const CERTIFICATE_LABELS = ["CERTIFICATE", "X509 CERTIFICATE"];
const KEY_LABELS = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];

function pemError(what: PemSetting, problem: string): ConfigError {
  return new ConfigError(`Cannot use the provisioned ${PEM_NAMES[what]}: ${problem}`, {
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
  return [PROPERTY_PREFIX + key, key].filter((name) => props.has(name));
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
            `provisioning installs the ${PEM_NAMES[setting]} as "${names[setting]}" and sets ` +
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
 * import { checkProvisioned } from "./check.ts";
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
