import assert from "node:assert/strict";
import { SqliteStore } from "../lib/adapters/sqlite_store.ts";
import { SqliteFile } from "../lib/adapters/sqlite_file.ts";
import { StoreError } from "../lib/errors.ts";
import { MemoryStore, memoryStoreOf } from "../lib/outbox/memory_store.ts";
import { type EndpointSettings, openSharedStore } from "../extend.ts";
import { storeContract } from "./outbox_store_contract.ts";
import { Outbox } from "../lib/outbox/outbox.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import { encodeAttribute } from "../lib/codec/encode.ts";

storeContract({
  name: "MemoryStore",
  durable: false,
  open: () => Promise.resolve({ store: new MemoryStore(), cleanup: () => Promise.resolve() }),
});

storeContract({
  name: "SqliteStore",
  durable: true,
  async open() {
    const dir = await Deno.makeTempDir({ prefix: "cloudio-store-" });
    const path = `${dir}/outbox.sqlite`;
    return {
      store: SqliteStore.open(path),
      reopen: () => Promise.resolve(SqliteStore.open(path)),
      cleanup: () => Deno.remove(dir, { recursive: true }),
    };
  },
});

// A gateway's endpoints keep their outboxes in one file: each store a table, one transaction. A
// neighbour with entries of its own shares the file and must never show through.
storeContract({
  name: "SqliteStore in a shared file",
  durable: true,
  async open() {
    const dir = await Deno.makeTempDir({ prefix: "cloudio-store-" });
    const path = `${dir}/gateway.sqlite`;
    let file = SqliteFile.open(path);
    const neighbour = SqliteStore.inFile(file, "neighbour");
    for (let i = 0; i < 3; i++) {
      neighbour.append({
        kind: "update",
        topic: "@update/n",
        payload: new Uint8Array([9]),
        retain: true,
      });
    }
    return {
      store: SqliteStore.inFile(file, "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55"),
      async reopen() {
        await file.close();
        file = SqliteFile.open(path);
        assert.equal(SqliteStore.inFile(file, "neighbour").usage("updates").messages, 3);
        return SqliteStore.inFile(file, "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
      },
      async cleanup() {
        await file.close();
        await Deno.remove(dir, { recursive: true });
      },
    };
  },
});

Deno.test("SqliteStore.open() refuses a corrupt file with a StoreError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudio-store-" });
  try {
    const path = `${dir}/outbox.sqlite`;
    await Deno.writeFile(
      path,
      new TextEncoder().encode("this is not a database, it is a text file ".repeat(200)),
    );
    assert.throws(() => SqliteStore.open(path), (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.equal(error.path, path);
      assert.match(error.message, /Cannot open the outbox store/);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqliteStore.open() refuses a directory it cannot create a file in", () => {
  assert.throws(() => SqliteStore.open("/nonexistent-dir-for-cloudio/outbox.sqlite"), StoreError);
});

async function diskFullRun(count: number, every: number) {
  const dir = await Deno.makeTempDir({ prefix: "cloudio-full-" });
  try {
    const child = new URL("./_disk_full_child.ts", import.meta.url).pathname;
    // A file size limit is how a full disk looks to a process: writes past it fail (EFBIG).
    const { code, stdout, stderr } = await new Deno.Command("sh", {
      args: [
        "-c",
        `trap '' XFSZ; ulimit -f 256; exec "${Deno.execPath()}" run -A "${child}" "${dir}/outbox.sqlite" ${count} ${every}`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, err);
    const seen = JSON.parse(new TextDecoder().decode(stdout).trim().split("\n").at(-1)!);
    assert.deepEqual(seen.appendErrors, [], "append() never throws at the caller");
    assert.ok(seen.commitErrors.length >= 1, "the failure was reported");
    assert.match(seen.commitErrors[0], /^StoreError: Cannot commit the outbox store .*memory/);
    assert.deepEqual(seen.read, seen.expected, "nothing appended and not deleted was lost");
    assert.equal(seen.usage.messages, seen.expected.length);
    assert.equal(seen.durable, false, "no longer durable, and it says so");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("SqliteStore keeps every entry in memory when the disk fills up mid-run, and says so", async () => {
  await diskFullRun(2000, 50);
});

Deno.test("SqliteStore keeps every entry when the disk fills in a commit it made by itself", async () => {
  // Never told to commit until the end: only the store's own commits (every 512 appends) write.
  await diskFullRun(5000, 1_000_000);
});

// An open transaction keeps its appends in memory (to rebuild them should the disk fail) until it
// commits: a store that is never told to commit (a tight loop, a long outage) commits by itself
// once 512 appends or 1 MiB of payloads wait, so that memory stays bounded.
Deno.test("SqliteStore commits by itself once 512 appends or 1 MiB wait uncommitted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudio-store-" });
  try {
    const path = `${dir}/outbox.sqlite`;
    const store = SqliteStore.open(path);
    // Another connection sees only what was committed.
    const { DatabaseSync } = await import("node:sqlite");
    const reader = new DatabaseSync(path, { readOnly: true });
    const rows = () =>
      (reader.prepare('SELECT count(*) AS n FROM "outbox"').get() as { n: number }).n;
    const append = (bytes: number) =>
      store.append({
        kind: "update",
        topic: "@update/u/n/o/a",
        payload: new Uint8Array(bytes),
        retain: true,
      });
    for (let i = 0; i < 511; i++) append(10);
    assert.equal(rows(), 0, "511 appends wait for commit()");
    append(10);
    assert.equal(rows(), 512, "the 512th append committed them all");
    for (let i = 0; i < 15; i++) append(64 * 1024);
    assert.equal(rows(), 512, "15 × 64 KiB wait for commit()");
    append(64 * 1024);
    assert.equal(rows(), 528, "the 16th 64 KiB payload committed them");
    await store.commit();
    reader.close();
    await store.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the stores of a shared file that commit in the same turn share one commit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudio-store-" });
  try {
    const path = `${dir}/gateway.sqlite`;
    let file = SqliteFile.open(path);
    let commits = 0;
    file.listen({ committed: () => commits++, failed: () => {} });
    const stores = ["a", "b", "c"].map((name) => SqliteStore.inFile(file, name));
    // Each outbox appends and asks for its commit on its own timer: one fsync serves them all.
    const committed = stores.map((store) => {
      store.append({
        kind: "update",
        topic: "@update/x",
        payload: new Uint8Array([1]),
        retain: true,
      });
      return store.commit();
    });
    await Promise.all(committed);
    assert.equal(commits, 1);
    await file.close();
    file = SqliteFile.open(path);
    for (const name of ["a", "b", "c"]) {
      assert.equal(SqliteStore.inFile(file, name).usage("updates").messages, 1, name);
    }
    await file.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a commit asked for before the shared transaction failed rejects, never claims durable", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudio-store-" });
  try {
    const file = SqliteFile.open(`${dir}/gateway.sqlite`);
    const [a, b] = ["a", "b"].map((name) => SqliteStore.inFile(file, name));
    a.append({ kind: "update", topic: "@update/a", payload: new Uint8Array([1]), retain: true });
    const committed = a.commit();
    // Before the group commit runs, a neighbour's write fails: the shared transaction is gone.
    b.append({ kind: "update", topic: "@update/b", payload: new Uint8Array([2]), retain: true });
    file.fail(new Error("disk I/O error"), "append to");
    await assert.rejects(committed, StoreError);
    assert.equal(a.durable, false);
    assert.equal(a.read(0, 10).length, 1, "the value is still held, in memory");
    await a.close();
    await b.close();
    await file.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a shared store closed twice at once tells its file once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudio-store-" });
  try {
    const file = SqliteFile.open(`${dir}/gateway.sqlite`);
    let closed = 0;
    const a = SqliteStore.inFile(file, "a", () => Promise.resolve(void closed++));
    await Promise.all([a.close(), a.close()]);
    assert.equal(closed, 1);
    await file.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stores named alike keep apart: a-b and a_b, a and a_key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudio-store-" });
  try {
    const file = SqliteFile.open(`${dir}/gateway.sqlite`);
    const stores = ["a-b", "a_b", "a_key", "a"].map((name) => SqliteStore.inFile(file, name));
    stores[0].append({
      kind: "update",
      topic: "@update/x",
      payload: new Uint8Array([1]),
      retain: true,
    });
    assert.deepEqual(stores.map((s) => s.read(0, 10).length), [1, 0, 0, 0]);
    for (const store of stores) await store.close();
    await file.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "openSharedStore() closes the file again when its first store cannot open",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cloudio-store-" });
    const path = `${dir}/shared.sqlite`;
    const open = () =>
      [...Deno.readDirSync("/proc/self/fd")].filter((fd) => {
        try {
          return Deno.readLinkSync(`/proc/self/fd/${fd.name}`).startsWith(path);
        } catch {
          return false;
        }
      }).length;
    try {
      // Settings never carry such a UUID; it stands for any store that fails to open.
      const settings = { uuid: "not.a.table.name" } as EndpointSettings;
      await assert.rejects(openSharedStore(settings, path), TypeError);
      assert.equal(open(), 0, "no descriptor left on the shared file");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a memory store taking over entries with gaps keeps their numbers and goes on after lastSeq", () => {
  const entry = (seq: number) => ({
    seq,
    kind: "update" as const,
    topic: `@update/u/n/o/a${seq}`,
    payload: new Uint8Array([seq]),
    retain: true,
  });
  const store = memoryStoreOf([entry(3), entry(7), entry(8)], 20);
  assert.deepEqual(store.read(0, 10).map((e) => e.seq), [3, 7, 8]);
  assert.deepEqual(store.read(3, 10).map((e) => e.seq), [7, 8]);
  assert.equal(store.append(entry(0)), 21);
  store.delete([7, 5, 100]);
  assert.deepEqual(store.read(0, 10).map((e) => e.seq), [3, 8, 21]);
  store.delete([3, 8, 21]);
  assert.deepEqual(store.read(0, 10), []);
  assert.equal(store.append(entry(0)), 22);
  assert.deepEqual(store.read(0, 10).map((e) => e.seq), [22]);
});

// The replay of a store that encodes its own runs (SQLite) must carry what the outbox's own
// batching carries: the same messages in the same batches, each deleted on its batch's PUBACK.
Deno.test("an outbox replays an SQLite store (runs encoded in SQL) as it does a memory store", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudio-store-" });
  const file = SqliteFile.open(`${dir}/gateway.sqlite`);
  const neighbour = SqliteStore.inFile(file, "neighbour");
  const stores = { sqlite: SqliteStore.inFile(file, "device"), memory: new MemoryStore() };
  try {
    const carried: Record<string, unknown[]> = {};
    for (const [name, store] of Object.entries(stores)) {
      const outbox = new Outbox({ store, limits: LIMITS });
      for (let i = 0; i < 25; i++) {
        const kind = i === 7 ? "didSet" : i === 12 ? "logs" : "update";
        outbox.add(value(i, kind));
        neighbour.append(value(100 + i, "update"));
      }
      const sent: { topic: string; payload: Uint8Array; settled: (e?: Error) => void }[] = [];
      outbox.attach({
        send: (topic, payload, _retain, settled) => sent.push({ topic, payload, settled }),
        format: "CBOR",
        delayedTopic: "@delayed/u",
        replay: "delayed",
        maxInFlight: 1000,
        batchMessages: 6,
        batchBytes: 1 << 20,
        batchesInFlight: 2,
        now: () => 1_000_000,
      });
      const decoded: unknown[] = [];
      for (let turn = 0; turn < 50 && outbox.stats().pending.updates.messages > 0; turn++) {
        for (const s of sent.splice(0)) {
          decoded.push([s.topic, decodePayload(s.payload).value]);
          s.settled();
          if (s.topic === "@delayed/u" && name === "sqlite") {
            assert.equal(s.payload.length, 0, "a batch's buffer is released on its PUBACK");
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      assert.equal(outbox.stats().pending.updates.messages, 0, name);
      assert.equal(outbox.stats().delivered, 25, name);
      carried[name] = decoded;
    }
    assert.deepEqual(carried.sqlite, carried.memory);
    // Batches of 6 (the logs at 12 go in one), up to the @didSet at 7, which goes by itself.
    assert.deepEqual(
      (carried.sqlite as [string, { messages?: unknown[] }][]).map(([topic, value]) =>
        topic === "@delayed/u" ? value.messages!.length : topic
      ),
      [6, 1, "@didSet/u/n/o/a", 6, 6, 5],
    );
    assert.equal(neighbour.usage("updates").messages, 50, "the neighbour's table is untouched");
  } finally {
    await stores.sqlite.close();
    await neighbour.close();
    await file.close();
    await Deno.remove(dir, { recursive: true });
  }
});

function value(i: number, kind: "update" | "didSet" | "logs") {
  return {
    kind,
    topic: kind === "logs" ? "@logs/u" : `@${kind}/u/n/o/a`,
    payload: encodeAttribute("CBOR", {
      type: "Integer",
      constraint: "Status",
      value: i,
      timestamp: 1_700_000_000_000 + i,
    }),
    retain: kind === "update",
  } as const;
}

const LIMITS = { updates: { messages: 1e6, bytes: 1e9 }, logs: { messages: 1e6, bytes: 1e9 } };
