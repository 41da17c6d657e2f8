/**
 * Transactions (protocol §6.6): while one is open, the device's writes are collected instead of
 * sent; `commit()` sends every attribute changed as one `@transaction`, with its value at commit
 * time, and `rollback()` restores what each had before.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { type CloudioAttribute, restore } from "../model/attribute.ts";
import type { AttributeValue } from "../model/types.ts";

/** An open transaction; see `Endpoint.prototype.beginTransaction`. */
export interface Transaction extends Disposable {
  /** Sends every attribute changed since the transaction began as one `@transaction`. */
  commit(): void;
  /** Restores every attribute changed since the transaction began and sends nothing. */
  rollback(): void;
}

/** An attribute's value and timestamp before the transaction touched it. */
interface Before {
  value?: AttributeValue;
  timestamp?: number;
}

/** The endpoint's transaction, when one is open. */
export class Transactions {
  #open?: Map<CloudioAttribute, Before>;
  #send: (attributes: readonly CloudioAttribute[]) => void;
  #now: () => number;

  /**
   * Creates the transactions of an endpoint.
   *
   * @param send Sends the attributes of a committed transaction as one `@transaction`.
   * @param now The clock, for restoring a value that had no timestamp.
   */
  constructor(send: (attributes: readonly CloudioAttribute[]) => void, now: () => number) {
    this.#send = send;
    this.#now = now;
  }

  /**
   * Collects a device write when a transaction is open.
   *
   * @param attribute The attribute, already holding its new value.
   * @param previousValue Its value before.
   * @param previousTimestamp Its timestamp before.
   * @returns Whether the write was collected (and must not be sent on its own).
   */
  capture(
    attribute: CloudioAttribute,
    previousValue: AttributeValue | undefined,
    previousTimestamp: number | undefined,
  ): boolean {
    const open = this.#open;
    if (!open) return false;
    // The state before the first change is what a rollback restores.
    if (!open.has(attribute)) {
      open.set(attribute, { value: previousValue, timestamp: previousTimestamp });
    }
    return true;
  }

  /**
   * Begins a transaction.
   *
   * @returns The transaction.
   * @throws {Error} When one is already open.
   */
  begin(): Transaction {
    if (this.#open) throw new Error("Cannot begin a transaction: one is already open");
    const touched = new Map<CloudioAttribute, Before>();
    this.#open = touched;
    let open = true;
    const finish = () => {
      open = false;
      if (this.#open === touched) this.#open = undefined;
    };
    return {
      commit: () => {
        if (!open) throw new Error("Cannot commit the transaction: it has ended");
        finish();
        if (touched.size > 0) this.#send([...touched.keys()]);
      },
      rollback: () => {
        if (!open) return;
        finish();
        for (const [attribute, before] of touched) {
          if (before.value !== undefined) {
            attribute[restore](before.value as never, before.timestamp ?? this.#now());
          }
        }
      },
      [Symbol.dispose]() {
        this.rollback();
      },
    };
  }
}
