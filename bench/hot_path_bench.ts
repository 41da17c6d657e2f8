/**
 * The hot path of every value: `attribute.value = x` → `Publisher.changed()` → encoded `@update`
 * → outbox → a transport that acknowledges at once. No broker, no network: what the endpoint
 * itself costs per value (the time measured is the writes; the acknowledgements are awaited
 * outside it). `--no-policies` leaves out the cases with publish policies (for a library without
 * them). `deno bench -A bench/hot_path_bench.ts`.
 *
 * @module
 */

import { Endpoint } from "../mod.ts";
import type { Connection, Transport } from "../lib/transport.ts";

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";
const VALUES = 1000;

/** A transport that acknowledges every publish at once and keeps nothing. */
function nullTransport(): Transport {
  return {
    url: "memory://",
    connect(): Promise<Connection> {
      const closed = new Promise<Error | undefined>(() => {});
      return Promise.resolve({
        closed,
        publish: () => Promise.resolve(),
        subscribe: (filters: readonly string[]) => Promise.resolve(filters.map(() => 1)),
        close: () => Promise.resolve(),
        destroy: () => {},
      });
    },
  };
}

const endpoint = new Endpoint(UUID, {
  config: { hostUri: "mqtt://127.0.0.1", persistence: "memory" },
  transport: nullTransport(),
  onError: () => {},
});
const status = endpoint.addNode("Bench").addObject("Status");
const plain = status.addAttribute("plain", { type: "Number", constraint: "Measure" });
const POLICIES = Deno.args.includes("--no-policies") ? [] : [
  // Every value passes the filter: what a policy costs on top of sending.
  ["onChange, every value new", { onChange: true }, (n: number) => n + 0.5],
  // A noisy value inside its deadband: most writes end in the policy.
  ["deadband, 1 in 10 sent", { deadband: 1 }, (n: number) => (n % 10) / 10 + Math.floor(n / 10)],
  ["minInterval 1 s, held", { minInterval: 1000 }, (n: number) => n + 0.5],
] as const;
const withPolicy = POLICIES.map(([name, policy, value]) =>
  [
    name,
    status.addAttribute(name.replace(/[^A-Za-z0-9]/g, "_"), {
      type: "Number",
      constraint: "Measure",
      policy,
    }),
    value,
  ] as const
);
await endpoint.connect();

let n = 0;
Deno.bench(`${VALUES} values, no policy`, { group: "hot", baseline: true }, async (b) => {
  b.start();
  for (let i = 0; i < VALUES; i++) plain.value = ++n + 0.5;
  b.end();
  await endpoint.delivered();
});

for (const [name, attribute, value] of withPolicy) {
  Deno.bench(`${VALUES} values, ${name}`, { group: "hot" }, async (b) => {
    b.start();
    for (let i = 0; i < VALUES; i++) attribute.value = value(++n);
    b.end();
    await endpoint.delivered();
  });
}
