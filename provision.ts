/**
 * Provisioning a cloud.iO endpoint under Deno (protocol §8.3): fetch its configuration from the
 * cloud with a provisioning token, or read the JSON or ZIP file downloaded by hand, check it,
 * and install `<uuid>.properties` and the PEM files where `new Endpoint(uuid)` finds them
 * (`~/.config/cloud.io/` by default), the private key readable by its owner only.
 *
 * By default the key pair is generated on the device and only the public key is sent, so the
 * private key never leaves it. Everything is checked before anything is written: the
 * certificate's CN is the UUID, the key belongs to the certificate, the certificate certifies the
 * key that was sent. Certificates and keys are read with `node:crypto`. What is wrong with the
 * token, the URL or the material is a `ConfigError` (its `key` names the setting at fault); what
 * goes wrong on the way is a `ProvisioningError` (a `ConnectionError`, with the HTTP `status`).
 *
 * `deno task provision` (`examples/provision.ts`) does all of this from the command line.
 *
 * @example Provisioning with a token, then connecting
 * ```ts ignore
 * import { installProvisioned, provision } from "@cloudio/endpoint/provision";
 * import { Endpoint } from "@cloudio/endpoint";
 *
 * const token = Deno.env.get("CLOUDIO_PROVISION_TOKEN")!;
 * const files = await installProvisioned(await provision("https://cloudio.example.com", token));
 * await using endpoint = new Endpoint(files.name);
 * await endpoint.connect();
 * ```
 *
 * @example A token that is not one is refused before any request
 * ```ts
 * import { provision } from "./provision.ts";
 * import assert from "node:assert/strict";
 *
 * await assert.rejects(provision("https://cloudio.example.com", "not a token"), {
 *   name: "ConfigError",
 *   key: "token",
 * });
 * ```
 *
 * @module
 */

export { provision, ProvisioningError } from "./lib/provision/provision.ts";
export { parseProvisioningJson, stringifyProvisioningJson } from "./lib/provision/json.ts";
export { parseProvisioningZip } from "./lib/provision/archive.ts";
export { installFromJson, installFromZip, installProvisioned } from "./lib/provision/install.ts";
export { generateKeyPair } from "./lib/provision/keys.ts";
// What provisioning throws, and the classes ProvisioningError extends, so that a provisioning
// script need not load the endpoint (mod.ts) to catch them: the same classes as mod.ts exports.
export { CloudioError, ConfigError, ConnectionError } from "./lib/errors.ts";

export type { ProvisionOptions } from "./lib/provision/provision.ts";
export type { Provisioned } from "./lib/provision/provisioned.ts";
export type { ReadZipOptions } from "./lib/provision/zip.ts";
export type {
  InstalledFiles,
  InstallFromZipOptions,
  InstallOptions,
} from "./lib/provision/install.ts";
export type { GeneratedKeyPair, GenerateKeyPairOptions } from "./lib/provision/keys.ts";
