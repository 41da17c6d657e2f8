import assert from "node:assert/strict";
import { DroppedError, type Endpoint, StoreError } from "../mod.ts";
import { type Mosquitto, startMosquitto } from "./_broker.ts";
import { connectCloud } from "./_cloud.ts";
import { randomUuid, tlsEndpoint, until } from "./_endpoint.ts";
import { crashSoak, restartSoak, volumeSoak } from "./_soak.ts";
import { Tally } from "./_tally.ts";
import { within } from "./_deadline.ts";

Deno.test("10,000 updates while the broker is stopped and restarted 20 times: every value arrives in order", async () => {
  const { tally, outbox } = await restartSoak({
    updates: 10_000,
    attributes: 5,
    restarts: 20,
    persistence: "file",
  });
  console.log(
    `  ${tally.summary()}; ${tally.messages["@delayed"] ?? 0} @delayed, ${outbox?.batches} batches`,
  );
  assert.deepEqual(tally.missing(), [], tally.summary());
  assert.equal(tally.delivered, 10_000);
  assert.equal(tally.outOfOrder, 0);
  assert.ok((tally.messages["@delayed"] ?? 0) > 0, "the backlog went out as @delayed");
  assert.deepEqual(outbox?.dropped, { full: 0, offline: 0 });
});

Deno.test("the same with a memory outbox and direct replay", async () => {
  const { tally } = await restartSoak({
    updates: 3_000,
    attributes: 3,
    restarts: 6,
    persistence: "memory",
    replay: "direct",
    format: "JSON",
  });
  assert.deepEqual(tally.missing(), [], tally.summary());
  assert.equal(tally.outOfOrder, 0);
  assert.equal(tally.messages["@delayed"] ?? 0, 0, "direct replay sends no @delayed");
});

Deno.test("an endpoint process killed with SIGKILL delivers every value it reported durable after restart", async () => {
  const { tally, durable } = await crashSoak({
    updates: 100_000,
    attributes: 5,
    stopBrokerAfter: 500,
    killAfter: 2_000,
  });
  console.log(`  durable ${durable}; ${tally.summary(durable)}`);
  assert.ok(durable >= 2_000);
  assert.ok(tally.complete(durable), `missing: ${tally.missing()}`);
  assert.equal(tally.outOfOrder, 0);
});

Deno.test("updates queued offline on disk hold no memory per value and replay completely", async () => {
  // The heap in use after a full GC must not depend on how many values wait on disk.
  const small = await volumeSoak(2_000);
  const large = await volumeSoak(40_000);
  for (const run of [small, large]) {
    console.log(
      `  ${run.tally.summary()}; heap after GC ${(run.heap / 2 ** 20).toFixed(1)} MiB, ` +
        `peak RSS ${(run.rss / 2 ** 20).toFixed(0)} MiB, replayed in ${run.drainMs} ms`,
    );
    assert.deepEqual(run.tally.missing(), [], run.tally.summary());
    assert.equal(run.tally.outOfOrder, 0);
  }
  assert.ok(
    large.heap < small.heap + 4 * 2 ** 20,
    `heap ${small.heap} → ${large.heap} for 20× the backlog`,
  );
});

Deno.test("a full outbox drops the oldest values, counts them and reports them", async () => {
  await using broker = await startMosquitto({ persistence: true });
  const uuid = randomUuid();
  const tally = new Tally(uuid, 50);
  await using _cloud = await connectCloud(broker.cloudUrl, {
    subscribe: [`@update/${uuid}/#`, `@delayed/${uuid}`],
    clean: false,
    clientId: `full-${uuid.slice(0, 8)}`,
    onMessage: (m) => tally.message(m.topic, m.payload),
  });
  const { endpoint, errors } = await tlsEndpoint(broker, uuid, {
    limits: { updates: { messages: 10 } },
  });
  await using _ = endpoint;
  const a = endpoint.addNode("Node").addObject("Status").addAttribute("a0", {
    type: "Integer",
    constraint: "Status",
  });
  const drops: number[] = [];
  (async () => {
    for await (const event of endpoint.status()) {
      if (event.type === "dropped") drops.push(event.total);
    }
  })();
  await endpoint.connect();
  await broker.stop();
  await until(() => endpoint.state !== "online");
  for (let v = 1; v <= 50; v++) a.value = v;
  assert.equal(endpoint.outbox?.dropped.full, 40);
  await broker.start();
  await until(() => endpoint.state === "online", 10_000);
  await within(endpoint.delivered(), 10_000, "the kept values to be acknowledged");
  await until(() => tally.delivered >= 10);
  assert.deepEqual(
    tally.missing(50),
    Array.from({ length: 40 }, (_, i) => i + 1),
    "the oldest 40 went",
  );
  assert.equal(drops.length, 40);
  const reported = errors.filter((e) => e instanceof DroppedError) as DroppedError[];
  assert.ok(reported.length >= 1);
  assert.equal(reported[0].reason, "full");
});

/**
 * Takes the broker away, sets values 1…20 on `a0`, brings it back, and checks that every one
 * arrives: what "buffers in memory" promises.
 */
async function buffersWhileOffline(
  broker: Mosquitto,
  endpoint: Endpoint,
  uuid: string,
  tally: Tally,
): Promise<void> {
  const a = endpoint.addNode("Node").addObject("Status").addAttribute("a0", {
    type: "Integer",
    constraint: "Status",
  });
  await endpoint.connect();
  await broker.stop();
  await until(() => endpoint.state !== "online", 5000, "the endpoint to notice");
  for (let v = 1; v <= tally.total; v++) a.value = v;
  assert.equal(endpoint.outbox?.pending.updates.messages, tally.total, "held while offline");
  await broker.start();
  await until(() => endpoint.state === "online", 10_000, "the endpoint to reconnect");
  await within(endpoint.delivered(), 10_000, "the buffered values to be acknowledged");
  await until(() => tally.delivered === tally.total, 5000, "every value at the cloud")
    .catch(() => {});
  assert.deepEqual(tally.missing(), [], `${uuid}: ${tally.summary()}`);
  assert.equal(tally.outOfOrder, 0);
}

/** A broker whose cloud session survives restarts, and a tally of one endpoint's values. */
async function restartableCloud(uuid: string) {
  const broker = await startMosquitto({ persistence: true });
  const tally = new Tally(uuid, 20);
  const cloud = await connectCloud(broker.cloudUrl, {
    subscribe: [`@update/${uuid}/#`, `@delayed/${uuid}`],
    clean: false,
    clientId: `mem-${uuid.slice(0, 8)}`,
    onMessage: (m) => tally.message(m.topic, m.payload),
  });
  return {
    broker,
    tally,
    async [Symbol.asyncDispose]() {
      await cloud.close();
      await broker[Symbol.asyncDispose]();
    },
  };
}

Deno.test("an outbox directory that cannot be created is reported and the endpoint buffers in memory", async () => {
  const uuid = randomUuid();
  await using setup = await restartableCloud(uuid);
  const { broker, tally } = setup;
  // A path below a regular file cannot be a directory, even for root.
  const { endpoint, errors } = await tlsEndpoint(broker, uuid, {
    extra: { persistence: "file", persistenceLocation: "/dev/null/outbox" },
  });
  await using _ = endpoint;
  await buffersWhileOffline(broker, endpoint, uuid, tally);
  const error = errors.find((e) => e instanceof StoreError) as StoreError | undefined;
  assert.ok(error, "a StoreError was reported");
  assert.match(error.message, /\/dev\/null\/outbox.*buffering in memory/);
});

Deno.test("a corrupt outbox file is reported, left alone, and the endpoint buffers in memory", async () => {
  const uuid = randomUuid();
  await using setup = await restartableCloud(uuid);
  const { broker, tally } = setup;
  const dir = await Deno.makeTempDir({ prefix: "cloudio-corrupt-" });
  try {
    const garbage = new TextEncoder().encode("SQLite format 3\0 but not really ".repeat(100));
    await Deno.writeFile(`${dir}/${uuid}.outbox.sqlite`, garbage);
    const { endpoint, errors } = await tlsEndpoint(broker, uuid, {
      extra: { persistence: "file", persistenceLocation: dir },
    });
    await using _ = endpoint;
    await buffersWhileOffline(broker, endpoint, uuid, tally);
    assert.ok(
      errors.some((e) => e instanceof StoreError && e.path === `${dir}/${uuid}.outbox.sqlite`),
    );
    assert.deepEqual(
      await Deno.readFile(`${dir}/${uuid}.outbox.sqlite`),
      garbage,
      "left untouched",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a store whose disk fills up mid-run is reported; the endpoint goes on in memory and every value arrives", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  const total = 3000;
  const tally = new Tally(uuid, total);
  await using _cloud = await connectCloud(broker.cloudUrl, {
    subscribe: [`@update/${uuid}/#`, `@delayed/${uuid}`],
    record: false,
    onMessage: (m) => tally.message(m.topic, m.payload),
  });
  const dir = await Deno.makeTempDir({ prefix: "cloudio-full-" });
  try {
    const child = new URL("./_endpoint_child.ts", import.meta.url).pathname;
    const args = [
      "run",
      "-A",
      child,
      ...["--url", broker.tcpUrl, "--uuid", uuid, "--store", dir, "--count", String(total)],
      ...["--attributes", "5", "--flush-every", "100", "--pace", "5"],
    ].map((a) => `'${a}'`).join(" ");
    // A file size limit is how a full disk looks to a process: its writes past it fail (EFBIG).
    const process = new Deno.Command("sh", {
      args: ["-c", `trap '' XFSZ; ulimit -f 256; exec '${Deno.execPath()}' ${args}`],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const { code, stdout, stderr } = await within(
      process.output(),
      60_000,
      "the endpoint process to deliver and exit",
    ).catch((error) => {
      process.kill("SIGKILL");
      throw error;
    });
    const out = new TextDecoder().decode(stdout);
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `exit code ${code}\n${out}\n${err}`);
    assert.match(out, /^DURABLE \d+$/m, "the store worked at first");
    assert.match(out, /^NOT-DURABLE \d+: Cannot commit the outbox store .*memory/m);
    assert.match(err, /^error: Cannot (commit|append to) the outbox store .*in memory/m);
    assert.match(out, /^DRAINED \d+$/m);
    await until(() => tally.delivered === total, 5000, `all ${total} values`).catch(() => {});
    console.log(`  disk full mid-run: ${tally.summary()}`);
    assert.deepEqual(tally.missing(), [], tally.summary());
    assert.equal(tally.outOfOrder, 0);
    assert.equal(tally.duplicates, 0, "no reconnect, so nothing was sent twice");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
