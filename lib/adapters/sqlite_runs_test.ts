import assert from "node:assert/strict";
import { decodePayload } from "../codec/decode.ts";
import { encodeAttribute, encodeDelayed, encodeDelayedRun } from "../codec/encode.ts";
import type { MessageFormat } from "../model/types.ts";
import type { OutboxKind, OutboxMessage, RunLimits } from "../outbox/store.ts";
import { SqliteStore } from "./sqlite_store.ts";

async function withStore(test: (store: SqliteStore) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const store = SqliteStore.open(`${dir}/outbox.sqlite`);
  try {
    await test(store);
  } finally {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function message(
  format: MessageFormat,
  value: number,
  options: { kind?: OutboxKind; topic?: string } = {},
): OutboxMessage {
  const kind = options.kind ?? "update";
  return {
    kind,
    topic: options.topic ?? `@${kind}/u/n/o/a${value % 7}`,
    payload: encodeAttribute(format, {
      type: "Number",
      constraint: "Measure",
      value: value + 0.5,
      timestamp: 1_700_000_000_000 + value,
    }),
    retain: kind === "update",
  };
}

const limits = (format: MessageFormat, store: SqliteStore, more: Partial<RunLimits> = {}) => ({
  format,
  lastSeq: store.lastSeq(),
  maxMessages: 1000,
  maxBytes: 1 << 20,
  ...more,
});

// Topic lengths around CBOR's length classes (23/24 and 255/256 bytes), in UTF-8 of 1 to 4 bytes
// a character: the head SQLite writes must be the one the writer does.
const TOPICS = [
  "",
  "@update/u/n/o/a",
  `@update/${"x".repeat(15)}`, // 23 bytes
  `@update/${"x".repeat(16)}`, // 24 bytes
  `@update/${"x".repeat(247)}`, // 255 bytes
  `@update/${"x".repeat(248)}`, // 256 bytes
  `@update/${"y".repeat(2000)}`,
  "@update/u/Küche/€/😀",
  `@update/u/${"ü".repeat(120)}`,
  "@update/u/a b\u2028c",
];

for (const format of ["CBOR", "JSON"] as const) {
  Deno.test(`a run encoded by SQLite is what encodeDelayed() writes (${format})`, async () => {
    await withStore(async (store) => {
      const messages = TOPICS.map((topic, i) =>
        message(format, i, { topic, kind: (["update", "transaction", "logs"] as const)[i % 3] })
      );
      for (const m of messages) store.append({ ...m });
      await store.commit();
      const run = store.encodeRun(0, limits(format, store))!;
      assert.equal(run.count, messages.length);
      assert.equal(run.firstSeq, 1);
      assert.equal(run.lastSeq, messages.length);
      const expected = encodeDelayed(format, 5000, messages);
      assert.deepEqual(encodeDelayedRun(format, 5000, run.count, run.items), expected);
      const decoded = decodePayload(expected).value as { messages: { topic: string }[] };
      assert.deepEqual(decoded.messages.map((m) => m.topic), TOPICS);
    });
  });
}

Deno.test("a run ends before a message that travels alone or in another format", async () => {
  await withStore((store) => {
    store.append(message("CBOR", 1));
    store.append(message("CBOR", 2));
    store.append(message("CBOR", 3, { kind: "didSet" })); // seq 3
    store.append(message("CBOR", 4));
    store.append(message("JSON", 5)); // seq 5: written before the format changed
    store.append(message("CBOR", 6, { kind: "nodeAdded" }));
    const run = store.encodeRun(0, limits("CBOR", store))!;
    assert.deepEqual([run.count, run.firstSeq, run.lastSeq], [2, 1, 2]);
    assert.equal(store.encodeRun(2, limits("CBOR", store)), undefined, "@didSet goes alone");
    const next = store.encodeRun(3, limits("CBOR", store))!;
    assert.deepEqual([next.count, next.firstSeq, next.lastSeq], [1, 4, 4]);
    assert.equal(store.encodeRun(4, limits("CBOR", store)), undefined, "JSON in a CBOR batch");
    assert.deepEqual(store.encodeRun(4, limits("JSON", store))?.count, 1);
    assert.equal(store.encodeRun(6, limits("CBOR", store)), undefined, "nothing after the last");
  });
});

Deno.test("a run keeps to its limits: the backlog's end, messages and payload bytes", async () => {
  await withStore((store) => {
    for (let i = 0; i < 10; i++) store.append(message("CBOR", i));
    const size = store.read(0, 1)[0].payload.length;
    assert.equal(store.encodeRun(0, limits("CBOR", store, { lastSeq: 4 }))!.lastSeq, 4);
    assert.equal(store.encodeRun(0, limits("CBOR", store, { maxMessages: 3 }))!.count, 3);
    const bytes = store.encodeRun(0, limits("CBOR", store, { maxBytes: size * 4 + 1 }))!;
    assert.ok(bytes.count >= 1 && bytes.count <= 4, `${bytes.count} messages of ${size} bytes`);
    // A first message larger than the limit goes, by itself.
    const one = store.encodeRun(0, limits("CBOR", store, { maxBytes: 1 }))!;
    assert.deepEqual([one.count, one.firstSeq, one.lastSeq], [1, 1, 1]);
  });
});

Deno.test("a run skips what was deleted and holds appends not yet committed", async () => {
  await withStore(async (store) => {
    for (let i = 0; i < 6; i++) store.append(message("CBOR", i));
    await store.commit();
    store.delete([2, 3, 5]);
    store.append(message("CBOR", 6)); // seq 7, not committed
    const run = store.encodeRun(0, limits("CBOR", store))!;
    assert.deepEqual([run.count, run.firstSeq, run.lastSeq], [4, 1, 7]);
    const entries = store.read(0, 100);
    assert.deepEqual(entries.map((e) => e.seq), [1, 4, 6, 7]);
    assert.deepEqual(
      encodeDelayedRun("CBOR", 1, run.count, run.items),
      encodeDelayed("CBOR", 1, entries),
    );
  });
});
