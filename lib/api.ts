/**
 * The public API every entry point shares: the endpoint, the model, the errors, the JSON
 * connector, and the option and event types these need. `mod.ts` (Deno) and `web.ts` (browsers)
 * export it whole, each with the runtime it registers.
 *
 * This module is browser compatible.
 *
 * @module
 */

export { Endpoint } from "./endpoint.ts";
export { Gateway } from "./gateway/gateway.ts";
export { CloudioNode } from "./model/node.ts";
export { CloudioObject } from "./model/object.ts";
export { CloudioAttribute } from "./model/attribute.ts";
export { measure, parameter, setPoint, staticAttribute, status } from "./model/fields.ts";
export {
  ClosedError,
  CloudioError,
  ConfigError,
  ConnectionError,
  DroppedError,
  ModelError,
  ProtocolError,
  StoreError,
} from "./errors.ts";
export { ATTRIBUTE_CONSTRAINTS, ATTRIBUTE_TYPES } from "./model/types.ts";
export { LOG_LEVELS } from "./logs/levels.ts";
export { modelFromJson, nodeFromJson } from "../connectors/json.ts";
export { modelProblems } from "./model/validate.ts";

export type { CloseOptions, ConnectOptions, EndpointOptions, Transaction } from "./endpoint.ts";
export type { GatewayOptions, GatewayReport } from "./gateway/gateway.ts";
export type { NodeOptions } from "./model/node.ts";
export type { ObjectOptions } from "./model/object.ts";
export { AttributeChangeEvent } from "./model/change_event.ts";
export type { AttributeChange, ChangeListener, ChangeSource } from "./model/change_event.ts";
export type {
  AttributeOptions,
  ChangesOptions,
  CurrentValue,
  KnownFrom,
  PolicyOf,
  SetOptions,
} from "./model/attribute.ts";
export type { FieldOptions } from "./model/fields.ts";
export type {
  AttributeOf,
  AttributesOf,
  NodeOf,
  NodesOf,
  ObjectOf,
  ObjectsOf,
} from "./model/typed.ts";
export type { ContainerRef, NodeRef } from "./model/tree.ts";
export type {
  AttributeConstraint,
  AttributeModel,
  AttributeType,
  AttributeValue,
  Deadband,
  EndpointModel,
  MessageFormat,
  NodeModel,
  ObjectModel,
  PublishPolicy,
  ValueOf,
} from "./model/types.ts";
export type { ConfigErrorOptions, ModelProblem, ProtocolErrorCode } from "./errors.ts";
export type { EndpointSettings } from "./config/settings.ts";
export type { BrokerAddress } from "./config/broker_uri.ts";
export type { EndpointConfig, KeyWarning } from "./config/keys.ts";
export type { ConnectorOptions } from "../connectors/json.ts";
export type { LogLevel, LogRecord } from "./logs/levels.ts";
export type { Logger, LogRateOptions } from "./logs/logger.ts";
export type { JobContext, JobHandler, JobOptions } from "./jobs/jobs.ts";
export type { EndpointState, EndpointStatus } from "./status.ts";
export type { BackoffOptions } from "./session/backoff.ts";
export type { DropPolicy, OutboxLimits, OutboxStats, ReplayMode } from "./outbox/outbox.ts";
export type { OutboxClass, OutboxUsage } from "./outbox/store.ts";
export type { Credentials, CredentialsProvider } from "./platform.ts";
