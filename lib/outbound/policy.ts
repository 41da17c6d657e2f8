/**
 * Publish policies: when a Status or Measure attribute's writes are worth an `@update`. The
 * publisher asks {@linkcode Policies.prototype.admit} for every write of an attribute that has a
 * policy (attributes without one never come here), and sends what it admits; what is held back
 * is sent later by a timer of the attribute's own.
 *
 * What the cloud sees, per attribute, with `last` the last value sent (as `@update`, in a
 * `@transaction`, or the value the first `@online` carried):
 *
 * - `onChange`: an `@update` only for a value other than `last`. Writing the same value again
 *   sends nothing.
 * - `deadband: d` (Integer and Number): an `@update` only for a value that differs from `last` by
 *   more than `d`; with `"p%"`, by more than p % of `|last|`. The cloud's value stays within the
 *   deadband of the device's. It implies `onChange`.
 * - `minInterval: ms`: at most one `@update` per interval. A write that comes sooner is held; at
 *   the end of the interval the attribute's value then (with its own timestamp) is sent, if it
 *   still passes `onChange`/`deadband`. The values between are not sent; the latest never lost.
 * - `maxInterval: ms`: when nothing was sent for that long and the endpoint is online, the value
 *   is sent again, stamped now: a heartbeat that also brings the cloud the exact value a deadband
 *   held back. Nothing is queued for heartbeats while offline (the next `@online` carries every
 *   value).
 * - On `close()`, every value held by `minInterval`, and every last value a deadband held back,
 *   is sent before `@offline`: the cloud ends with the device's last values.
 * - `latestOnlyWhileOffline` is the outbox's (`Outbox.prototype.add`): while offline, a new value
 *   replaces the attribute's value waiting there.
 *
 * Intervals are measured on a monotonic clock, so that a jump of the device's wall clock neither
 * floods nor silences an attribute. Timers run only for attributes that hold a value back or have
 * a `maxInterval`, and `close()` stops them all.
 *
 * This module is browser compatible.
 *
 * @module
 */

import type { CloudioAttribute } from "../model/attribute.ts";
import type { AttributeValue, PublishPolicy } from "../model/types.ts";
import { deadbandOf } from "../model/validate.ts";

/** A timer handle, as `setTimeout` returns it. */
type Timer = ReturnType<typeof setTimeout>;

/** What the policies need from the endpoint. */
export interface PolicyHost {
  /**
   * Sends an attribute's current value as `@update`.
   *
   * @param attribute The attribute.
   * @param timestamp The timestamp to send instead of the attribute's own (a heartbeat's).
   */
  send(attribute: CloudioAttribute, timestamp?: number): void;
  /** Whether the attribute still belongs to the endpoint (its node was not removed). */
  attached(attribute: CloudioAttribute): boolean;
  /** Whether the endpoint is online now. */
  online(): boolean;
  /** The clock that stamps heartbeats, in ms since the epoch. */
  now(): number;
  /**
   * A monotonic clock for intervals, in ms.
   *
   * @default {() => performance.now()}
   */
  monotonic?: () => number;
  /** Timers; the global ones by default. */
  setTimer?: (callback: () => void, ms: number) => Timer;
  /** Cancels a timer. */
  clearTimer?: (timer: Timer) => void;
}

/** One attribute's state. */
interface State {
  readonly policy: Readonly<PublishPolicy>;
  /** The deadband, read once. */
  readonly band?: { amount: number } | { share: number };
  /** Whether `onChange` or a deadband filters the writes. */
  readonly filters: boolean;
  /** Whether a value was sent (or carried by `@online`): `last` means something. */
  sent: boolean;
  last: AttributeValue | undefined;
  /** When the last value was sent, on the monotonic clock. */
  lastAt: number;
  /** `minInterval`: no `@update` before this (monotonic). */
  nextAllowed: number;
  /** `minInterval`: a write waits for the end of the interval. */
  held: boolean;
  holdTimer?: Timer;
  beatTimer?: Timer;
}

/** The publish policies of an endpoint's attributes. */
export class Policies {
  #host: PolicyHost;
  #monotonic: () => number;
  #setTimer: (callback: () => void, ms: number) => Timer;
  #clearTimer: (timer: Timer) => void;
  #states = new Map<CloudioAttribute, State>();
  #closed = false;

  /**
   * Creates the policies of an endpoint.
   *
   * @param host Where values go, and the clocks and timers.
   */
  constructor(host: PolicyHost) {
    this.#host = host;
    this.#monotonic = host.monotonic ?? (() => performance.now());
    this.#setTimer = host.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
    this.#clearTimer = host.clearTimer ?? ((timer) => clearTimeout(timer));
  }

  /**
   * Starts following an attribute with a policy: the value it has now is what the cloud knows
   * (the `@online` carries it), and a `maxInterval` heartbeat starts.
   *
   * @param attribute The attribute.
   */
  track(attribute: CloudioAttribute): void {
    if (this.#closed || attribute.policy === undefined || this.#states.has(attribute)) return;
    this.#create(attribute, attribute.value);
  }

  /**
   * Decides about a write of an attribute with a policy.
   *
   * @param attribute The attribute, holding its new value.
   * @param previous Its value before the write (what the cloud knows, the first time).
   * @returns Whether to send it now; when not, it is dropped or held for later.
   */
  admit(attribute: CloudioAttribute, previous: AttributeValue | undefined): boolean {
    if (this.#closed) return true;
    const state = this.#states.get(attribute) ?? this.#create(attribute, previous);
    const value = attribute.value;
    if (state.filters && !this.#passes(state, value)) return false;
    const minInterval = state.policy.minInterval;
    const now = this.#monotonic();
    if (minInterval !== undefined) {
      if (now < state.nextAllowed) {
        state.held = true;
        if (state.holdTimer === undefined) {
          state.holdTimer = this.#setTimer(
            () => this.#release(attribute, state),
            state.nextAllowed - now,
          );
        }
        return false;
      }
      state.nextAllowed = now + minInterval;
    }
    this.#record(state, value, now);
    return true;
  }

  /**
   * Notes that an attribute's value went out another way (in a `@transaction`).
   *
   * @param attribute The attribute.
   */
  sent(attribute: CloudioAttribute): void {
    const state = this.#states.get(attribute);
    if (state) this.#record(state, attribute.value, this.#monotonic());
  }

  /**
   * Stops following an attribute (its node was removed).
   *
   * @param attribute The attribute.
   */
  forget(attribute: CloudioAttribute): void {
    const state = this.#states.get(attribute);
    if (!state) return;
    this.#stop(state);
    this.#states.delete(attribute);
  }

  /**
   * Sends what is held back (values held by `minInterval`, last values a deadband kept) and
   * stops every timer; from then on every write is admitted. Called by `close()`.
   */
  flush(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [attribute, state] of this.#states) {
      this.#stop(state);
      const value = attribute.value;
      const behind = state.held || !state.sent || !Object.is(state.last, value);
      if (behind && value !== undefined && this.#host.attached(attribute)) {
        this.#host.send(attribute);
      }
    }
    this.#states.clear();
  }

  /** Forgets every attribute and stops every timer, sending nothing (a `connect()` undone). */
  reset(): void {
    for (const state of this.#states.values()) this.#stop(state);
    this.#states.clear();
  }

  #create(attribute: CloudioAttribute, known: AttributeValue | undefined): State {
    const policy = attribute.policy!;
    const band = policy.deadband === undefined ? undefined : deadbandOf(policy.deadband);
    const state: State = {
      policy,
      band,
      filters: band !== undefined || policy.onChange === true,
      sent: known !== undefined,
      last: known,
      lastAt: this.#monotonic(),
      nextAllowed: Number.NEGATIVE_INFINITY,
      held: false,
    };
    this.#states.set(attribute, state);
    if (policy.maxInterval !== undefined) this.#beat(attribute, state, policy.maxInterval);
    return state;
  }

  #passes(state: State, value: AttributeValue | undefined): boolean {
    if (!state.sent) return true;
    const last = state.last;
    const band = state.band;
    if (band === undefined) return !Object.is(value, last);
    const difference = Math.abs((value as number) - (last as number));
    return "amount" in band
      ? difference > band.amount
      : difference > band.share * Math.abs(last as number);
  }

  #record(state: State, value: AttributeValue | undefined, now: number): void {
    state.sent = true;
    state.last = value;
    state.lastAt = now;
    state.held = false;
  }

  // The end of a minInterval: the value then goes out, if it still passes the filters.
  #release(attribute: CloudioAttribute, state: State): void {
    state.holdTimer = undefined;
    if (this.#closed || !state.held) return;
    state.held = false;
    if (!this.#host.attached(attribute)) return this.forget(attribute);
    const value = attribute.value;
    if (state.filters && !this.#passes(state, value)) return;
    const now = this.#monotonic();
    state.nextAllowed = now + state.policy.minInterval!;
    this.#record(state, value, now);
    this.#host.send(attribute);
  }

  // One timer per attribute, armed for the moment the heartbeat would be due; each time it
  // fires it sends only if nothing went out meanwhile, then arms itself again.
  #beat(attribute: CloudioAttribute, state: State, maxInterval: number): void {
    const due = state.lastAt + maxInterval - this.#monotonic();
    state.beatTimer = this.#setTimer(() => {
      state.beatTimer = undefined;
      if (this.#closed) return;
      if (!this.#host.attached(attribute)) return this.forget(attribute);
      const now = this.#monotonic();
      if (now - state.lastAt >= maxInterval) {
        if (this.#host.online() && attribute.value !== undefined) {
          // A held value is part of the same picture: the heartbeat carries the current one.
          if (state.holdTimer !== undefined) this.#clearTimer(state.holdTimer);
          state.holdTimer = undefined;
          this.#record(state, attribute.value, now);
          const minInterval = state.policy.minInterval;
          if (minInterval !== undefined) state.nextAllowed = now + minInterval;
          this.#host.send(attribute, this.#host.now());
        } else {
          state.lastAt = now; // offline: the next @online carries the value
        }
      }
      this.#beat(attribute, state, maxInterval);
    }, Math.max(0, due));
  }

  #stop(state: State): void {
    if (state.holdTimer !== undefined) this.#clearTimer(state.holdTimer);
    if (state.beatTimer !== undefined) this.#clearTimer(state.beatTimer);
    state.holdTimer = state.beatTimer = undefined;
  }
}
