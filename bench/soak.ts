/**
 * `deno task soak`: the long fault runs of the outbox against real mosquitto brokers and real
 * processes, bigger than the test suite's, ending with one line:
 *
 *     sent N, delivered N, lost 0, duplicates D, out-of-order 0
 *
 * Options: `--updates N` (restart runs, default 50,000), `--restarts R` (default 50),
 * `--volume N` (values queued offline, default 1,000,000; 0 skips it).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { crashSoak, restartSoak, volumeSoak } from "../tests/_soak.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    updates: { type: "string", default: "50000" },
    restarts: { type: "string", default: "50" },
    volume: { type: "string", default: "1000000" },
  },
});
const updates = Number(args.updates);
const restarts = Number(args.restarts);
const volume = Number(args.volume);
const started = performance.now();
const log = (line: string) =>
  console.log(`  [${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);

let sent = 0, delivered = 0, duplicates = 0, outOfOrder = 0;
const add = (s: number, t: { delivered: number; duplicates: number; outOfOrder: number }) => {
  sent += s;
  delivered += t.delivered;
  duplicates += t.duplicates;
  outOfOrder += t.outOfOrder;
};

for (
  const config of [
    { persistence: "file", replay: "delayed", format: "CBOR" },
    { persistence: "memory", replay: "delayed", format: "JSON" },
    { persistence: "file", replay: "direct", format: "CBOR" },
  ] as const
) {
  console.log(
    `broker stopped and restarted ${restarts} times, ${updates} updates, ${JSON.stringify(config)}`,
  );
  const { tally, milliseconds } = await restartSoak({
    updates,
    attributes: 7,
    restarts,
    ...config,
    log,
  });
  console.log(`  ${tally.summary()} (${(milliseconds / 1000).toFixed(1)} s)`);
  add(updates, tally);
}

console.log("endpoint process SIGKILLed with a durable backlog, then restarted on the same store");
for (let round = 1; round <= 3; round++) {
  const { tally, durable } = await crashSoak({
    updates: 200_000,
    attributes: 5,
    stopBrokerAfter: 1_000 * round,
    killAfter: 5_000 * round,
    log,
  });
  console.log(`  round ${round}: durable ${durable}; ${tally.summary(durable)}`);
  add(durable, {
    delivered: tally.deliveredUpTo(durable),
    duplicates: tally.duplicates,
    outOfOrder: tally.outOfOrder,
  });
}

if (volume > 0) {
  console.log(`${volume} updates queued offline on disk, then replayed`);
  const { tally, rss, setMs, drainMs } = await volumeSoak(volume, log);
  console.log(
    `  ${tally.summary()}; set in ${(setMs / 1000).toFixed(1)} s, replayed in ${
      (drainMs / 1000).toFixed(1)
    } s ` +
      `(${Math.round(volume / (drainMs / 1000))} values/s), peak RSS ${
        (rss / 2 ** 20).toFixed(0)
      } MiB`,
  );
  add(volume, tally);
}

console.log(
  `sent ${sent}, delivered ${delivered}, lost ${
    sent - delivered
  }, duplicates ${duplicates}, out-of-order ${outOfOrder}`,
);
if (sent !== delivered || outOfOrder !== 0) Deno.exit(1);
