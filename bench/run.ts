/**
 * `deno task bench` (`deno run -A bench/run.ts`): the endpoint measured side by side with its
 * baselines, in one run, against a mosquitto it starts itself (plain TCP on loopback).
 *
 * Every figure is divided by a baseline measured in the same run: raw MQTT.js publishing the
 * same bytes the same way, a raw MQTT.js echo, `JSON.stringify`/`cborg`, a process that only
 * connects MQTT.js. Throughput runs alternate their order round by round and take medians,
 * round trips alternate in blocks, start-ups alternate. See `bench/README.md` for each case.
 *
 * Prints one table (Markdown), the CPU profile's hotspots and the goals, and writes
 * `bench/results.json` and `bench/results.svg`.
 *
 *     deno run -A bench/run.ts [--quick] [--updates N] [--rounds R] [--offline N]
 *       [--round-trips N] [--startups N] [--gateway 1,10,100,1000|none] [--no-profile]
 *       [--profiles DIR] [--out DIR]
 *
 * `--quick` uses smaller sizes (about a minute) and writes its results to a temporary directory
 * unless `--out` says where; `--profiles DIR` keeps the `.cpuprofile` files (open them in Chrome
 * DevTools or speedscope).
 *
 * This file runs the cases in order and reports; the parts sit beside it: `_config.ts` (flags
 * and sizes), `_common.ts` (log, clock, child processes), `_machine.ts`, one `_case_*.ts` per
 * case (each spawning its child script), `_rows.ts` (the table's rows), `_format.ts` (figures,
 * the Markdown table, hotspots) and `_chart.ts` (the SVG).
 *
 * @module
 */

import { startMosquitto } from "../tests/_broker.ts";
import { gatewayCase } from "./_case_gateway.ts";
import { modelCase } from "./_case_model.ts";
import { offlineCase, SMALL_HEAP } from "./_case_offline.ts";
import { roundTripCase } from "./_case_round_trip.ts";
import { startupCase } from "./_case_startup.ts";
import { throughputCase } from "./_case_throughput.ts";
import { renderChart } from "./_chart.ts";
import { HERE, log, startClock, started } from "./_common.ts";
import { config, flags, quick } from "./_config.ts";
import { fmtRatio, hotspotText, markdownTable } from "./_format.ts";
import { machine } from "./_machine.ts";
import { gatewayGrowth, tableRows, throughputPairs } from "./_rows.ts";

startClock();
const info = machine();
log(
  `cloud.iO endpoint benchmark (${config.mode}): ${info.cpu}, ${info.cores} cores, Deno ${info.deno}, mosquitto ${info.mosquitto}, load ${info.loadAverageAtStart}`,
);
await using broker = await startMosquitto();
log(`mosquitto on ${broker.tcpUrl} (endpoints, client-id ACL) and ${broker.cloudUrl} (cloud)`);

const throughput = await throughputCase(broker.tcpUrl, broker.cloudUrl);
const roundTrips = await roundTripCase(broker.tcpUrl, broker.cloudUrl).catch((error) => {
  log(`round trips FAILED: ${error.message}`);
  return undefined;
});
const startup = await startupCase(broker.tcpUrl, broker.cloudUrl).catch((error) => {
  log(`start-up FAILED: ${error.message}`);
  return undefined;
});
const model = await modelCase().catch((error) => {
  log(`model FAILED: ${error.message}`);
  return undefined;
});
const offlineSmall = await offlineCase(SMALL_HEAP).catch((error) => {
  log(`offline (bounded heap) FAILED: ${error.message}`);
  return undefined;
});
const offline = await offlineCase().catch((error) => {
  log(`offline FAILED: ${error.message}`);
  return undefined;
});

const gateway = config.gatewayCounts.length === 0
  ? undefined
  : await gatewayCase().catch((error) => {
    log(`gateway FAILED: ${error.message}`);
    return undefined;
  });

const pairs = throughputPairs(throughput);
const rows = tableRows(
  { throughput, roundTrips, startup, model, offlineSmall, offline, gateway },
  pairs,
);

const durationS = (performance.now() - started) / 1000;
const date = new Date().toISOString();
const subtitle = `${
  date.slice(0, 16).replace("T", " ")
} UTC · ${info.cpu}, ${info.cores} cores · Deno ${info.deno} · mosquitto ${info.mosquitto} · ${config.mode} run, ${
  durationS.toFixed(0)
} s · load ${info.loadAverageAtStart}`;

console.log(`\n${markdownTable(rows)}\n`);
console.log(
  [
    `Throughput: ${config.attributes} Number attributes, QoS 1, retained, window ${config.window}, ${config.format};`,
    `  figures are medians of the rounds; ratio = median of the per-round ratios (spread: lowest–highest).`,
    `Round trips: sequential, interleaved in blocks of ${
      config.roundTrips / 4
    }, after ${config.warmup} warm-up each.`,
    `Model: toModel() + encodeEndpoint(); "first" = the first @online of a fresh process (cold code).`,
    `RSS: the kernel's high-water mark (VmHWM); MB = 10^6 bytes (gateway: RSS after the idle window).`,
    ...(gateway ? ["", gatewayGrowth(gateway)] : []),
    "",
  ].join("\n"),
);
if (config.profile) {
  console.log(`Hotspots (deno run --cpu-prof, publisher process, between START and ACKED):\n`);
  console.log(hotspotText("endpoint, memory outbox", throughput.profiles.memory, 12));
  console.log();
  console.log(hotspotText("endpoint, durable outbox", throughput.profiles.file, 12));
  console.log();
  console.log(hotspotText("raw MQTT.js (for comparison)", throughput.profiles.raw, 6));
  console.log();
}
const goals = rows.filter((r) => r.goal);
console.log("Goals:");
for (const r of goals) {
  console.log(
    `  ${r.holds ? "✓" : "✗"} ${r.section.split(/[:,]/)[0]}, ${r.label}: ${r.value} (${
      fmtRatio(r.ratio)
    } ${r.baseline}), goal ${r.goal}`,
  );
}

const results = {
  date,
  durationS,
  machine: {
    ...info,
    loadAverageAtEnd: Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" "),
  },
  config,
  // Every row as drawn, so that the chart can be drawn again from this file.
  rows,
  pairedRatios: {
    rate: { memory: pairs.memory.ratios, file: pairs.file.ratios },
    cpu: { memory: pairs.cpuMemory.ratios, file: pairs.cpuFile.ratios },
  },
  throughput: throughput.runs.map(({ profile: _, ...run }) => run),
  roundTrips,
  offline,
  model,
  startup,
  gateway,
  profiles: throughput.profiles,
};
// A quick run must not overwrite the full run's results (the README shows them).
const outDir = flags.out ??
  (quick
    ? await Deno.makeTempDir({ prefix: "cloudio-bench-quick-" })
    : new URL(".", HERE).pathname);
await Deno.mkdir(outDir, { recursive: true });
const jsonPath = `${outDir.replace(/\/$/, "")}/results.json`;
const svgPath = `${outDir.replace(/\/$/, "")}/results.svg`;
await Deno.writeTextFile(jsonPath, JSON.stringify(results, null, 2) + "\n");
await Deno.writeTextFile(
  svgPath,
  renderChart(rows, { title: "cloudio-endpoint vs its baselines, same run", subtitle }),
);
// In the repository's own style, so that `deno fmt --check` stays clean after a run.
await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", jsonPath, svgPath] }).output()
  .catch(() => {});
log(`wrote ${jsonPath} and ${svgPath}; finished in ${durationS.toFixed(0)} s`);
