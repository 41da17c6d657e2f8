import assert from "node:assert/strict";
import { Endpoint } from "../endpoint.ts";
import type { CloudioAttribute } from "../model/attribute.ts";
import type { PublishPolicy } from "../model/types.ts";
import { Policies } from "./policy.ts";

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";

/** A clock and timers that move only when told. */
class FakeTime {
  now = 0;
  #timers = new Map<number, { at: number; callback: () => void }>();
  #next = 1;
  setTimer = (callback: () => void, ms: number) => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, callback });
    return id as unknown as ReturnType<typeof setTimeout>;
  };
  clearTimer = (timer: ReturnType<typeof setTimeout>) => {
    this.#timers.delete(timer as unknown as number);
  };
  get pending(): number {
    return this.#timers.size;
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.#timers].filter(([, t]) => t.at <= end).sort((a, b) =>
        a[1].at - b[1].at
      );
      if (due.length === 0) break;
      const [id, timer] = due[0];
      this.#timers.delete(id);
      this.now = timer.at;
      timer.callback();
    }
    this.now = end;
  }
}

/** An attribute with a policy, and the policies with what they sent. */
function setup(policy: PublishPolicy, value?: number, online = true) {
  const time = new FakeTime();
  const attribute = new Endpoint(UUID).addNode("N").addObject("O").addAttribute("a", {
    type: "Number",
    constraint: "Measure",
    value,
    policy,
  }) as CloudioAttribute<"Number">;
  const sent: { value: number | undefined; timestamp?: number }[] = [];
  const state = { online };
  const policies = new Policies({
    send: (a, timestamp) => sent.push({ value: a.value as number, timestamp }),
    attached: () => true,
    online: () => state.online,
    now: () => 1_700_000_000_000 + time.now,
    monotonic: () => time.now,
    setTimer: time.setTimer,
    clearTimer: time.clearTimer,
  });
  /** A device write: what the publisher does with it. */
  const write = (v: number) => {
    const previous = attribute.value;
    attribute.set(v, { timestamp: 1_700_000_000_000 + time.now });
    if (policies.admit(attribute, previous)) sent.push({ value: v });
  };
  return { time, attribute, policies, sent, write, state };
}

Deno.test("onChange: the same value twice is sent once", () => {
  const { sent, write } = setup({ onChange: true }, 1);
  for (const v of [1, 2, 2, 2, 3, 3, 1]) write(v);
  assert.deepEqual(sent.map((s) => s.value), [2, 3, 1]);
});

Deno.test("deadband: only values farther than the band from the last one sent", () => {
  const { sent, write } = setup({ deadband: 0.5 }, 10);
  for (const v of [10.2, 10.5, 10.6, 10.9, 11.2, 10.7, 10.6, 9.9]) write(v);
  // 10.5 is not more than 0.5 away from 10; 10.6 is; then 11.2 from 10.6; then 10.6 from 11.2 …
  assert.deepEqual(sent.map((s) => s.value), [10.6, 11.2, 10.6, 9.9]);
});

Deno.test("deadband as a percentage of the last value sent", () => {
  const { sent, write } = setup({ deadband: "10%" }, 100);
  for (const v of [105, 111, 120, 125, 0, 0.01]) write(v);
  assert.deepEqual(sent.map((s) => s.value), [111, 125, 0, 0.01]);
});

Deno.test("a first value with nothing known before is always sent", () => {
  const { sent, write } = setup({ deadband: 5 });
  write(1);
  write(2);
  assert.deepEqual(sent.map((s) => s.value), [1]);
});

Deno.test("minInterval: at most one per interval, and the latest value at its end", () => {
  const { time, sent, write } = setup({ minInterval: 100 }, 0);
  write(1); // sent at t=0
  time.advance(10);
  write(2);
  time.advance(10);
  write(3); // held: the latest at t=100
  assert.deepEqual(sent.map((s) => s.value), [1]);
  time.advance(80);
  assert.deepEqual(sent.map((s) => s.value), [1, 3]);
  assert.equal(sent[1].timestamp, undefined, "its own timestamp, not a heartbeat's");
  write(4); // within the next interval (until t=200): held
  time.advance(150);
  assert.deepEqual(sent.map((s) => s.value), [1, 3, 4]);
  time.advance(1000);
  write(5); // long after: at once
  assert.deepEqual(sent.map((s) => s.value), [1, 3, 4, 5]);
});

Deno.test("minInterval with a deadband: at the end of the interval, only if still outside", () => {
  const { time, sent, write } = setup({ minInterval: 100, deadband: 1 }, 10);
  write(12); // sent
  time.advance(10);
  write(14); // outside the band of 12, held
  time.advance(10);
  write(12.5); // back inside: at the end, nothing
  time.advance(100);
  assert.deepEqual(sent.map((s) => s.value), [12]);
});

Deno.test("maxInterval: an unchanged value is sent again, stamped now, only while online", () => {
  const { time, sent, write, state, policies, attribute } = setup({ maxInterval: 1000 }, 5);
  policies.track(attribute);
  time.advance(999);
  assert.equal(sent.length, 0);
  time.advance(1);
  assert.deepEqual(sent, [{ value: 5, timestamp: 1_700_000_001_000 }]);
  time.advance(500);
  write(6); // a write resets the heartbeat's clock
  time.advance(999);
  assert.equal(sent.length, 2);
  time.advance(1);
  assert.deepEqual(sent.at(-1), { value: 6, timestamp: 1_700_000_002_500 });
  state.online = false;
  time.advance(5000);
  assert.equal(sent.length, 3, "no heartbeat queued while offline");
  state.online = true;
  time.advance(1000);
  assert.equal(sent.length, 4);
});

Deno.test("a heartbeat brings the cloud the exact value a deadband held back", () => {
  const { time, sent, write, policies, attribute } = setup({ deadband: 1, maxInterval: 1000 }, 10);
  policies.track(attribute);
  write(10.4);
  time.advance(1000);
  assert.deepEqual(sent.map((s) => s.value), [10.4]);
});

Deno.test("flush() sends what is held back and the last value a deadband kept, then stops", () => {
  const { time, sent, write, policies } = setup({ deadband: 1, minInterval: 100 }, 0);
  write(5); // sent
  write(7); // held by minInterval
  write(7.5); // held (latest)
  policies.flush();
  assert.deepEqual(sent.map((s) => s.value), [5, 7.5]);
  assert.equal(time.pending, 0, "no timer left");

  const other = setup({ deadband: 1 }, 0);
  other.write(5);
  other.write(5.4); // inside the band: not sent …
  other.policies.flush(); // … until close
  assert.deepEqual(other.sent.map((s) => s.value), [5, 5.4]);
  const quiet = setup({ deadband: 1 }, 0);
  quiet.write(5);
  quiet.policies.flush(); // nothing behind: nothing more
  assert.deepEqual(quiet.sent.map((s) => s.value), [5]);
});

Deno.test("sent() counts a value carried by a transaction as sent", () => {
  const { sent, write, policies, attribute } = setup({ onChange: true }, 1);
  attribute.set(4);
  policies.sent(attribute);
  write(4);
  assert.deepEqual(sent, []);
});

Deno.test("reset() and forget() stop the timers without sending", () => {
  const { time, sent, write, policies, attribute } = setup(
    { minInterval: 100, maxInterval: 500 },
    0,
  );
  write(1);
  write(2);
  assert.ok(time.pending > 0);
  policies.forget(attribute);
  assert.equal(time.pending, 0);
  policies.track(attribute);
  assert.ok(time.pending > 0);
  policies.reset();
  assert.equal(time.pending, 0);
  time.advance(10_000);
  assert.deepEqual(sent.map((s) => s.value), [1]);
});
