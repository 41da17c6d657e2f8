/**
 * The events of an endpoint's life, as `Endpoint.status()` yields them.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { CloudioError } from "./errors.ts";

/** One event in the life of an endpoint; tell them apart by `type`. */
export type EndpointStatus =
  /** A connection attempt starts. */
  | { type: "connecting"; url: string; attempt: number }
  /** Connected, subscribed, and `@online` acknowledged; the backlog is being sent. */
  | { type: "online"; url: string }
  /**
   * The connection to `url` was lost or an attempt on it failed; the next attempt comes in
   * `retryIn` ms (none when the endpoint stopped trying).
   */
  | { type: "offline"; url?: string; error?: Error; retryIn?: number }
  /** Something was refused or failed without stopping the endpoint (a bad `@set`, a store error). */
  | { type: "error"; error: CloudioError }
  /** The client certificate about to be used, read on every connection attempt. */
  | { type: "certificate"; commonName?: string; notAfter: number; expiresIn: number }
  /**
   * The outbox store `connect()` opened: `memory`, or the file values wait in while offline
   * (`created` when this run made it).
   */
  | { type: "store"; location: string; durable: boolean; created: boolean }
  /** A message was dropped: the outbox was full, or persistence is off and the endpoint offline. */
  | { type: "dropped"; reason: "full" | "offline"; topic: string; total: number }
  /** The endpoint is closed; nothing follows. */
  | { type: "closed" };

/** The state an endpoint is in. */
export type EndpointState = "idle" | "connecting" | "online" | "offline" | "closed";
