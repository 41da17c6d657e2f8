/**
 * Typed endpoint settings from the properties of a cloud.iO configuration file (protocol §8.2):
 * the endpoint UUID, the broker address, certificate locations, MQTT session options, the message
 * format and the offline buffer sizes.
 *
 * The broker address is read by `broker_uri.ts` and the certificate locations by `locations.ts`.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { uuidProblem } from "../model/names.ts";
import type { MessageFormat } from "../model/types.ts";
import { type BrokerAddress, tryParseBrokerUri } from "./broker_uri.ts";
import { type KeyWarning, keyWarnings } from "./keys.ts";
import { tryResolveLocation } from "./locations.ts";

/** The prefix of every cloud.iO endpoint property key. */
const PREFIX = "ch.hevs.cloudio.endpoint.";

/** The settings of an endpoint, typed and with every default applied. */
export interface EndpointSettings {
  /**
   * The endpoint UUID, in lower case as the cloud writes it (in topics, the client id and the
   * certificate's CN): property `uuid`, else the name the file was looked up by.
   */
  uuid: string;
  /** The broker: the first of property `hostUri`. */
  broker: BrokerAddress;
  /**
   * Every broker of property `hostUri`, a comma-separated list (the nodes of a cluster), in the
   * order they are tried; the first is `broker`.
   */
  brokers: readonly BrokerAddress[];
  /** The CA certificate (PEM) that signed the broker's certificate: `ssl.authorityCert`. */
  authorityCert?: string;
  /** The endpoint's certificate (PEM), whose CN is the UUID: `ssl.clientCert`. */
  clientCert?: string;
  /** The endpoint's private key (PEM): `ssl.clientKey`. */
  clientKey?: string;
  /**
   * Whether the broker's certificate must name the host: `ssl.verifyHostname`.
   *
   * @default {true}
   */
  verifyHostname: boolean;
  /**
   * The format of the messages the endpoint sends: `messageFormat`.
   *
   * @default {"CBOR"}
   */
  messageFormat: MessageFormat;
  /**
   * The formats the endpoint accepts from the cloud: `supportedMessageFormats`.
   *
   * @default {["JSON", "CBOR"]}
   */
  supportedFormats: MessageFormat[];
  /**
   * The MQTT keep-alive interval in milliseconds: `keepAliveInterval`, given in seconds.
   *
   * @default {60000}
   */
  keepAlive: number;
  /**
   * How long a connection attempt may take, in milliseconds: `connectTimeout`, in seconds.
   *
   * @default {5000}
   */
  connectTimeout: number;
  /**
   * The longest wait between two connection attempts, in milliseconds (the upper bound of the
   * reconnect backoff): `connectRetryInterval`, in seconds.
   *
   * @default {10000}
   */
  connectRetryInterval: number;
  /**
   * Whether the broker forgets the session (and the messages queued for the endpoint) on each
   * connect: `cleanSession`.
   *
   * @default {false}
   */
  cleanSession: boolean;
  /**
   * The most QoS 1 messages on their way at once: `maxInFlight`.
   *
   * @default {1000}
   */
  maxInFlight: number;
  /**
   * Where messages wait while the broker is unreachable: `persistence`.
   *
   * @default {"file"}
   */
  persistence: "memory" | "file" | "none";
  /** The directory of the file store: `persistenceLocation`. */
  persistenceLocation?: string;
  /**
   * How many value messages (`@update`, `@didSet`, `@transaction`) the outbox keeps at most:
   * `update-limit` or `updateLimit`. Absent: the store's default (see the README).
   */
  updateLimit?: number;
  /** How many `@logs` messages the outbox keeps at most: `log-limit` or `logLimit`. */
  logLimit?: number;
  /**
   * How many `@nodeAdded`/`@nodeRemoved` messages the outbox keeps at most: `lifecycle-limit` or
   * `lifecycleLimit`.
   */
  lifecycleLimit?: number;
  /** How many payload bytes of value messages the outbox keeps at most: `update-bytes-limit`. */
  updateBytesLimit?: number;
  /** How many payload bytes of `@logs` messages the outbox keeps at most: `log-bytes-limit`. */
  logBytesLimit?: number;
  /** What the outbox drops when full: `dropPolicy` = `oldest` or `latest-per-attribute`. */
  dropPolicy?: "oldest" | "latest-per-attribute";
  /**
   * `persistenceSync`: `full` (default) makes every group commit of the file store survive power
   * loss (an fsync each time); `normal` survives a crash of the process only, and commits
   * without blocking on the disk.
   */
  persistenceSync?: "full" | "normal";
  /** The folder `file://` remote jobs may run programs from: `jobs.folder`. */
  jobsFolder?: string;
  /** The properties file the settings were read from, if any. */
  source?: string;
  /**
   * Keys that were given but are not read (unknown, or not supported here), each with what to do;
   * the endpoint reports them when it connects.
   */
  warnings: readonly KeyWarning[];
  /** Every property read, with its key as written, for extensions. */
  properties: ReadonlyMap<string, string>;
}

/** Where the properties came from, to resolve relative locations and name files in messages. */
export interface SettingsOptions {
  /** The properties file, named in error messages and kept as `EndpointSettings.source`. */
  source?: string;
  /**
   * The directory of the properties file; relative locations are resolved against it.
   *
   * @default {undefined} relative locations are kept as they are
   */
  baseDir?: string;
  /**
   * The user's home directory, for `home:` and `~` locations.
   *
   * @default {undefined} such locations are refused
   */
  home?: string;
  /**
   * The name the properties file was looked up by; it is the UUID unless property `uuid` gives
   * one.
   */
  uuid?: string;
}

/** Reads the typed properties of one file; every error names the key and the file. */
class PropertyReader {
  #props: ReadonlyMap<string, string>;
  #source?: string;

  constructor(props: ReadonlyMap<string, string>, source?: string) {
    this.#props = props;
    this.#source = source;
  }

  get where(): string {
    return this.#source === undefined ? "" : ` in ${this.#source}`;
  }

  /**
   * The trimmed value of the first key present, prefixed keys first; an empty value counts as
   * absent.
   */
  get(...keys: string[]): { key: string; value: string } | undefined {
    for (const name of [...keys.map((key) => PREFIX + key), ...keys]) {
      const value = this.#props.get(name)?.trim();
      if (value !== undefined && value !== "") {
        return { key: name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name, value };
      }
    }
    return undefined;
  }

  error(key: string, problem: string): ConfigError {
    return new ConfigError(`Cannot read property "${key}"${this.where}: ${problem}`, {
      key,
      path: this.#source,
    });
  }

  number(
    keys: string[],
    fallback: number,
    options: { whole?: boolean; max?: { value: number; why: string } } = {},
  ): number {
    const found = this.get(...keys);
    if (found === undefined) return fallback;
    const { key, value } = found;
    if (!/^\+?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(value)) {
      throw this.error(key, `"${value}" is not a number`);
    }
    const number = Number(value);
    if (!Number.isFinite(number) || number <= 0) {
      throw this.error(key, `"${value}" is not a positive number`);
    }
    if (options.whole && !Number.isInteger(number)) {
      throw this.error(key, `"${value}" is not a whole number`);
    }
    if (options.max !== undefined && number > options.max.value) {
      throw this.error(key, `"${value}" is more than ${options.max.value}, ${options.max.why}`);
    }
    return number;
  }

  milliseconds(keys: string[], fallback: number, max?: { value: number; why: string }): number {
    const seconds = this.number(keys, fallback / 1000, { max });
    const ms = Math.round(seconds * 1000);
    if (ms < 1) {
      const found = this.get(...keys)!;
      throw this.error(found.key, `"${found.value}" is less than a millisecond`);
    }
    return ms;
  }

  boolean(key: string, fallback: boolean): boolean {
    const found = this.get(key);
    if (found === undefined) return fallback;
    const value = found.value.toLowerCase();
    if (value === "true") return true;
    if (value === "false") return false;
    throw this.error(found.key, `"${found.value}" is not a boolean (use true or false)`);
  }

  format(key: string, value: string): MessageFormat {
    const upper = value.toUpperCase();
    if (upper === "JSON" || upper === "CBOR") return upper;
    throw this.error(key, `"${value}" is not a message format (use JSON or CBOR)`);
  }

  location(key: string, options: { baseDir?: string; home?: string }): string | undefined {
    const found = this.get(key);
    if (found === undefined) return undefined;
    const outcome = tryResolveLocation(found.value, options);
    if ("problem" in outcome) {
      throw this.error(found.key, `cannot resolve "${found.value}": ${outcome.problem}`);
    }
    return outcome.ok;
  }
}

/**
 * Turns the properties of a cloud.iO configuration file into typed settings, applying the
 * defaults of the Java reference endpoint (protocol §3, §8.2).
 *
 * Keys are read as `ch.hevs.cloudio.endpoint.<key>` or as the bare `<key>`; when both are present
 * the prefixed one wins. Values are trimmed, and an empty value counts as absent (the default
 * applies). Durations are given in seconds and returned in milliseconds. Locations are resolved
 * as `resolveLocation()` (`locations.ts`) does, against `options.baseDir` and `options.home`.
 *
 * @param props The properties, as `parseProperties()` returns them.
 * @param options The file they came from, its directory, the home directory and the name the file
 * was looked up by.
 * @returns The settings.
 * @throws {ConfigError} With the key at fault and the file, when `hostUri` is missing or invalid,
 * there is no valid UUID, a number is not a positive number (or not a whole number where a count
 * is expected, or a keep-alive above 65535 s, the MQTT limit), a boolean is neither `true` nor
 * `false`, a message format or persistence mode is unknown, `supportedMessageFormats` does not
 * contain `messageFormat`, or a location cannot be resolved.
 *
 * @example Settings from a provisioned file
 * ```ts
 * import { settingsFromProperties } from "./settings.ts";
 * import { parseProperties } from "./properties.ts";
 * import assert from "node:assert/strict";
 *
 * const props = parseProperties(
 *   "ch.hevs.cloudio.endpoint.hostUri=ssl\\://cloudio.example.com\\:8883\n" +
 *     "ch.hevs.cloudio.endpoint.ssl.authorityCert=ca-cert.pem\n" +
 *     "ch.hevs.cloudio.endpoint.keepAliveInterval=30\n",
 * );
 * const settings = settingsFromProperties(props, {
 *   uuid: "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55",
 *   baseDir: "/etc/cloud.io",
 * });
 * assert.equal(settings.broker.url, "mqtts://cloudio.example.com:8883");
 * assert.equal(settings.authorityCert, "/etc/cloud.io/ca-cert.pem");
 * assert.equal(settings.keepAlive, 30_000);
 * assert.equal(settings.messageFormat, "CBOR");
 * ```
 *
 * @example A bad value
 * ```ts
 * import { settingsFromProperties } from "./settings.ts";
 * import assert from "node:assert/strict";
 *
 * const props = new Map([
 *   ["uuid", "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55"],
 *   ["hostUri", "example.com"],
 *   ["keepAliveInterval", "abc"],
 * ]);
 * const source = "/etc/cloud.io/x.properties";
 * assert.throws(() => settingsFromProperties(props, { source }), {
 *   name: "ConfigError",
 *   key: "keepAliveInterval",
 *   path: source,
 *   message: `Cannot read property "keepAliveInterval" in ${source}: "abc" is not a number`,
 * });
 * ```
 */
export function settingsFromProperties(
  props: ReadonlyMap<string, string>,
  options: SettingsOptions = {},
): EndpointSettings {
  const reader = new PropertyReader(props, options.source);
  const where = reader.where;

  const named = reader.get("uuid");
  const uuid = named?.value ?? options.uuid?.trim();
  if (uuid === undefined || uuid === "") {
    throw new ConfigError(`Missing property "uuid"${where}: the endpoint has no UUID`, {
      key: "uuid",
      path: options.source,
    });
  }
  const problem = uuidProblem(uuid);
  if (problem !== undefined) {
    throw named
      ? reader.error(named.key, `"${uuid}" is not a valid endpoint UUID (${problem})`)
      : new ConfigError(
        `Cannot use "${uuid}" as endpoint UUID: ${problem}; ` +
          `give the UUID in property "uuid"${where}`,
        { key: "uuid", path: options.source },
      );
  }

  // The cloud writes UUIDs in lower case: in the certificate's CN (the broker's user name, which
  // the ACL matches topics against) and in every topic it publishes to the endpoint.
  const lowerUuid = uuid.toLowerCase();

  const warnings = keyWarnings(props.keys());
  const host = reader.get("hostUri");
  if (host === undefined) {
    const typo = warnings.find((w) => w.message.endsWith('did you mean "hostUri"?'));
    throw new ConfigError(
      `Missing property "hostUri"${where}: it names the broker, such as "ssl://example.com:8883"` +
        (typo ? ` (is "${typo.key}" meant to be "hostUri"?)` : ""),
      { key: "hostUri", path: options.source },
    );
  }
  // A comma-separated list names the nodes of a cluster: the endpoint moves to the next one when
  // a node is down or refuses it.
  const brokers: BrokerAddress[] = [];
  for (const uri of host.value.split(",")) {
    const address = tryParseBrokerUri(uri);
    if ("problem" in address) {
      const shown = address.secret ? "" : `"${uri.trim()}": `;
      throw reader.error(host.key, `${shown}${address.problem}`);
    }
    if (!brokers.some((b) => b.url === address.ok.url)) brokers.push(address.ok);
  }

  const formatProperty = reader.get("messageFormat");
  const messageFormat = formatProperty
    ? reader.format(formatProperty.key, formatProperty.value)
    : "CBOR";
  const supportedProperty = reader.get("supportedMessageFormats");
  let supportedFormats: MessageFormat[] = ["JSON", "CBOR"];
  if (supportedProperty) {
    const { key, value } = supportedProperty;
    const names = value.split(",").map((name) => name.trim()).filter((name) => name !== "");
    supportedFormats = [...new Set(names.map((name) => reader.format(key, name)))];
    if (supportedFormats.length === 0) throw reader.error(key, `"${value}" names no format`);
    if (!supportedFormats.includes(messageFormat)) {
      throw reader.error(
        key,
        `"${value}" does not contain the message format "${messageFormat}"`,
      );
    }
  }

  const persistenceProperty = reader.get("persistence");
  let persistence: EndpointSettings["persistence"] = "file";
  if (persistenceProperty) {
    const modes: Record<string, EndpointSettings["persistence"]> = {
      memory: "memory",
      file: "file",
      none: "none",
      true: "file",
      false: "none",
    };
    const mode = modes[persistenceProperty.value.toLowerCase()];
    if (mode === undefined) {
      throw reader.error(
        persistenceProperty.key,
        `"${persistenceProperty.value}" is not a persistence mode (use memory, file or none)`,
      );
    }
    persistence = mode;
  }

  const places = { baseDir: options.baseDir, home: options.home };
  const settings: EndpointSettings = {
    uuid: lowerUuid,
    broker: brokers[0],
    brokers,
    verifyHostname: reader.boolean("ssl.verifyHostname", true),
    messageFormat,
    supportedFormats,
    keepAlive: reader.milliseconds(["keepAliveInterval"], 60_000, {
      value: 65_535,
      why: "the most seconds MQTT allows",
    }),
    connectTimeout: reader.milliseconds(["connectTimeout"], 5_000),
    connectRetryInterval: reader.milliseconds(["connectRetryInterval"], 10_000),
    cleanSession: reader.boolean("cleanSession", false),
    maxInFlight: reader.number(["maxInFlight"], 1000, { whole: true }),
    persistence,
    properties: new Map(props),
    warnings,
  };
  const limits: [keyof EndpointSettings, string[]][] = [
    ["updateLimit", ["update-limit", "updateLimit"]],
    ["logLimit", ["log-limit", "logLimit"]],
    ["lifecycleLimit", ["lifecycle-limit", "lifecycleLimit"]],
    ["updateBytesLimit", ["update-bytes-limit", "updateBytesLimit"]],
    ["logBytesLimit", ["log-bytes-limit", "logBytesLimit"]],
  ];
  for (const [field, keys] of limits) {
    if (reader.get(...keys) !== undefined) {
      (settings as unknown as Record<string, number>)[field] = reader.number(keys, 0, {
        whole: true,
      });
    }
  }
  const sync = reader.get("persistenceSync");
  if (sync) {
    const mode = sync.value.toLowerCase();
    if (mode !== "full" && mode !== "normal") {
      throw reader.error(sync.key, `"${sync.value}" is not a sync mode (use full or normal)`);
    }
    settings.persistenceSync = mode;
  }
  const policy = reader.get("dropPolicy");
  if (policy) {
    if (policy.value !== "oldest" && policy.value !== "latest-per-attribute") {
      throw reader.error(
        policy.key,
        `"${policy.value}" is not a drop policy (use oldest or latest-per-attribute)`,
      );
    }
    settings.dropPolicy = policy.value;
  }
  const authorityCert = reader.location("ssl.authorityCert", places);
  if (authorityCert !== undefined) settings.authorityCert = authorityCert;
  const clientCert = reader.location("ssl.clientCert", places);
  if (clientCert !== undefined) settings.clientCert = clientCert;
  const clientKey = reader.location("ssl.clientKey", places);
  if (clientKey !== undefined) settings.clientKey = clientKey;
  const jobsFolder = reader.location("jobs.folder", places);
  if (jobsFolder !== undefined) settings.jobsFolder = jobsFolder;
  const persistenceLocation = reader.location("persistenceLocation", places);
  if (persistenceLocation !== undefined) settings.persistenceLocation = persistenceLocation;
  if (options.source !== undefined) settings.source = options.source;
  return settings;
}
