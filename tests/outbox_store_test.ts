import assert from "node:assert/strict";
import { SqliteStore } from "../lib/adapters/sqlite_store.ts";
import { StoreError } from "../lib/errors.ts";
import { MemoryStore } from "../lib/outbox/memory_store.ts";
import { storeContract } from "./outbox_store_contract.ts";

storeContract({
  name: "MemoryStore",
  open: () => Promise.resolve({ store: new MemoryStore(), cleanup: () => Promise.resolve() }),
});

storeContract({
  name: "SqliteStore",
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
