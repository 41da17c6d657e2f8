import assert from "node:assert/strict";
import { decodePayload } from "../codec/decode.ts";
import { encodeAttribute } from "../codec/encode.ts";
import { MemoryStore } from "./memory_store.ts";
import { Outbox, type OutboxLink } from "./outbox.ts";
import type { OutboxKind, OutboxMessage } from "./store.ts";

interface Sent {
  topic: string;
  payload: Uint8Array;
  retain: boolean;
  ack(): void;
  fail(): void;
}

function link(overrides: Partial<OutboxLink> = {}): OutboxLink & { sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    send(topic, payload, retain, settled) {
      // Settled once, as a connection does (a second PUBACK for an identifier answers nothing).
      let open = true;
      const once = (error?: Error) => {
        if (!open) return;
        open = false;
        settled(error);
      };
      sent.push({ topic, payload, retain, ack: () => once(), fail: () => once(new Error("lost")) });
    },
    format: "JSON",
    delayedTopic: "@delayed/u",
    replay: "delayed",
    maxInFlight: 100,
    batchMessages: 3,
    batchBytes: 1 << 20,
    batchesInFlight: 2,
    now: () => 1_000_000,
    ...overrides,
  };
}

function update(i: number, kind: OutboxKind = "update"): OutboxMessage {
  const topic = kind === "logs" ? "@logs/u" : `@${kind}/u/n/o/a`;
  return {
    kind,
    topic,
    payload: encodeAttribute("JSON", {
      type: "Integer",
      constraint: "Status",
      value: i,
      timestamp: i,
    }),
    retain: kind === "update",
    key: kind === "logs" ? undefined : "n/o/a",
  };
}

const limits = { updates: { messages: 1e6, bytes: 1e9 }, logs: { messages: 1e6, bytes: 1e9 } };
// PUBACKs are handled once per macrotask (coalesced): let that turn pass.
const flushMicrotasks = () => new Promise((resolve) => setTimeout(() => setTimeout(resolve, 0), 0));

Deno.test("Outbox publishes live in order and forgets a message only on its PUBACK", async () => {
  const store = new MemoryStore();
  const outbox = new Outbox({ store, limits });
  const l = link();
  outbox.attach(l);
  for (let i = 0; i < 3; i++) outbox.add(update(i));
  assert.deepEqual(l.sent.map((s) => decodePayload(s.payload).value.value), [0, 1, 2]);
  assert.equal(l.sent[0].retain, true);
  assert.equal(outbox.stats().pending.updates.messages, 3);
  l.sent[1].ack();
  await flushMicrotasks();
  assert.equal(outbox.stats().pending.updates.messages, 2);
  l.sent[0].fail(); // the connection went away: it stays
  await flushMicrotasks();
  assert.equal(outbox.stats().pending.updates.messages, 2);
  assert.equal(outbox.stats().delivered, 1);
});

Deno.test("Outbox sends the backlog as @delayed batches, @didSet directly, then newer values", async () => {
  const store = new MemoryStore();
  const outbox = new Outbox({ store, limits });
  for (let i = 0; i < 4; i++) outbox.add(update(i));
  outbox.add(update(4, "didSet"));
  outbox.add(update(5, "logs"));
  outbox.add(update(6, "transaction"));
  const l = link();
  outbox.attach(l);
  outbox.add(update(7));
  // Two batches may be unacknowledged at once: the rest, the newer value included, waits.
  assert.deepEqual(l.sent.map((s) => s.topic), ["@delayed/u", "@delayed/u", "@didSet/u/n/o/a"]);
  l.sent[0].ack();
  await flushMicrotasks();
  const topics = l.sent.map((s) => s.topic);
  assert.deepEqual(topics, [
    "@delayed/u",
    "@delayed/u",
    "@didSet/u/n/o/a",
    "@delayed/u",
    "@update/u/n/o/a",
  ]);
  const batches = l.sent.filter((s) => s.topic === "@delayed/u").map((s) =>
    decodePayload(s.payload).value
  );
  // deno-lint-ignore no-explicit-any
  const carried = batches.map((b: any) => b.messages.map((m: any) => [m.topic, m.data.value]));
  assert.deepEqual(carried, [
    [["@update/u/n/o/a", 0], ["@update/u/n/o/a", 1], ["@update/u/n/o/a", 2]],
    [["@update/u/n/o/a", 3]],
    [["@logs/u", 5], ["@transaction/u/n/o/a", 6]],
  ]);
  assert.equal(batches[0].timestamp, 1000);
  for (const s of l.sent) s.ack();
  await flushMicrotasks();
  assert.equal(outbox.stats().pending.updates.messages, 0);
  assert.equal(outbox.stats().delivered, 8);
  assert.equal(outbox.stats().batches, 3);
});

Deno.test("Outbox re-sends everything unacknowledged on the next link", async () => {
  const store = new MemoryStore();
  const outbox = new Outbox({ store, limits });
  const first = link();
  outbox.attach(first);
  for (let i = 0; i < 5; i++) outbox.add(update(i));
  first.sent[0].ack();
  first.sent[1].ack();
  await flushMicrotasks();
  outbox.detach();
  for (const s of first.sent.slice(2)) s.fail();
  const second = link({ replay: "direct" });
  outbox.attach(second);
  assert.deepEqual(second.sent.map((s) => decodePayload(s.payload).value.value), [2, 3, 4]);
  assert.ok(second.sent.every((s) => s.topic === "@update/u/n/o/a"));
});

Deno.test("Outbox keeps at most maxInFlight unacknowledged publishes", async () => {
  const outbox = new Outbox({ store: new MemoryStore(), limits });
  const l = link({ maxInFlight: 2 });
  outbox.attach(l);
  for (let i = 0; i < 5; i++) outbox.add(update(i));
  assert.equal(l.sent.length, 2);
  l.sent[0].ack();
  await flushMicrotasks();
  assert.equal(l.sent.length, 3);
  for (const s of l.sent) s.ack();
  await flushMicrotasks();
  for (const s of l.sent) s.ack();
  await flushMicrotasks();
  assert.equal(l.sent.length, 5);
  assert.deepEqual(l.sent.map((s) => decodePayload(s.payload).value.value), [0, 1, 2, 3, 4]);
});

Deno.test("Outbox drops by policy when full and counts the drops", () => {
  const dropped: number[] = [];
  const outbox = new Outbox({
    store: new MemoryStore(),
    limits: { updates: { messages: 3, bytes: 1e9 }, logs: { messages: 1, bytes: 1e9 } },
    dropPolicy: "latest-per-attribute",
    onDrop: (entry) => dropped.push(decodePayload(entry.payload).value.value as number),
  });
  outbox.add({ ...update(0), key: "a" });
  outbox.add({ ...update(1), key: "b" });
  outbox.add({ ...update(2), key: "a" });
  outbox.add({ ...update(3), key: "c" }); // full: the superseded "a" (0) goes
  outbox.add({ ...update(4), key: "d" }); // full, nothing superseded: the oldest (1) goes
  outbox.add(update(5, "logs"));
  outbox.add(update(6, "logs")); // logs have their own limit
  assert.deepEqual(dropped, [0, 1, 5]);
  assert.deepEqual(outbox.stats().dropped, { full: 3, offline: 0 });
  assert.equal(outbox.stats().pending.updates.messages, 3);
});

Deno.test("Outbox without offline buffering drops what it cannot send", () => {
  const outbox = new Outbox({ store: new MemoryStore(), limits, keepOffline: false });
  assert.equal(outbox.add(update(0)), undefined);
  const l = link();
  outbox.attach(l);
  outbox.add(update(1));
  outbox.detach();
  assert.deepEqual(outbox.stats().dropped, { full: 0, offline: 2 });
  assert.equal(outbox.stats().pending.updates.messages, 0);
});

Deno.test("Outbox.settled() waits for the last PUBACK", async () => {
  const outbox = new Outbox({ store: new MemoryStore(), limits });
  await outbox.settled();
  const l = link();
  outbox.attach(l);
  outbox.add(update(0));
  let settled = false;
  const waiting = outbox.settled().then(() => settled = true);
  await flushMicrotasks();
  assert.equal(settled, false);
  l.sent[0].ack();
  await waiting;
  const controller = new AbortController();
  outbox.add(update(1));
  const aborted = outbox.settled(controller.signal);
  controller.abort(new Error("stop"));
  await assert.rejects(aborted, /stop/);
});

Deno.test("Outbox.add(…, latestOnly) keeps only the newest value of a key while offline", async () => {
  const store = new MemoryStore();
  const outbox = new Outbox({ store, limits });
  const other = (i: number): OutboxMessage => ({ ...update(i), key: "n/o/b" });
  for (let i = 1; i <= 5; i++) {
    outbox.add(update(i), true);
    outbox.add(other(100 + i)); // not latest-only: every value kept
  }
  assert.equal(outbox.stats().superseded, 4);
  assert.equal(store.usage("updates").messages, 6);
  const l = link({ replay: "direct" });
  outbox.attach(l);
  const values = l.sent.map((s) => decodePayload(s.payload).value.value);
  assert.deepEqual(values, [101, 102, 103, 104, 5, 105]);
  // Online, nothing is replaced: every value goes out.
  outbox.add(update(6), true);
  outbox.add(update(7), true);
  assert.deepEqual(l.sent.slice(6).map((s) => decodePayload(s.payload).value.value), [6, 7]);
  for (const s of l.sent) s.ack();
  await flushMicrotasks();
  await outbox.settled();
  await outbox.close();
});
