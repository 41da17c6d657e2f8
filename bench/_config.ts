/**
 * The runner's command line (see `run.ts`) and the sizes it sets: `flags` as given, `config` with
 * the defaults of a full or a `--quick` run applied.
 *
 * @module
 */

import { parseArgs } from "node:util";

export const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    updates: { type: "string" },
    rounds: { type: "string" },
    offline: { type: "string" },
    "round-trips": { type: "string" },
    startups: { type: "string" },
    "no-profile": { type: "boolean", default: false },
    profiles: { type: "string" },
    out: { type: "string" },
    gateway: { type: "string" },
  },
});

export const quick = flags.quick;
export const config = {
  mode: quick ? "quick" : "full",
  /** Attributes the updates are spread over. */
  attributes: 10,
  /** Updates per throughput run (attributes × k). */
  updates: Number(flags.updates ?? (quick ? 20_000 : 50_000)),
  /** Throughput runs per variant. */
  rounds: Number(flags.rounds ?? (quick ? 3 : 7)),
  /** Values of a burst run (set in one loop that never yields). */
  burst: 20_000,
  /** The publish window: the endpoint's default maxInFlight. */
  window: 1000,
  /**
   * Round trips per variant, after the warm-up: 2,000 in a quick run too, as a p99 of 500 is the
   * fifth-slowest of them and swung between 1.2× and 2.4× the baseline from run to run here.
   */
  roundTrips: Number(flags["round-trips"] ?? 2000),
  warmup: quick ? 100 : 200,
  /** Values queued offline. */
  offline: Number(flags.offline ?? (quick ? 100_000 : 1_000_000)),
  /** Start-ups per variant (after one warm-up each). */
  startups: Number(flags.startups ?? (quick ? 3 : 5)),
  modelAttributes: 10_000,
  /** Fresh processes per format for the model case (each encodes its format first, cold). */
  modelProcesses: quick ? 1 : 3,
  format: "CBOR",
  /** Devices per gateway run (the table shows 100 and 1,000; the rest is the growth curve). */
  gatewayCounts: (flags.gateway ?? (quick ? "1,10,100" : "1,10,100,1000")).split(",")
    .filter((n) => n !== "none").map(Number),
  /** Connection attempts per second at a gateway's start, both variants. */
  gatewayRate: 100,
  /** Seconds of keep-alives only: one keep-alive period from 100 devices on, 20 s below. */
  gatewayIdle: (count: number) => quick ? 10 : count >= 100 ? 60 : 20,
  /** The keep-alive of the gateway's devices, s: the default. */
  gatewayKeepAlive: 60,
  /** Values every device sets in the throughput step. */
  gatewayUpdates: quick ? 10 : 20,
  profile: !flags["no-profile"],
};
