/**
 * One SQLite file that holds outboxes: the database (WAL mode), and the one write transaction its
 * stores share, so that a commit makes every store's appends and deletes durable at once (group
 * commit across the endpoints of a gateway). Each outbox lives in a table of its own
 * (`SqliteStore`); settings are shared in one table, keyed by store.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { StoreError } from "../errors.ts";

/** Options of {@linkcode SqliteFile.open}. */
export interface SqliteFileOptions {
  /**
   * `full` makes every commit survive power loss (an fsync per commit); `normal` survives a crash
   * of the process but may lose the last commits on power loss.
   *
   * @default {"full"}
   */
  synchronous?: "full" | "normal";
}

/** What a store in the file is told about the shared transaction. */
export interface TransactionListener {
  /**
   * The transaction is about to be committed: write what is held back. A store that fails calls
   * {@linkcode SqliteFile.prototype.fail}.
   */
  beforeCommit?(): void;
  /** The transaction was committed: everything in it is durable. */
  committed(): void;
  /**
   * The transaction failed and was rolled back (a full disk, an I/O error).
   *
   * @param cause The failure.
   * @param action What failed: `commit`, `append to`, …
   */
  failed(cause: unknown, action: string): void;
}

const SCHEMA_VERSION = 1;

/**
 * Runs `work` in a transaction of its own, committed at its end and rolled back if it throws.
 *
 * @param db The database, with no transaction open.
 * @param work What to do in it, given the database.
 */
export function inTransaction(db: DatabaseSync, work: (db: DatabaseSync) => void): void {
  db.exec("BEGIN");
  try {
    work(db);
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
  db.exec("COMMIT");
}

// The tables every outbox file has, and its schema version (checked when it exists).
function createSchema(db: DatabaseSync): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `);
  const version = db.prepare("SELECT value FROM meta WHERE name = 'schema'").get() as
    | { value: string }
    | undefined;
  if (!version) {
    db.prepare("INSERT INTO meta (name, value) VALUES ('schema', ?)").run(String(SCHEMA_VERSION));
  } else if (version.value !== String(SCHEMA_VERSION)) {
    throw new Error(`schema version ${version.value} is not ${SCHEMA_VERSION}`);
  }
}

/** An SQLite file of outboxes. */
export class SqliteFile {
  /** The database file. */
  readonly path: string;
  /** The database. */
  readonly db: DatabaseSync;
  #inTransaction = false;
  #closed = false;
  #listeners = new Set<TransactionListener>();
  #failures = 0;
  #soon: Promise<boolean> | undefined;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.db = db;
  }

  /**
   * Opens (or creates) a file.
   *
   * @param path The database file; its directory must exist.
   * @param options Durability on power loss.
   * @returns The file.
   * @throws {StoreError} When the file cannot be opened or created, or is not an outbox file.
   *
   * @example
   * ```ts
   * import { SqliteFile } from "./sqlite_file.ts";
   * import assert from "node:assert/strict";
   *
   * const dir = await Deno.makeTempDir();
   * const file = SqliteFile.open(`${dir}/gateway.sqlite`);
   * assert.equal(file.path, `${dir}/gateway.sqlite`);
   * await file.close();
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  static open(path: string, options: SqliteFileOptions = {}): SqliteFile {
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(path);
      db.exec("PRAGMA journal_mode = WAL");
      db.exec(`PRAGMA synchronous = ${options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
      db.exec("PRAGMA busy_timeout = 2000");
      // One transaction, one disk sync: a new file's schema cost three (2.5 ms of a start-up).
      inTransaction(db, createSchema);
      const check = db.prepare("PRAGMA quick_check").get() as Record<string, string> | undefined;
      const verdict = check ? Object.values(check)[0] : "ok";
      if (verdict !== "ok") throw new Error(`integrity check failed: ${verdict}`);
      return new SqliteFile(path, db);
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

  /** Whether a write transaction is open. */
  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  /** Whether the file is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Starts being told about the shared transaction.
   *
   * @param listener A store in the file.
   */
  listen(listener: TransactionListener): void {
    this.#listeners.add(listener);
  }

  /**
   * Stops being told about the shared transaction.
   *
   * @param listener A store in the file.
   */
  unlisten(listener: TransactionListener): void {
    this.#listeners.delete(listener);
  }

  /**
   * Opens the shared write transaction, unless it is open.
   *
   * @throws {StoreError} When the file is closed.
   */
  begin(): void {
    if (this.#closed) {
      throw new StoreError(`The outbox store ${this.path} is closed`, { path: this.path });
    }
    if (this.#inTransaction) return;
    this.db.exec("BEGIN IMMEDIATE");
    this.#inTransaction = true;
  }

  /**
   * Commits the shared transaction, telling every store; when the commit fails, the transaction
   * is rolled back and every store is told.
   *
   * @returns Whether it committed (or there was nothing to commit).
   */
  commit(): boolean {
    const failures = this.#failures;
    for (const listener of [...this.#listeners]) listener.beforeCommit?.();
    if (this.#failures !== failures) return false;
    if (!this.#inTransaction) return true;
    try {
      this.db.exec("COMMIT");
      this.#inTransaction = false;
      for (const listener of this.#listeners) listener.committed();
      return true;
    } catch (cause) {
      this.fail(cause, "commit");
      return false;
    }
  }

  /**
   * Commits the shared transaction once for every store that asks before the event loop's next
   * turn: a gateway's outboxes each ask on their own timer, and one commit (one fsync) then
   * serves them all instead of one each.
   *
   * @returns Whether it committed (or there was nothing to commit).
   */
  commitSoon(): Promise<boolean> {
    return this.#soon ??= new Promise((resolve) =>
      setTimeout(() => {
        this.#soon = undefined;
        resolve(this.commit());
      }, 0)
    );
  }

  /**
   * A write failed (a full disk, an I/O error): rolls the shared transaction back and tells every
   * store, since each lost what it had written since the last commit.
   *
   * @param cause The failure.
   * @param action What failed, for the messages: `commit`, `append to`, …
   */
  fail(cause: unknown, action: string): void {
    this.#failures++;
    this.#rollback();
    for (const listener of [...this.#listeners]) listener.failed(cause, action);
  }

  // SQLite may have rolled back by itself.
  #rollback(): void {
    try {
      if (this.db.isTransaction) this.db.exec("ROLLBACK");
    } catch {
      // Already rolled back.
    }
    this.#inTransaction = false;
  }

  /** Commits what is pending and closes the database. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    try {
      this.commit();
    } finally {
      this.#closed = true;
      this.#listeners.clear();
      this.db.close();
    }
    return Promise.resolve();
  }
}
