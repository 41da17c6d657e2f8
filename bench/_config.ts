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
  /** The publish window: the endpoint's default maxInFlight. */
  window: 1000,
  /** Round trips per variant, after the warm-up. */
  roundTrips: Number(flags["round-trips"] ?? (quick ? 500 : 2000)),
  warmup: quick ? 100 : 200,
  /** Values queued offline. */
  offline: Number(flags.offline ?? (quick ? 100_000 : 1_000_000)),
  /** Start-ups per variant (after one warm-up each). */
  startups: Number(flags.startups ?? (quick ? 3 : 5)),
  modelAttributes: 10_000,
  /** Fresh processes per format for the model case (each encodes its format first, cold). */
  modelProcesses: quick ? 1 : 3,
  format: "CBOR",
  profile: !flags["no-profile"],
};
