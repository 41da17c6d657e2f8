/**
 * Counts what a cloud received of a numbered stream of values: every value `v` (1…N) was set on
 * attribute `a{v % attributes}`, so that loss, duplicates and per-attribute order can be checked
 * whether a value came in an `@update`, a `@transaction` or inside a `@delayed`.
 *
 * @module
 */

import { decodePayload } from "../lib/codec/decode.ts";

/** The attribute a value was set on. */
export function attributeOf(value: number, attributes: number): string {
  return `a${value % attributes}`;
}

/** The tally of one run. */
export class Tally {
  readonly #seen: Uint8Array;
  readonly #max = new Map<string, number>();
  /** Values received more than once (each extra copy counts). */
  duplicates = 0;
  /** New values that arrived after a higher value of the same attribute. */
  outOfOrder = 0;
  /** Distinct values received. */
  delivered = 0;
  /** Messages received, by action. */
  readonly messages: Record<string, number> = {};

  /**
   * Creates a tally.
   *
   * @param uuid The endpoint.
   * @param total How many values are sent (1…total).
   */
  constructor(readonly uuid: string, readonly total: number) {
    this.#seen = new Uint8Array(total + 1);
  }

  /** Records one value of one attribute. */
  value(attribute: string, value: number): void {
    if (!Number.isInteger(value) || value < 1 || value > this.total) return;
    if (this.#seen[value] > 0) {
      this.duplicates++;
      if (this.#seen[value] < 255) this.#seen[value]++;
      return;
    }
    this.#seen[value] = 1;
    this.delivered++;
    const max = this.#max.get(attribute) ?? 0;
    if (value < max) this.outOfOrder++;
    else this.#max.set(attribute, value);
  }

  /** Records a message the cloud received. */
  message(topic: string, payload: Uint8Array): void {
    const levels = topic.split("/");
    if (levels[1] !== this.uuid) return;
    this.messages[levels[0]] = (this.messages[levels[0]] ?? 0) + 1;
    const body = decodePayload(payload, { maxBytes: 64 << 20 }).value;
    this.#body(levels, body);
  }

  #body(levels: string[], body: Record<string, unknown>): void {
    switch (levels[0]) {
      case "@update":
        this.value(levels.at(-1)!, body.value as number);
        return;
      case "@transaction":
        for (
          const [path, attribute] of Object.entries(
            body.attributes as Record<string, { value: number }>,
          )
        ) {
          this.value(path.split("/").at(-1)!, attribute.value);
        }
        return;
      case "@delayed":
        for (const message of body.messages as { topic: string; data: Record<string, unknown> }[]) {
          this.#body(message.topic.split("/"), message.data);
        }
        return;
    }
  }

  /** Values never received (the first few). */
  missing(limit = 10): number[] {
    const out: number[] = [];
    for (let v = 1; v <= this.total && out.length < limit; v++) {
      if (this.#seen[v] === 0) out.push(v);
    }
    return out;
  }

  /** How many distinct values up to `n` arrived. */
  deliveredUpTo(n: number): number {
    let count = 0;
    for (let v = 1; v <= Math.min(n, this.total); v++) if (this.#seen[v] > 0) count++;
    return count;
  }

  /** Whether every value up to `n` arrived. */
  complete(n = this.total): boolean {
    for (let v = 1; v <= n; v++) if (this.#seen[v] === 0) return false;
    return true;
  }

  /** The one-line summary of the issue: `sent N, delivered N, lost 0, duplicates D, out-of-order 0`. */
  summary(sent = this.total): string {
    const delivered = this.deliveredUpTo(sent);
    return `sent ${sent}, delivered ${delivered}, lost ${sent - delivered}, ` +
      `duplicates ${this.duplicates}, out-of-order ${this.outOfOrder}`;
  }
}
