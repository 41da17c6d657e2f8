/**
 * Outbox stores compared: appending 1,000 typical value messages and making them durable (one
 * commit), then deleting them as their PUBACKs would. `deno bench -A bench/store_bench.ts`.
 *
 * The append-only log is not a store of ours: it is the lower bound of what one could cost (a
 * write per message, one fdatasync per 1,000), to judge what SQLite's convenience (indexes,
 * crash-safe deletes, no compaction to write) costs.
 *
 * @module
 */

import { SqliteStore } from "../lib/adapters/sqlite_store.ts";
import { encodeAttribute } from "../lib/codec/encode.ts";
import { MemoryStore } from "../lib/outbox/memory_store.ts";
import type { OutboxMessage, OutboxStore } from "../lib/outbox/store.ts";

const BATCH = 1000;
const messages: OutboxMessage[] = Array.from({ length: BATCH }, (_, i) => ({
  kind: "update",
  topic: `@update/0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55/VacuumCleaner/Status/a${i % 10}`,
  payload: encodeAttribute("CBOR", {
    type: "Number",
    constraint: "Measure",
    value: i + 0.5,
    timestamp: 1.7e12 + i,
  }),
  retain: true,
  key: `VacuumCleaner/Status/a${i % 10}`,
}));
const dir = await Deno.makeTempDir({ prefix: "cloudio-bench-" });

async function cycle(store: OutboxStore): Promise<void> {
  const seqs = messages.map((m) => store.append(m));
  await store.commit();
  store.delete(seqs);
  await store.commit();
}

const memory = new MemoryStore();
Deno.bench("MemoryStore: 1,000 appends + delete", { group: "store", baseline: true }, async () => {
  await cycle(memory);
});

const full = SqliteStore.open(`${dir}/full.sqlite`, { synchronous: "full" });
Deno.bench("SqliteStore synchronous=FULL: 1,000 appends, commit, delete, commit", {
  group: "store",
}, async () => {
  await cycle(full);
});

const normal = SqliteStore.open(`${dir}/normal.sqlite`, { synchronous: "normal" });
Deno.bench("SqliteStore synchronous=NORMAL: the same", { group: "store" }, async () => {
  await cycle(normal);
});

const log = await Deno.open(`${dir}/log.bin`, { create: true, write: true, append: true });
const framed = messages.map((m) => [new TextEncoder().encode(m.topic), m.payload] as const);
Deno.bench("append-only log lower bound: 1,000 framed records, one write + fdatasync", {
  group: "store",
}, () => {
  let size = 0;
  for (const [topic, payload] of framed) size += 8 + topic.length + payload.length;
  const buffer = new Uint8Array(size);
  const view = new DataView(buffer.buffer);
  let at = 0;
  for (const [topic, payload] of framed) {
    view.setUint32(at, topic.length);
    view.setUint32(at + 4, payload.length);
    buffer.set(topic, at + 8);
    buffer.set(payload, at + 8 + topic.length);
    at += 8 + topic.length + payload.length;
  }
  log.writeSync(buffer);
  log.syncDataSync();
});

globalThis.addEventListener("unload", () => {
  log.close();
  full.close();
  normal.close();
  Deno.removeSync(dir, { recursive: true });
});
