/**
 * The durable outbox store for Deno, on `node:sqlite`: a table of an SQLite file
 * (`sqlite_file.ts`), either a file of its own or one shared by the endpoints of a gateway.
 * Appends and deletes go into the file's open write transaction that `commit()` ends, so many
 * values share one commit (group commit) and durability does not cost a disk write per value.
 *
 * An append is held in memory until the store next writes to the file (at the commit, or before
 * a read, an eviction or a delete that needs the table): then {@linkcode BATCH} rows go in one
 * INSERT, and an append that is delivered and deleted before that never touches the file. Per
 * value, an INSERT of its own cost a statement run and its result object (160 bytes of garbage
 * per value, a fifth of what queueing a value allocated; measured with V8's sampling heap
 * profiler on `bench/_offline.ts`).
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import { StoreError } from "../errors.ts";
import { inTransaction, SqliteFile, type SqliteFileOptions } from "./sqlite_file.ts";
import { RunEncoder } from "./sqlite_runs.ts";
import { PendingAppends } from "./sqlite_appends.ts";
import { type MemoryStore, memoryStoreOf } from "../outbox/memory_store.ts";
import {
  classOf,
  DELAYED_KINDS,
  type EncodedRun,
  type OutboxClass,
  type OutboxEntry,
  type OutboxKind,
  type OutboxMessage,
  type OutboxStore,
  type OutboxUsage,
  type RunLimits,
} from "../outbox/store.ts";

/** Options of {@linkcode SqliteStore.open}. */
export type SqliteStoreOptions = SqliteFileOptions;

// Stored by index: append new kinds at the end only.
const KINDS: OutboxKind[] = [
  "update",
  "didSet",
  "transaction",
  "logs",
  "execOutput",
  "nodeAdded",
  "nodeRemoved",
];
/** The kinds a `@delayed` batch carries, by their stored numbers. */
const DELAYED_KIND_NUMBERS = DELAYED_KINDS.map((kind) => KINDS.indexOf(kind));
/** Rows per multi-row INSERT. */
const BATCH = 64;
/**
 * Appends (or payload bytes) an open transaction holds, not deleted since, before the store
 * commits it by itself. The transaction keeps its appends in memory until it commits (to rebuild
 * them should the disk fail), and a tight loop or an outage may append far faster than the
 * outbox's commit timer fires: 1,000,000 values queued offline by `bench/_offline.ts` held ~8,000
 * per commit and peaked at 220 MB RSS (V8 promoted them to the old space before they died); with
 * 1,024 per commit, 121 MB, flat from 100,000 values on, at the same queueing rate. What they
 * hold alive at each young collection also decides how far V8 grows its young generation: with
 * 512, 94–98 MB against 110 MB with 1,024 (once MQTT.js's number cache was off), at 120k values/s
 * instead of 145k. Online, what the broker acknowledged before the commit is not counted, so that
 * a fast device does not pay for more commits than the timer's.
 */
const MAX_TX = 512;
const MAX_TX_BYTES = 1024 * 1024;
const COLUMNS = "(seq, kind, topic, key, retain, payload)";

const CLASS_KINDS: Record<OutboxClass, [number, number, number]> = {
  updates: [0, 1, 2],
  logs: [3, 4, 4],
  lifecycle: [5, 6, 6],
};

/** A message's columns, in `COLUMNS`' order, as `asArrays` statements return them. */
type Row = [
  seq: number,
  kind: number,
  topic: string,
  key: string | null,
  retain: number,
  payload: Uint8Array,
];
/** A row as a statement returns it without `setReturnArrays` (a runtime that lacks it). */
interface RowObject {
  seq: number;
  kind: number;
  topic: string;
  key: string | null;
  retain: number;
  payload: Uint8Array;
}

/**
 * Makes a statement return rows as arrays, not objects, where the runtime can (node:sqlite's
 * `setReturnArrays`, which its type declarations here do not list yet): node:sqlite builds an
 * object property by property, 1,200 bytes of garbage a row against 400 (`--trace-gc-nvp`), and
 * the replay of a backlog reads every message once.
 */
function asArrays(statement: StatementSync): StatementSync {
  (statement as { setReturnArrays?: (on: boolean) => void }).setReturnArrays?.(true);
  return statement;
}

/**
 * An outbox store in an SQLite file.
 *
 * @example
 * ```ts
 * import { SqliteStore } from "./sqlite_store.ts";
 * import assert from "node:assert/strict";
 *
 * const dir = await Deno.makeTempDir();
 * const store = SqliteStore.open(`${dir}/outbox.sqlite`);
 * store.append({ kind: "update", topic: "t", payload: new Uint8Array([1]), retain: true });
 * await store.close();
 * const again = SqliteStore.open(`${dir}/outbox.sqlite`);
 * assert.equal(again.read(0, 10).length, 1);
 * await again.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class SqliteStore implements OutboxStore {
  /** The database file. */
  readonly location: string;
  #file: SqliteFile;
  #ownsFile: boolean;
  #onClosed?: () => Promise<void>;
  #stateKey: (key: string) => string;
  #usage: Record<OutboxClass, OutboxUsage> = {
    updates: { messages: 0, bytes: 0 },
    logs: { messages: 0, bytes: 0 },
    lifecycle: { messages: 0, bytes: 0 },
  };
  #lastSeq: number;
  #table: string;
  #runs: RunEncoder | undefined;
  #insert: StatementSync;
  #insertBatch: StatementSync;
  // The parameters of one multi-row INSERT, reused: an array built by push() for every batch grew
  // seven times on the way to 384 items, 150 bytes of garbage per value queued.
  #params: (number | string | null | Uint8Array)[] = new Array(BATCH * 6).fill(null);
  #setSequence: StatementSync;
  #addSequence: StatementSync;
  // The highest sequence number the file records (sqlite_sequence).
  #recordedSeq: number;
  #select: StatementSync;
  #countRange: StatementSync;
  #deleteRangeStatement: StatementSync;
  #oldest: StatementSync;
  #superseded: StatementSync;
  #getState: StatementSync;
  #setState: StatementSync;
  #allState: StatementSync;
  #closed = false;
  #closing: Promise<void> | undefined;
  // Since the last commit: the appends (sqlite_appends.ts), of which the first #inserted are in
  // the open transaction and the rest not yet written; the committed entries deleted; the
  // settings written. When the disk fails (full, removed, I/O error), SQLite rolls the
  // transaction back; these rebuild what the outbox had, in memory, so that nothing it holds is
  // lost.
  #tx = new PendingAppends();
  #inserted = 0;
  // The ranges deleted from the table, `from, to` pairs: a Set of every sequence number grew in
  // V8's old space while a backlog was replayed (43 bytes of garbage per value, there until the
  // next full GC).
  #txDeletes: number[] = [];
  #txState = new Map<string, string>();
  #fallback: MemoryStore | undefined;
  #failure: StoreError | undefined;
  #listener = {
    beforeCommit: () => this.#write(),
    committed: () => this.#forgetTransaction(),
    failed: (cause: unknown, action: string) => this.#degrade(cause, action),
  };

  private constructor(
    file: SqliteFile,
    name: string | undefined,
    ownsFile: boolean,
    onClosed?: () => Promise<void>,
  ) {
    this.location = name === undefined ? file.path : `${file.path}#${name}`;
    this.#file = file;
    this.#ownsFile = ownsFile;
    this.#onClosed = onClosed;
    const db = file.db;
    // The file's own outbox is table "outbox" (as older versions wrote it); a named one has its
    // table, named after it as it is (quoted: "a-b" and "a_b" are two), and its settings are keyed
    // by its name.
    const table = this.#table = name === undefined ? "outbox" : `outbox/${name}`;
    this.#stateKey = name === undefined ? (key) => key : (key) => `${name}:${key}`;
    const schema = `
      CREATE TABLE IF NOT EXISTS "${table}" (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind INTEGER NOT NULL,
        topic TEXT NOT NULL,
        key TEXT,
        retain INTEGER NOT NULL,
        payload BLOB NOT NULL
      );
      CREATE INDEX IF NOT EXISTS "${table}/key" ON "${table}" (key, seq) WHERE key IS NOT NULL;
    `;
    // In the file's open transaction if there is one (a gateway's), else in one of its own.
    if (file.inTransaction) db.exec(schema);
    else inTransaction(db, (db) => db.exec(schema));
    const t = `"${table}"`;
    this.#insert = db.prepare(`INSERT INTO ${t} ${COLUMNS} VALUES (?, ?, ?, ?, ?, ?)`);
    this.#insertBatch = db.prepare(
      `INSERT INTO ${t} ${COLUMNS} VALUES ${Array(BATCH).fill("(?, ?, ?, ?, ?, ?)").join(", ")}`,
    );
    // Sequence numbers are given out here; the file must remember the highest even when its
    // message was delivered before it was written (never reused, across runs too).
    this.#setSequence = db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = ?");
    this.#addSequence = db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)");
    this.#select = asArrays(db.prepare(
      `SELECT seq, kind, topic, key, retain, payload FROM ${t} WHERE seq > ? ORDER BY seq LIMIT ?`,
    ));
    this.#countRange = db.prepare(
      `SELECT kind, count(*) AS n, sum(length(payload)) AS bytes FROM ${t} WHERE seq BETWEEN ? AND ? GROUP BY kind`,
    );
    this.#deleteRangeStatement = db.prepare(`DELETE FROM ${t} WHERE seq BETWEEN ? AND ?`);
    this.#oldest = db.prepare(
      `SELECT seq, kind, topic, key, retain, payload FROM ${t} WHERE kind IN (?, ?, ?) ORDER BY seq LIMIT 1`,
    );
    this.#superseded = db.prepare(
      `SELECT o.seq, o.kind, o.topic, o.key, o.retain, o.payload FROM ${t} o
       WHERE o.kind IN (?, ?, ?) AND o.key IS NOT NULL
         AND EXISTS (SELECT 1 FROM ${t} n WHERE n.key = o.key AND n.seq > o.seq)
       ORDER BY o.seq LIMIT 1`,
    );
    asArrays(this.#oldest);
    asArrays(this.#superseded);
    this.#getState = db.prepare("SELECT value FROM state WHERE key = ?");
    this.#setState = db.prepare(
      "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    );
    this.#allState = db.prepare("SELECT key, value FROM state");
    for (
      const row of db.prepare(
        `SELECT kind, count(*) AS n, sum(length(payload)) AS bytes FROM ${t} GROUP BY kind`,
      ).all() as {
        kind: number;
        n: number;
        bytes: number;
      }[]
    ) {
      const usage = this.#usage[classOf(KINDS[row.kind] ?? "update")];
      usage.messages += row.n;
      usage.bytes += row.bytes ?? 0;
    }
    const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = ?").get(table) as
      | { seq: number }
      | undefined;
    this.#lastSeq = this.#recordedSeq = seq?.seq ?? 0;
    file.listen(this.#listener);
  }

  /**
   * Opens (or creates) a store file of its own.
   *
   * @param path The database file; its directory must exist.
   * @param options Durability on power loss.
   * @returns The store.
   * @throws {StoreError} When the file cannot be opened or created, or is not an outbox.
   */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    const file = SqliteFile.open(path, options);
    try {
      return new SqliteStore(file, undefined, true);
    } catch (cause) {
      file.close();
      throw new StoreError(
        `Cannot open the outbox store ${path}: ${(cause as Error)?.message ?? cause}`,
        { path, cause },
      );
    }
  }

  /**
   * Opens (or creates) a named store in a file that several stores share: the outboxes of the
   * endpoints of a gateway, committed together.
   *
   * @param file The file.
   * @param name The store's name (an endpoint's UUID, say); letters, digits, `-` and `_`.
   * @param onClosed Called once the store is closed (to close the file with its last store).
   * @returns The store; closing it leaves the file open.
   * @throws {StoreError} When the store's table cannot be created.
   *
   * @example
   * ```ts
   * import { SqliteFile } from "./sqlite_file.ts";
   * import { SqliteStore } from "./sqlite_store.ts";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * const file = SqliteFile.open(`${dir}/gateway.sqlite`);
   * const a = SqliteStore.inFile(file, "pump-1"), b = SqliteStore.inFile(file, "pump-2");
   * a.append({ kind: "update", topic: "t", payload: new Uint8Array([1]), retain: true });
   * await a.commit();
   * assert.equal(a.read(0, 10).length, 1);
   * assert.equal(b.read(0, 10).length, 0);
   * await a.close();
   * await b.close();
   * await file.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static inFile(
    file: SqliteFile,
    name: string,
    onClosed?: () => Promise<void>,
  ): SqliteStore {
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(name)) {
      throw new TypeError(
        `Cannot name an outbox store ${
          JSON.stringify(name)
        }: use 1 to 128 letters, digits, "-" or "_"`,
      );
    }
    try {
      return new SqliteStore(file, name, false, onClosed);
    } catch (cause) {
      throw new StoreError(
        `Cannot open the outbox store ${file.path}#${name}: ${(cause as Error)?.message ?? cause}`,
        { path: file.path, cause },
      );
    }
  }

  /**
   * Whether committed entries survive a crash: `true` until the disk fails, after which the store
   * keeps the outbox in memory for the rest of the run.
   */
  get durable(): boolean {
    return this.#fallback === undefined;
  }

  // A write failed: the shared transaction is rolled back, and every store of the file (this one
  // included) goes on in memory.
  #fail(cause: unknown, action: string): MemoryStore {
    this.#file.fail(cause, action);
    return this.#degrade(cause, action);
  }

  // The disk failed: the rest of the run goes on in memory, with every entry the outbox holds.
  #degrade(cause: unknown, action: string): MemoryStore {
    if (this.#fallback) return this.#fallback;
    this.#file.unlisten(this.#listener);
    let committed: OutboxEntry[] = [];
    const state = new Map<string, string>();
    try {
      committed = (this.#select.all(0, Number.MAX_SAFE_INTEGER) as unknown as (Row | RowObject)[])
        .map(toEntry);
      const prefix = this.#stateKey("");
      for (const row of this.#allState.all() as { key: string; value: string }[]) {
        if (row.key.startsWith(prefix)) state.set(row.key.slice(prefix.length), row.value);
      }
    } catch {
      // Not even readable: what this run appended is all there is.
    }
    const entries = new Map<number, OutboxEntry>();
    for (const entry of withoutRanges(committed, this.#txDeletes)) entries.set(entry.seq, entry);
    for (const entry of this.#tx.entries()) entries.set(entry.seq, entry);
    for (const [key, value] of this.#txState) state.set(key, value);
    this.#fallback = memoryStoreOf(
      [...entries.values()].sort((a, b) => a.seq - b.seq),
      this.#lastSeq,
      state,
    );
    this.#forgetTransaction();
    this.#failure = new StoreError(
      `Cannot ${action} the outbox store ${this.location}: ${
        (cause as Error)?.message ?? cause
      }; ` +
        "keeping the outbox in memory for the rest of this run (what was committed before stays " +
        "on disk for the next run)",
      { path: this.location, cause },
    );
    return this.#fallback;
  }

  // The transaction ended (committed, or rolled back and rebuilt in memory).
  #forgetTransaction(): void {
    this.#tx.clear();
    this.#inserted = 0;
    this.#txDeletes = [];
    this.#txState.clear();
  }

  #begin(): void {
    if (this.#closed) {
      throw new StoreError(`The outbox store ${this.location} is closed`, { path: this.location });
    }
    this.#file.begin();
  }

  /** Adds a message (written to the file with the next batch). */
  append(message: OutboxMessage): number {
    if (this.#fallback) return this.#fallback.append(message);
    if (this.#closed) {
      throw new StoreError(`The outbox store ${this.location} is closed`, { path: this.location });
    }
    const seq = ++this.#lastSeq;
    this.#tx.push(seq, message);
    const usage = this.#usage[classOf(message.kind)];
    usage.messages++;
    usage.bytes += message.payload.length;
    // The whole file commits (a shared file's other stores with it); a failure degrades every
    // store of the file to memory, this append included, and the next commit() reports it.
    if (this.#tx.held >= MAX_TX || this.#tx.bytes >= MAX_TX_BYTES) this.#file.commit();
    return seq;
  }

  // Writes the appends not yet in the file, BATCH rows per INSERT, and the highest sequence
  // number given out. Throws what SQLite throws.
  #insertPending(): void {
    const tx = this.#tx;
    if (this.#inserted < tx.length) {
      this.#begin();
      const params = this.#params;
      let at = 0;
      for (let i = this.#inserted; i < tx.length; i++) {
        if (!tx.has(i)) continue;
        params[at++] = tx.first + i;
        params[at++] = KINDS.indexOf(tx.kind(i));
        params[at++] = tx.topic(i);
        params[at++] = tx.key(i) ?? null;
        params[at++] = tx.retain(i) ? 1 : 0;
        params[at++] = tx.payload(i);
        if (at === params.length) {
          this.#insertBatch.run(...params);
          at = 0;
        }
      }
      for (let row = 0; row < at; row += 6) {
        this.#insert.run(
          params[row],
          params[row + 1],
          params[row + 2],
          params[row + 3],
          params[row + 4],
          params[row + 5],
        );
      }
      params.fill(null); // the payloads are not kept alive by it
      this.#inserted = tx.length;
    }
    if (this.#lastSeq > this.#recordedSeq) {
      this.#begin();
      const table = this.#table;
      if (this.#setSequence.run(this.#lastSeq, table).changes === 0) {
        this.#addSequence.run(table, this.#lastSeq);
      }
      this.#recordedSeq = this.#lastSeq;
    }
  }

  // #insertPending, and on failure the rest of the run in memory. Returns false then.
  #write(): boolean {
    if (this.#fallback || this.#closed) return !this.#fallback;
    try {
      this.#insertPending();
      return true;
    } catch (cause) {
      this.#fail(cause, "append to");
      return false;
    }
  }

  /** The highest sequence number given out. */
  lastSeq(): number {
    if (this.#fallback) return this.#fallback.lastSeq();
    return this.#lastSeq;
  }

  /** Reads messages after a sequence number. */
  read(afterSeq: number, limit: number): OutboxEntry[] {
    if (!this.#write()) return this.#fallback!.read(afterSeq, limit);
    return (this.#select.all(afterSeq, limit) as unknown as (Row | RowObject)[]).map(toEntry);
  }

  /** Encodes the next run of a `@delayed` batch in SQLite (`sqlite_runs.ts`). */
  encodeRun(afterSeq: number, limits: RunLimits): EncodedRun | undefined {
    if (!this.#write()) return undefined; // in memory now: the outbox reads the entries
    this.#runs ??= new RunEncoder(this.#file, this.#table, DELAYED_KIND_NUMBERS);
    const run = this.#runs.encode(afterSeq, limits);
    // Its statement takes about 25 KB in SQLite, a megabyte for a gateway's 40 stores: it is kept
    // for the rest of this replay only (preparing it again costs 0.2 ms).
    if (!run || run.lastSeq >= limits.lastSeq) this.#runs = undefined;
    return run;
  }

  /** Deletes messages; consecutive sequence numbers go in one range (a batch is one or two). */
  delete(seqs: readonly number[]): void {
    if (this.#fallback) return this.#fallback.delete(seqs);
    if (seqs.length === 0) return;
    try {
      this.#deleteSorted(seqs);
    } catch (cause) {
      if (this.#closed) throw cause;
      this.#fail(cause, "delete from").delete(seqs);
    }
  }

  #deleteSorted(seqs: readonly number[]): void {
    // An append not yet written is only forgotten; the rest is deleted from the table.
    const written: number[] = [];
    for (const seq of seqs) {
      const i = seq - this.#tx.first;
      if (this.#tx.has(i)) {
        const kind = this.#tx.kind(i);
        const bytes = this.#tx.remove(i);
        if (i >= this.#inserted) {
          const usage = this.#usage[classOf(kind)];
          usage.messages--;
          usage.bytes -= bytes;
          continue;
        }
      }
      written.push(seq);
    }
    if (written.length === 0) return;
    this.#begin();
    const sorted = written.length > 1 ? written.sort((a, b) => a - b) : written;
    let from = sorted[0], to = sorted[0];
    for (let i = 1; i <= sorted.length; i++) {
      const seq = sorted[i];
      if (seq === to || seq === to + 1) {
        to = seq;
        continue;
      }
      this.#deleteRange(from, to);
      from = to = seq;
    }
  }

  #deleteRange(from: number, to: number): void {
    for (
      const row of this.#countRange.all(from, to) as { kind: number; n: number; bytes: number }[]
    ) {
      const usage = this.#usage[classOf(KINDS[row.kind] ?? "update")];
      usage.messages -= row.n;
      usage.bytes -= row.bytes ?? 0;
    }
    this.#deleteRangeStatement.run(from, to);
    this.#txDeletes.push(from, to);
  }

  /** Removes one message of a class to make room. */
  evict(cls: OutboxClass, latestPerKey: boolean): OutboxEntry | undefined {
    if (this.#fallback) return this.#fallback.evict(cls, latestPerKey);
    try {
      return this.#evict(cls, latestPerKey);
    } catch (cause) {
      if (this.#closed) throw cause;
      return this.#fail(cause, "evict from").evict(cls, latestPerKey);
    }
  }

  #evict(cls: OutboxClass, latestPerKey: boolean): OutboxEntry | undefined {
    this.#insertPending();
    const kinds = CLASS_KINDS[cls];
    const row = (latestPerKey ? this.#superseded.get(...kinds) : undefined) ??
      this.#oldest.get(...kinds);
    if (!row) return undefined;
    const entry = toEntry(row as unknown as Row | RowObject);
    this.#deleteSorted([entry.seq]);
    return entry;
  }

  /** Tells how much a class holds. */
  usage(cls: OutboxClass): Readonly<OutboxUsage> {
    if (this.#fallback) return this.#fallback.usage(cls);
    return this.#usage[cls];
  }

  /** Reads a setting. */
  getState(key: string): string | undefined {
    if (this.#fallback) return this.#fallback.getState(key);
    return (this.#getState.get(this.#stateKey(key)) as { value: string } | undefined)?.value;
  }

  /** Writes a setting. */
  setState(key: string, value: string): void {
    if (this.#fallback) return this.#fallback.setState(key, value);
    try {
      this.#begin();
      this.#setState.run(this.#stateKey(key), value);
      this.#txState.set(key, value);
    } catch (cause) {
      if (this.#closed) throw cause;
      this.#fail(cause, "write to").setState(key, value);
    }
  }

  /**
   * Commits the file's open transaction (for every store of the file; in a shared file, one commit
   * serves every store that asks before the next turn of the event loop). Once the disk has failed,
   * every call rejects: nothing can be made durable any more (the outbox then keeps working in
   * memory).
   */
  commit(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.resolve();
    if (this.#ownsFile) {
      return this.#file.commit() && !this.#failure
        ? Promise.resolve()
        : Promise.reject(this.#failure);
    }
    // The shared transaction may fail before the commit runs (a neighbour's write): every store
    // of the file is then told, and this one's commit must not claim what was rolled back.
    return this.#file.commitSoon().then((ok) =>
      ok && !this.#failure ? undefined : Promise.reject(this.#failure)
    );
  }

  /** Commits, and closes the file when it is the store's own. */
  close(): Promise<void> {
    // Once, however many ask: the file's users are counted by the closes it is told of.
    return this.#closing ??= (async () => {
      try {
        if (!this.#fallback) await this.commit();
      } finally {
        this.#closed = true;
        this.#file.unlisten(this.#listener);
        if (this.#ownsFile) await this.#file.close();
        await this.#onClosed?.();
      }
    })();
  }
}

/**
 * The entries (by ascending sequence number) outside the ranges (`from, to` pairs, any order).
 */
function withoutRanges(entries: OutboxEntry[], pairs: readonly number[]): OutboxEntry[] {
  const ranges: [number, number][] = [];
  for (let i = 0; i < pairs.length; i += 2) ranges.push([pairs[i], pairs[i + 1]]);
  ranges.sort((a, b) => a[0] - b[0]);
  let r = 0;
  return entries.filter(({ seq }) => {
    // Ranges that end before this entry end before every later one too.
    while (r < ranges.length && ranges[r][1] < seq) r++;
    return !(r < ranges.length && ranges[r][0] <= seq);
  });
}

function toEntry(row: Row | RowObject): OutboxEntry {
  const [seq, kind, topic, key, retain, payload] = Array.isArray(row)
    ? row
    : [row.seq, row.kind, row.topic, row.key, row.retain, row.payload];
  const entry: OutboxEntry = {
    seq,
    kind: KINDS[kind] ?? "update",
    topic,
    payload: payload instanceof Uint8Array ? payload : new Uint8Array(payload),
    retain: retain === 1,
  };
  if (key !== null) entry.key = key;
  return entry;
}
