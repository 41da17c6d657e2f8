/**
 * Extension points of cloudio-endpoint for Deno: a runtime of your own (`Platform`), another way
 * to reach the broker (`Transport`), another outbox store (`OutboxStore`, with the contract the
 * tests hold every store to), and the pieces the built-in ones are made of. Pass them to an
 * endpoint with the `platform`, `transport` and `store` options.
 *
 * @example An endpoint whose outbox lives in a file of your choosing
 * ```ts ignore
 * import { Endpoint } from "@cloudio/endpoint";
 * import { SqliteStore } from "@cloudio/endpoint/extend";
 *
 * const endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55", {
 *   store: SqliteStore.open("/var/lib/pump/outbox.sqlite"),
 * });
 * ```
 *
 * @example Watching what the endpoint publishes, on the real Deno platform
 * ```ts
 * import { denoPlatform, type Platform } from "./extend.ts";
 *
 * const published: string[] = [];
 * const platform: Platform = {
 *   ...denoPlatform,
 *   createTransport(settings, credentials) {
 *     const transport = denoPlatform.createTransport(settings, credentials);
 *     return {
 *       url: transport.url,
 *       async connect(params, onMessage) {
 *         const connection = await transport.connect(params, onMessage);
 *         return {
 *           ...connection,
 *           publish(topic, payload, options) {
 *             published.push(topic);
 *             return connection.publish(topic, payload, options);
 *           },
 *         };
 *       },
 *     };
 *   },
 * };
 * ```
 *
 * @module
 */

export { denoPlatform } from "./lib/adapters/deno.ts";
export { createMqttTransport } from "./lib/adapters/mqtt.ts";
export { SqliteStore } from "./lib/adapters/sqlite_store.ts";
export { MemoryStore } from "./lib/outbox/memory_store.ts";
export { parseProperties } from "./lib/config/properties.ts";
export { settingsFromProperties } from "./lib/config/settings.ts";
export { parseBrokerUri } from "./lib/config/broker_uri.ts";
export { readCertificate } from "./lib/adapters/deno_certificates.ts";
export { openSharedStore } from "./lib/adapters/deno.ts";
export { SqliteFile } from "./lib/adapters/sqlite_file.ts";
export { TimerWheel } from "./lib/timers.ts";
export { Pacer } from "./lib/gateway/pacer.ts";

export type { Credentials, CredentialsProvider, Platform } from "./lib/platform.ts";
export type { FileRunner } from "./lib/jobs/jobs.ts";
export type { Connection, ConnectParams, Transport, Will } from "./lib/transport.ts";
export type { MqttTransportOptions } from "./lib/adapters/mqtt.ts";
export type {
  EncodedRun,
  OutboxClass,
  OutboxEntry,
  OutboxKind,
  OutboxMessage,
  OutboxStore,
  OutboxUsage,
  RunLimits,
} from "./lib/outbox/store.ts";
export type { SqliteStoreOptions } from "./lib/adapters/sqlite_store.ts";
export type { SqliteFileOptions, TransactionListener } from "./lib/adapters/sqlite_file.ts";
export type { Timers } from "./lib/timers.ts";
export type { PacerOptions } from "./lib/gateway/pacer.ts";
export type { EndpointSettings, SettingsOptions } from "./lib/config/settings.ts";
export type { BrokerAddress } from "./lib/config/broker_uri.ts";
export type { CertificateInfo } from "./lib/tls/certificate.ts";
