/**
 * `@delayed` batches put together by SQLite: one statement reads a run of stored messages and
 * returns the items of the batch's `messages` array, each `{"topic": …, "data": …}` with the
 * stored payload spliced in, concatenated in one BLOB. The bytes are those `encodeDelayed()`
 * (`codec/encode.ts`) writes for the same messages; `sqlite_runs_test.ts` holds the two against
 * each other.
 *
 * Reading the messages into JavaScript instead cost, per replayed message, a row array, a topic
 * string, a payload buffer and an entry object: 960 bytes of garbage (V8's sampling heap profiler
 * on `bench/_offline.ts`). What survived of it while a batch was being read made V8 grow its young
 * generation to the largest size, and the payload buffers waited for the collector outside the
 * heap: the replay of 1,000,000 values peaked at 130–140 MB. A run costs one row and one buffer
 * per batch of up to 1,000 messages.
 *
 * @module
 */

import type { StatementSync } from "node:sqlite";
import type { MessageFormat } from "../model/types.ts";
import type { EncodedRun, RunLimits } from "../outbox/store.ts";
import type { SqliteFile } from "./sqlite_file.ts";

// The bytes 0x00 to 0xFF, to take a CBOR length byte from with substr(): cheaper per row than
// printf() and unhex().
const BYTES = `x'${
  Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0")).join("")
}'`;

/** The CBOR head of a text string of `n` bytes (an MQTT topic has fewer than 65,536). */
function cborTextHead(n: string): string {
  return `CASE WHEN ${n} < 24 THEN substr(${BYTES}, 97 + ${n}, 1)
    WHEN ${n} < 256 THEN x'78' || substr(${BYTES}, 1 + ${n}, 1)
    ELSE x'79' || substr(${BYTES}, 1 + ${n} / 256, 1) || substr(${BYTES}, 1 + ${n} % 256, 1) END`;
}

// One message of the batch. SQLite's || and group_concat() copy BLOB bytes as they are, so the
// payload goes in untouched; the CAST at the end makes the text a BLOB again, byte for byte.
const ITEM: Record<MessageFormat, { item: string; separator: string; first: string }> = {
  // map(2), text "topic", the topic, text "data", the payload.
  CBOR: {
    item: `x'A265746F706963' || ${
      cborTextHead("octet_length(topic)")
    } || topic || x'6464617461' || payload`,
    separator: "''",
    first: "substr(payload, 1, 1) BETWEEN x'A0' AND x'BF'",
  },
  // A topic holds no character JSON escapes (names exclude them: model/names.ts), and
  // json_quote() escapes what JSON must.
  JSON: {
    item: `'{"topic":' || json_quote(topic) || ',"data":' || payload || '}'`,
    separator: "','",
    first: "substr(payload, 1, 1) = x'7B'",
  },
};

interface RunRow {
  n: number;
  first: number | null;
  last: number | null;
  bytes: number | null;
  stop: number | null;
  items: Uint8Array | null;
}

/** Encodes runs of one outbox table (see {@linkcode RunEncoder.encode}). */
export class RunEncoder {
  #file: SqliteFile;
  #table: string;
  #kinds: string;
  #statements: Partial<Record<MessageFormat, StatementSync>> = {};

  /**
   * Creates the encoder of a table.
   *
   * @param file The file.
   * @param table The outbox table's name.
   * @param kinds The numbers of the kinds that travel in `@delayed` batches.
   */
  constructor(file: SqliteFile, table: string, kinds: readonly number[]) {
    this.#file = file;
    this.#table = table;
    this.#kinds = kinds.join(", ");
  }

  // Prepared with the first run of a format: a start-up never replays.
  #statement(format: MessageFormat): StatementSync {
    const { item, separator, first } = ITEM[format];
    return this.#statements[format] ??= this.#file.db.prepare(`
      SELECT count(*) AS n, min(seq) AS first, max(seq) AS last, sum(length(payload)) AS bytes,
        min(CASE WHEN kind NOT IN (${this.#kinds}) OR NOT (${first}) THEN seq END) AS stop,
        CAST(group_concat(${item}, ${separator} ORDER BY seq) AS BLOB) AS items
      FROM (
        SELECT seq, kind, topic, payload FROM "${this.#table}"
        WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3
      )`);
  }

  /**
   * Encodes the run after a sequence number: the messages in order, up to the first that cannot
   * travel in the batch, within the limits.
   *
   * @param afterSeq Only messages with a greater sequence number.
   * @param limits The batch's format and size.
   * @returns The run, or `undefined` when the first message cannot start one (or there is none).
   * @throws What SQLite throws.
   */
  encode(afterSeq: number, limits: RunLimits): EncodedRun | undefined {
    const statement = this.#statement(limits.format);
    let lastSeq = limits.lastSeq;
    let max = limits.maxMessages;
    for (;;) {
      const row = statement.get(afterSeq, lastSeq, max) as unknown as RunRow;
      if (row.n === 0 || row.first === null || row.last === null || row.items === null) {
        return undefined;
      }
      if (row.stop !== null) {
        // A message that cannot go in the batch: the run ends before it (the next encode sees
        // it first, and the outbox sends it by itself).
        if (row.stop === row.first) return undefined;
        lastSeq = row.stop - 1;
        continue;
      }
      if (row.n > 1 && (row.bytes ?? 0) > limits.maxBytes) {
        // Too large (payloads of kilobytes): fewer messages, in proportion. Strictly fewer each
        // time, down to one, which goes whatever its size.
        max = Math.max(1, Math.floor(row.n * limits.maxBytes / row.bytes!));
        continue;
      }
      return { count: row.n, firstSeq: row.first, lastSeq: row.last, items: row.items };
    }
  }
}
