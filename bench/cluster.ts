/**
 * `deno task cluster`: endpoints stream values into a 3-node RabbitMQ cluster on loopback while
 * the node they are on is SIGKILLed and restarted, again and again (issue #16; the run itself is
 * `tests/_cluster_run.ts`). Ends with one line:
 *
 *     sent N, delivered N, lost 0, duplicates D, out-of-order 0, failovers F
 *
 * "delivered" counts the values at least one of three cloud observers (persistent sessions, one
 * on each node) received: what the endpoint got acknowledged. "duplicates" and "out-of-order" are
 * the most any one observer saw. Each observer's own line shows what its queue lost. Exits with 1
 * when a value was lost or came out of order, or an endpoint did not come back after a kill.
 *
 * Options: `--queue-type quorum|classic` (default quorum), `--kills K` (3), `--endpoints E` (5),
 * `--seconds S` (streaming before each kill and after the last, default 35: more than the 30 s
 * after which the endpoint's backoff starts again from its first step), `--down D` (seconds a
 * killed node stays down, 5), `--rate R` (values per second per endpoint, 20), `--attributes A`
 * (5), `--trace FILE` (write every figure and every connection attempt as JSON), `--logs DIR`
 * (keep the nodes' logs there).
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  describeKill,
  failoverRun,
  type FailoverRunResult,
  spread,
  summaryLine,
} from "../tests/_cluster_run.ts";
import { rabbitMqMissing } from "../tests/_rabbitmq_cluster.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    "queue-type": { type: "string", default: "quorum" },
    kills: { type: "string", default: "3" },
    endpoints: { type: "string", default: "5" },
    seconds: { type: "string", default: "35" },
    down: { type: "string", default: "5" },
    rate: { type: "string", default: "20" },
    attributes: { type: "string", default: "5" },
    trace: { type: "string" },
    logs: { type: "string" },
  },
});
const queueType = args["queue-type"];
if (queueType !== "quorum" && queueType !== "classic") {
  console.error(`--queue-type must be quorum or classic: current value is "${queueType}"`);
  Deno.exit(2);
}
const numbers = {
  kills: Number(args.kills),
  endpoints: Number(args.endpoints),
  seconds: Number(args.seconds),
  down: Number(args.down),
  rate: Number(args.rate),
  attributes: Number(args.attributes),
};
for (const [name, value] of Object.entries(numbers)) {
  const least = ["kills", "seconds", "down"].includes(name) ? 0 : 1;
  const integer = ["kills", "endpoints", "attributes"].includes(name);
  if (!(value >= least) || (integer && !Number.isInteger(value))) {
    console.error(
      `--${name} must be ${integer ? "an integer" : "a number"} of at least ${least}: ` +
        `current value is ${value}`,
    );
    Deno.exit(2);
  }
}
const missing = rabbitMqMissing();
if (missing) {
  console.error(`Cannot run the cluster run: ${missing}`);
  Deno.exit(2);
}
// Ctrl-C: exit through the unload handlers, which kill the nodes and remove their directories.
Deno.addSignalListener("SIGINT", () => Deno.exit(130));

const started = performance.now();
const log = (line: string) =>
  console.log(`  [${((performance.now() - started) / 1000).toFixed(1)} s] ${line}`);
console.log(
  `cluster run: ${numbers.endpoints} endpoints × ${numbers.rate} values/s, ${numbers.kills} kills, ` +
    `${numbers.seconds} s between kills, ${numbers.down} s down, ${queueType} queues`,
);
const result = await failoverRun({ queueType, ...numbers, log, logsTo: args.logs });
if (args.trace) {
  await Deno.writeTextFile(args.trace, JSON.stringify(result, null, 1));
  console.log(`every figure and attempt: ${args.trace}`);
}
report(result);
const back = result.kills.every((k) => k.endpoints.every((e) => e.toOnline !== undefined));
if (
  result.sent !== result.delivered || result.outOfOrder !== 0 || result.droppedByEndpoints > 0 ||
  !back
) {
  Deno.exit(1);
}

function report(r: FailoverRunResult): void {
  console.log(
    `cluster formed in ${(r.formedIn / 1000).toFixed(1)} s (first starts ${
      r.nodeStarts.map((ms) => (ms / 1000).toFixed(1)).join(", ")
    } s)`,
  );
  r.kills.forEach((k, i) => {
    console.log(
      `kill ${i + 1}: node ${k.node + 1} (${k.endpointsOnIt} endpoints), listening again after ${
        (k.listeningAfter / 1000).toFixed(1)
      } s, in the cluster after ${(k.backAfter / 1000).toFixed(1)} s; ${describeKill(k)}`,
    );
    const trapped = k.endpoints.find((e) => e.dropped > 0);
    if (trapped) console.log(`    attempts of one endpoint: ${trapped.attempts}`);
    if (k.lostAgain) {
      console.log(`    connections lost afterwards (see the broker's log below): ${k.lostAgain}`);
    }
    const errors = [...new Set(k.endpoints.flatMap((e) => e.errors))];
    for (const error of errors) console.log(`    offline: ${error}`);
  });
  const all = r.kills.flatMap((k) => k.endpoints.map((e) => e.toOnline))
    .filter((v): v is number => v !== undefined);
  console.log(`death → next @online, all kills: min/median/max ${spread(all)} ms`);
  for (const o of r.observers) {
    const kills = r.kills.filter((k) => k.node === o.node).length;
    const when = o.lostSetAfterKill;
    console.log(
      `observer on node ${o.node + 1} (killed ${kills}×): delivered ${o.delivered}, ` +
        `lost ${r.sent - o.delivered}, duplicates ${o.duplicates}, out-of-order ${o.outOfOrder}` +
        (when
          ? `; the lost values were set ${(when.min / 1000).toFixed(1)} to ${
            (when.max / 1000).toFixed(1)
          } s after a kill of its node` +
            (when.unexplained ? ` (${when.unexplained} before any)` : "")
          : ""),
    );
  }
  for (const n of r.retained) {
    console.log(
      `node ${n.node + 1} retains @online of ${n.online}/${r.endpoints} ` +
        `endpoints; @update a0: current ${n.updateCurrent}, stale ${n.updateStale}`,
    );
  }
  if (r.droppedByEndpoints) {
    console.log(`dropped by the endpoints' outboxes: ${r.droppedByEndpoints}`);
  }
  if (r.unprovoked) console.log(`connections lost before the first kill: ${r.unprovoked}`);
  for (const error of r.errors) console.log(`onError: ${error}`);
  for (const { line, count } of r.brokerSaid.slice(0, 8)) {
    console.log(`broker log ${count}×: ${line.slice(0, 300)}`);
  }
  console.log(summaryLine(r));
}
