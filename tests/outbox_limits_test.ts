/**
 * The outbox's limits at the level of the endpoint, against a real mosquitto: both drop policies ×
 * both stores × a message limit and a byte limit, with several attributes. What the cloud receives
 * after the reconnect is compared, value by value and in order, with a reference model of the
 * policies written here from the README's words (not from the store's code).
 *
 * @module
 */

import assert from "node:assert/strict";
import { DroppedError, type DropPolicy } from "../mod.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import { encodeAttribute } from "../lib/codec/encode.ts";
import { startMosquitto } from "./_broker.ts";
import { connectCloud, type Received } from "./_cloud.ts";
import { within } from "./_deadline.ts";
import { randomUuid, tlsEndpoint, until } from "./_endpoint.ts";
import { assertServerValid } from "./_judges.ts";

interface Value {
  attribute: string;
  value: number;
  size: number;
}

/**
 * The reference model. Every value is added in turn; while over a limit, one is dropped: the oldest,
 * or with `latest-per-attribute` the oldest one that a newer value of the same attribute supersedes
 * (the oldest of all when none is superseded).
 */
function reference(
  values: Value[],
  policy: DropPolicy,
  limits: { messages?: number; bytes?: number },
): { kept: Value[]; dropped: number } {
  const kept: Value[] = [];
  let dropped = 0;
  const over = () =>
    kept.length > (limits.messages ?? Infinity) ||
    kept.reduce((sum, v) => sum + v.size, 0) > (limits.bytes ?? Infinity);
  for (const value of values) {
    kept.push(value);
    while (over()) {
      let victim = 0;
      if (policy === "latest-per-attribute") {
        const superseded = kept.findIndex((v, i) =>
          kept.some((n, j) => j > i && n.attribute === v.attribute)
        );
        if (superseded >= 0) victim = superseded;
      }
      kept.splice(victim, 1);
      dropped++;
    }
  }
  return { kept, dropped };
}

/** What the cloud received of the endpoint's values, in order, whether alone or in a @delayed. */
function received(messages: Received[]): [string, number][] {
  const out: [string, number][] = [];
  const add = (topic: string, data: Record<string, unknown>) => {
    if (topic.startsWith("@update/")) out.push([topic.split("/").at(-1)!, data.value as number]);
  };
  for (const m of messages) {
    const body = decodePayload(m.payload, { maxBytes: 1 << 20 }).value;
    if (m.topic.startsWith("@delayed/")) {
      for (const inner of body.messages as { topic: string; data: Record<string, unknown> }[]) {
        add(inner.topic, inner.data);
      }
    } else add(m.topic, body);
  }
  return out;
}

const POLICIES: DropPolicy[] = ["oldest", "latest-per-attribute"];
const STORES = ["memory", "file"] as const;
const LIMITS = ["messages", "bytes"] as const;

for (const policy of POLICIES) {
  for (const store of STORES) {
    for (const limit of LIMITS) {
      Deno.test(`a full outbox drops by policy "${policy}" (${store} store, ${limit} limit), and the cloud gets exactly what was kept`, async () => {
        // The cloud's session and what is queued for it survive the broker's restart.
        await using broker = await startMosquitto({ persistence: true });
        const uuid = randomUuid();
        await using cloud = await connectCloud(broker.cloudUrl, {
          subscribe: [`@update/${uuid}/#`, `@delayed/${uuid}`],
          clean: false,
          clientId: `limits-${uuid.slice(0, 8)}`,
        });
        const dir = store === "file"
          ? await Deno.makeTempDir({ prefix: "cloudio-limits-" })
          : undefined;
        try {
          // One attribute set once, two set often: the policies differ on the rare one.
          const now = Date.now();
          const values: Value[] = [1, ...Array.from({ length: 40 }, (_, i) => i + 2)].map((v) => {
            const attribute = v === 1 ? "rare" : v % 2 === 0 ? "x" : "y";
            const size = encodeAttribute("CBOR", {
              type: "Integer",
              constraint: "Status",
              value: v,
              timestamp: now,
            }).length;
            return { attribute, value: v, size };
          });
          const limits = limit === "messages"
            ? { messages: 10 }
            : { bytes: values.slice(-10).reduce((sum, v) => sum + v.size, 0) + 3 };
          const expected = reference(values, policy, limits);
          assert.ok(expected.dropped > 0);
          const { endpoint, errors } = await tlsEndpoint(broker, uuid, {
            format: "CBOR",
            dropPolicy: policy,
            limits: { updates: limits },
            extra: store === "file"
              ? { persistence: "file", persistenceLocation: dir! }
              : { persistence: "memory" },
          });
          await using _ = endpoint;
          const object = endpoint.addNode("Node").addObject("Status");
          const attributes = Object.fromEntries(
            ["rare", "x", "y"].map((
              name,
            ) => [name, object.addAttribute(name, { type: "Integer", constraint: "Status" })]),
          );
          let dropEvents = 0;
          (async () => {
            for await (const event of endpoint.status()) if (event.type === "dropped") dropEvents++;
          })();
          await endpoint.connect();
          await broker.stop();
          await until(() => endpoint.state !== "online", 5000, "the endpoint to notice");
          for (const v of values) attributes[v.attribute].value = v.value;
          const stats = endpoint.outbox!;
          assert.equal(stats.dropped.full, expected.dropped, "dropped as the model says");
          assert.equal(stats.pending.updates.messages, expected.kept.length);
          assert.equal(
            stats.pending.updates.bytes,
            expected.kept.reduce((sum, v) => sum + v.size, 0),
            "the payload sizes are as encoded",
          );
          if (limits.bytes) assert.ok(stats.pending.updates.bytes <= limits.bytes);
          await broker.start();
          await until(() => endpoint.state === "online", 10_000, "the endpoint to reconnect");
          await within(endpoint.delivered(), 10_000, "the kept values to be acknowledged");
          await until(
            () => received(cloud.messages).length >= expected.kept.length,
            5000,
            `${expected.kept.length} values at the cloud`,
          );
          await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more comes
          assert.deepEqual(
            received(cloud.messages),
            expected.kept.map((v) => [v.attribute, v.value]),
          );
          assert.equal(dropEvents, expected.dropped, "each drop was an event");
          assertServerValid(cloud.messages, uuid);
          const reported = errors.filter((e) => e instanceof DroppedError) as DroppedError[];
          assert.ok(reported.length >= 1, "the drops were reported");
          assert.equal(reported.reduce((sum, e) => sum + e.count, 0) <= expected.dropped, true);
          assert.ok(reported.every((e) => e.reason === "full"));
          if (policy === "latest-per-attribute") {
            assert.ok(
              received(cloud.messages).some(([attribute]) => attribute === "rare"),
              "the only value of the rare attribute survived",
            );
          }
        } finally {
          if (dir) await Deno.remove(dir, { recursive: true });
        }
      });
    }
  }
}
