/**
 * The endpoint's remote logs (protocol §6.8): its loggers, the level the cloud set with
 * `@logsLevel` (kept in the outbox store across restarts, as the cloud never sends it again), and
 * one rate limit for all of them. Records go out through the publisher as `@logs`; the library's
 * own reports never do.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { Outbox } from "../outbox/outbox.ts";
import type { Publisher } from "./publisher.ts";
import type { Reporter } from "../reporter.ts";
import { isLogLevel, type LogLevel, type LogRecord } from "../logs/levels.ts";
import { Logger, LogRateLimit, type LogRateOptions, type LogSink } from "../logs/logger.ts";

const LEVEL_STATE = "logsLevel";

/** Options of {@linkcode RemoteLogs}. */
export interface RemoteLogsOptions {
  /**
   * The level until the cloud sets one.
   *
   * @default {"ERROR"}
   */
  level?: LogLevel;
  /** The rate limit (default 20 records/s, bursts of 100). */
  rate?: LogRateOptions;
  /** The clock, in ms. */
  now(): number;
  /** Where records go. */
  publisher: Publisher;
  /** Whose reports must not come back as `@logs`. */
  reporter: Reporter;
}

/** The loggers of one endpoint and the level they answer to. */
export class RemoteLogs implements LogSink {
  #level: LogLevel;
  #limit: LogRateLimit;
  #loggers = new Map<string, Logger>();
  #options: RemoteLogsOptions;
  #outbox?: Outbox;

  /**
   * Creates the remote logs of an endpoint.
   *
   * @param options The default level, the rate limit, the clock, and where records go.
   * @throws {TypeError} When the level is not a log level.
   * @throws {RangeError} When the rate limit is not positive.
   */
  constructor(options: RemoteLogsOptions) {
    if (options.level !== undefined && !isLogLevel(options.level)) {
      throw new TypeError(`Cannot use log level ${JSON.stringify(options.level)}`);
    }
    this.#options = options;
    this.#level = options.level ?? "ERROR";
    this.#limit = new LogRateLimit(options.rate ?? {}, options.now());
  }

  /**
   * Returns the logger of a name, creating it the first time.
   *
   * @param name The logger's name.
   * @returns The logger.
   */
  logger(name: string): Logger {
    let logger = this.#loggers.get(name);
    if (!logger) {
      logger = new Logger(name, this, this.#limit);
      this.#loggers.set(name, logger);
    }
    return logger;
  }

  /**
   * The level in force.
   *
   * @returns The cloud's last level, or the default.
   */
  level(): LogLevel {
    return this.#level;
  }

  /**
   * Applies the level the cloud set, and keeps it in the outbox store.
   *
   * @param level The level.
   */
  setLevel(level: LogLevel): void {
    this.#level = level;
    if (!this.#outbox) return;
    this.#outbox.store.setState(LEVEL_STATE, level);
    this.#outbox.flush().catch((error) => this.#options.reporter.report(error));
  }

  /**
   * Takes the level kept in the outbox's store, if any, and keeps later ones there.
   *
   * @param outbox The endpoint's outbox, once open.
   */
  useOutbox(outbox: Outbox): void {
    this.#outbox = outbox;
    const saved = outbox.store.getState(LEVEL_STATE);
    if (isLogLevel(saved)) this.#level = saved;
  }

  /**
   * Sends a record as `@logs`, unless it was written while the library reported an error.
   *
   * @param record The record.
   */
  ship(record: LogRecord): void {
    if (!this.#options.reporter.reporting) this.#options.publisher.log(record);
  }

  /**
   * The clock.
   *
   * @returns Milliseconds since the epoch.
   */
  now(): number {
    return this.#options.now();
  }
}
