import assert from "node:assert/strict";
import { Pacer } from "./pacer.ts";

Deno.test("Pacer admits at its rate, in order", async () => {
  const pacer = new Pacer({ rate: 50, jitter: 0 });
  const order: number[] = [];
  const started = performance.now();
  await Promise.all([0, 1, 2, 3].map((i) => pacer.admit().then(() => order.push(i))));
  const took = performance.now() - started;
  pacer.close();
  assert.deepEqual(order, [0, 1, 2, 3]);
  assert.ok(took >= 55, `four attempts at 50/s take three intervals of 20 ms: ${took} ms`);
});

Deno.test("Pacer lets an aborted attempt go at once and leaves no listener on the signal", async () => {
  const pacer = new Pacer({ rate: 1000, jitter: 0 });
  const stop = new AbortController();
  let listeners = 0;
  const { signal } = stop;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => {
    listeners++;
    add(...args);
  }) as typeof add;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    listeners--;
    remove(...args);
  }) as typeof remove;
  // A session's stop signal lives as long as the session: a hundred attempts must not pile up.
  for (let i = 0; i < 100; i++) await pacer.admit(signal);
  assert.equal(listeners, 0);
  const slow = new Pacer({ rate: 0.5, jitter: 0 });
  await slow.admit(); // the first goes at once; the next would wait 2 s
  const waiting = slow.admit(signal);
  assert.equal(slow.waiting, 1);
  stop.abort();
  await waiting;
  assert.equal(slow.waiting, 0);
  slow.close();
  pacer.close();
});
