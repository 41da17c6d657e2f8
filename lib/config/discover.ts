/**
 * Finding and loading an endpoint's properties file (protocol §8.1), with file access injected so
 * that the search runs anywhere: `lib/adapters/deno_config.ts` supplies the Deno reader.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { uuidProblem } from "../model/names.ts";
import { parseProperties } from "./properties.ts";
import { resolveLocation } from "./locations.ts";
import { type EndpointSettings, settingsFromProperties } from "./settings.ts";

/** Reads configuration files; the runtime-specific part of the search. */
export interface ConfigReader {
  /**
   * Reads a UTF-8 text file.
   *
   * @param path The file.
   * @returns The text, or `undefined` when the file does not exist.
   * @throws {Error} When the file exists but cannot be read.
   */
  readTextFile(path: string): Promise<string | undefined>;
  /** The user's home directory, for `home:` and `~` locations; `undefined` when unknown. */
  home?: string;
}

/** Where to look for a properties file, and how to read it. */
export interface DiscoverOptions {
  /**
   * Directories searched first, in order, as `home:`/`file:` locations, `~/` paths or plain paths
   * (relative ones are taken as the reader takes them, usually from the working directory).
   *
   * @default {[]}
   */
  locations?: string[];
  /** Reads the files. */
  reader: ConfigReader;
}

/** A properties file that was found. */
export interface DiscoveredConfig {
  /** The file's path. */
  path: string;
  /** The file's text. */
  text: string;
  /** Every file tried, in order, this one last. */
  searched: string[];
}

/** The directories every search ends with, as the Python and Java references search them. */
const STANDARD_LOCATIONS = ["home:/.config/cloud.io/", "file:/etc/cloud.io/"];

function needsHome(location: string): boolean {
  return /^home:/i.test(location) || location === "~" || location.startsWith("~/");
}

function inDirectory(directory: string, file: string): string {
  return directory.endsWith("/") ? `${directory}${file}` : `${directory}/${file}`;
}

function directoryOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Finds the properties file `<name>.properties` of an endpoint. The directories searched are the
 * caller's `locations`, then `home:/.config/cloud.io/`, then `file:/etc/cloud.io/`; the first file
 * that exists wins. `home:` and `~` locations are skipped when the reader knows no home directory.
 * A UUID written with capitals is looked up in the cloud's lower-case form first, then as written,
 * in each directory.
 *
 * @param name The endpoint's UUID, or the application name the file is named after.
 * @param options The caller's directories and the reader.
 * @returns The file's path and text, and every path tried.
 * @throws {TypeError} When the name is empty or contains `/` or `\`.
 * @throws {ConfigError} When no file is found (the message lists every path searched, and
 * `searched` holds them), when a file exists but cannot be read (`path` and `cause` are set), or
 * when a location cannot be resolved.
 *
 * @example Searching an in-memory file system
 * ```ts
 * import { discoverProperties } from "./discover.ts";
 * import assert from "node:assert/strict";
 *
 * const files = new Map([["/home/pi/.config/cloud.io/demo.properties", "hostUri=example.com\n"]]);
 * const reader = {
 *   home: "/home/pi",
 *   readTextFile: (path: string) => Promise.resolve(files.get(path)),
 * };
 * const found = await discoverProperties("demo", { locations: ["/opt/demo"], reader });
 * assert.equal(found.path, "/home/pi/.config/cloud.io/demo.properties");
 * assert.deepEqual(found.searched, [
 *   "/opt/demo/demo.properties",
 *   "/home/pi/.config/cloud.io/demo.properties",
 * ]);
 * ```
 *
 * @example Nothing found
 * ```ts
 * import { discoverProperties } from "./discover.ts";
 * import assert from "node:assert/strict";
 *
 * const reader = { home: "/home/pi", readTextFile: () => Promise.resolve(undefined) };
 * await assert.rejects(discoverProperties("demo", { reader }), {
 *   name: "ConfigError",
 *   searched: ["/home/pi/.config/cloud.io/demo.properties", "/etc/cloud.io/demo.properties"],
 * });
 * ```
 */
export async function discoverProperties(
  name: string,
  options: DiscoverOptions,
): Promise<DiscoveredConfig> {
  if (typeof name !== "string" || name === "" || /[/\\]/.test(name)) {
    throw new TypeError(
      `Cannot look up the properties file of ${JSON.stringify(name)}: ` +
        'the name must be non-empty and contain no "/" or "\\"',
    );
  }
  const { reader } = options;
  const home = reader.home;
  // A UUID is the cloud's lower-case form first, then as written (a file named in upper case).
  const lower = name.toLowerCase();
  const files = uuidProblem(name) === undefined && lower !== name
    ? [`${lower}.properties`, `${name}.properties`]
    : [`${name}.properties`];
  const file = files[0];
  const searched: string[] = [];
  const skipped: string[] = [];
  for (const location of [...(options.locations ?? []), ...STANDARD_LOCATIONS]) {
    if (needsHome(location) && (home === undefined || home === "")) {
      skipped.push(location);
      continue;
    }
    for (const candidate of files) {
      const path = inDirectory(resolveLocation(location, { home }), candidate);
      if (searched.includes(path)) continue;
      searched.push(path);
      let text: string | undefined;
      try {
        text = await reader.readTextFile(path);
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        throw new ConfigError(`Cannot read properties file ${path}: ${describe(error)}`, {
          path,
          cause: error,
          searched,
        });
      }
      if (text !== undefined) return { path, text, searched };
    }
  }
  const note = skipped.length === 0
    ? ""
    : ` (skipped ${skipped.join(", ")}: the home directory is unknown)`;
  throw new ConfigError(
    `Cannot find properties file "${file}" in ${searched.join(", ") || "no place"}${note}`,
    { searched },
  );
}

/**
 * Finds, reads and parses the properties file of an endpoint and returns its settings: the
 * search of {@linkcode discoverProperties}, then `parseProperties()` and
 * `settingsFromProperties()`. Relative locations in the file are resolved against the file's
 * directory and `home:` against the reader's home; the UUID is property `uuid` or else `name`.
 *
 * @param name The endpoint's UUID, or the application name the file is named after (the file
 * then gives the UUID in `ch.hevs.cloudio.endpoint.uuid`).
 * @param options The caller's directories and the reader.
 * @returns The settings, with `source` set to the file's path.
 * @throws {TypeError} When the name is empty or contains `/` or `\`.
 * @throws {ConfigError} When no file is found, the file cannot be read or parsed (`path` and
 * `cause` are set), or a setting is missing or invalid (`key` and `path` are set).
 *
 * @example Loading an endpoint named after its application
 * ```ts
 * import { loadSettings } from "./discover.ts";
 * import assert from "node:assert/strict";
 *
 * const text = "ch.hevs.cloudio.endpoint.uuid=0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55\n" +
 *   "ch.hevs.cloudio.endpoint.hostUri=ssl\\://example.com\\:8883\n" +
 *   "ch.hevs.cloudio.endpoint.ssl.clientCert=client-cert.pem\n";
 * const reader = {
 *   readTextFile: (path: string) =>
 *     Promise.resolve(path === "/etc/cloud.io/pump.properties" ? text : undefined),
 * };
 * const settings = await loadSettings("pump", { reader });
 * assert.equal(settings.uuid, "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
 * assert.equal(settings.clientCert, "/etc/cloud.io/client-cert.pem");
 * assert.equal(settings.source, "/etc/cloud.io/pump.properties");
 * ```
 */
export async function loadSettings(
  name: string,
  options: DiscoverOptions,
): Promise<EndpointSettings> {
  const { path, text } = await discoverProperties(name, options);
  let props: Map<string, string>;
  try {
    props = parseProperties(text);
  } catch (error) {
    const detail = describe(error).replace(/^Cannot parse properties /, "");
    throw new ConfigError(`Cannot parse properties file ${path} ${detail}`, {
      path,
      cause: error,
    });
  }
  return settingsFromProperties(props, {
    source: path,
    baseDir: directoryOf(path),
    home: options.reader.home,
    uuid: name,
  });
}
