/**
 * Remote logs (protocol §6.8): loggers whose records at or above the level the cloud chose are
 * shipped as `@logs/<uuid>`, rate-limited, through the outbox (so they wait while offline).
 *
 * This module is browser compatible.
 *
 * @module
 */

import { LOG_LEVELS, type LogLevel, type LogRecord, passes } from "./levels.ts";

/** Where accepted records go, and what the current level is. */
export interface LogSink {
  /** The level the cloud set (or the default); records above it are not shipped. */
  level(): LogLevel;
  /** Ships one record. */
  ship(record: LogRecord): void;
  /** The clock, in ms. */
  now(): number;
}

/** Options of the rate limit: a token bucket. */
export interface LogRateOptions {
  /**
   * Records per second, on average.
   *
   * @default {20}
   */
  rate?: number;
  /**
   * Records that may be shipped at once after a quiet period.
   *
   * @default {100}
   */
  burst?: number;
}

/** The longest message shipped, in UTF-16 code units; longer ones are cut. */
export const MAX_LOG_MESSAGE = 8192;

/** A token bucket shared by every logger of an endpoint. */
export class LogRateLimit {
  #rate: number;
  #burst: number;
  #tokens: number;
  #last: number;
  /** Records refused since the last one that went out. */
  suppressed = 0;
  /** The most severe level among them. */
  suppressedLevel: LogLevel = "ALL";

  /**
   * Creates a full bucket.
   *
   * @param options Rate and burst.
   * @param now The clock, in ms.
   */
  constructor(options: LogRateOptions, now: number) {
    this.#rate = options.rate ?? 20;
    this.#burst = options.burst ?? 100;
    if (!(this.#rate > 0) || !(this.#burst >= 1)) {
      throw new RangeError(`Cannot limit logs to rate ${this.#rate}/s with burst ${this.#burst}`);
    }
    this.#tokens = this.#burst;
    this.#last = now;
  }

  /**
   * Takes a token.
   *
   * @param now The clock, in ms.
   * @param level The record's level, remembered when it is refused.
   * @returns Whether a record may go out now.
   */
  take(now: number, level: LogLevel): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    this.#last = now;
    if (this.#tokens >= 1) {
      this.#tokens--;
      return true;
    }
    this.suppressed++;
    if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(this.suppressedLevel)) {
      this.suppressedLevel = level;
    }
    return false;
  }
}

function format(parts: readonly unknown[]): string {
  const text = parts.map((part) => {
    if (typeof part === "string") return part;
    if (part instanceof Error) return part.stack ?? `${part.name}: ${part.message}`;
    try {
      return JSON.stringify(part) ?? String(part);
    } catch {
      return String(part);
    }
  }).join(" ");
  return text.length > MAX_LOG_MESSAGE ? `${text.slice(0, MAX_LOG_MESSAGE - 1)}…` : text;
}

// The first stack frame outside this library: "file.ts:42".
function callerSource(): string {
  const stack = new Error().stack?.split("\n") ?? [];
  for (const line of stack.slice(1)) {
    if (/\/lib\/logs\/|\/lib\/endpoint\.ts/.test(line)) continue;
    const match = /([^/\\(\s]+):(\d+):\d+\)?\s*$/.exec(line);
    if (match) return `${match[1]}:${match[2]}`;
  }
  return "";
}

/**
 * A named logger of an endpoint; get one with `Endpoint.prototype.logger`.
 *
 * @example
 * ```ts ignore
 * const log = endpoint.logger("drive");
 * log.error("motor stalled at", rpm, "rpm"); // → @logs when the cloud's level is ERROR or more
 * ```
 */
export class Logger {
  /** The logger's name, shipped as `loggerName`. */
  readonly name: string;
  #sink: LogSink;
  #limit: LogRateLimit;

  /**
   * Creates a logger; use `Endpoint.prototype.logger` instead.
   *
   * @param name The name.
   * @param sink Where records go.
   * @param limit The endpoint's rate limit.
   */
  constructor(name: string, sink: LogSink, limit: LogRateLimit) {
    this.name = name;
    this.#sink = sink;
    this.#limit = limit;
  }

  /**
   * Whether a record of this level would be shipped now.
   *
   * @param level The level.
   * @returns Whether it passes the cloud's level.
   */
  enabled(level: LogLevel): boolean {
    return passes(level, this.#sink.level());
  }

  /**
   * Ships a record when its level passes the cloud's level and the rate limit allows.
   *
   * @param level The severity.
   * @param parts What to say; strings as they are, errors with their stack, the rest as JSON.
   */
  log(level: LogLevel, ...parts: unknown[]): void {
    if (!this.enabled(level)) return;
    const now = this.#sink.now();
    if (!this.#limit.take(now, level)) return;
    const suppressed = this.#limit.suppressed;
    // The notice goes at the level of the most severe record it stands for, so that it passes
    // the cloud's level exactly when those records would have.
    const noticeLevel = this.#limit.suppressedLevel;
    if (suppressed > 0) {
      this.#limit.suppressed = 0;
      this.#limit.suppressedLevel = "ALL";
    }
    if (suppressed > 0 && this.enabled(noticeLevel)) {
      this.#sink.ship({
        level: noticeLevel,
        timestamp: now,
        message: `${suppressed} log record${
          suppressed === 1 ? " was" : "s were"
        } suppressed by the rate limit`,
        loggerName: "cloudio",
        logSource: "",
      });
    }
    this.#sink.ship({
      level,
      timestamp: now,
      message: format(parts),
      loggerName: this.name,
      logSource: callerSource(),
    });
  }

  /** Logs at FATAL. */
  fatal(...parts: unknown[]): void {
    this.log("FATAL", ...parts);
  }
  /** Logs at ERROR. */
  error(...parts: unknown[]): void {
    this.log("ERROR", ...parts);
  }
  /** Logs at WARN. */
  warn(...parts: unknown[]): void {
    this.log("WARN", ...parts);
  }
  /** Logs at INFO. */
  info(...parts: unknown[]): void {
    this.log("INFO", ...parts);
  }
  /** Logs at DEBUG. */
  debug(...parts: unknown[]): void {
    this.log("DEBUG", ...parts);
  }
  /** Logs at TRACE. */
  trace(...parts: unknown[]): void {
    this.log("TRACE", ...parts);
  }
}
