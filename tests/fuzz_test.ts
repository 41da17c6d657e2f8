import assert from "node:assert/strict";
import { runFuzz } from "./_fuzz.ts";

Deno.test("fuzzed @set, @exec and @logsLevel messages are refused with typed errors and change nothing", async () => {
  const result = await runFuzz(3_000);
  console.log(
    `  ${result.cases} cases (seed ${result.seed}): ${result.refused} refused, ${result.applied} applied, ` +
      `${result.probes} current @sets applied after them, ` +
      `${result.published} answers server-valid, slowest ${result.slowestMs} ms`,
  );
  assert.ok(result.refused > result.cases / 4, "most cases are refused");
  assert.ok(result.applied > 0, "some valid @sets went through");
  assert.equal(
    result.probes,
    result.cases * 5,
    "every writable attribute was probed after each case",
  );
});
