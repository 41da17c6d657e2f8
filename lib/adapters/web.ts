/**
 * The browser platform: no files (the configuration is given as an object), MQTT over
 * WebSocket, an outbox in memory.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { MemoryStore } from "../outbox/memory_store.ts";
import type { Platform } from "../platform.ts";
import { readCertificate } from "../tls/x509.ts";
import { createWebSocketTransport } from "./mqtt_ws.ts";

/** The browser platform. */
export const webPlatform: Platform = {
  loadSettings(name) {
    return Promise.reject(
      new ConfigError(
        `Cannot read ${name}.properties in a browser: pass the configuration as an object ({ config: { hostUri: "wss://…" } })`,
      ),
    );
  },
  createTransport(settings) {
    return createWebSocketTransport(settings.broker);
  },
  openStore() {
    return Promise.resolve(new MemoryStore());
  },
  readCertificate,
};
