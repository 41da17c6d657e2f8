/**
 * cloudio-endpoint: put a device into the cloud.iO platform. Declare the device's data model
 * (nodes → objects → attributes), connect over MQTT with TLS, and from then on every value the
 * device sets reaches the cloud, every value the cloud sets reaches the device, and nothing is
 * lost while the network is down.
 *
 * This entry point is for Deno: it reads `<uuid>.properties` files, certificate files and keeps
 * a durable outbox in SQLite. Provisioning (fetching an endpoint's configuration and certificates
 * from the cloud, and installing them) is in `@cloudio/endpoint/provision`.
 *
 * @example A vacuum cleaner in the cloud
 * ```ts ignore
 * import { Endpoint } from "@cloudio/endpoint";
 *
 * await using endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
 * const node = endpoint.addNode("VacuumCleaner", { implements: ["NodeInterface"] });
 * const throughput = node.addObject("Status")
 *   .addAttribute("throughput", { type: "Number", constraint: "Measure" });
 * const power = node.addObject("Parameters")
 *   .addAttribute("set_power_on", { type: "Boolean", constraint: "Parameter", value: false });
 * await endpoint.connect();          // finds 0b3c….properties, TLS with its client certificate
 * throughput.value = 3.5;            // → @update
 * for await (const change of power.changes()) {
 *   console.log("power", change.value); // @set from the cloud → applied → @didSet
 * }
 * ```
 *
 * @module
 */

import { denoPlatform } from "./lib/adapters/deno.ts";
import { setDefaultPlatform } from "./lib/platform.ts";

setDefaultPlatform(denoPlatform);

export { Endpoint } from "./lib/endpoint.ts";
export { Node } from "./lib/model/node.ts";
export { CloudioObject } from "./lib/model/object.ts";
export { Attribute } from "./lib/model/attribute.ts";
export {
  ClosedError,
  CloudioError,
  ConfigError,
  ConnectionError,
  DroppedError,
  ModelError,
  ProtocolError,
  StoreError,
} from "./lib/errors.ts";
export { ATTRIBUTE_CONSTRAINTS, ATTRIBUTE_TYPES } from "./lib/model/types.ts";
export { parseProperties } from "./lib/config/properties.ts";
export { settingsFromProperties } from "./lib/config/settings.ts";
export { MemoryStore } from "./lib/outbox/memory_store.ts";
export { SqliteStore } from "./lib/adapters/sqlite_store.ts";
export { createMqttTransport } from "./lib/adapters/mqtt.ts";
export { modelFromJson, nodeFromJson } from "./connectors/json.ts";
export { modelFromXml } from "./connectors/xml.ts";
export { modelProblems } from "./lib/model/validate.ts";
export { Logger } from "./lib/logs/logger.ts";
export { readCertificate } from "./lib/tls/x509.ts";

export type { CloseOptions, ConnectOptions, EndpointOptions, Transaction } from "./lib/endpoint.ts";
export type { NodeOptions } from "./lib/model/node.ts";
export type { ObjectOptions } from "./lib/model/object.ts";
export type {
  AttributeChange,
  AttributeOptions,
  ChangesOptions,
  ChangeSource,
  SetOptions,
} from "./lib/model/attribute.ts";
export type {
  AttributeConstraint,
  AttributeModel,
  AttributeType,
  AttributeValue,
  EndpointModel,
  MessageFormat,
  NodeModel,
  ObjectModel,
  ValueOf,
} from "./lib/model/types.ts";
export type { ConfigErrorOptions, ModelProblem, ProtocolErrorCode } from "./lib/errors.ts";
export type { BrokerAddress } from "./lib/config/broker_uri.ts";
export type { EndpointSettings, SettingsOptions } from "./lib/config/settings.ts";
export type { EndpointConfig, KeyWarning } from "./lib/config/keys.ts";
export type { ConnectorOptions } from "./connectors/json.ts";
export { LOG_LEVELS } from "./lib/logs/levels.ts";
export type { LogLevel, LogRecord } from "./lib/logs/levels.ts";
export type { LogRateOptions } from "./lib/logs/logger.ts";
export type { CertificateInfo } from "./lib/tls/certificate.ts";
export type {
  FileRunner,
  JobCommand,
  JobContext,
  JobHandler,
  JobOptions,
} from "./lib/jobs/jobs.ts";
export type { EndpointState, EndpointStatus } from "./lib/session/status.ts";
export type { BackoffOptions } from "./lib/session/backoff.ts";
export type { DropPolicy, OutboxLimits, OutboxStats, ReplayMode } from "./lib/outbox/outbox.ts";
export type {
  OutboxClass,
  OutboxEntry,
  OutboxKind,
  OutboxMessage,
  OutboxStore,
  OutboxUsage,
} from "./lib/outbox/store.ts";
export type { Credentials, CredentialsProvider, Platform } from "./lib/platform.ts";
export type { Connection, ConnectParams, Transport, Will } from "./lib/session/transport.ts";
export type { SqliteStoreOptions } from "./lib/adapters/sqlite_store.ts";
export type { MqttTransportOptions } from "./lib/adapters/mqtt.ts";
