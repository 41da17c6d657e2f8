/**
 * The cloud side of the protocol, for development: follows every endpoint on a broker
 * (`@online`, `@offline`, `@nodeAdded`, `@nodeRemoved`, `@update`, `@didSet`, `@transaction`,
 * `@delayed`, `@logs`, `@execOutput`), keeps each one's model, current values and a short
 * history, checks every message by the real cloud's strict rules (and reports, without applying,
 * what the real cloud would reject), and writes set-points with `@set` as cloud.iO's REST API does.
 *
 * @module
 */

import { PushQueue } from "../lib/_queue.ts";
import { createMqttTransport } from "../lib/adapters/mqtt.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import { encodeAttribute, fromWireTime } from "../lib/codec/encode.ts";
import { LOG_LEVELS, type LogLevel, type LogRecord } from "../lib/logs/levels.ts";
import { topicsOf } from "../lib/topics.ts";
import { serverProblems } from "./strict.ts";
import { parseBrokerUri } from "../lib/config/broker_uri.ts";
import { coerceValue } from "../lib/model/coerce.ts";
import type {
  AttributeModel,
  AttributeValue,
  MessageFormat,
  NodeModel,
  ObjectModel,
} from "../lib/model/types.ts";
import type { Connection } from "../lib/transport.ts";
import { modelFromJson, nodeFromJson } from "../connectors/json.ts";

/** One point of an attribute's history. */
export interface HistoryPoint {
  /** When, in ms. */
  timestamp: number;
  /** The value. */
  value: AttributeValue;
}

/** What the devcloud knows of one endpoint. */
export interface EndpointView {
  /** Its UUID. */
  uuid: string;
  /** Whether it is online. */
  online: boolean;
  /** When it last went online or offline, in ms (local clock). */
  since: number;
  /** The formats it declared. */
  supportedFormats: MessageFormat[];
  /** Its nodes, with current values. */
  nodes: Record<string, NodeModel>;
  /** Recent values per attribute path (`node/object/…/attribute`), oldest first. */
  history: Record<string, HistoryPoint[]>;
  /** Recent log records, oldest first. */
  logs: LogRecord[];
  /** The last level sent with {@linkcode DevCloud.prototype.logsLevel}, if any. */
  logsLevel?: LogLevel;
  /** Recent jobs: those started with {@linkcode DevCloud.prototype.exec} and any output seen. */
  jobs: ExecJob[];
  /** Recent messages the real cloud would reject, oldest first. */
  rejected: Rejection[];
}

/** A message the real cloud would reject, as {@linkcode EndpointView.rejected} keeps it. */
export interface Rejection {
  /** When it arrived, in ms (local clock). */
  at: number;
  /** Its topic. */
  topic: string;
  /** Every reason the cloud would reject it. */
  problems: string[];
  /** The start of the payload: the JSON text, or the CBOR bytes in hex. */
  excerpt: string;
}

/** A job (`@exec`) and the output lines (`@execOutput`) it produced so far. */
export interface ExecJob {
  /** The correlation ID, the last level of the `@execOutput` topic. */
  correlationID: string;
  /** What was run; unknown for output of a job the devcloud did not start. */
  jobURI?: string;
  /** The job's argument. */
  data?: string;
  /** Whether output was asked for. */
  sendOutput?: boolean;
  /** When the `@exec` was sent, in ms; unknown for a job the devcloud did not start. */
  started?: number;
  /** The output lines, oldest first. */
  output: string[];
}

/** What {@linkcode DevCloud.prototype.exec} sends. */
export interface ExecOptions {
  /** The job, e.g. `cmd://listJobs` or `file://script.sh`. */
  jobURI: string;
  /**
   * The job's argument.
   *
   * @default {""}
   */
  data?: string;
  /**
   * Whether the endpoint should send the output lines back.
   *
   * @default {true}
   */
  sendOutput?: boolean;
  /**
   * The correlation ID: letters, digits and `-`, as it becomes a topic level.
   *
   * @default {"job-<random>"}
   */
  correlationID?: string;
}

/** What happens, as `events()` yields it. */
export type CloudEvent =
  | { type: "online"; uuid: string; nodes: Record<string, NodeModel> }
  | { type: "offline"; uuid: string }
  | { type: "nodeAdded"; uuid: string; node: string; model: NodeModel }
  | { type: "nodeRemoved"; uuid: string; node: string }
  | {
    type: "update";
    uuid: string;
    path: string;
    attribute: AttributeModel;
    via: "update" | "delayed" | "transaction";
  }
  | { type: "didSet"; uuid: string; path: string; attribute: AttributeModel; latency?: number }
  | { type: "set"; uuid: string; path: string; value: AttributeValue }
  | { type: "log"; uuid: string; record: LogRecord }
  | { type: "execOutput"; uuid: string; correlationID: string; data: string }
  | { type: "logsLevel"; uuid: string; level: LogLevel }
  | {
    type: "exec";
    uuid: string;
    correlationID: string;
    jobURI: string;
    data: string;
    sendOutput: boolean;
  }
  | { type: "rejected"; uuid?: string; topic: string; problems: string[]; excerpt: string };

/** Options of {@linkcode DevCloud.connect}. */
export interface DevCloudOptions {
  /** The broker, e.g. `mqtt://127.0.0.1:1883`. */
  url: string;
  /**
   * The MQTT client id.
   *
   * @default {"devcloud-<random>"}
   */
  clientId?: string;
  /**
   * How many values of each attribute are kept.
   *
   * @default {300}
   */
  historyLength?: number;
}

/** What {@linkcode DevCloud.prototype.set} resolves with. */
export interface SetResult {
  /** Whether a `@didSet` came back in time. */
  confirmed: boolean;
  /** The attribute as the `@didSet` reported it. */
  attribute?: AttributeModel;
  /** Milliseconds from `@set` to `@didSet`. */
  latency?: number;
}

const FILTERS = [
  "@online/+",
  "@offline/+",
  "@nodeAdded/+/+",
  "@nodeRemoved/+/+",
  "@update/#",
  "@didSet/#",
  "@transaction/+",
  "@delayed/+",
  "@logs/+",
  "@execOutput/+/+",
];

const LOG_LENGTH = 500;
const REJECTED_LENGTH = 100;
const JOBS_LENGTH = 20;
const JOB_OUTPUT_LENGTH = 1000;
const CORRELATION_ID = /^[A-Za-z0-9-]{1,64}$/;
const encoder = new TextEncoder();

/**
 * A development stand-in for the cloud.iO cloud.
 *
 * @example
 * ```ts ignore
 * import { DevCloud } from "./cloud.ts";
 *
 * await using cloud = await DevCloud.connect({ url: "mqtt://127.0.0.1:1883" });
 * for await (const event of cloud.events()) console.log(event.type);
 * ```
 */
export class DevCloud implements AsyncDisposable {
  #connection: Connection;
  #views = new Map<string, EndpointView>();
  #queues = new Set<PushQueue<CloudEvent>>();
  #historyLength: number;
  #waiting = new Map<string, { sent: number; resolve: (result: SetResult) => void }[]>();

  private constructor(connection: Connection, historyLength: number) {
    this.#connection = connection;
    this.#historyLength = historyLength;
  }

  /**
   * Connects to a broker and starts following every endpoint on it.
   *
   * @param options The broker and client id.
   * @returns The devcloud.
   * @throws {ConnectionError} When the broker cannot be reached.
   */
  static async connect(options: DevCloudOptions): Promise<DevCloud> {
    const transport = createMqttTransport({ broker: parseBrokerUri(options.url) });
    // Messages may arrive before the DevCloud exists (retained ones, right after SUBACK).
    const sink: { cloud?: DevCloud } = {};
    const early: [string, Uint8Array][] = [];
    const connection = await transport.connect(
      {
        clientId: options.clientId ?? `devcloud-${crypto.randomUUID().slice(0, 8)}`,
        will: { topic: "devcloud/offline", payload: new Uint8Array(), qos: 0, retain: false },
        keepAlive: 60_000,
        connectTimeout: 5000,
        cleanSession: true,
      },
      (topic, payload) =>
        sink.cloud ? sink.cloud.#receive(topic, payload) : early.push([topic, payload]),
    );
    const cloud = sink.cloud = new DevCloud(connection, options.historyLength ?? 300);
    for (const [topic, payload] of early) cloud.#receive(topic, payload);
    await connection.subscribe(FILTERS);
    return cloud;
  }

  /** Every endpoint seen, by UUID. */
  get endpoints(): ReadonlyMap<string, EndpointView> {
    return this.#views;
  }

  /**
   * Iterates over what happens from now on.
   *
   * @param options A signal that ends the iteration.
   * @returns An async iterator of events.
   */
  events(options: { signal?: AbortSignal } = {}): AsyncIterableIterator<CloudEvent> {
    const queue: PushQueue<CloudEvent> = new PushQueue<CloudEvent>({
      signal: options.signal,
      limit: 10_000,
      onClose: () => this.#queues.delete(queue),
    });
    if (!queue.closed) this.#queues.add(queue);
    return queue;
  }

  /**
   * Writes a Parameter or SetPoint as cloud.iO's REST API does: a full attribute with the stored
   * type and constraint and the current time, in the endpoint's format (JSON when it accepts it).
   *
   * @param uuid The endpoint.
   * @param path `node/object/…/attribute`.
   * @param value The value; converted to the attribute's type without loss, by the rules the
   *   endpoint applies to a `@set` (`coerceValue()`): `"2.5"` for a Number, `"true"` or `1` for
   *   a Boolean, but not `5` for a String.
   * @param options How long to wait for the `@didSet`, in ms (default 5000).
   * @returns Whether and how the endpoint confirmed.
   * @throws {TypeError} When the attribute is unknown, not writable, or the value does not fit.
   */
  async set(
    uuid: string,
    path: string,
    value: AttributeValue,
    options: { timeout?: number } = {},
  ): Promise<SetResult> {
    const view = this.#views.get(uuid);
    const attribute = view ? findAttribute(view.nodes, path) : undefined;
    if (!view || !attribute) {
      throw new TypeError(`Cannot set ${uuid}/${path}: there is no such attribute`);
    }
    if (attribute.constraint !== "Parameter" && attribute.constraint !== "SetPoint") {
      throw new TypeError(
        `Cannot set ${uuid}/${path}: a ${attribute.constraint} attribute is not writable`,
      );
    }
    const converted = coerceValue(attribute.type, value);
    if (converted === undefined) {
      throw new TypeError(
        `Cannot set ${uuid}/${path}: ${JSON.stringify(value)} is not a valid ${attribute.type}`,
      );
    }
    const format: MessageFormat = view.supportedFormats.includes("JSON") ? "JSON" : "CBOR";
    const sent = Date.now();
    const payload = encodeAttribute(format, {
      type: attribute.type,
      constraint: attribute.constraint,
      value: converted,
      timestamp: sent,
    });
    const key = `${uuid}/${path}`;
    const result = new Promise<SetResult>((resolve) => {
      const waiters = this.#waiting.get(key) ?? [];
      const waiter = { sent, resolve };
      waiters.push(waiter);
      this.#waiting.set(key, waiters);
      setTimeout(() => {
        const list = this.#waiting.get(key);
        const at = list?.indexOf(waiter) ?? -1;
        if (at >= 0) {
          list!.splice(at, 1);
          resolve({ confirmed: false });
        }
      }, options.timeout ?? 5000);
    });
    this.#emit({ type: "set", uuid, path, value: converted });
    await this.#connection.publish(topicsOf(uuid).set(path), payload, { qos: 1, retain: false });
    return await result;
  }

  /**
   * Sends `@logsLevel/<uuid>` with `{"level": …}` (JSON), as cloud.iO's REST API does when a
   * user changes an endpoint's log level, and remembers the level in the endpoint's view.
   *
   * @param uuid The endpoint.
   * @param level One of `OFF FATAL ERROR WARN INFO DEBUG TRACE ALL`.
   * @throws {TypeError} When the endpoint is unknown.
   * @throws {RangeError} When the level is not a log level.
   */
  async logsLevel(uuid: string, level: LogLevel): Promise<void> {
    const view = this.#known(uuid, "@logsLevel");
    if (!LOG_LEVELS.includes(level)) {
      throw new RangeError(
        `Cannot send @logsLevel: ${JSON.stringify(level)} is not one of ${LOG_LEVELS.join(", ")}`,
      );
    }
    view.logsLevel = level;
    this.#emit({ type: "logsLevel", uuid, level });
    await this.publish(topicsOf(uuid).logsLevel, encoder.encode(JSON.stringify({ level })));
  }

  /**
   * Starts a job: sends `@exec/<uuid>` with `{"correlationID", "jobURI", "data", "sendOutput"}`
   * (JSON, all four keys, protocol §6.9). Its output lines arrive as `execOutput` events and in
   * the endpoint's view ({@linkcode EndpointView.jobs}).
   *
   * @param uuid The endpoint.
   * @param options The job, its argument, whether to send output, and the correlation ID.
   * @returns The correlation ID.
   * @throws {TypeError} When the endpoint is unknown, the job URI empty or the correlation ID
   * not a valid topic level.
   */
  async exec(uuid: string, options: ExecOptions): Promise<string> {
    const view = this.#known(uuid, "@exec");
    const {
      jobURI,
      data = "",
      sendOutput = true,
      correlationID = `job-${crypto.randomUUID().slice(0, 8)}`,
    } = options;
    if (typeof jobURI !== "string" || jobURI === "") {
      throw new TypeError("Cannot send @exec: the job URI is empty");
    }
    if (!CORRELATION_ID.test(correlationID)) {
      throw new TypeError(
        `Cannot send @exec: correlation ID ${
          JSON.stringify(correlationID)
        } is not 1 to 64 letters, digits or "-"`,
      );
    }
    this.#job(view, correlationID, { jobURI, data, sendOutput, started: Date.now() });
    this.#emit({ type: "exec", uuid, correlationID, jobURI, data, sendOutput });
    const payload = JSON.stringify({ correlationID, jobURI, data, sendOutput });
    await this.publish(topicsOf(uuid).exec, encoder.encode(payload));
    return correlationID;
  }

  /**
   * Publishes a raw message, for what the devcloud has no verb for.
   *
   * @param topic The topic.
   * @param payload The payload.
   */
  async publish(topic: string, payload: Uint8Array): Promise<void> {
    await this.#connection.publish(topic, payload, { qos: 1, retain: false });
  }

  /** Disconnects and ends every `events()` iteration. */
  async close(): Promise<void> {
    await this.#connection.close();
    for (const queue of this.#queues) queue.close();
    for (const waiters of this.#waiting.values()) {
      for (const waiter of waiters) waiter.resolve({ confirmed: false });
    }
    this.#waiting.clear();
  }

  /** Closes the devcloud. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #emit(event: CloudEvent): void {
    for (const queue of this.#queues) queue.push(event);
  }

  #known(uuid: string, action: string): EndpointView {
    const view = this.#views.get(uuid);
    if (!view) throw new TypeError(`Cannot send ${action} to ${uuid}: there is no such endpoint`);
    return view;
  }

  #job(view: EndpointView, correlationID: string, fields: Partial<ExecJob> = {}): ExecJob {
    let job = view.jobs.find((j) => j.correlationID === correlationID);
    if (!job) {
      job = { correlationID, output: [] };
      view.jobs.push(job);
      if (view.jobs.length > JOBS_LENGTH) view.jobs.splice(0, view.jobs.length - JOBS_LENGTH);
    }
    return Object.assign(job, fields);
  }

  #view(uuid: string): EndpointView {
    let view = this.#views.get(uuid);
    if (!view) {
      view = {
        uuid,
        online: false,
        since: Date.now(),
        supportedFormats: ["JSON"],
        nodes: {},
        history: {},
        logs: [],
        jobs: [],
        rejected: [],
      };
      this.#views.set(uuid, view);
    }
    return view;
  }

  #receive(topic: string, payload: Uint8Array): void {
    const levels = topic.split("/");
    const uuid = levels[1];
    const problems = serverProblems(topic, payload);
    if (problems.length > 0) {
      this.#reject(uuid, topic, payload, problems);
      return;
    }
    try {
      this.#apply(levels, uuid, payload);
    } catch (error) {
      this.#reject(uuid, topic, payload, [(error as Error).message]);
    }
  }

  // Kept in the endpoint's view (created if need be: a device whose @online is rejected should
  // still show up, with the reason), and emitted.
  #reject(uuid: string | undefined, topic: string, payload: Uint8Array, problems: string[]): void {
    const excerpt = excerptOf(payload);
    if (uuid) {
      const rejected = this.#view(uuid).rejected;
      rejected.push({ at: Date.now(), topic, problems, excerpt });
      if (rejected.length > REJECTED_LENGTH) rejected.splice(0, rejected.length - REJECTED_LENGTH);
    }
    this.#emit({ type: "rejected", uuid, topic, problems, excerpt });
  }

  #apply(levels: string[], uuid: string, payload: Uint8Array): void {
    const action = levels[0];
    if (action === "@offline") {
      const view = this.#view(uuid);
      view.online = false;
      view.since = Date.now();
      this.#emit({ type: "offline", uuid });
      return;
    }
    if (action === "@nodeRemoved") {
      delete this.#view(uuid).nodes[levels[2]];
      this.#emit({ type: "nodeRemoved", uuid, node: levels[2] });
      return;
    }
    const body = decodePayload(payload, { maxBytes: 64 << 20 }).value;
    this.#applyBody(action, levels, uuid, body, "update");
  }

  #applyBody(
    action: string,
    levels: string[],
    uuid: string,
    body: Record<string, unknown>,
    via: "update" | "delayed" | "transaction",
  ): void {
    const view = this.#view(uuid);
    switch (action) {
      case "@online": {
        const model = modelFromJson(body);
        view.online = true;
        view.since = Date.now();
        view.supportedFormats = Array.isArray(body.supportedFormats)
          ? body.supportedFormats as MessageFormat[]
          : ["JSON"];
        // The cloud merges: nodes missing from a later @online are kept.
        Object.assign(view.nodes, model.nodes);
        for (const [name, node] of Object.entries(model.nodes)) this.#record(view, name, node);
        this.#emit({ type: "online", uuid, nodes: model.nodes });
        return;
      }
      case "@nodeAdded": {
        const node = nodeFromJson(body);
        view.nodes[levels[2]] = node;
        this.#record(view, levels[2], node);
        this.#emit({ type: "nodeAdded", uuid, node: levels[2], model: node });
        return;
      }
      case "@update":
      case "@didSet": {
        const path = levels.slice(2).join("/");
        const attribute = toAttribute(body);
        const known = findAttribute(view.nodes, path);
        if (known) Object.assign(known, attribute);
        if (action === "@update") {
          this.#point(view, path, attribute);
          this.#emit({ type: "update", uuid, path, attribute, via });
        } else if (via === "update") {
          const waiters = this.#waiting.get(`${uuid}/${path}`);
          const waiter = waiters?.shift();
          const latency = waiter ? Date.now() - waiter.sent : undefined;
          this.#emit({ type: "didSet", uuid, path, attribute, latency });
          waiter?.resolve({ confirmed: true, attribute, latency });
        }
        return;
      }
      case "@transaction": {
        const attributes = body.attributes as Record<string, Record<string, unknown>>;
        for (const [key, value] of Object.entries(attributes)) {
          const parts = key.split("/");
          this.#applyBody("@update", ["@update", ...parts], parts[0], value, "transaction");
        }
        return;
      }
      case "@delayed": {
        for (const message of body.messages as { topic: string; data: Record<string, unknown> }[]) {
          const inner = message.topic.split("/");
          this.#applyBody(inner[0], inner, inner[1], message.data, "delayed");
        }
        return;
      }
      case "@logs": {
        const record: LogRecord = {
          level: body.level as LogRecord["level"],
          timestamp: fromWireTime(body.timestamp as number),
          message: body.message as string,
          loggerName: (body.loggerName as string) ?? "",
          logSource: (body.logSource as string) ?? "",
        };
        view.logs.push(record);
        if (view.logs.length > LOG_LENGTH) view.logs.splice(0, view.logs.length - LOG_LENGTH);
        this.#emit({ type: "log", uuid, record });
        return;
      }
      case "@execOutput": {
        const correlationID = String(body.correlationID);
        const data = String(body.data);
        const output = this.#job(view, correlationID).output;
        output.push(data);
        if (output.length > JOB_OUTPUT_LENGTH) {
          output.splice(0, output.length - JOB_OUTPUT_LENGTH);
        }
        this.#emit({ type: "execOutput", uuid, correlationID, data });
        return;
      }
    }
  }

  #record(view: EndpointView, prefix: string, node: NodeModel | ObjectModel): void {
    const objects = (node as ObjectModel).objects ?? {};
    for (const [name, object] of Object.entries(objects)) {
      const path = `${prefix}/${name}`;
      for (const [attributeName, attribute] of Object.entries(object.attributes ?? {})) {
        if (attribute.value !== undefined && attribute.timestamp !== undefined) {
          this.#point(view, `${path}/${attributeName}`, attribute);
        }
      }
      this.#record(view, path, object);
    }
  }

  #point(view: EndpointView, path: string, attribute: AttributeModel): void {
    if (attribute.value === undefined || attribute.timestamp === undefined) return;
    const points = view.history[path] ??= [];
    const last = points.at(-1);
    if (last && last.timestamp === attribute.timestamp && last.value === attribute.value) return;
    points.push({ timestamp: attribute.timestamp, value: attribute.value });
    if (points.length > this.#historyLength) points.splice(0, points.length - this.#historyLength);
  }
}

function excerptOf(payload: Uint8Array, max = 300): string {
  if (payload.length === 0) return "";
  if (payload[0] === 0x7b) {
    const text = new TextDecoder().decode(payload.subarray(0, max * 4));
    return text.length > max ? `${text.slice(0, max)}…` : text;
  }
  const bytes = [...payload.subarray(0, 48)].map((b) => b.toString(16).padStart(2, "0"));
  return `${payload.length} bytes: ${bytes.join(" ")}${payload.length > 48 ? " …" : ""}`;
}

function toAttribute(body: Record<string, unknown>): AttributeModel {
  const attribute: AttributeModel = {
    type: body.type as AttributeModel["type"],
    constraint: body.constraint as AttributeModel["constraint"],
  };
  if (body.value !== undefined && body.value !== null) {
    attribute.value = body.value as AttributeValue;
  }
  if (typeof body.timestamp === "number") attribute.timestamp = fromWireTime(body.timestamp);
  return attribute;
}

/**
 * Finds an attribute in a model by path.
 *
 * @param nodes The nodes.
 * @param path `node/object/…/attribute`.
 * @returns The attribute, or `undefined`.
 */
export function findAttribute(
  nodes: Record<string, NodeModel>,
  path: string,
): AttributeModel | undefined {
  const levels = path.split("/");
  if (levels.length < 3) return undefined;
  const node = Object.hasOwn(nodes, levels[0]) ? nodes[levels[0]] : undefined;
  let object = node?.objects && Object.hasOwn(node.objects, levels[1])
    ? node.objects[levels[1]]
    : undefined;
  for (let i = 2; object && i < levels.length - 1; i++) {
    object = object.objects && Object.hasOwn(object.objects, levels[i])
      ? object.objects[levels[i]]
      : undefined;
  }
  const name = levels[levels.length - 1];
  return object?.attributes && Object.hasOwn(object.attributes, name)
    ? object.attributes[name]
    : undefined;
}
