/**
 * cloudio-endpoint for browsers and other places with web APIs only: the same endpoint, model,
 * codecs and connectors as `mod.ts`, reaching the broker over MQTT on WebSocket (`ws://`,
 * `wss://`), configured with an object, keeping its outbox in memory.
 *
 * @example An endpoint in a web page
 * ```ts ignore
 * import { Endpoint } from "@cloudio/endpoint/web";
 *
 * const endpoint = new Endpoint("0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55", {
 *   config: { hostUri: "wss://broker.example/mqtt", persistence: "memory" },
 * });
 * const level = endpoint.addNode("Tank").addObject("Status")
 *   .addAttribute("level", { type: "Number", constraint: "Measure" });
 * await endpoint.connect();
 * level.value = 0.75;
 * ```
 *
 * @module
 */

import { webPlatform } from "./lib/adapters/web.ts";
import { setDefaultPlatform } from "./lib/platform.ts";

setDefaultPlatform(webPlatform);

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
export { MemoryStore } from "./lib/outbox/memory_store.ts";
export { createWebSocketTransport } from "./lib/adapters/mqtt_ws.ts";
export { modelFromJson, nodeFromJson } from "./connectors/json.ts";
export { modelProblems } from "./lib/model/validate.ts";
export { Logger } from "./lib/logs/logger.ts";
export { LOG_LEVELS } from "./lib/logs/levels.ts";
export { readCertificate } from "./lib/tls/x509.ts";
