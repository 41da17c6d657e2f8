/**
 * Drives a SqliteStore the way the outbox does (append, commit every `EVERY` (50), delete what was
 * "acknowledged", a last commit) while the process may write only a little (`ulimit -f` in the
 * parent), and prints one JSON line with what it saw: for the "store fails mid-run" tests. With
 * `EVERY` above `N`, only the store's own commits (a transaction grown too large) write.
 *
 *     sh -c 'trap "" XFSZ; ulimit -f 64; exec deno run -A tests/_disk_full_child.ts FILE N [EVERY]'
 *
 * @module
 */

import { SqliteStore } from "../lib/adapters/sqlite_store.ts";

const [path, count, every] = [
  Deno.args[0],
  Number(Deno.args[1] ?? 2000),
  Number(Deno.args[2] ?? 50),
];
const store = SqliteStore.open(path);
const commitErrors: string[] = [];
const appendErrors: string[] = [];
const expected: number[] = [];
let acked = 0;
for (let i = 1; i <= count; i++) {
  try {
    const seq = store.append({
      kind: "update",
      topic: `@update/u/n/o/a${i % 3}`,
      payload: new Uint8Array(200).fill(i & 0xff),
      retain: true,
      key: `n/o/a${i % 3}`,
    });
    expected.push(seq);
  } catch (error) {
    appendErrors.push(String((error as Error).message));
  }
  if (i % every === 0) {
    // The broker acknowledged the oldest 10: they leave the store.
    const done = expected.splice(0, 10);
    acked += done.length;
    store.delete(done);
    try {
      await store.commit();
    } catch (error) {
      commitErrors.push(`${(error as Error).name}: ${(error as Error).message}`);
    }
  }
}
try {
  await store.commit();
} catch (error) {
  commitErrors.push(`${(error as Error).name}: ${(error as Error).message}`);
}
const read = store.read(0, 1_000_000).map((e) => e.seq);
console.log(JSON.stringify({
  commitErrors,
  appendErrors,
  expected,
  read,
  usage: store.usage("updates"),
  durable: store.durable,
  acked,
}));
await store.close().catch(() => {});
