import assert from "node:assert/strict";
import { settingsFromProperties } from "../config/settings.ts";
import { Outbox } from "../outbox/outbox.ts";
import { MemoryStore } from "../outbox/memory_store.ts";
import { Reporter } from "../reporter.ts";
import type { EndpointStatus } from "../status.ts";
import { TimerWheel } from "../timers.ts";
import { topicsOf } from "../topics.ts";
import type { Transport } from "../transport.ts";
import { Session, type SessionOptions } from "./session.ts";

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";

/** A broker that refuses every attempt. */
const down = (url: string): Transport => ({
  url,
  connect: () => Promise.reject(new Error(`${url} is down`)),
});

function session(transports: Transport[], extra: Partial<SessionOptions> = {}) {
  const events: { event: EndpointStatus; broker: string }[] = [];
  const reporter = new Reporter(() => {});
  const settings = settingsFromProperties(new Map([["hostUri", "mqtt://a"]]), { uuid: UUID });
  const s: Session = new Session({
    transports,
    settings,
    topics: topicsOf(UUID),
    outbox: new Outbox({ store: new MemoryStore(), limits: {} }),
    reporter,
    online: () => ({ payload: new Uint8Array(), nodes: new Set() }),
    receive: () => {},
    now: () => performance.now(),
    reconnect: { initialDelay: 5, maxDelay: 10 },
    ...extra,
  });
  (async () => {
    for await (const event of reporter.status()) events.push({ event, broker: s.url });
  })();
  return { session: s, events };
}

Deno.test("Session: while it waits to retry, url is the broker that failed, and offline says which", async () => {
  const { session: s, events } = session([down("mqtt://a"), down("mqtt://b"), down("mqtt://c")]);
  await assert.rejects(s.start(), /mqtt:\/\/c is down/);
  await new Promise((resolve) => setTimeout(resolve, 0));
  const seen = events.map(({ event, broker }) =>
    `${event.type} ${"url" in event ? event.url : "-"} on ${broker}`
  );
  assert.deepEqual(seen, [
    "connecting mqtt://a on mqtt://a",
    "offline mqtt://a on mqtt://a",
    "connecting mqtt://b on mqtt://b",
    "offline mqtt://b on mqtt://b",
    "connecting mqtt://c on mqtt://c",
    "offline mqtt://c on mqtt://c",
  ]);
});

Deno.test("Session: a failure of its loop rejects start() and is reported, never left unhandled", async () => {
  const wheel = new TimerWheel();
  wheel.close(); // a gateway that closed under the session: its next delay cannot be set
  const { session: s, events } = session([down("mqtt://a"), down("mqtt://b")], {
    waitOnFirstConnect: true,
    timers: wheel,
  });
  await assert.rejects(s.start(), /the wheel is closed/);
  assert.equal(s.state, "offline");
  assert.ok(events.some(({ event }) => event.type === "error"), "reported");
});
