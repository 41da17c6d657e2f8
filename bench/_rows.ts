/**
 * The table of a run: each case's figures as rows, the endpoint next to its baseline, with the
 * goals. Throughput figures are medians of each variant's runs, and their ratio is the median
 * of the ratios within each round (the runs of a round are minutes apart at most, so the
 * machine's load cancels out).
 *
 * @module
 */

import type { modelCase } from "./_case_model.ts";
import { type offlineCase, SMALL_HEAP } from "./_case_offline.ts";
import type { roundTripCase } from "./_case_round_trip.ts";
import type { GatewayRun } from "./_case_gateway.ts";
import type { startupCase } from "./_case_startup.ts";
import type { PublisherRun, throughputCase, Variant } from "./_case_throughput.ts";
import { config } from "./_config.ts";
import { fmtInt, fmtMB, fmtMs, fmtShare, MB, type Row, row, type RowOptions } from "./_format.ts";
import { median } from "./_stats.ts";

type Throughput = Awaited<ReturnType<typeof throughputCase>>;
type Offline = Awaited<ReturnType<typeof offlineCase>>;

/** What the cases measured; a case that failed is absent. */
export interface Measured {
  throughput: Throughput;
  roundTrips?: Awaited<ReturnType<typeof roundTripCase>>;
  startup?: Awaited<ReturnType<typeof startupCase>>;
  model?: Awaited<ReturnType<typeof modelCase>>;
  offlineSmall?: Offline;
  offline?: Offline;
  gateway?: GatewayRun[];
}

const perSecond = (n: number) => `${fmtInt(n)}/s`;
const kB = (n: number) => `${fmtInt(n / 1000)} kB`;

/** The throughput figures of the endpoint's variants paired with raw MQTT.js round by round. */
export function throughputPairs(throughput: Throughput) {
  const runsOf = (variant: Variant) => throughput.runs.filter((r) => r.variant === variant);
  const cpuPer100k = (r: PublisherRun) => r.cpuUs / 1000 / config.updates * 100_000;
  function paired(variant: Variant, pick: (r: PublisherRun) => number) {
    const ratios: number[] = [];
    for (let round = 0; round < config.rounds; round++) {
      const raw = throughput.runs.find((r) => r.round === round && r.variant === "raw");
      const run = throughput.runs.find((r) => r.round === round && r.variant === variant);
      if (raw && run) ratios.push(pick(run) / pick(raw));
    }
    return {
      value: median(runsOf(variant).map(pick)),
      baseline: median(runsOf("raw").map(pick)),
      ratio: median(ratios),
      range: [Math.min(...ratios), Math.max(...ratios)] as [number, number],
      ratios,
    };
  }
  const bursts = throughput.bursts ?? [];
  const burstRatios: number[] = [];
  for (let round = 0; round < config.rounds; round++) {
    const raw = bursts.find((r) => r.round === round && r.variant === "raw");
    const run = bursts.find((r) => r.round === round && r.variant === "memory");
    if (raw && run) burstRatios.push(run.peakBytes / raw.peakBytes);
  }
  const burst = burstRatios.length === 0 ? undefined : {
    value: median(bursts.filter((r) => r.variant === "memory").map((r) => r.peakBytes)),
    baseline: median(bursts.filter((r) => r.variant === "raw").map((r) => r.peakBytes)),
    ratio: median(burstRatios),
    range: [Math.min(...burstRatios), Math.max(...burstRatios)] as [number, number],
    ratios: burstRatios,
  };
  return {
    burst,
    memory: paired("memory", (r) => r.rate),
    file: paired("file", (r) => r.rate),
    cpuMemory: paired("memory", cpuPer100k),
    cpuFile: paired("file", cpuPer100k),
  };
}

type Pairs = ReturnType<typeof throughputPairs>;

/** Every row of the table, section by section. */
export function tableRows(measured: Measured, pairs: Pairs): Row[] {
  const { roundTrips, offline, offlineSmall, model, startup, gateway } = measured;
  return [
    ...throughputRows(pairs),
    ...(roundTrips ? roundTripRows(roundTrips) : []),
    ...(offline ? offlineRows(offline, pairs.file.value) : []),
    ...(offlineSmall ? boundedHeapRows(offlineSmall, pairs.file.value) : []),
    ...(model ? modelRows(model) : []),
    ...(startup ? startupRows(startup) : []),
    ...(gateway ? gatewayRows(gateway) : []),
  ];
}

function throughputRows(pairs: Pairs): Row[] {
  const S1 = `Update throughput: ${
    fmtInt(config.updates)
  } @update → subscriber, ${config.rounds} rounds`;
  const rateRow = (label: string, p: Pairs["memory"], min: number) =>
    row({
      section: S1,
      label,
      ...p,
      unit: "msg/s",
      format: perSecond,
      baselineName: "raw MQTT.js",
      better: "higher",
      goal: { text: `≥ ${min}×`, ratio: min, holds: (ratio) => ratio >= min },
    });
  const cpuRow = (label: string, p: Pairs["memory"], max: number) =>
    row({
      section: S1,
      label,
      ...p,
      unit: "ms",
      format: fmtMs,
      baselineName: "raw MQTT.js",
      better: "lower",
      goal: { text: `≤ ${max}×`, ratio: max, holds: (ratio) => ratio <= max },
    });
  return [
    rateRow("@update rate, memory outbox", pairs.memory, 0.9),
    rateRow("@update rate, durable outbox (file)", pairs.file, 0.5),
    cpuRow("publisher CPU per 100k, memory", pairs.cpuMemory, 0.5),
    cpuRow("publisher CPU per 100k, durable", pairs.cpuFile, 0.7),
    ...(pairs.burst
      ? [row({
        section: S1,
        label: `peak RSS, ${fmtInt(config.burst)} values set in one tight loop (memory outbox)`,
        ...pairs.burst,
        unit: "bytes",
        format: fmtMB,
        baselineName: "raw MQTT.js",
        better: "lower",
        goal: { text: "≤ 1.1×", ratio: 1.1, holds: (ratio) => ratio <= 1.1 },
      })]
      : []),
  ];
}

function roundTripRows(roundTrips: NonNullable<Measured["roundTrips"]>): Row[] {
  const rows: Row[] = [];
  const s = roundTrips.summary;
  const raw = s["raw echo"];
  const S2 = `@set → @didSet round trip, ${fmtInt(config.roundTrips)} per variant`;
  for (
    const [variant, name] of [["endpoint memory", "memory"], ["endpoint file", "durable"]] as const
  ) {
    const common = {
      section: S2,
      unit: "ms",
      format: fmtMs,
      baselineName: "raw echo",
      better: "lower" as const,
    };
    rows.push(
      row({ ...common, label: `p50, ${name} outbox`, value: s[variant].p50, baseline: raw.p50 }),
      row({
        ...common,
        label: `p99, ${name} outbox`,
        value: s[variant].p99,
        baseline: raw.p99,
        goal: { text: "≤ 2×", ratio: 2, holds: (ratio) => ratio <= 2 },
      }),
    );
  }
  return rows;
}

/** A rate of the offline case, next to the online rate with the durable outbox. */
function offlineRateRow(section: string, label: string, value: number, online: number): Row {
  return row({
    section,
    label,
    value,
    baseline: online,
    unit: "values/s",
    format: perSecond,
    baselineName: "online, durable",
    better: "higher",
  });
}

/** A peak RSS of the offline case, next to the idle process's. */
function rssRow(
  section: string,
  label: string,
  value: number,
  offline: Offline,
  goal?: RowOptions["goal"],
): Row {
  return row({
    section,
    label,
    value,
    baseline: offline.rssIdle,
    unit: "bytes",
    format: fmtMB,
    baselineName: "idle",
    better: "lower",
    goal,
  });
}

function offlineRows(offline: Offline, online: number): Row[] {
  const S3 = `Offline: ${fmtInt(offline.count)} updates queued on disk, then replayed`;
  return [
    offlineRateRow(
      S3,
      `queueing rate (all set and on disk in ${fmtMs(offline.setMs)})`,
      offline.count / (offline.setMs / 1000),
      online,
    ),
    rssRow(S3, "peak RSS while queueing, default V8 heap", offline.rssSet, offline),
    rssRow(S3, "peak RSS, queueing and replay", offline.rssReplay, offline, {
      text: "≤ 100 MB",
      ratio: 100 * MB / offline.rssIdle,
      holds: (_, value) => value <= 100 * MB,
    }),
    row({
      section: S3,
      label: `replay rate (${fmtInt(offline.delivered)} delivered)`,
      value: offline.count / (offline.replayMs / 1000),
      baseline: online,
      unit: "values/s",
      format: perSecond,
      baselineName: "online, durable",
      better: "higher",
      // The bounded-heap replay rate before #14, on this machine.
      goal: {
        text: "≥ 65,000/s",
        ratio: 65_000 / online,
        holds: (_, value) => value >= 65_000,
      },
    }),
  ];
}

function boundedHeapRows(offlineSmall: Offline, online: number): Row[] {
  const S3b = `Offline, heap bounded (--v8-flags=${SMALL_HEAP.join(",")}): ${
    fmtInt(offlineSmall.count)
  } updates`;
  return [
    rssRow(
      S3b,
      "peak RSS, queueing and replay",
      Math.max(offlineSmall.rssSet, offlineSmall.rssReplay),
      offlineSmall,
      {
        text: "≤ 100 MB",
        ratio: 100 * MB / offlineSmall.rssIdle,
        holds: (_, value) => value <= 100 * MB,
      },
    ),
    offlineRateRow(
      S3b,
      `replay rate (${fmtInt(offlineSmall.delivered)} delivered)`,
      offlineSmall.count / (offlineSmall.replayMs / 1000),
      online,
    ),
  ];
}

function modelRows(model: NonNullable<Measured["model"]>): Row[] {
  const rows: Row[] = [];
  const S4 = `Model: @online of ${
    fmtInt(model.attributes)
  } attributes, ${model.processes} processes`;
  const m = model.medians;
  const goal50 = {
    text: "≤ 50 ms",
    holds: (_: number, value: number) => value <= 50,
  };
  const ms = (
    label: string,
    value: number,
    baseline: number,
    baselineName: string,
    goal?: boolean,
  ) =>
    row({
      section: S4,
      label,
      value,
      baseline,
      unit: "ms",
      format: fmtMs,
      baselineName,
      better: "lower",
      goal: goal ? { ...goal50, ratio: 50 / baseline } : undefined,
    });
  rows.push(
    ms(
      "@online CBOR, first in the process",
      model.cold.CBOR,
      m["baseline encode CBOR"],
      "cborg.encode",
      true,
    ),
    ms("@online CBOR, warm", m["online CBOR"], m["baseline encode CBOR"], "cborg.encode", true),
    ms(
      "@online JSON, first in the process",
      model.cold.JSON,
      m["baseline encode JSON"],
      "JSON.stringify",
      true,
    ),
    ms("@online JSON, warm", m["online JSON"], m["baseline encode JSON"], "JSON.stringify", true),
    ms("decode CBOR (decodePayload)", m["decode CBOR"], m["baseline decode CBOR"], "cborg.decode"),
    ms("decode JSON (decodePayload)", m["decode JSON"], m["baseline decode JSON"], "JSON.parse"),
  );
  for (const format of ["CBOR", "JSON"] as const) {
    rows.push(row({
      section: S4,
      label: `size ${format}`,
      value: model.bytes[format],
      baseline: model.bytes[`baseline ${format}`],
      unit: "bytes",
      format: kB,
      baselineName: format === "CBOR" ? "cborg" : "JSON.stringify",
      better: "lower",
    }));
  }
  return rows;
}

function startupRows(startup: NonNullable<Measured["startup"]>): Row[] {
  const section = `Start-up: spawn → @online received, median of ${config.startups}`;
  const atMost = (ratio: number) => ({
    text: `≤ ${ratio}×`,
    ratio,
    holds: (r: number) => r <= ratio,
  });
  return [
    row({
      section,
      label: "endpoint (VacuumCleaner's 6 attributes, durable store)",
      value: startup.endpoint,
      baseline: startup.raw,
      unit: "ms",
      format: fmtMs,
      baselineName: "raw MQTT.js process",
      better: "lower",
      goal: atMost(1.1),
    }),
    row({
      section,
      label: "idle RSS, connected (2 s after @online)",
      value: startup.idleRss.endpoint,
      baseline: startup.idleRss.raw,
      unit: "bytes",
      format: fmtMB,
      baselineName: "raw MQTT.js process",
      better: "lower",
      goal: atMost(1.1),
    }),
  ];
}

/** For 100 and 1,000 devices (those measured): the gateway next to as many raw MQTT.js clients. */
function gatewayRows(runs: readonly GatewayRun[]): Row[] {
  const rows: Row[] = [];
  for (const count of [100, 1000]) {
    const endpoint = runs.find((r) => r.variant === "endpoint" && r.count === count);
    const raw = runs.find((r) => r.variant === "raw" && r.count === count);
    if (!endpoint || !raw) continue;
    const section = `Gateway: ${
      fmtInt(count)
    } VacuumCleaners in one process, own certificate and TLS connection each, durable outboxes`;
    const common = { section, baselineName: `raw MQTT.js × ${fmtInt(count)}` };
    const large = count === 1000;
    rows.push(
      row({
        ...common,
        label: `RSS, all online and idle (${fmtMB(endpoint.rss / count)} per device)`,
        value: endpoint.rss,
        baseline: raw.rss,
        unit: "bytes",
        format: fmtMB,
        better: "lower",
        goal: large
          ? { text: "≤ 500 MB", ratio: 500 * MB / raw.rss, holds: (_, v) => v <= 500 * MB }
          : undefined,
      }),
      row({
        ...common,
        label: `CPU while idle (keep-alive ${config.gatewayKeepAlive} s), share of one core`,
        value: endpoint.idleCpu,
        baseline: raw.idleCpu,
        unit: "core",
        format: fmtShare,
        better: "lower",
        goal: large
          ? { text: "< 2%", ratio: 0.02 / raw.idleCpu, holds: (_, v) => v < 0.02 }
          : undefined,
      }),
      row({
        ...common,
        label: `all online after a start (paced, ${config.gatewayRate}/s)`,
        value: endpoint.onlineMs,
        baseline: raw.onlineMs,
        unit: "ms",
        format: fmtMs,
        better: "lower",
      }),
      row({
        ...common,
        label: "all online after a broker restart (baseline: unpaced)",
        value: endpoint.backMs,
        baseline: raw.backMs,
        unit: "ms",
        format: fmtMs,
        better: "lower",
      }),
      row({
        ...common,
        label: `update rate, all publishing (${config.gatewayUpdates} each)`,
        value: endpoint.updateRate,
        baseline: raw.updateRate,
        unit: "updates/s",
        format: perSecond,
        better: "higher",
      }),
    );
  }
  return rows;
}

/** How a gateway's cost grows with its devices: one line per size measured, endpoint variant. */
export function gatewayGrowth(runs: readonly GatewayRun[]): string {
  const lines = ["Gateway growth (endpoint variant; raw MQTT.js in brackets):"];
  for (const r of runs.filter((r) => r.variant === "endpoint")) {
    const raw = runs.find((b) => b.variant === "raw" && b.count === r.count);
    const both = (f: (r: GatewayRun) => string) => `${f(r)}${raw ? ` [${f(raw)}]` : ""}`;
    lines.push(
      `  ${fmtInt(r.count).padStart(6)} devices: RSS ${both((x) => fmtMB(x.rss))}, idle CPU ${
        both((x) => fmtShare(x.idleCpu))
      }, online in ${both((x) => fmtMs(x.onlineMs))}, back in ${both((x) => fmtMs(x.backMs))}, ${
        both((x) => perSecond(x.updateRate))
      }`,
    );
  }
  return lines.join("\n");
}
