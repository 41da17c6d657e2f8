import assert from "node:assert/strict";
import { TimerWheel } from "./timers.ts";

// `Deno.test` without the Deno namespace types: lib/ is also checked against web-only libraries.
declare const Deno: { test(name: string, fn: () => void | Promise<void>): void };

Deno.test("TimerWheel runs a thousand periodic timers in a few wake-ups", async () => {
  const wheel = new TimerWheel({ resolution: 50 });
  // A wake-up is a turn of the event loop: its callbacks run one after the other, before any
  // microtask (counting distinct milliseconds instead split a batch that straddled one).
  let wakeUps = 0;
  let inTurn = false;
  let fired = 0;
  const ids = Array.from({ length: 1000 }, (_, i) =>
    wheel.every(30 + (i % 30), () => {
      fired++;
      if (!inTurn) {
        wakeUps++;
        inTurn = true;
        queueMicrotask(() => inTurn = false);
      }
    }));
  assert.equal(wheel.size, 1000);
  await new Promise((resolve) => setTimeout(resolve, 130));
  for (const id of ids) wheel.cancel(id);
  assert.equal(wheel.size, 0);
  wheel.close();
  // Every timer fired (at least once), in at most a wake-up per 50 ms step (and rounding).
  assert.ok(fired >= 1000, `${fired} calls`);
  assert.ok(wakeUps <= 4, `${wakeUps} wake-ups`);
});

Deno.test("TimerWheel runs a one-shot timer once and not after it is cancelled", async () => {
  const wheel = new TimerWheel({ resolution: 5 });
  let once = 0, cancelled = 0;
  wheel.after(10, () => once++);
  const id = wheel.after(10, () => cancelled++);
  wheel.cancel(id);
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.deepEqual([once, cancelled, wheel.size], [1, 0, 0]);
  wheel.close();
  assert.throws(() => wheel.after(1, () => {}), /closed/);
});

Deno.test("TimerWheel: a timer cancelled by another of the same step does not run, as with clearTimeout", async () => {
  const wheel = new TimerWheel({ resolution: 50 });
  let second = 0;
  let id = 0;
  wheel.after(5, () => wheel.cancel(id));
  id = wheel.after(5, () => second++);
  // MQTT.js's keep-alive reschedules by clear + set inside a callback: the new timer starts over.
  let ticks = 0;
  let keepAlive = 0;
  wheel.after(100, () => {
    wheel.cancel(keepAlive);
    ticks = 0;
    keepAlive = wheel.every(100, () => ticks++);
  });
  keepAlive = wheel.every(100, () => ticks++); // due in the same step, after the reschedule
  await new Promise((resolve) => setTimeout(resolve, 160));
  assert.equal(second, 0);
  assert.equal(ticks, 0, "the cancelled keep-alive did not tick after its reschedule");
  wheel.close();
});

Deno.test("TimerWheel: closing it from a callback stops the others of that step", async () => {
  const wheel = new TimerWheel({ resolution: 50 });
  let after = 0;
  wheel.after(5, () => wheel.close());
  wheel.after(5, () => after++);
  await new Promise((resolve) => setTimeout(resolve, 80));
  assert.equal(after, 0);
});
