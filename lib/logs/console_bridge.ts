/**
 * The console bridged to a logger: what the program writes with `console.error`, `warn`, `info`,
 * `log` and `debug` is still printed, and also logged (at ERROR, WARN, INFO, INFO, DEBUG).
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { Logger } from "./logger.ts";

const METHODS = {
  error: "ERROR",
  warn: "WARN",
  info: "INFO",
  log: "INFO",
  debug: "DEBUG",
} as const;

/**
 * Bridges the console to a logger until disposed.
 *
 * @param logger The logger.
 * @returns A disposable that restores the console.
 *
 * @example
 * ```ts ignore
 * using _bridge = bridgeConsole(endpoint.logger("console"));
 * console.warn("filter almost full"); // printed, and shipped as WARN when enabled
 * ```
 */
export function bridgeConsole(logger: Logger): Disposable {
  const originals = new Map<string, (...parts: unknown[]) => void>();
  const target = console as unknown as Record<string, (...parts: unknown[]) => void>;
  for (const [method, level] of Object.entries(METHODS)) {
    const original = target[method];
    originals.set(method, original);
    target[method] = (...parts: unknown[]) => {
      original.apply(console, parts);
      logger.log(level, ...parts);
    };
  }
  return {
    [Symbol.dispose]() {
      for (const [method, original] of originals) target[method] = original;
    },
  };
}
