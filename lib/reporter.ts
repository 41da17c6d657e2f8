/**
 * How an endpoint tells of its life: the `status()` events, and every refusal or failure that
 * does not stop it, given to `onError`. Drops are counted one by one in `status()` and told to
 * `onError` at most once a second. A failing `onError` never takes the endpoint down, and what it
 * prints is never shipped back as `@logs` (see {@linkcode Reporter.prototype.reporting}).
 *
 * This module is browser compatible.
 *
 * @module
 */

import { PushQueue } from "./_queue.ts";
import { CloudioError, DroppedError } from "./errors.ts";
import type { EndpointStatus } from "./status.ts";

/** The default `onError`: one line on the console. */
function printError(error: CloudioError): void {
  console.warn(`cloudio: ${error.message}`);
}

/** The endpoint's events and error reports. */
export class Reporter {
  #onError: (error: CloudioError) => void;
  #printing: boolean;
  #queues = new Set<PushQueue<EndpointStatus>>();
  #reporting = false;
  #closed = false;
  #drops?: {
    count: number;
    reason: "full" | "offline";
    topic: string;
    timer: ReturnType<typeof setTimeout> | undefined;
  };

  /**
   * Creates a reporter.
   *
   * @param onError Told of everything refused or failed; prints a line by default.
   */
  constructor(onError?: (error: CloudioError) => void) {
    this.#onError = onError ?? printError;
    this.#printing = onError === undefined;
  }

  /**
   * Prints a notice on the console, unless the program took over the reports with `onError`
   * (it has the same in `status()`).
   *
   * @param message The notice.
   */
  notice(message: string): void {
    if (this.#printing) console.info(`cloudio: ${message}`);
  }

  /** Whether `onError` is running: what it prints must not become `@logs`. */
  get reporting(): boolean {
    return this.#reporting;
  }

  /**
   * Iterates over the events from now on.
   *
   * @param signal Ends the iteration.
   * @returns The events.
   */
  status(signal?: AbortSignal): AsyncIterableIterator<EndpointStatus> {
    const queue: PushQueue<EndpointStatus> = new PushQueue<EndpointStatus>({
      signal,
      onClose: () => this.#queues.delete(queue),
    });
    if (this.#closed) queue.close();
    else if (!queue.closed) this.#queues.add(queue);
    return queue;
  }

  /**
   * Tells every `status()` iteration of an event.
   *
   * @param event The event.
   */
  emit(event: EndpointStatus): void {
    for (const queue of this.#queues) queue.push(event);
  }

  /**
   * Reports a refusal or failure that does not stop the endpoint: an `error` event and `onError`.
   *
   * @param error What happened; anything but a `CloudioError` is wrapped in one.
   */
  report(error: unknown): void {
    const typed = error instanceof CloudioError
      ? error
      : new CloudioError(`Unexpected failure: ${(error as Error)?.message ?? error}`, {
        cause: error,
      });
    this.emit({ type: "error", error: typed });
    this.tell(typed);
  }

  /**
   * Gives an error to `onError` only (no event).
   *
   * @param error The error.
   */
  tell(error: CloudioError): void {
    this.#reporting = true;
    try {
      this.#onError(error);
    } catch {
      // A failing handler must not take the endpoint down.
    } finally {
      this.#reporting = false;
    }
  }

  /**
   * Reports a dropped message: a `dropped` event at once, and a `DroppedError` to `onError` at
   * most once a second with the count since the last one.
   *
   * @param topic The dropped message's topic.
   * @param reason Why it was dropped.
   * @param total How many were dropped for that reason so far.
   */
  dropped(topic: string, reason: "full" | "offline", total: number): void {
    this.emit({ type: "dropped", reason, topic, total });
    const pending = this.#drops ??= { count: 0, reason, topic, timer: undefined };
    pending.count++;
    pending.reason = reason;
    pending.topic = topic;
    if (pending.timer === undefined) this.#flushDrops();
  }

  #flushDrops(): void {
    const drops = this.#drops;
    if (!drops || drops.count === 0) {
      this.#drops = undefined;
      return;
    }
    this.tell(new DroppedError(drops.count, drops.reason, drops.topic));
    drops.count = 0;
    drops.timer = this.#closed ? undefined : setTimeout(() => this.#flushDrops(), 1000);
    if (drops.timer === undefined) this.#drops = undefined;
  }

  /** Tells of the drops not told yet, emits `closed`, and ends every `status()` iteration. */
  close(): void {
    this.#closed = true;
    if (this.#drops?.timer !== undefined) clearTimeout(this.#drops.timer);
    if (this.#drops?.count) {
      this.tell(new DroppedError(this.#drops.count, this.#drops.reason, this.#drops.topic));
    }
    this.#drops = undefined;
    this.emit({ type: "closed" });
    for (const queue of this.#queues) queue.close();
  }
}
