/**
 * `deno task fuzz`: 100,000 fuzz cases through the endpoint's receive path (see tests/_fuzz.ts).
 * Options: `--runs N`, `--seed S` (to replay a failure).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { runFuzz } from "../tests/_fuzz.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "100000" }, seed: { type: "string" } },
});
const started = performance.now();
const result = await runFuzz(
  Number(values.runs),
  values.seed === undefined ? undefined : Number(values.seed),
);
const mib = (n: number) => (n / 2 ** 20).toFixed(1);
console.log(
  `${result.cases} cases (seed ${result.seed}) in ${
    ((performance.now() - started) / 1000).toFixed(1)
  } s: ` +
    `${result.refused} refused with typed errors, ${result.applied} applied, ` +
    `${result.probes} current @sets applied after them, ${result.published} answers server-valid, ` +
    `slowest case ${result.slowestMs} ms, heap ${mib(result.heapBefore)} → ${
      mib(result.heapAfter)
    } MiB`,
);
