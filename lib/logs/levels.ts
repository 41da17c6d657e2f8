/**
 * Log levels and records as the protocol has them (§6.8), and how a level compares with the one
 * the cloud asked for.
 *
 * This module is browser compatible.
 *
 * @module
 */

/** The log levels of protocol §6.8, from quietest to noisiest. */
export const LOG_LEVELS = [
  "OFF",
  "FATAL",
  "ERROR",
  "WARN",
  "INFO",
  "DEBUG",
  "TRACE",
  "ALL",
] as const;

/** A log level of protocol §6.8. */
export type LogLevel = typeof LOG_LEVELS[number];

/** One `@logs` record. */
export interface LogRecord {
  /** Severity. */
  level: LogLevel;
  /** When it happened, in milliseconds since the epoch. */
  timestamp: number;
  /** The text. */
  message: string;
  /** The logger that wrote it. */
  loggerName?: string;
  /** Where in the program it was written. */
  logSource?: string;
}

/**
 * Tells whether a record of one level passes a threshold level.
 *
 * @param record The record's level.
 * @param threshold The level set by the cloud.
 * @returns Whether to ship it.
 *
 * @example
 * ```ts
 * import { passes } from "./levels.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(passes("ERROR", "WARN"), true);
 * assert.equal(passes("DEBUG", "WARN"), false);
 * assert.equal(passes("FATAL", "OFF"), false);
 * ```
 */
export function passes(record: LogLevel, threshold: LogLevel): boolean {
  if (threshold === "OFF" || record === "OFF" || record === "ALL") return false;
  return LOG_LEVELS.indexOf(record) <= LOG_LEVELS.indexOf(threshold);
}

/**
 * Checks a level name from the cloud.
 *
 * @param level The candidate.
 * @returns Whether it is one of the levels of protocol §6.8.
 */
export function isLogLevel(level: unknown): level is LogLevel {
  return typeof level === "string" && (LOG_LEVELS as readonly string[]).includes(level);
}
