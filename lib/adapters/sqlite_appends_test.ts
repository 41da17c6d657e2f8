import assert from "node:assert/strict";
import type { OutboxMessage } from "../outbox/store.ts";
import { PendingAppends } from "./sqlite_appends.ts";

const message = (i: number, size = 3): OutboxMessage => ({
  kind: i % 2 ? "logs" : "update",
  topic: `t${i}`,
  payload: new Uint8Array(size).fill(i % 256),
  retain: i % 3 === 0,
  key: i % 2 ? undefined : `k${i}`,
});

Deno.test("PendingAppends keeps every append's columns and a copy of its payload", () => {
  const tx = new PendingAppends();
  const sent: OutboxMessage[] = [];
  for (let i = 0; i < 300; i++) {
    const m = message(i, 1 + (i % 40));
    sent.push(m);
    tx.push(1000 + i, m);
    m.payload.fill(255); // the caller's buffer is its own again
  }
  assert.deepEqual([tx.first, tx.length, tx.held], [1000, 300, 300]);
  for (const i of [0, 63, 64, 299]) {
    assert.equal(tx.kind(i), sent[i].kind);
    assert.equal(tx.topic(i), sent[i].topic);
    assert.equal(tx.key(i), sent[i].key);
    assert.equal(tx.retain(i), sent[i].retain);
    assert.deepEqual(tx.payload(i), new Uint8Array(1 + (i % 40)).fill(i % 256));
  }
  assert.equal(tx.remove(5), 6);
  assert.equal(tx.has(5), false);
  assert.equal(tx.has(300), false);
  const entries = tx.entries();
  assert.equal(entries.length, 299);
  assert.deepEqual(entries[5], {
    seq: 1006,
    kind: "update",
    topic: "t6",
    key: "k6",
    payload: new Uint8Array(7).fill(6),
    retain: true,
  });
  tx.clear();
  assert.deepEqual([tx.length, tx.held, tx.bytes], [0, 0, 0]);
  assert.deepEqual(entries[5].payload, new Uint8Array(7).fill(6), "entries() copied");
});

Deno.test("PendingAppends starts afresh after a transaction too large to keep buffers for", () => {
  const tx = new PendingAppends();
  for (let i = 0; i < 2000; i++) tx.push(i + 1, message(i, 100));
  tx.clear();
  tx.push(5000, message(7));
  assert.deepEqual([tx.first, tx.length, tx.bytes], [5000, 1, 3]);
  assert.deepEqual(tx.payload(0), new Uint8Array(3).fill(7));
  assert.equal(tx.topic(0), "t7");
});
