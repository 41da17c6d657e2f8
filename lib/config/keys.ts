/**
 * The configuration keys: every property this endpoint reads, as a TypeScript type for the
 * `config` option and as a list, and the keys the reference endpoints read that this one does not.
 * A key that is neither is reported, with the closest known key when there is one.
 *
 * This module is browser compatible.
 *
 * @module
 */

/**
 * The configuration as an object: the keys of a `<uuid>.properties` file without the
 * `ch.hevs.cloudio.endpoint.` prefix (protocol §8.2). Durations are in seconds, as in the file.
 *
 * @example
 * ```ts
 * import type { EndpointConfig } from "./keys.ts";
 *
 * const config: EndpointConfig = {
 *   hostUri: "ssl://cloudio.example.com:8883",
 *   "ssl.authorityCert": "~/.config/cloud.io/ca-cert.pem",
 *   keepAliveInterval: 30,
 *   persistence: "memory",
 * };
 * ```
 */
export interface EndpointConfig {
  /** The endpoint's UUID, when the endpoint's name is not the UUID. */
  uuid?: string;
  /**
   * The broker: `ssl://host[:8883]`, `tcp://host[:1883]`, `mqtts://`, `mqtt://`, `wss://host[/path]`,
   * `ws://…`, or a bare host name (TLS on 8883). Several, comma-separated (or as an array), name the
   * nodes of a cluster, tried in turn.
   */
  hostUri?: string | readonly string[];
  /**
   * How long a connection attempt may take, in seconds.
   *
   * @default {5}
   */
  connectTimeout?: number | string;
  /**
   * The longest wait between two connection attempts, in seconds.
   *
   * @default {10}
   */
  connectRetryInterval?: number | string;
  /**
   * The MQTT keep-alive interval, in seconds (at most 65535).
   *
   * @default {60}
   */
  keepAliveInterval?: number | string;
  /**
   * The most QoS 1 messages on their way at once.
   *
   * @default {1000}
   */
  maxInFlight?: number | string;
  /**
   * Whether the broker forgets the session (and what was queued for the endpoint) on each connect.
   *
   * @default {false}
   */
  cleanSession?: boolean | string;
  /**
   * Where messages wait while the broker is unreachable: `file` (SQLite), `memory`, or `none`
   * (dropped); `true`/`false` as the Java reference writes it.
   *
   * @default {"file"}
   */
  persistence?: "file" | "memory" | "none" | boolean | string;
  /** The directory of the file store. */
  persistenceLocation?: string;
  /**
   * `full`: every commit of the file store survives power loss; `normal`: a crash of the process.
   *
   * @default {"full"}
   */
  persistenceSync?: "full" | "normal";
  /** How many value messages the outbox keeps at most (Java's spelling). */
  "update-limit"?: number | string;
  /** How many value messages the outbox keeps at most. */
  updateLimit?: number | string;
  /** How many `@logs` messages the outbox keeps at most (Java's spelling). */
  "log-limit"?: number | string;
  /** How many `@logs` messages the outbox keeps at most. */
  logLimit?: number | string;
  /** How many `@nodeAdded`/`@nodeRemoved` messages the outbox keeps at most (Java's spelling). */
  "lifecycle-limit"?: number | string;
  /** How many `@nodeAdded`/`@nodeRemoved` messages the outbox keeps at most. */
  lifecycleLimit?: number | string;
  /** How many payload bytes of value messages the outbox keeps at most (Java's spelling). */
  "update-bytes-limit"?: number | string;
  /** How many payload bytes of value messages the outbox keeps at most. */
  updateBytesLimit?: number | string;
  /** How many payload bytes of `@logs` messages the outbox keeps at most (Java's spelling). */
  "log-bytes-limit"?: number | string;
  /** How many payload bytes of `@logs` messages the outbox keeps at most. */
  logBytesLimit?: number | string;
  /**
   * What the outbox drops when it is full.
   *
   * @default {"oldest"}
   */
  dropPolicy?: "oldest" | "latest-per-attribute";
  /**
   * The format of the messages the endpoint sends (case-insensitive).
   *
   * @default {"CBOR"}
   */
  messageFormat?: "JSON" | "CBOR" | "json" | "cbor";
  /**
   * The formats the endpoint accepts from the cloud, comma-separated.
   *
   * @default {"JSON,CBOR"}
   */
  supportedMessageFormats?: string;
  /** The certificate authority of the broker's certificate: a PEM file. */
  "ssl.authorityCert"?: string;
  /** The endpoint's client certificate (CN = its UUID): a PEM file. */
  "ssl.clientCert"?: string;
  /** The client certificate's private key: a PEM file. */
  "ssl.clientKey"?: string;
  /**
   * Whether the broker's certificate must name the host.
   *
   * @default {true}
   */
  "ssl.verifyHostname"?: boolean | string;
  /** The folder `file://` remote jobs may run programs from (none by default). */
  "jobs.folder"?: string;
}

/** Every key of {@linkcode EndpointConfig}: the properties this endpoint reads. */
export const CONFIG_KEYS: readonly (keyof EndpointConfig)[] = [
  "uuid",
  "hostUri",
  "connectTimeout",
  "connectRetryInterval",
  "keepAliveInterval",
  "maxInFlight",
  "cleanSession",
  "persistence",
  "persistenceLocation",
  "persistenceSync",
  "update-limit",
  "updateLimit",
  "log-limit",
  "logLimit",
  "lifecycle-limit",
  "lifecycleLimit",
  "update-bytes-limit",
  "updateBytesLimit",
  "log-bytes-limit",
  "logBytesLimit",
  "dropPolicy",
  "messageFormat",
  "supportedMessageFormats",
  "ssl.authorityCert",
  "ssl.clientCert",
  "ssl.clientKey",
  "ssl.verifyHostname",
  "jobs.folder",
];

// The list and the type must name the same keys: this fails to compile when they drift apart.
type Missing = Exclude<keyof EndpointConfig, typeof CONFIG_KEYS[number]>;
const _complete: [Missing] extends [never] ? true : Missing = true;

const PEM = "give PEM files in ssl.authorityCert, ssl.clientCert and ssl.clientKey";

/** Keys the reference endpoints read that this endpoint does not, and what to do instead. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  "ssl.authorityPassword": `Java key stores are not read: ${PEM}`,
  "ssl.clientPassword": `PKCS#12 files are not read: ${PEM}`,
  "ssl.protocol": "the TLS version is negotiated with the broker (TLS 1.2 or 1.3)",
  "ssl.version": "the TLS version is negotiated with the broker (TLS 1.2 or 1.3)",
  "ssl.certs": PEM,
  factoryFormat: "models are read with modelFromJson() or modelFromXml(), not named here",
  token: "provisioning with a token is done by provision() (deno task provision)",
  tokenPropertiesPath: "provisioning with a token is done by provision() (deno task provision)",
  apiUrl: "provisioning with a token is done by provision() (deno task provision)",
  username: "cloud.iO endpoints log in with their client certificate, never with a user name",
  password: "cloud.iO endpoints log in with their client certificate, never with a password",
};

const PREFIX = "ch.hevs.cloudio.endpoint.";

/** A key that was given but is not read. */
export interface KeyWarning {
  /** The key as given, without the `ch.hevs.cloudio.endpoint.` prefix. */
  key: string;
  /** What is wrong with it, and what to do. */
  message: string;
}

/**
 * Finds the keys of a configuration that this endpoint does not read: unknown ones (a typo, with
 * the closest known key) and those of the reference endpoints it does not support.
 *
 * @param keys The keys given, with or without the `ch.hevs.cloudio.endpoint.` prefix.
 * @returns One warning per such key.
 *
 * @example
 * ```ts
 * import { keyWarnings } from "./keys.ts";
 * import assert from "node:assert/strict";
 *
 * const [typo, unsupported] = keyWarnings(["hostUri", "persistance", "ssl.version"]);
 * assert.match(typo.message, /did you mean "persistence"\?/);
 * assert.match(unsupported.message, /not supported/);
 * ```
 */
export function keyWarnings(keys: Iterable<string>): KeyWarning[] {
  const warnings: KeyWarning[] = [];
  for (const given of keys) {
    const key = given.startsWith(PREFIX) ? given.slice(PREFIX.length) : given;
    if ((CONFIG_KEYS as readonly string[]).includes(key)) continue;
    const instead = UNSUPPORTED[key];
    if (instead !== undefined) {
      warnings.push({
        key,
        message: `Property "${key}" is not supported here and is ignored: ${instead}`,
      });
      continue;
    }
    const near = closest(key);
    warnings.push({
      key,
      message: `Property "${key}" is unknown and is ignored${
        near ? `: did you mean "${near}"?` : ""
      }`,
    });
  }
  return warnings;
}

/**
 * The known key a misspelt one most likely means: the same but for case, else the nearest within
 * a few edits, else one that begins with it (`keepalive` for `keepAliveInterval`).
 */
function closest(key: string): string | undefined {
  const wanted = key.toLowerCase();
  const known = [...CONFIG_KEYS, ...Object.keys(UNSUPPORTED)];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (bestDistance <= Math.max(2, Math.floor(key.length / 4))) return best;
  if (wanted.length < 4) return undefined;
  return known.find((candidate) => candidate.toLowerCase().startsWith(wanted));
}

/** Levenshtein distance: the fewest insertions, deletions and substitutions between two texts. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
