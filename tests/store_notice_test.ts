/**
 * Where values wait while offline is said, so that an experiment does not leave an SQLite file
 * in the user's state directory without knowing it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Endpoint, type EndpointStatus } from "../mod.ts";
import { memoryTransport } from "./_memory_transport.ts";
import { UUID } from "./_endpoint.ts";

async function run(dir: string, onError?: () => void) {
  const endpoint = new Endpoint(UUID, {
    config: { hostUri: "mqtt://127.0.0.1", persistenceLocation: dir },
    transport: memoryTransport(),
    onError,
  });
  const events: EndpointStatus[] = [];
  const watching = (async () => {
    for await (const event of endpoint.status()) events.push(event);
  })();
  endpoint.addNode("N").addObject("O").addAttribute("a", { type: "Number", constraint: "Measure" });
  await endpoint.connect();
  await endpoint.close();
  await watching;
  return events.filter((e) => e.type === "store");
}

Deno.test("a new file outbox is announced with its path, on the console and in status()", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cloudio-notice-" });
  const printed: string[] = [];
  const info = console.info;
  console.info = (...args: unknown[]) => printed.push(args.join(" "));
  try {
    const first = await run(dir);
    const path = `${dir}/${UUID}.outbox.sqlite`;
    assert.deepEqual(first, [{ type: "store", location: path, durable: true, created: true }]);
    assert.deepEqual(printed, [
      `cloudio: values wait in ${path} while offline (persistence=file; persistence: "memory" ` +
      `keeps nothing on disk)`,
    ]);
    // The file has been used: the next run opens it quietly.
    const again = await run(dir);
    assert.deepEqual(again, [{ type: "store", location: path, durable: true, created: false }]);
    assert.equal(printed.length, 1);
    // With onError, the program has taken over the reports: status() only.
    const other = await Deno.makeTempDir({ prefix: "cloudio-notice-" });
    assert.equal((await run(other, () => {}))[0].type, "store");
    assert.equal(printed.length, 1);
    await Deno.remove(other, { recursive: true });
  } finally {
    console.info = info;
    await Deno.remove(dir, { recursive: true });
  }
});
