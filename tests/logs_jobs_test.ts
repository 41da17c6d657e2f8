import assert from "node:assert/strict";
import type { ProtocolError } from "../mod.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import { serverProblems } from "../devcloud/strict.ts";
import { startMosquitto } from "./_broker.ts";
import { connectCloud, type Received } from "./_cloud.ts";
import { randomUuid, tlsEndpoint, until } from "./_endpoint.ts";
import { within } from "./_deadline.ts";

const body = (m: Received) => decodePayload(m.payload).value;

function assertServerValid(messages: Received[]): void {
  for (const m of messages) assert.deepEqual(serverProblems(m.topic, m.payload), [], m.topic);
}

Deno.test("logger() ships records at or above the cloud's level as @logs", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@logs/${uuid}` });
  const { endpoint } = await tlsEndpoint(broker, uuid, { format: "CBOR" });
  await using _ = endpoint;
  const log = endpoint.logger("drive");
  log.error("before connect: not shipped");
  await endpoint.connect();
  assert.equal(endpoint.logLevel, "ERROR");
  log.debug("below the level: not shipped");
  log.error("motor stalled at", 1200, "rpm", { phase: 2 });
  const record = body(await cloud.waitFor(() => true));
  assert.equal(record.level, "ERROR");
  assert.equal(record.message, 'motor stalled at 1200 rpm {"phase":2}');
  assert.equal(record.loggerName, "drive");
  assert.match(record.logSource as string, /^logs_jobs_test\.ts:\d+$/);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(cloud.messages.length, 1);
  assertServerValid(cloud.messages);
});

Deno.test("@logsLevel changes the level at once and the level survives a restart", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  const store = await Deno.makeTempDir({ prefix: "cloudio-level-" });
  try {
    await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@logs/${uuid}` });
    const extra = { persistence: "file", persistenceLocation: store };
    const first = await tlsEndpoint(broker, uuid, { extra });
    await first.endpoint.connect();
    await cloud.publish(`@logsLevel/${uuid}`, JSON.stringify({ level: "DEBUG" }));
    await until(() => first.endpoint.logLevel === "DEBUG");
    first.endpoint.logger("a").debug("now shipped");
    await cloud.waitFor((m) => body(m).message === "now shipped");
    await first.endpoint.close();
    // A new process on the same store: the cloud never sends the level again.
    const second = await tlsEndpoint(broker, uuid, { extra });
    await using _ = second.endpoint;
    await second.endpoint.connect();
    assert.equal(second.endpoint.logLevel, "DEBUG");
    second.endpoint.logger("a").debug("still shipped");
    await cloud.waitFor((m) => body(m).message === "still shipped");
    await cloud.publish(`@logsLevel/${uuid}`, JSON.stringify({ level: "LOUD" }));
    await until(() => second.errors.length > 0);
    assert.equal((second.errors[0] as ProtocolError).code, "wrong-type");
    assert.equal(second.endpoint.logLevel, "DEBUG");
  } finally {
    await Deno.remove(store, { recursive: true });
  }
});

Deno.test("logs are rate-limited, and the suppressed ones are counted in one record", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@logs/${uuid}` });
  const { endpoint } = await tlsEndpoint(broker, uuid, { logRate: { rate: 1, burst: 5 } });
  await using _ = endpoint;
  await endpoint.connect();
  const log = endpoint.logger("noisy");
  for (let i = 0; i < 50; i++) log.error(`record ${i}`);
  await within(endpoint.delivered(), 10_000, "the records to be acknowledged");
  await new Promise((resolve) => setTimeout(resolve, 1100));
  log.error("after a second");
  await cloud.waitFor((m) => body(m).message === "after a second");
  const messages = cloud.messages.map((m) => body(m).message);
  assert.deepEqual(messages.slice(0, 5), [
    "record 0",
    "record 1",
    "record 2",
    "record 3",
    "record 4",
  ]);
  assert.equal(messages[5], "45 log records were suppressed by the rate limit");
  assert.equal(messages.length, 7);
  // The cloud asked for ERROR only (the default): the notice too is shipped at ERROR.
  assert.deepEqual(new Set(cloud.messages.map((m) => body(m).level)), new Set(["ERROR"]));
});

Deno.test("the rate limit's notice is not shipped when the cloud's level no longer lets it pass", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@logs/${uuid}` });
  const { endpoint } = await tlsEndpoint(broker, uuid, {
    logRate: { rate: 1, burst: 1 },
    logLevel: "WARN",
  });
  await using _ = endpoint;
  await endpoint.connect();
  const log = endpoint.logger("noisy");
  for (let i = 0; i < 10; i++) log.warn(`warning ${i}`); // one goes, nine are suppressed
  await cloud.publish(`@logsLevel/${uuid}`, JSON.stringify({ level: "ERROR" }));
  await until(() => endpoint.logLevel === "ERROR", 5000, "the new level");
  await new Promise((resolve) => setTimeout(resolve, 1100));
  log.error("an error");
  await cloud.waitFor((m) => body(m).message === "an error");
  assert.deepEqual(cloud.messages.map((m) => [body(m).level, body(m).message]), [
    ["WARN", "warning 0"],
    ["ERROR", "an error"],
  ]);
});

Deno.test("logs wait in the outbox while offline; the library's own errors never become @logs", async () => {
  await using broker = await startMosquitto({ persistence: true });
  const uuid = randomUuid();
  await using cloud = await connectCloud(broker.cloudUrl, {
    subscribe: [`@logs/${uuid}`, `@delayed/${uuid}`],
    clean: false,
    clientId: `logs-${uuid.slice(0, 8)}`,
  });
  // The default error handler prints with console.warn, which is bridged to @logs here.
  const printed: string[] = [];
  const original = console.warn;
  console.warn = (...parts: unknown[]) => printed.push(parts.join(" "));
  try {
    const { endpoint } = await tlsEndpoint(broker, uuid, { onError: undefined, logLevel: "WARN" });
    await using _ = endpoint;
    using _bridge = endpoint.bridgeConsole();
    await endpoint.connect();
    await broker.stop();
    await until(() => endpoint.state !== "online");
    endpoint.logger("app").warn("written while offline");
    console.warn("a console warning while offline");
    await broker.start();
    await until(() => endpoint.state === "online", 10_000);
    // A bad @set makes the library report an error through console.warn: printed, not shipped.
    await cloud.publish(`@set/${uuid}/nope/nope/nope`, JSON.stringify({ value: 1 }));
    await until(() => printed.some((line) => /cloudio: Cannot apply the @set/.test(line)));
    await within(endpoint.delivered(), 10_000, "the records to be acknowledged");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const shipped = cloud.messages.flatMap((m) =>
      m.topic.startsWith("@delayed/")
        // deno-lint-ignore no-explicit-any
        ? (body(m).messages as any[]).map((inner) => inner.data.message)
        : [body(m).message]
    );
    assert.deepEqual(shipped, ["written while offline", "a console warning while offline"]);
    assertServerValid(cloud.messages);
  } finally {
    console.warn = original;
  }
});

Deno.test("remote jobs: listJobs, output line by line, unknown, failing, timed out and silent jobs", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@execOutput/${uuid}/+` });
  const { endpoint, errors } = await tlsEndpoint(broker, uuid, { format: "CBOR" });
  await using _ = endpoint;
  let ran = 0;
  endpoint.addJob("count", async (job) => {
    ran++;
    for (let i = 1; i <= Number(job.data); i++) {
      job.output(`line ${i}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  });
  endpoint.addJob("boom", () => {
    throw new Error("sensor unplugged");
  });
  endpoint.addJob(
    "slow",
    (job) => new Promise<void>((resolve) => job.signal.addEventListener("abort", () => resolve())),
    {
      timeout: 200,
    },
  );
  assert.throws(() => endpoint.addJob("listJobs", () => {}), TypeError);
  assert.throws(() => endpoint.addJob("a/b", () => {}), TypeError);
  await endpoint.connect();
  const exec = (correlationID: string, jobURI: string, data = "", sendOutput = true) =>
    cloud.publish(`@exec/${uuid}`, JSON.stringify({ correlationID, jobURI, data, sendOutput }));
  const lines = async (cid: string, n: number) =>
    (await cloud.waitForCount((m) => m.topic === `@execOutput/${uuid}/${cid}`, n)).map((m) =>
      body(m).data
    );

  await exec("j1", "cmd://listJobs");
  assert.deepEqual(await lines("j1", 4), [
    "cmd://listJobs",
    "cmd://count",
    "cmd://boom",
    "cmd://slow",
  ]);
  await exec("j2", "cmd://count", "3");
  assert.deepEqual(await lines("j2", 3), ["line 1", "line 2", "line 3"]);
  await exec("j3", "cmd://nope");
  assert.deepEqual(await lines("j3", 1), [
    "Job cmd://nope is not supported by this endpoint (try cmd://listJobs)",
  ]);
  await exec("j4", "cmd://boom");
  assert.deepEqual(await lines("j4", 1), ["Job cmd://boom failed: sensor unplugged"]);
  await exec("j5", "cmd://slow");
  assert.deepEqual(await lines("j5", 1), ["Job cmd://slow timed out after 200 ms"]);
  await exec("j6", "cmd://count", "2", false); // runs, says nothing
  await until(() => ran === 2);
  await exec("j7", "file://../../bin/sh"); // no folder configured: refused
  assert.deepEqual(await lines("j7", 1), [
    "Job file://../../bin/sh is not supported by this endpoint (try cmd://listJobs)",
  ]);
  // A correlation ID that cannot be a topic level is refused before anything is published.
  await exec("bad/id", "cmd://listJobs");
  await exec("bad.id", "cmd://listJobs");
  await until(() => errors.length === 2);
  assert.deepEqual(errors.map((e) => (e as ProtocolError).code), [
    "invalid-topic",
    "invalid-topic",
  ]);
  await cloud.publish(
    `@exec/${uuid}`,
    JSON.stringify({ correlationID: 5, jobURI: "cmd://listJobs" }),
  );
  await until(() => errors.length === 3);
  assert.equal((errors[2] as ProtocolError).code, "malformed-payload");
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(cloud.messages.filter((m) => m.topic.endsWith("/j6")).length, 0);
  assertServerValid(cloud.messages);
});

Deno.test("file:// jobs run programs from the configured folder only, without a shell", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  const folder = await Deno.makeTempDir({ prefix: "cloudio-jobs-" });
  try {
    await Deno.writeTextFile(
      `${folder}/report.sh`,
      '#!/bin/sh\necho "args: $*"\necho second >&2\nexit 3\n',
      { mode: 0o755 },
    );
    await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@execOutput/${uuid}/+` });
    const { endpoint } = await tlsEndpoint(broker, uuid, { jobs: { folder } });
    await using _ = endpoint;
    await endpoint.connect();
    const exec = (correlationID: string, jobURI: string, data = "") =>
      cloud.publish(
        `@exec/${uuid}`,
        JSON.stringify({ correlationID, jobURI, data, sendOutput: true }),
      );
    await exec("f1", "file://report.sh", "a; rm -rf / $(id)");
    const out = (await cloud.waitForCount((m) => m.topic.endsWith("/f1"), 3)).map((m) =>
      body(m).data
    ).sort();
    // The data became plain arguments: no shell interpreted them.
    assert.deepEqual(
      out,
      ["Job file://report.sh exited with code 3", "args: a; rm -rf / $(id)", "second"].sort(),
    );
    for (
      const [cid, uri] of [["f2", "file://../report.sh"], ["f3", "file:///bin/sh"], [
        "f4",
        "file://.hidden",
      ]]
    ) {
      await exec(cid, uri);
      const [line] = await cloud.waitForCount((m) => m.topic.endsWith(`/${cid}`), 1);
      assert.match(body(line).data as string, /is not supported/);
    }
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("close() cancels running jobs", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  await using cloud = await connectCloud(broker.cloudUrl);
  const { endpoint } = await tlsEndpoint(broker, uuid);
  let started = false, aborted = false;
  endpoint.addJob("forever", (job) =>
    new Promise<void>((resolve) => {
      started = true;
      job.signal.addEventListener("abort", () => {
        aborted = true;
        resolve();
      });
    }), { timeout: 60_000 });
  await endpoint.connect();
  await cloud.publish(
    `@exec/${uuid}`,
    JSON.stringify({ correlationID: "c", jobURI: "cmd://forever", data: "", sendOutput: false }),
  );
  await until(() => started);
  await endpoint.close();
  assert.equal(aborted, true);
});
