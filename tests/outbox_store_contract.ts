/**
 * The contract every outbox store must meet; `outbox_store_test.ts` runs it against each store.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { OutboxMessage, OutboxStore } from "../lib/outbox/store.ts";

/** Opens a fresh store, and (for a durable store) the same store again after closing it. */
export type StoreFactory =
  & {
    /** The store's name in test titles. */
    name: string;
  }
  & (
    | {
      /** A store whose committed entries survive: it must be reopened to prove it. */
      durable: true;
      open(): Promise<
        { store: OutboxStore; reopen: () => Promise<OutboxStore>; cleanup(): Promise<void> }
      >;
    }
    | {
      /** A store that lives as long as the process. */
      durable: false;
      open(): Promise<{ store: OutboxStore; cleanup(): Promise<void> }>;
    }
  );

function message(i: number, overrides: Partial<OutboxMessage> = {}): OutboxMessage {
  return {
    kind: "update",
    topic: `@update/u/n/o/a${i % 3}`,
    payload: new Uint8Array([i & 0xff, (i >> 8) & 0xff, 7]),
    retain: i % 2 === 0,
    key: `n/o/a${i % 3}`,
    ...overrides,
  };
}

/**
 * Registers the contract tests for one store.
 *
 * @param factory How to open the store.
 */
export function storeContract(factory: StoreFactory): void {
  const test = (
    name: string,
    fn: (store: OutboxStore, reopen?: () => Promise<OutboxStore>) => void | Promise<void>,
  ) =>
    Deno.test(`${factory.name}: ${name}`, async () => {
      const opened: {
        store: OutboxStore;
        reopen?: () => Promise<OutboxStore>;
        cleanup(): Promise<void>;
      } = await factory.open();
      const { store, cleanup } = opened;
      try {
        await fn(store, opened.reopen);
      } finally {
        await store.close();
        await cleanup();
      }
    });

  test("append() gives strictly increasing sequence numbers and read() keeps order", async (store) => {
    const seqs = Array.from({ length: 50 }, (_, i) => store.append(message(i)));
    for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1]);
    assert.equal(store.lastSeq(), seqs.at(-1));
    const all = store.read(0, 1000);
    assert.deepEqual(all.map((e) => e.seq), seqs);
    assert.deepEqual(all[3].payload, message(3).payload);
    assert.equal(all[3].retain, false);
    assert.equal(all[4].retain, true);
    assert.equal(all[3].key, "n/o/a0");
    assert.equal(all[3].topic, "@update/u/n/o/a0");
    assert.deepEqual(store.read(seqs[9], 5).map((e) => e.seq), seqs.slice(10, 15));
    assert.deepEqual(store.read(seqs.at(-1)!, 5), []);
    await store.commit();
  });

  test("a long run of appends and out-of-order deletes reads back exactly what is left", (store) => {
    const left = new Set<number>();
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 500; i++) left.add(store.append(message(i)));
      // Acknowledgements come out of order, and some messages wait for many rounds.
      const acked = [...left].filter(() => random() < 0.8).sort(() => random() - 0.5);
      store.delete(acked);
      for (const seq of acked) left.delete(seq);
      const expected = [...left].sort((a, b) => a - b);
      assert.deepEqual(store.read(0, 100_000).map((e) => e.seq), expected, `round ${round}`);
      const middle = expected[expected.length >> 1];
      assert.deepEqual(
        store.read(middle, 10).map((e) => e.seq),
        expected.filter((seq) => seq > middle).slice(0, 10),
      );
      assert.equal(store.usage("updates").messages, left.size);
    }
  });

  test("two messages of one attribute in the same millisecond are two entries", async (store) => {
    const a = store.append(message(0));
    const b = store.append(message(0));
    assert.notEqual(a, b);
    assert.equal(store.read(0, 10).length, 2);
    await store.commit();
  });

  test("delete() removes by sequence number, ignores unknown ones, and updates usage", async (store) => {
    const seqs = Array.from({ length: 10 }, (_, i) => store.append(message(i)));
    store.append(message(99, { kind: "logs", topic: "@logs/u", key: undefined }));
    assert.deepEqual(store.usage("updates"), { messages: 10, bytes: 30 });
    assert.deepEqual(store.usage("logs"), { messages: 1, bytes: 3 });
    store.delete([seqs[0], seqs[5], seqs[5], 123456789]);
    assert.deepEqual(store.usage("updates"), { messages: 8, bytes: 24 });
    assert.deepEqual(store.read(0, 100).map((e) => e.seq).slice(0, 5), [
      seqs[1],
      seqs[2],
      seqs[3],
      seqs[4],
      seqs[6],
    ]);
    await store.commit();
  });

  test("sequence numbers are never reused, even after the store empties", async (store) => {
    const first = store.append(message(1));
    store.delete([first]);
    const second = store.append(message(2));
    assert.ok(second > first);
    await store.commit();
  });

  test("evict() takes the oldest of a class, or the oldest superseded value", async (store) => {
    const s0 = store.append(message(0, { key: "a" }));
    const log = store.append(message(1, { kind: "logs", topic: "@logs/u", key: undefined }));
    const s1 = store.append(message(2, { key: "b" }));
    const s2 = store.append(message(3, { key: "a" }));
    assert.equal(store.evict("logs", false)?.seq, log);
    assert.equal(store.evict("logs", false), undefined);
    // "a" at s0 is superseded by s2, but plain eviction takes the oldest anyway.
    assert.equal(store.evict("updates", false)?.seq, s0);
    // Now "b" (s1) and "a" (s2) are each the latest of their attribute: fall back to the oldest.
    const s3 = store.append(message(4, { key: "b" }));
    assert.equal(store.evict("updates", true)?.seq, s1);
    assert.deepEqual(store.read(0, 10).map((e) => e.seq), [s2, s3]);
    await store.commit();
  });

  test("getState() and setState() keep small settings", async (store) => {
    assert.equal(store.getState("logsLevel"), undefined);
    store.setState("logsLevel", "WARN");
    store.setState("logsLevel", "DEBUG");
    assert.equal(store.getState("logsLevel"), "DEBUG");
    await store.commit();
  });

  test(`says it is ${factory.durable ? "" : "not "}durable`, async (store) => {
    assert.equal(store.durable, factory.durable);
    await store.commit();
  });

  // Only for durable stores: a memory store has nothing to reopen (registered, not skipped).
  if (!factory.durable) return;
  test(
    "what was committed is there after reopening, in order, with usage",
    async (store, reopen) => {
      assert.ok(reopen, "a durable store can be reopened");
      const seqs = Array.from({ length: 20 }, (_, i) => store.append(message(i)));
      store.delete([seqs[0]]);
      store.setState("k", "v");
      await store.commit();
      store.append(message(100)); // not committed: may be lost
      await store.close();
      const again = await reopen();
      try {
        const read = again.read(0, 100).map((e) => e.seq);
        assert.deepEqual(read.slice(0, 19), seqs.slice(1));
        assert.ok(read.length === 19 || read.length === 20);
        assert.equal(again.usage("updates").messages, read.length);
        assert.equal(again.getState("k"), "v");
        assert.ok(again.lastSeq() >= seqs.at(-1)!);
        assert.ok(again.append(message(5)) > seqs.at(-1)!);
      } finally {
        await again.close();
      }
    },
  );
  test(
    "a sequence number is never given out twice, even for a message deleted before its commit",
    async (store, reopen) => {
      store.append(message(1));
      const last = store.append(message(2));
      store.delete([last]); // delivered before it was ever committed
      await store.commit();
      await store.close();
      const again = await reopen!();
      try {
        assert.equal(again.read(0, 10).length, 1);
        assert.ok(again.lastSeq() >= last, `lastSeq ${again.lastSeq()} < ${last}`);
        assert.ok(again.append(message(3)) > last);
      } finally {
        await again.close();
      }
    },
  );
}
