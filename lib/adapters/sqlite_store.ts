/**
 * The durable outbox store for Deno, on `node:sqlite`: a table of an SQLite file
 * (`sqlite_file.ts`), either a file of its own or one shared by the endpoints of a gateway.
 * Appends and deletes go into the file's open write transaction that `commit()` ends, so many
 * values share one commit (group commit) and durability does not cost a disk write per value.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import { StoreError } from "../errors.ts";
import { SqliteFile, type SqliteFileOptions } from "./sqlite_file.ts";
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
const CLASS_KINDS: Record<OutboxClass, [number, number, number]> = {
  updates: [0, 1, 2],
  logs: [3, 4, 4],
  lifecycle: [5, 6, 6],
};

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
  #insert: StatementSync;
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
  // Since the open transaction began: entries appended, committed entries deleted, settings
  // written. When the disk fails (full, removed, I/O error), SQLite rolls the transaction back;
  // these rebuild what the outbox had, in memory, so that nothing it holds is lost.
  #txAppends = new Map<number, OutboxEntry>();
  #txDeletes = new Set<number>();
  #txState = new Map<string, string>();
  #fallback: MemoryStore | undefined;
  #failure: StoreError | undefined;
  #listener = {
    committed: () => {
      this.#txAppends.clear();
      this.#txDeletes.clear();
      this.#txState.clear();
    },
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
    const table = name === undefined ? "outbox" : `outbox/${name}`;
    this.#stateKey = name === undefined ? (key) => key : (key) => `${name}:${key}`;
    db.exec(`
      CREATE TABLE IF NOT EXISTS "${table}" (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        kind INTEGER NOT NULL,
        topic TEXT NOT NULL,
        key TEXT,
        retain INTEGER NOT NULL,
        payload BLOB NOT NULL
      );
      CREATE INDEX IF NOT EXISTS "${table}/key" ON "${table}" (key, seq) WHERE key IS NOT NULL;
    `);
    const t = `"${table}"`;
    this.#insert = db.prepare(
      `INSERT INTO ${t} (kind, topic, key, retain, payload) VALUES (?, ?, ?, ?, ?)`,
    );
    this.#select = db.prepare(
      `SELECT seq, kind, topic, key, retain, payload FROM ${t} WHERE seq > ? ORDER BY seq LIMIT ?`,
    );
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
    this.#lastSeq = seq?.seq ?? 0;
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
      committed = (this.#select.all(0, Number.MAX_SAFE_INTEGER) as unknown as Row[]).map(toEntry);
      const prefix = this.#stateKey("");
      for (const row of this.#allState.all() as { key: string; value: string }[]) {
        if (row.key.startsWith(prefix)) state.set(row.key.slice(prefix.length), row.value);
      }
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
    this.#file.begin();
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
      return this.#fail(cause, "append to").append(message);
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
      this.#fail(cause, "delete from").delete(seqs);
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
      return this.#fail(cause, "evict from").evict(cls, latestPerKey);
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
      return this.#file.commit() ? Promise.resolve() : Promise.reject(this.#failure);
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
