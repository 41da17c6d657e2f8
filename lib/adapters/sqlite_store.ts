/**
 * The durable outbox store for Deno, on `node:sqlite` in WAL mode. Appends and deletes go into
 * one open write transaction that `commit()` ends, so many values share one commit (group
 * commit) and durability does not cost a disk write per value.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { StoreError } from "../errors.ts";
import { type MemoryStore, memoryStoreOf } from "../outbox/memory_store.ts";
import {
  classOf,
  type OutboxClass,
  type OutboxEntry,
  type OutboxKind,
  type OutboxMessage,
  type OutboxStore,
  type OutboxUsage,
} from "../outbox/store.ts";

/** Options of {@linkcode SqliteStore.open}. */
export interface SqliteStoreOptions {
  /**
   * `full` makes every commit survive power loss (an fsync per commit); `normal` survives a crash
   * of the process but may lose the last commits on power loss.
   *
   * @default {"full"}
   */
  synchronous?: "full" | "normal";
}

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
const CLASS_KINDS: Record<OutboxClass, [number, number, number]> = {
  updates: [0, 1, 2],
  logs: [3, 4, 4],
  lifecycle: [5, 6, 6],
};
const SCHEMA_VERSION = 1;

interface Row {
  seq: number;
  kind: number;
  topic: string;
  key: string | null;
  retain: number;
  payload: Uint8Array;
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
  #db: DatabaseSync;
  #inTransaction = false;
  #usage: Record<OutboxClass, OutboxUsage> = {
    updates: { messages: 0, bytes: 0 },
    logs: { messages: 0, bytes: 0 },
    lifecycle: { messages: 0, bytes: 0 },
  };
  #lastSeq: number;
  #insert: StatementSync;
  #select: StatementSync;
  #countRange: StatementSync;
  #deleteRangeStatement: StatementSync;
  #oldest: StatementSync;
  #superseded: StatementSync;
  #getState: StatementSync;
  #setState: StatementSync;
  #closed = false;
  // Since the open transaction began: entries appended, committed entries deleted, settings
  // written. When the disk fails (full, removed, I/O error), SQLite rolls the transaction back;
  // these rebuild what the outbox had, in memory, so that nothing it holds is lost.
  #txAppends = new Map<number, OutboxEntry>();
  #txDeletes = new Set<number>();
  #txState = new Map<string, string>();
  #fallback: MemoryStore | undefined;
  #failure: StoreError | undefined;

  private constructor(path: string, db: DatabaseSync) {
    this.location = path;
    this.#db = db;
    this.#insert = db.prepare(
      "INSERT INTO outbox (kind, topic, key, retain, payload) VALUES (?, ?, ?, ?, ?)",
    );
    this.#select = db.prepare(
      "SELECT seq, kind, topic, key, retain, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
    );
    this.#countRange = db.prepare(
      "SELECT kind, count(*) AS n, sum(length(payload)) AS bytes FROM outbox WHERE seq BETWEEN ? AND ? GROUP BY kind",
    );
    this.#deleteRangeStatement = db.prepare("DELETE FROM outbox WHERE seq BETWEEN ? AND ?");
    this.#oldest = db.prepare(
      "SELECT seq, kind, topic, key, retain, payload FROM outbox WHERE kind IN (?, ?, ?) ORDER BY seq LIMIT 1",
    );
    this.#superseded = db.prepare(
      `SELECT o.seq, o.kind, o.topic, o.key, o.retain, o.payload FROM outbox o
       WHERE o.kind IN (?, ?, ?) AND o.key IS NOT NULL
         AND EXISTS (SELECT 1 FROM outbox n WHERE n.key = o.key AND n.seq > o.seq)
       ORDER BY o.seq LIMIT 1`,
    );
    this.#getState = db.prepare("SELECT value FROM state WHERE key = ?");
    this.#setState = db.prepare(
      "INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    );
    for (
      const row of db.prepare(
        "SELECT kind, count(*) AS n, sum(length(payload)) AS bytes FROM outbox GROUP BY kind",
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
    const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get() as
      | { seq: number }
      | undefined;
    this.#lastSeq = seq?.seq ?? 0;
  }

  /**
   * Opens (or creates) a store file.
   *
   * @param path The database file; its directory must exist.
   * @param options Durability on power loss.
   * @returns The store.
   * @throws {StoreError} When the file cannot be opened or created, or is not an outbox.
   */
  static open(path: string, options: SqliteStoreOptions = {}): SqliteStore {
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path);
      db.exec("PRAGMA journal_mode = WAL");
      db.exec(`PRAGMA synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
      db.exec("PRAGMA busy_timeout = 2000");
      db.exec(`
        CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS outbox (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          kind INTEGER NOT NULL,
          topic TEXT NOT NULL,
          key TEXT,
          retain INTEGER NOT NULL,
          payload BLOB NOT NULL
        );
        CREATE INDEX IF NOT EXISTS outbox_key ON outbox (key, seq) WHERE key IS NOT NULL;
        CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      `);
      const version = db.prepare("SELECT value FROM meta WHERE name = 'schema'").get() as
        | { value: string }
        | undefined;
      if (!version) {
        db.prepare("INSERT INTO meta (name, value) VALUES ('schema', ?)").run(
          String(SCHEMA_VERSION),
        );
      } else if (version.value !== String(SCHEMA_VERSION)) {
        throw new Error(`schema version ${version.value} is not ${SCHEMA_VERSION}`);
      }
      const check = db.prepare("PRAGMA quick_check").get() as Record<string, string> | undefined;
      const verdict = check ? Object.values(check)[0] : "ok";
      if (verdict !== "ok") throw new Error(`integrity check failed: ${verdict}`);
      return new SqliteStore(path, db);
    } catch (cause) {
      try {
        db?.close();
      } catch {
        // Already unusable.
      }
      throw new StoreError(
        `Cannot open the outbox store ${path}: ${(cause as Error)?.message ?? cause}`,
        { path, cause },
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

  // The disk failed: the rest of the run goes on in memory, with every entry the outbox holds.
  #degrade(cause: unknown, action: string): MemoryStore {
    if (this.#fallback) return this.#fallback;
    try {
      if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
    } catch {
      // SQLite may have rolled back by itself.
    }
    this.#inTransaction = false;
    let committed: OutboxEntry[] = [];
    const state = new Map<string, string>();
    try {
      committed = (this.#select.all(0, Number.MAX_SAFE_INTEGER) as unknown as Row[]).map(toEntry);
      for (
        const row of this.#db.prepare("SELECT key, value FROM state").all() as {
          key: string;
          value: string;
        }[]
      ) state.set(row.key, row.value);
    } catch {
      // Not even readable: what this run appended is all there is.
    }
    const entries = new Map<number, OutboxEntry>();
    for (const entry of committed) {
      if (!this.#txDeletes.has(entry.seq)) entries.set(entry.seq, entry);
    }
    for (const [seq, entry] of this.#txAppends) entries.set(seq, entry);
    for (const [key, value] of this.#txState) state.set(key, value);
    this.#fallback = memoryStoreOf(
      [...entries.values()].sort((a, b) => a.seq - b.seq),
      this.#lastSeq,
      state,
    );
    this.#txAppends.clear();
    this.#txDeletes.clear();
    this.#txState.clear();
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

  #begin(): void {
    if (this.#closed) {
      throw new StoreError(`The outbox store ${this.location} is closed`, { path: this.location });
    }
    if (this.#inTransaction) return;
    this.#db.exec("BEGIN IMMEDIATE");
    this.#inTransaction = true;
  }

  /** Adds a message. */
  append(message: OutboxMessage): number {
    if (this.#fallback) return this.#fallback.append(message);
    let seq: number;
    try {
      this.#begin();
      const result = this.#insert.run(
        KINDS.indexOf(message.kind),
        message.topic,
        message.key ?? null,
        message.retain ? 1 : 0,
        message.payload,
      );
      seq = Number(result.lastInsertRowid);
    } catch (cause) {
      if (this.#closed) throw cause;
      return this.#degrade(cause, "append to").append(message);
    }
    // Kept as it is (the contract allows it): no copy on the hot path, dropped at the commit.
    (message as OutboxEntry).seq = seq;
    this.#txAppends.set(seq, message as OutboxEntry);
    this.#lastSeq = seq;
    const usage = this.#usage[classOf(message.kind)];
    usage.messages++;
    usage.bytes += message.payload.length;
    return seq;
  }

  /** The highest sequence number given out. */
  lastSeq(): number {
    if (this.#fallback) return this.#fallback.lastSeq();
    return this.#lastSeq;
  }

  /** Reads messages after a sequence number. */
  read(afterSeq: number, limit: number): OutboxEntry[] {
    if (this.#fallback) return this.#fallback.read(afterSeq, limit);
    return (this.#select.all(afterSeq, limit) as unknown as Row[]).map(toEntry);
  }

  /** Deletes messages; consecutive sequence numbers go in one range (a batch is one or two). */
  delete(seqs: readonly number[]): void {
    if (this.#fallback) return this.#fallback.delete(seqs);
    if (seqs.length === 0) return;
    try {
      this.#deleteSorted(seqs);
    } catch (cause) {
      if (this.#closed) throw cause;
      this.#degrade(cause, "delete from").delete(seqs);
    }
  }

  #deleteSorted(seqs: readonly number[]): void {
    this.#begin();
    for (const seq of seqs) if (!this.#txAppends.delete(seq)) this.#txDeletes.add(seq);
    const sorted = seqs.length > 1 ? [...seqs].sort((a, b) => a - b) : seqs;
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
  }

  /** Removes one message of a class to make room. */
  evict(cls: OutboxClass, latestPerKey: boolean): OutboxEntry | undefined {
    if (this.#fallback) return this.#fallback.evict(cls, latestPerKey);
    try {
      return this.#evict(cls, latestPerKey);
    } catch (cause) {
      if (this.#closed) throw cause;
      return this.#degrade(cause, "evict from").evict(cls, latestPerKey);
    }
  }

  #evict(cls: OutboxClass, latestPerKey: boolean): OutboxEntry | undefined {
    const kinds = CLASS_KINDS[cls];
    let row = latestPerKey ? this.#superseded.get(...kinds) as Row | undefined : undefined;
    row ??= this.#oldest.get(...kinds) as Row | undefined;
    if (!row) return undefined;
    this.#deleteSorted([row.seq]);
    return toEntry(row);
  }

  /** Tells how much a class holds. */
  usage(cls: OutboxClass): OutboxUsage {
    if (this.#fallback) return this.#fallback.usage(cls);
    return { ...this.#usage[cls] };
  }

  /** Reads a setting. */
  getState(key: string): string | undefined {
    if (this.#fallback) return this.#fallback.getState(key);
    return (this.#getState.get(key) as { value: string } | undefined)?.value;
  }

  /** Writes a setting. */
  setState(key: string, value: string): void {
    if (this.#fallback) return this.#fallback.setState(key, value);
    try {
      this.#begin();
      this.#setState.run(key, value);
      this.#txState.set(key, value);
    } catch (cause) {
      if (this.#closed) throw cause;
      this.#degrade(cause, "write to").setState(key, value);
    }
  }

  /**
   * Commits the open transaction. Once the disk has failed, every call rejects: nothing can be
   * made durable any more (the outbox then keeps working in memory).
   */
  commit(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (!this.#inTransaction) return Promise.resolve();
    try {
      this.#db.exec("COMMIT");
      this.#inTransaction = false;
      this.#txAppends.clear();
      this.#txDeletes.clear();
      this.#txState.clear();
      return Promise.resolve();
    } catch (cause) {
      if (this.#closed) return Promise.reject(cause);
      this.#degrade(cause, "commit");
      return Promise.reject(this.#failure);
    }
  }

  /** Commits and closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      if (!this.#fallback) await this.commit();
    } finally {
      this.#closed = true;
      this.#db.close();
    }
  }
}

function toEntry(row: Row): OutboxEntry {
  const entry: OutboxEntry = {
    seq: row.seq,
    kind: KINDS[row.kind] ?? "update",
    topic: row.topic,
    payload: row.payload instanceof Uint8Array ? row.payload : new Uint8Array(row.payload),
    retain: row.retain === 1,
  };
  if (row.key !== null) entry.key = row.key;
  return entry;
}
