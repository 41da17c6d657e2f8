/**
 * Deadlines for the tests: a wait that never ends must fail its own test with what it waited for,
 * not hang the whole run.
 *
 * @example
 * ```ts ignore
 * import { within } from "./_deadline.ts";
 *
 * await within(endpoint.delivered(), 10_000, "every value to be acknowledged");
 * ```
 *
 * @module
 */

/** The error of a wait that ran past its deadline. */
export class DeadlineError extends Error {
  /**
   * Creates the error.
   *
   * @param what What was waited for.
   * @param ms The deadline in ms.
   */
  constructor(readonly what: string, readonly ms: number) {
    super(`Timed out after ${ms} ms waiting for ${what}`);
    this.name = "DeadlineError";
  }
}

/**
 * Waits for a promise, at most `ms` milliseconds.
 *
 * @param promise What to wait for.
 * @param ms The deadline.
 * @param what What is awaited, for the error.
 * @returns What the promise resolves with.
 * @throws {DeadlineError} When the deadline passes first.
 */
export function within<T>(promise: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
  });
  return Promise.race([Promise.resolve(promise), deadline]).finally(() => clearTimeout(timer));
}

/**
 * Collects items of an async iterable until `stop` says so, at most `ms` milliseconds; the
 * iterator is closed either way.
 *
 * @param iterable The iterable (for example `endpoint.status()`).
 * @param stop Called with every item and everything so far; `true` ends the wait.
 * @param ms The deadline.
 * @param what What is awaited, for the error.
 * @returns Every item seen, the last one included.
 * @throws {DeadlineError} When the deadline passes first, or the iterable ends before `stop` said so.
 */
export async function collectUntil<T>(
  iterable: AsyncIterable<T>,
  stop: (item: T, seen: T[]) => boolean,
  ms: number,
  what: string,
): Promise<T[]> {
  const iterator = iterable[Symbol.asyncIterator]();
  const seen: T[] = [];
  const end = Date.now() + ms;
  try {
    for (;;) {
      const left = end - Date.now();
      if (left <= 0) throw new DeadlineError(`${what} (seen so far: ${describe(seen)})`, ms);
      const next = await within(iterator.next(), left, `${what} (seen so far: ${describe(seen)})`)
        .catch((error) => {
          if (error instanceof DeadlineError) {
            throw new DeadlineError(`${what} (seen so far: ${describe(seen)})`, ms);
          }
          throw error;
        });
      if (next.done) {
        throw new Error(`The iteration ended before ${what} (seen: ${describe(seen)})`);
      }
      seen.push(next.value);
      if (stop(next.value, seen)) return seen;
    }
  } finally {
    // Not awaited: a generator blocked in next() settles its return() only after that next().
    iterator.return?.()?.catch?.(() => {});
  }
}

function describe(items: unknown[]): string {
  const text = items.map((item) =>
    typeof item === "object" && item !== null && "type" in item
      ? String((item as { type: unknown }).type)
      : JSON.stringify(item)
  );
  return text.length > 20 ? `${text.slice(0, 20).join(", ")}, …` : text.join(", ") || "nothing";
}
