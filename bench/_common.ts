/**
 * What every case of the runner shares: the clock and the log, the paths of the child scripts,
 * reading what a child process printed, temporary directories and timeouts, and (for the child
 * scripts) the process's peak resident set.
 *
 * @module
 */

import type { Child } from "../tests/_process.ts";

/** The bench folder. */
export const HERE = new URL(".", import.meta.url);
/** The repository, for the profile's short paths. */
export const ROOT = new URL("../", import.meta.url).href;
/** The path of a child script of the bench folder. */
export const script = (name: string) => new URL(name, HERE).pathname;
/** When the run started (`performance.now()`); see {@linkcode startClock}. */
export let started = performance.now();

/**
 * Starts the run's clock now, once the modules are loaded and evaluated (as when the runner was
 * one file, whose clock started after its imports).
 */
export function startClock(): void {
  started = performance.now();
}

const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);
/** Prints a progress line, with the seconds since the start. */
export const log = (line: string) => console.log(`[${elapsed().padStart(6)} s] ${line}`);
/** Now, in epoch ms with sub-ms precision. */
export const epochNow = () => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the promise's value, or `fallback` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((resolve) => timer = setTimeout(() => resolve(fallback), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The number at `index` on the last line the child printed that starts with `name`. */
export function field(child: Child, name: string, index = 1): number {
  const line = child.lines.findLast((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(" ")[index]) : NaN;
}

/** A new temporary directory whose name tells what it is for. */
export async function tempDir(prefix: string): Promise<string> {
  return await Deno.makeTempDir({ prefix: `cloudio-bench-${prefix}-` });
}

/** Removes a file or a directory tree, if it is there. */
export async function remove(path: string): Promise<void> {
  await Deno.remove(path, { recursive: true }).catch(() => {});
}

/**
 * The kernel's record of this process's peak resident set (Linux: `VmHWM`), else the current one.
 *
 * @returns Bytes.
 */
export function peakRss(): number {
  try {
    const kB = /^VmHWM:\s+(\d+) kB/m.exec(Deno.readTextFileSync("/proc/self/status"));
    if (kB) return Number(kB[1]) * 1024;
  } catch {
    // Not Linux.
  }
  return Deno.memoryUsage().rss;
}
