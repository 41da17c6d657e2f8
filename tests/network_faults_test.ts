/**
 * The failures a fleet meets on real networks, against a real mosquitto: a path that dies without
 * a reset (half-open), a broker that accepts and never answers, a peer that never lets a close
 * complete, and a broker that freezes (SIGSTOP) with its connections open. Between endpoint and
 * broker sits the fault proxy of `_fault_proxy.ts`; the cloud sees the broker directly.
 *
 * Keep-alive is 2 s here (the default is 60 s) so that the suite stays fast; every time measured is
 * printed, and the README's "How long a failure takes to notice" quotes them.
 *
 * @module
 */

import assert from "node:assert/strict";
import tls from "node:tls";
import type { EndpointStatus } from "../mod.ts";
import { type Mosquitto, startMosquitto } from "./_broker.ts";
import { connectCloud } from "./_cloud.ts";
import { within } from "./_deadline.ts";
import { heldSocket, startFaultProxy } from "./_fault_proxy.ts";
import { randomUuid, type TestEndpointOptions, tlsEndpoint, until } from "./_endpoint.ts";
import { assertServerValid } from "./_judges.ts";
import { Tally } from "./_tally.ts";

const KEEP_ALIVE_S = 2;
const KEEP_ALIVE = KEEP_ALIVE_S * 1000;
const MAX_IN_FLIGHT = 20;
/** What scheduling on two shared cores may add to a timer, on top of what is measured. */
const SLACK = 750;

interface Timed {
  at: number;
  event: EndpointStatus;
}

/** Records every status event with the time it came. Ends when the endpoint closes. */
function timeline(endpoint: { status(): AsyncIterableIterator<EndpointStatus> }): Timed[] {
  const events: Timed[] = [];
  const iterator = endpoint.status();
  (async () => {
    for await (const event of iterator) events.push({ at: performance.now(), event });
  })();
  return events;
}

function firstAfter(events: Timed[], type: EndpointStatus["type"], after: number) {
  return events.find((e) => e.event.type === type && e.at >= after);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** A numbered stream of Integer values on a0…a3, counted by a cloud subscribed on the broker. */
async function valueStream(broker: Mosquitto, uuid: string, total: number) {
  const tally = new Tally(uuid, total);
  const cloud = await connectCloud(broker.cloudUrl, {
    subscribe: [`@update/${uuid}/#`, `@delayed/${uuid}`, `@online/${uuid}`],
    onMessage: (m) => tally.message(m.topic, m.payload),
  });
  return { tally, cloud, [Symbol.asyncDispose]: () => cloud.close() };
}

function fourAttributes(endpoint: TestEndpointLike) {
  const status = endpoint.addNode("Node").addObject("Status");
  return Array.from(
    { length: 4 },
    (_, i) => status.addAttribute(`a${i}`, { type: "Integer", constraint: "Status" }),
  );
}
type TestEndpointLike = Awaited<ReturnType<typeof tlsEndpoint>>["endpoint"];

function faultOptions(url: string, more: TestEndpointOptions = {}): TestEndpointOptions {
  return {
    ...more,
    extra: {
      hostUri: url,
      keepAliveInterval: KEEP_ALIVE_S,
      connectTimeout: 2,
      maxInFlight: MAX_IN_FLIGHT,
      ...more.extra,
    },
  };
}

Deno.test(`a half-open link is noticed within 1.5 × keepAlive; the endpoint reconnects, re-births and replays with nothing lost`, async () => {
  await using broker = await startMosquitto();
  await using proxy = await startFaultProxy(broker.tlsUrl);
  const uuid = randomUuid();
  const total = 120;
  await using stream = await valueStream(broker, uuid, total);
  const { tally, cloud } = stream;
  const { endpoint, errors } = await tlsEndpoint(broker, uuid, faultOptions(proxy.url));
  await using _ = endpoint;
  const attributes = fourAttributes(endpoint);
  const events = timeline(endpoint);
  const set = (from: number, to: number) => {
    for (let v = from; v <= to; v++) attributes[v % 4].value = v;
  };
  await endpoint.connect();
  set(1, 40);
  await within(endpoint.delivered(), 5000, "the first 40 values to be acknowledged");
  // The worst moment for the drop: right after a PINGRESP (the only thing the broker sends an
  // idle endpoint), when the next PINGREQ is a whole keepAlive away.
  const idle = performance.now();
  await until(
    () => (proxy.connections[0].lastFromUpstreamAt ?? 0) > idle,
    KEEP_ALIVE + SLACK,
    "a PINGRESP from the broker",
  );
  const dropped = performance.now();
  assert.equal(proxy.blackhole(), 1, "one live connection was black-holed");
  set(41, 80); // into the dead link: published, never acknowledged
  await until(
    () => firstAfter(events, "offline", dropped) !== undefined,
    2 * KEEP_ALIVE + SLACK,
    "the endpoint to notice the half-open link",
  );
  const noticed = firstAfter(events, "offline", dropped)!.at - dropped;
  set(81, 100); // while reconnecting
  await until(
    () => firstAfter(events, "online", dropped) !== undefined,
    10_000,
    "the endpoint to be back online",
  );
  const back = firstAfter(events, "online", dropped)!.at - dropped;
  set(101, total);
  await within(endpoint.delivered(), 10_000, "every value to be acknowledged after the reconnect");
  await until(() => tally.delivered === total, 5000, `all ${total} values at the cloud`)
    .catch(() => {});
  console.log(
    `  half-open noticed after ${seconds(noticed)} (keepAlive ${seconds(KEEP_ALIVE)}), ` +
      `online again after ${seconds(back)}; ${tally.summary()}`,
  );
  assert.ok(
    noticed <= 1.5 * KEEP_ALIVE + SLACK,
    `noticed after ${seconds(noticed)}, more than 1.5 × keepAlive (${seconds(1.5 * KEEP_ALIVE)})`,
  );
  assert.deepEqual(tally.missing(), [], tally.summary());
  assert.equal(tally.outOfOrder, 0);
  assert.ok(
    tally.duplicates <= MAX_IN_FLIGHT,
    `${tally.duplicates} duplicates; at most the in-flight window (${MAX_IN_FLIGHT}) may repeat`,
  );
  // Re-birth: a second @online on the new connection, before the replayed backlog.
  const onlines = cloud.messages.filter((m) => m.topic === `@online/${uuid}`);
  assert.equal(onlines.length, 2, "one @online per connection");
  const replay = cloud.messages.findIndex((m) => m.topic === `@delayed/${uuid}`);
  assert.ok(replay > cloud.messages.indexOf(onlines[1]), "the backlog follows the new @online");
  assert.equal(proxy.connections.length, 2, "one reconnect, through the proxy");
  assertServerValid(cloud.messages, uuid); // the replayed @delayed included
  // The endpoint let go of the dead connection's socket.
  assert.equal(heldSocket(proxy.connections[0].clientPort, proxy.port), undefined);
  assert.deepEqual(errors, []);
});

Deno.test("acknowledgements lost on the way back: the endpoint sends again at most its in-flight window", async () => {
  await using broker = await startMosquitto();
  await using proxy = await startFaultProxy(broker.tlsUrl);
  const uuid = randomUuid();
  const total = 200;
  await using stream = await valueStream(broker, uuid, total);
  const { tally } = stream;
  const { endpoint, errors } = await tlsEndpoint(broker, uuid, faultOptions(proxy.url));
  await using _ = endpoint;
  const attributes = fourAttributes(endpoint);
  const events = timeline(endpoint);
  const set = (from: number, to: number) => {
    for (let v = from; v <= to; v++) attributes[v % 4].value = v;
  };
  await endpoint.connect();
  set(1, 50);
  await within(endpoint.delivered(), 5000, "the first 50 values to be acknowledged");
  const cut = performance.now();
  assert.equal(proxy.dropReturn(), 1);
  set(51, 150); // the broker gets the first window of these, the endpoint hears nothing back
  await until(
    () => firstAfter(events, "online", cut) !== undefined,
    2 * KEEP_ALIVE + 5000,
    "the endpoint to notice and reconnect",
  );
  set(151, total);
  await within(endpoint.delivered(), 10_000, "every value to be acknowledged");
  await until(() => tally.delivered === total, 5000, `all ${total} values at the cloud`)
    .catch(() => {});
  console.log(`  PUBACKs lost: ${tally.summary()} (in-flight window ${MAX_IN_FLIGHT})`);
  assert.deepEqual(tally.missing(), [], tally.summary());
  assert.equal(tally.outOfOrder, 0);
  // Exactly what was in flight when the acknowledgements stopped may come twice, nothing more:
  // a replay that sent acknowledged values again would show here.
  assert.ok(tally.duplicates > 0, "the lost acknowledgements did cause repeats");
  assert.ok(
    tally.duplicates <= MAX_IN_FLIGHT,
    `${tally.duplicates} duplicates, more than the in-flight window (${MAX_IN_FLIGHT})`,
  );
  assert.deepEqual(errors, []);
});

Deno.test("a broker that accepts but never sends CONNACK fails the attempt after connectTimeout; the next attempt succeeds", async () => {
  await using broker = await startMosquitto();
  await using proxy = await startFaultProxy(broker.tlsUrl);
  const uuid = randomUuid();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@online/${uuid}` });
  const connectTimeout = 1000;
  const { endpoint } = await tlsEndpoint(
    broker,
    uuid,
    faultOptions(proxy.url, { waitOnFirstConnect: true, extra: { connectTimeout: 1 } }),
  );
  await using _ = endpoint;
  fourAttributes(endpoint);
  const events = timeline(endpoint);
  proxy.accept = "silent";
  const connected = endpoint.connect();
  await until(
    () => events.some((e) => e.event.type === "offline"),
    connectTimeout + 2 * SLACK,
    "the silent attempt to fail",
  );
  proxy.accept = "pass";
  const attempt = events.find((e) => e.event.type === "connecting")!;
  const failed = events.find((e) => e.event.type === "offline")!;
  const took = failed.at - attempt.at;
  await within(connected, 10_000, "the next attempt to connect");
  await cloud.waitFor((m) => m.topic === `@online/${uuid}`);
  console.log(`  no CONNACK: the attempt failed after ${seconds(took)} (connectTimeout 1 s)`);
  assert.ok(
    took >= connectTimeout - 50 && took <= connectTimeout + SLACK,
    `the attempt failed after ${seconds(took)}, not about connectTimeout (1 s)`,
  );
  const error = (failed.event as { error?: Error }).error;
  assert.match(String(error?.message), /connack timeout|no CONNACK/i);
  assert.ok(proxy.connections[0].fromClient > 0, "the endpoint did start its TLS handshake");
  assert.equal(
    heldSocket(proxy.connections[0].clientPort, proxy.port),
    undefined,
    "the endpoint gave up the silent connection's socket",
  );
  assert.equal(endpoint.state, "online");
});

Deno.test("a broker that completes TLS but never sends CONNACK fails the attempt after connectTimeout", async () => {
  await using broker = await startMosquitto({ plainEndpointListener: false });
  // A TLS server with the broker's certificate that takes the CONNECT and says nothing.
  const received: number[] = [];
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({
    cert: await Deno.readTextFile(broker.pki.serverCert),
    key: await Deno.readTextFile(broker.pki.serverKey),
    ca: broker.pki.caPem,
    requestCert: true,
    rejectUnauthorized: true,
  }, (socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("data", (chunk: Uint8Array) => received.push(chunk.length));
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const port = (server.address() as { port: number }).port;
    const { endpoint } = await tlsEndpoint(
      broker,
      randomUuid(),
      faultOptions(`mqtts://127.0.0.1:${port}`, {
        waitOnFirstConnect: true,
        extra: { connectTimeout: 1 },
      }),
    );
    const events = timeline(endpoint);
    const connected = endpoint.connect();
    connected.catch(() => {});
    await until(
      () => events.some((e) => e.event.type === "offline"),
      1000 + 2 * SLACK,
      "the attempt to fail",
    );
    const attempt = events.find((e) => e.event.type === "connecting")!;
    const failed = events.find((e) => e.event.type === "offline")!;
    const took = failed.at - attempt.at;
    await endpoint.close();
    console.log(
      `  TLS but no CONNACK: the attempt failed after ${seconds(took)} (connectTimeout 1 s)`,
    );
    assert.ok(received.length > 0, "the handshake completed and the CONNECT arrived");
    assert.ok(took >= 950 && took <= 1000 + SLACK, `failed after ${seconds(took)}`);
    assert.match(String((failed.event as { error?: Error }).error?.message), /connack timeout/i);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});

Deno.test("close() settles when the peer never answers, releases the socket and keeps what was not acknowledged", async () => {
  await using broker = await startMosquitto();
  await using proxy = await startFaultProxy(broker.tlsUrl);
  const uuid = randomUuid();
  const tally = new Tally(uuid, 2);
  await using _cloud = await connectCloud(broker.cloudUrl, {
    subscribe: [`@update/${uuid}/#`, `@delayed/${uuid}`],
    onMessage: (m) => tally.message(m.topic, m.payload),
  });
  const dir = await Deno.makeTempDir({ prefix: "cloudio-close-" });
  try {
    const { endpoint } = await tlsEndpoint(
      broker,
      uuid,
      faultOptions(proxy.url, {
        // Long enough that the keep-alive does not notice first.
        extra: { persistence: "file", persistenceLocation: dir, keepAliveInterval: 60 },
      }),
    );
    const [, a, b] = fourAttributes(endpoint); // the Tally expects value v on a{v % 4}
    await endpoint.connect();
    a.value = 1;
    await within(endpoint.delivered(), 5000, "the first value to be acknowledged");
    assert.equal(proxy.blackhole(), 1);
    b.value = 2; // sent into the dead link, never acknowledged
    await endpoint.flush();
    const clientPort = proxy.connections[0].clientPort;
    const began = performance.now();
    const timeout = 1000;
    await within(endpoint.close({ timeout }), timeout + 5000, "close() with a dead peer");
    const took = performance.now() - began;
    console.log(`  close() with a peer that never answers settled after ${seconds(took)}`);
    // close() waits `timeout` for the outbox, then 1 s for the @offline, then 2 s for DISCONNECT.
    assert.ok(took <= timeout + 3000 + SLACK, `close() took ${seconds(took)}`);
    await until(
      () => heldSocket(clientPort, proxy.port) === undefined,
      1000,
      `the endpoint to release its socket (still ${heldSocket(clientPort, proxy.port)})`,
    );
    // What the broker never acknowledged is still in the store: the next run delivers it.
    const { endpoint: next } = await tlsEndpoint(broker, uuid, {
      extra: { persistence: "file", persistenceLocation: dir },
    });
    await using _ = next;
    fourAttributes(next);
    await next.connect();
    await within(next.delivered(), 5000, "the kept value to be delivered by the next run");
    await until(() => tally.complete(2), 5000, "the cloud to have both values");
    assert.equal(tally.outOfOrder, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a broker frozen with SIGSTOP loses nothing: the endpoint notices, waits and replays after SIGCONT", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  const total = 300;
  await using stream = await valueStream(broker, uuid, total);
  const { tally } = stream;
  const { endpoint, errors } = await tlsEndpoint(broker, uuid, faultOptions(broker.tlsUrl));
  await using _ = endpoint;
  const attributes = fourAttributes(endpoint);
  const events = timeline(endpoint);
  await endpoint.connect();
  let v = 0;
  const pacer = setInterval(() => {
    if (v < total) attributes[++v % 4].value = v;
  }, 20);
  try {
    await until(() => v >= 50, 5000, "50 values set");
    const paused = performance.now();
    broker.pause();
    let resumed = 0;
    try {
      await until(
        () => firstAfter(events, "offline", paused) !== undefined,
        2 * KEEP_ALIVE + SLACK,
        "the endpoint to notice the frozen broker",
      );
      // Frozen for 2.5 × keepAlive in all: attempts in between time out on the frozen broker.
      await new Promise((resolve) =>
        setTimeout(resolve, paused + 2.5 * KEEP_ALIVE - performance.now())
      );
    } finally {
      broker.resume();
      resumed = performance.now();
    }
    const noticed = firstAfter(events, "offline", paused)!.at - paused;
    await until(
      () => firstAfter(events, "online", resumed) !== undefined,
      10_000,
      "the endpoint to be back online after SIGCONT",
    );
    const back = firstAfter(events, "online", resumed)!.at - resumed;
    await until(() => v >= total, 10_000, "every value set");
    clearInterval(pacer);
    await within(endpoint.delivered(), 10_000, "every value to be acknowledged");
    await until(() => tally.delivered === total, 5000, `all ${total} values at the cloud`)
      .catch(() => {});
    const drops = events.filter((e) => e.event.type === "online").length - 1;
    console.log(
      `  SIGSTOP noticed after ${seconds(noticed)} (keepAlive ${seconds(KEEP_ALIVE)}), ` +
        `online ${seconds(back)} after SIGCONT; ${tally.summary()}`,
    );
    assert.ok(noticed <= 1.5 * KEEP_ALIVE + SLACK, `noticed after ${seconds(noticed)}`);
    assert.deepEqual(tally.missing(), [], tally.summary());
    assert.equal(tally.outOfOrder, 0);
    assert.ok(
      tally.duplicates <= MAX_IN_FLIGHT * drops,
      `${tally.duplicates} duplicates over ${drops} reconnect(s), window ${MAX_IN_FLIGHT}`,
    );
    assert.deepEqual(errors, []);
  } finally {
    clearInterval(pacer);
  }
});
