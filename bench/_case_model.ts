/**
 * Case 4, the model: fresh processes (`_model.ts`) encode the `@online` of a large model, CBOR
 * or JSON first (cold), then both warm, next to `cborg` and `JSON.stringify`.
 *
 * @module
 */

import { spawnDeno } from "../tests/_process.ts";
import { log, script } from "./_common.ts";
import { config } from "./_config.ts";
import { fmtMs } from "./_format.ts";
import { median } from "./_stats.ts";

interface ModelProcess {
  attributes: number;
  buildMs: number;
  first: "JSON" | "CBOR";
  coldMs: number;
  medians: Record<string, number>;
  bytes: Record<string, number>;
}

async function modelProcess(first: "JSON" | "CBOR"): Promise<ModelProcess> {
  const child = spawnDeno([
    "run",
    "-A",
    script("_model.ts"),
    "--attributes",
    String(config.modelAttributes),
    "--first",
    first,
  ]);
  try {
    const line = await child.waitForLine(/^MODEL /, 120_000);
    return JSON.parse(line.slice("MODEL ".length)) as ModelProcess;
  } finally {
    await child[Symbol.asyncDispose]();
  }
}

/** Fresh processes, alternately encoding CBOR and JSON first (cold); medians across them. */
export async function modelCase() {
  const processes: ModelProcess[] = [];
  for (let i = 0; i < 2 * config.modelProcesses; i++) {
    processes.push(await modelProcess(i % 2 === 0 ? "CBOR" : "JSON"));
  }
  const cold = (format: "JSON" | "CBOR") =>
    median(processes.filter((p) => p.first === format).map((p) => p.coldMs));
  const result = {
    attributes: processes[0].attributes,
    processes: processes.length,
    buildMs: median(processes.map((p) => p.buildMs)),
    cold: { CBOR: cold("CBOR"), JSON: cold("JSON") },
    medians: Object.fromEntries(
      Object.keys(processes[0].medians).map((name) => [
        name,
        median(processes.map((p) => p.medians[name])),
      ]),
    ),
    bytes: processes[0].bytes,
    coldSamples: processes.map(({ first, coldMs }) => ({ first, coldMs })),
  };
  log(
    `model: @online CBOR ${fmtMs(result.cold.CBOR)} first, ${
      fmtMs(result.medians["online CBOR"])
    } warm; JSON ${fmtMs(result.cold.JSON)} first, ${fmtMs(result.medians["online JSON"])} warm`,
  );
  return result;
}
