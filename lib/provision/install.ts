/**
 * Installing what the cloud provisioned (protocol §8.3) under Deno: the properties file and the
 * PEM files, written atomically, with the private key readable by its owner only.
 *
 * Needs `--allow-read` and `--allow-write` for the directory, and `--allow-env=HOME` for the
 * default directory `~/.config/cloud.io`.
 *
 * @module
 */

import { settingsFromProperties } from "../config/settings.ts";
import { stringifyProperties } from "../config/write_properties.ts";
import { ConfigError } from "../errors.ts";
import { parseProvisioningZip } from "./archive.ts";
import { checkProvisioned } from "./check.ts";
import { installedProperties } from "./installed_properties.ts";
import { parseProvisioningJson } from "./json.ts";
import { type Provisioned, provisionedFileNames } from "./provisioned.ts";
import type { ReadZipOptions } from "./zip.ts";

/** Options of {@linkcode installProvisioned}. */
export interface InstallOptions {
  /**
   * The directory to install into; created (mode 0700) when missing.
   *
   * @default {"~/.config/cloud.io"} the first place the endpoint looks
   */
  dir?: string;
  /**
   * Replace files that exist with other content. Files whose content is already what would be
   * written (a shared `ca-cert.pem`, or a repeated installation) are left alone either way.
   *
   * @default {false}
   */
  overwrite?: boolean;
  /**
   * The name of the properties file, `<name>.properties`, for `new Endpoint(name)`; the file
   * gives the UUID in `ch.hevs.cloudio.endpoint.uuid`.
   *
   * @default {provisioned.uuid}
   */
  name?: string;
  /**
   * The broker, replacing the cloud's `hostUri` property or supplying it when the cloud stores
   * none.
   *
   * @default {undefined} the cloud's `hostUri`
   */
  hostUri?: string;
  /**
   * The private key (PEM) when the provisioned material has none: the key whose public half was
   * certified, kept on the device.
   *
   * @default {undefined}
   */
  keyPem?: string;
}

/** What {@linkcode installProvisioned} wrote. */
export interface InstalledFiles {
  /** The endpoint's UUID. */
  uuid: string;
  /** The name to give `new Endpoint(name)`: the properties file's name without `.properties`. */
  name: string;
  /** The directory, to give as `locations: [dir]` when it is not a standard one. */
  dir: string;
  /** The properties file. */
  properties: string;
  /** The CA certificate. */
  authorityCert: string;
  /** The client certificate. */
  clientCert: string;
  /** The private key (mode 0600). */
  clientKey: string;
  /** The files that already held exactly this content and were left alone. */
  unchanged: string[];
}

/** Options of {@linkcode installFromZip}. */
export interface InstallFromZipOptions extends InstallOptions {
  /** Limits of the ZIP reader. */
  zip?: ReadZipOptions;
}

function describe(error: unknown): string {
  if (error instanceof Deno.errors.NotCapable) {
    return "access is not granted (--allow-read/--allow-write)";
  }
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return error instanceof Error ? error.message : String(error);
}

function defaultDir(): string {
  let home: string | undefined;
  try {
    home = Deno.env.get("HOME");
  } catch (error) {
    throw new ConfigError(
      "Cannot find ~/.config/cloud.io: reading HOME is not allowed (--allow-env=HOME); give a directory",
      { cause: error },
    );
  }
  if (!home) {
    throw new ConfigError("Cannot find ~/.config/cloud.io: HOME is not set; give a directory");
  }
  return `${home.replace(/\/+$/, "")}/.config/cloud.io`;
}

async function existing(path: string): Promise<Uint8Array | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new ConfigError(`Cannot install to ${path}: ${describe(error)}`, { path, cause: error });
  }
  if (!info.isFile) {
    throw new ConfigError(`Cannot install to ${path}: it exists and is not a regular file`, {
      path,
    });
  }
  try {
    return await Deno.readFile(path);
  } catch (error) {
    throw new ConfigError(`Cannot install to ${path}: ${describe(error)}`, { path, cause: error });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Creates the directory (mode 0700) when it is missing. */
async function ensureDir(dir: string): Promise<void> {
  try {
    const info = await Deno.stat(dir);
    if (!info.isDirectory) {
      throw new ConfigError(`Cannot install to ${dir}: it is not a directory`, { path: dir });
    }
    return;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (!(error instanceof Deno.errors.NotFound)) {
      throw new ConfigError(`Cannot install to ${dir}: ${describe(error)}`, {
        path: dir,
        cause: error,
      });
    }
  }
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    if (Deno.build.os !== "windows") await Deno.chmod(dir, 0o700);
  } catch (error) {
    throw new ConfigError(`Cannot create ${dir}: ${describe(error)}`, { path: dir, cause: error });
  }
}

/** Writes a temporary file beside `path` (exclusive create, given mode, synced). */
async function writeTemp(path: string, data: Uint8Array, mode: number): Promise<string> {
  const slash = path.lastIndexOf("/");
  const random = crypto.getRandomValues(new Uint32Array(2)).join("");
  const temp = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.${random}.tmp`;
  const file = await Deno.open(temp, { write: true, createNew: true, mode });
  try {
    if (Deno.build.os !== "windows") await Deno.chmod(temp, mode);
    let written = 0;
    while (written < data.length) written += await file.write(data.subarray(written));
    await file.syncData();
  } catch (error) {
    file.close();
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
  file.close();
  return temp;
}

/**
 * Installs provisioned material: `<name>.properties` (default name: the UUID), `ca-cert.pem`,
 * `<uuid>-client-cert.pem` and `<uuid>-private-key.pem` in one directory, by default
 * `~/.config/cloud.io`, where `new Endpoint(uuid)` finds them.
 *
 * The properties file holds the cloud's properties plus `ch.hevs.cloudio.endpoint.uuid` and
 * `ssl.authorityCert`, `ssl.clientCert`, `ssl.clientKey` naming the PEM files by relative names
 * (resolved against the file's directory), in Java properties syntax. Before anything is written,
 * the material is checked ({@linkcode checkProvisioned}), the resulting properties are checked
 * as the endpoint will read them (so a missing or bad `hostUri` fails here), and existing files
 * are compared: one whose content differs is an error unless `overwrite`. Each file is written to
 * a temporary file in the same directory, synced and renamed over the target; the properties file
 * comes last, so it never names files that are not there yet. The private key gets mode 0600, the
 * other files 0644, and a directory created here 0700 (modes are not applied on Windows).
 *
 * @param provisioned What `provision()`, `parseProvisioningJson()` or `parseProvisioningZip()`
 * returned.
 * @param options The directory, overwriting, file name, broker and private key.
 * @returns The paths written.
 * @throws {ConfigError} When the material or the resulting settings are invalid, there is no
 * private key, a file exists with other content and `overwrite` is false (nothing is written
 * then), or the directory cannot be created or written (`path` is set).
 * @throws {TypeError} When `name` is not a plain file name.
 *
 * @example Installing into a directory of one's own
 * ```ts ignore
 * import { provision } from "./provision.ts";
 * import { installProvisioned } from "./install.ts";
 *
 * const provisioned = await provision("https://cloudio.example.com", token);
 * const files = await installProvisioned(provisioned, { dir: "/etc/cloud.io" });
 * // new Endpoint(files.uuid) now finds /etc/cloud.io/<uuid>.properties.
 * ```
 *
 * @example Invalid material is refused before anything is written
 * ```ts
 * import { installProvisioned } from "./install.ts";
 * import assert from "node:assert/strict";
 *
 * const invalid = {
 *   uuid: "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55",
 *   properties: new Map(),
 *   caPem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
 *   certPem: "",
 * };
 * await assert.rejects(installProvisioned(invalid, { dir: "/nonexistent" }), {
 *   name: "ConfigError",
 *   key: "ssl.authorityCert",
 *   message: /not a valid X\.509 certificate/,
 * });
 * ```
 */
export async function installProvisioned(
  provisioned: Provisioned,
  options: InstallOptions = {},
): Promise<InstalledFiles> {
  const { overwrite = false } = options;
  let material = provisioned;
  if (options.keyPem !== undefined) {
    if (provisioned.keyPem !== undefined) {
      throw new ConfigError(
        "Cannot install: a private key was given, but the provisioned material has one already",
        { key: "ssl.clientKey" },
      );
    }
    material = { ...provisioned, keyPem: options.keyPem };
  }
  const checked = checkProvisioned(material);
  const { uuid } = checked;
  if (checked.keyPem === undefined) {
    throw new ConfigError(
      `Cannot install endpoint ${uuid}: there is no private key (the cloud does not know it); ` +
        "give the key whose public half was certified, or provision with a key generated here",
      { key: "ssl.clientKey" },
    );
  }
  const name = options.name ?? uuid;
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name) || name.length > 200) {
    throw new TypeError(
      `Cannot install as ${JSON.stringify(name)}: the name must be a plain file name ` +
        "(letters, digits, '_', '.', '-')",
    );
  }
  const dir = (options.dir ?? defaultDir()).replace(/(.)\/+$/, "$1");
  const names = provisionedFileNames(uuid);
  const props = installedProperties(checked, { hostUri: options.hostUri });
  const propertiesPath = `${dir}/${name}.properties`;
  // The endpoint will read these settings; fail now rather than at its first connect.
  settingsFromProperties(props, { source: propertiesPath, baseDir: dir, uuid: name });

  const encoder = new TextEncoder();
  const files = [
    { path: `${dir}/${names.authorityCert}`, data: encoder.encode(checked.caPem), mode: 0o644 },
    { path: `${dir}/${names.clientCert}`, data: encoder.encode(checked.certPem), mode: 0o644 },
    { path: `${dir}/${names.clientKey}`, data: encoder.encode(checked.keyPem), mode: 0o600 },
    {
      path: propertiesPath,
      data: encoder.encode(stringifyProperties(props, {
        comment: `cloud.iO endpoint ${uuid}, provisioned by the cloud`,
      })),
      mode: 0o644,
    },
  ];

  await ensureDir(dir);
  const unchanged: string[] = [];
  const conflicts: string[] = [];
  const pending: typeof files = [];
  for (const file of files) {
    const current = await existing(file.path);
    if (current === undefined) {
      pending.push(file);
    } else if (sameBytes(current, file.data)) {
      unchanged.push(file.path);
      if (file.mode === 0o600 && Deno.build.os !== "windows") {
        const mode = (await Deno.stat(file.path)).mode;
        if (mode !== null && (mode & 0o077) !== 0) pending.push(file);
      }
    } else {
      conflicts.push(file.path);
      pending.push(file);
    }
  }
  if (conflicts.length > 0 && !overwrite) {
    throw new ConfigError(
      `Cannot install endpoint ${uuid}: ${conflicts.join(", ")} already ${
        conflicts.length === 1 ? "exists" : "exist"
      } with other content; remove ${conflicts.length === 1 ? "it" : "them"} or allow overwriting`,
      { path: conflicts[0] },
    );
  }

  const temps: { temp: string; path: string }[] = [];
  try {
    for (const file of pending) {
      temps.push({ temp: await writeTemp(file.path, file.data, file.mode), path: file.path });
    }
    // Renames are atomic; the properties file is the last one.
    while (temps.length > 0) {
      const { temp, path } = temps[0];
      await Deno.rename(temp, path);
      temps.shift();
    }
  } catch (error) {
    for (const { temp } of temps) await Deno.remove(temp).catch(() => {});
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`Cannot install endpoint ${uuid} into ${dir}: ${describe(error)}`, {
      path: dir,
      cause: error,
    });
  }
  return {
    uuid,
    name,
    dir,
    properties: propertiesPath,
    authorityCert: files[0].path,
    clientCert: files[1].path,
    clientKey: files[2].path,
    unchanged: unchanged.filter((path) => !pending.some((file) => file.path === path)),
  };
}

/**
 * Installs the provisioning ZIP archive of the cloud ({@linkcode parseProvisioningZip}, then
 * {@linkcode installProvisioned}).
 *
 * @param bytes The archive, as downloaded.
 * @param options Where and how to install, and the ZIP reader's limits.
 * @returns The paths written.
 * @throws {ConfigError} When the archive is refused or invalid, or installing fails.
 *
 * @example
 * ```ts ignore
 * import { installFromZip } from "./install.ts";
 *
 * const files = await installFromZip(await Deno.readFile("endpoint.zip"));
 * ```
 */
export async function installFromZip(
  bytes: Uint8Array,
  options: InstallFromZipOptions = {},
): Promise<InstalledFiles> {
  const { zip, ...install } = options;
  return await installProvisioned(await parseProvisioningZip(bytes, zip), install);
}

/**
 * Installs the provisioning JSON of the cloud ({@linkcode parseProvisioningJson}, then
 * {@linkcode installProvisioned}).
 *
 * @param text The JSON text, as downloaded.
 * @param options Where and how to install.
 * @returns The paths written.
 * @throws {ConfigError} When the JSON is invalid, or installing fails.
 *
 * @example
 * ```ts ignore
 * import { installFromJson } from "./install.ts";
 *
 * const files = await installFromJson(await Deno.readTextFile("endpoint.json"), { dir: "." });
 * ```
 */
export async function installFromJson(
  text: string,
  options: InstallOptions = {},
): Promise<InstalledFiles> {
  return await installProvisioned(parseProvisioningJson(text), options);
}
