import assert from "node:assert/strict";
import { collectUntil } from "./_deadline.ts";
import { Endpoint } from "../mod.ts";
import { startLocalBroker } from "../devcloud/broker.ts";
import { type CloudEvent, DevCloud } from "../devcloud/cloud.ts";
import { startDevCloudServer } from "../devcloud/server.ts";
import type { DevCloudState } from "../devcloud/server.ts";
import type { LocalBroker } from "../devcloud/broker.ts";
import { serverProblems } from "../devcloud/strict.ts";
import { connectCloud } from "./_cloud.ts";
import { localEndpoint, nextMatching, openEvents, postJson, startStack } from "./_devcloud.ts";
import { localBrokerUnderTest } from "./_brokers.ts";
import { runScenarios } from "./_scenarios.ts";

type Of<T extends CloudEvent["type"]> = Extract<CloudEvent, { type: T }>;
const is = <T extends CloudEvent["type"]>(type: T, uuid?: string) => (e: CloudEvent): e is Of<T> =>
  e.type === type && (uuid === undefined || e.uuid === uuid);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A pump: a Measure, a SetPoint and a Parameter, with initial values for the set-points. */
function pump(broker: LocalBroker, uuid: string): Endpoint {
  const endpoint = localEndpoint(broker, uuid);
  const node = endpoint.addNode("Pump", { implements: ["PumpInterface"] });
  node.addObject("Status").addAttribute("rate", { type: "Number", constraint: "Measure" });
  const parameters = node.addObject("Parameters");
  parameters.addAttribute("target", { type: "Number", constraint: "SetPoint", value: 2.5 });
  parameters.addAttribute("label", { type: "String", constraint: "Parameter", value: "P-1" });
  return endpoint;
}

Deno.test("scenarios on the devcloud's in-process broker", async (t) => {
  await using broker = await startLocalBroker();
  await runScenarios(t, localBrokerUnderTest(broker));
});

Deno.test("DevCloud follows a real endpoint: @online with its model, @update, set → @didSet, @offline", async () => {
  await using broker = await startLocalBroker();
  await using cloud = await DevCloud.connect({ url: broker.url });
  const events = cloud.events();
  const uuid = crypto.randomUUID();
  const endpoint = pump(broker, uuid);
  try {
    await endpoint.connect();
    const online = await nextMatching(events, is("online", uuid));
    assert.deepEqual(online.nodes.Pump.implements, ["PumpInterface"]);
    assert.deepEqual(online.nodes.Pump.objects?.Parameters.attributes?.target, {
      type: "Number",
      constraint: "SetPoint",
      value: 2.5,
    });
    assert.equal(online.nodes.Pump.objects?.Status.attributes?.rate.constraint, "Measure");
    assert.equal(cloud.endpoints.get(uuid)?.online, true);

    const rate = endpoint.node("Pump")!.object("Status")!.attribute("rate")!;
    rate.value = 20;
    const update = await nextMatching(events, is("update", uuid));
    assert.equal(update.path, "Pump/Status/rate");
    assert.equal(update.via, "update");
    assert.equal(update.attribute.value, 20);
    assert.equal(update.attribute.timestamp, rate.timestamp);
    const view = cloud.endpoints.get(uuid)!;
    assert.deepEqual(view.history["Pump/Status/rate"], [{ timestamp: rate.timestamp, value: 20 }]);
    assert.deepEqual(view.rejected, [], "nothing the library sends is rejected");

    const target = endpoint.node("Pump")!.object("Parameters")!.attribute("target")!;
    const changes = target.changes();
    const result = await cloud.set(uuid, "Pump/Parameters/target", 4);
    assert.equal(result.confirmed, true);
    assert.equal(typeof result.latency, "number");
    assert.ok(result.latency! >= 0 && result.latency! < 5000, `latency ${result.latency}`);
    assert.equal(result.attribute?.value, 4);
    const change = await nextMatching(changes, () => true);
    assert.equal(change.source, "cloud");
    assert.equal(change.value, 4);
    assert.equal(target.value, 4);
    await nextMatching(events, is("didSet", uuid));

    await endpoint.close();
    await nextMatching(events, is("offline", uuid));
    assert.equal(cloud.endpoints.get(uuid)?.online, false);
  } finally {
    await endpoint.close();
  }
});

Deno.test("DevCloud reports what the real cloud would reject, and why, without applying it", async () => {
  await using broker = await startLocalBroker();
  await using cloud = await DevCloud.connect({ url: broker.url });
  const events = cloud.events();
  const uuid = crypto.randomUUID();
  const endpoint = pump(broker, uuid);
  try {
    await endpoint.connect();
    await nextMatching(events, is("online", uuid));
    const topic = `@update/${uuid}/Pump/Status/rate`;
    // A Number written as the integer token 20: JSON.stringify's mistake.
    await cloud.publish(
      topic,
      new TextEncoder().encode(
        '{"type":"Number","constraint":"Measure","timestamp":1700000000.5,"value":20}',
      ),
    );
    const integer = await nextMatching(events, is("rejected", uuid));
    assert.equal(integer.topic, topic);
    assert.deepEqual(integer.problems, [
      "$.value: not a floating-point token (write 20.0, not 20)",
    ]);
    assert.match(integer.excerpt, /"value":20\}$/);
    // An extra key.
    await cloud.publish(
      topic,
      new TextEncoder().encode(
        '{"type":"Number","constraint":"Measure","timestamp":1700000000.5,"value":20.0,"unit":"l/h"}',
      ),
    );
    const extra = await nextMatching(events, is("rejected", uuid));
    assert.deepEqual(extra.problems, ['$: unknown key "unit"']);
    // An @update of a Parameter.
    await cloud.publish(
      `@update/${uuid}/Pump/Parameters/target`,
      new TextEncoder().encode(
        '{"type":"Number","constraint":"SetPoint","timestamp":1700000000.5,"value":3.0}',
      ),
    );
    const constraint = await nextMatching(events, is("rejected", uuid));
    assert.match(constraint.problems[0], /@update is accepted only for Measure and Status/);

    const view = cloud.endpoints.get(uuid)!;
    assert.deepEqual(view.rejected.map((r) => r.problems), [
      integer.problems,
      extra.problems,
      constraint.problems,
    ]);
    assert.ok(view.rejected.every((r) => typeof r.at === "number"));
    const rate = view.nodes.Pump.objects!.Status.attributes!.rate;
    assert.equal(rate.value, undefined, "the rejected values were not applied");
    assert.equal(view.history["Pump/Status/rate"], undefined);
    assert.equal(view.nodes.Pump.objects!.Parameters.attributes!.target.value, 2.5);

    // A device nobody knows yet whose @online is refused still shows up, with the reason.
    const stranger = crypto.randomUUID();
    await cloud.publish(
      `@online/${stranger}`,
      new TextEncoder().encode('{"messageFormatVersion":2,"nodes":{}}'),
    );
    const refused = await nextMatching(events, is("rejected", stranger));
    assert.deepEqual(refused.problems, ["$.supportedFormats: required for messageFormatVersion 2"]);
    assert.equal(cloud.endpoints.get(stranger)?.online, false);
    assert.equal(cloud.endpoints.get(stranger)?.rejected.length, 1);
  } finally {
    await endpoint.close();
  }
});

Deno.test("DevCloud.logsLevel() and exec() reach a real endpoint, whose @logs and @execOutput come back", async () => {
  await using broker = await startLocalBroker();
  await using cloud = await DevCloud.connect({ url: broker.url });
  const events = cloud.events();
  const uuid = crypto.randomUUID();
  const endpoint = pump(broker, uuid);
  endpoint.addJob("selfTest", (job) => {
    job.output(`motor ok (${job.data})`);
    job.output("battery 93 %");
  });
  // A second subscriber sees the exact bytes the devcloud publishes.
  await using spy = await connectCloud(broker.url, {
    subscribe: [`@logsLevel/${uuid}`, `@exec/${uuid}`],
  });
  try {
    await endpoint.connect();
    await nextMatching(events, is("online", uuid));

    await cloud.logsLevel(uuid, "DEBUG");
    const level = await spy.waitFor((m) => m.topic === `@logsLevel/${uuid}`);
    assert.equal(text(level.payload), '{"level":"DEBUG"}');
    assert.deepEqual(serverProblems(level.topic, level.payload), []);
    assert.equal(cloud.endpoints.get(uuid)?.logsLevel, "DEBUG");
    await nextMatching(events, is("logsLevel", uuid));
    const deadline = Date.now() + 5000;
    while (endpoint.logLevel !== "DEBUG" && Date.now() < deadline) await delay(10);
    assert.equal(endpoint.logLevel, "DEBUG", "the endpoint applied the level");
    endpoint.logger("drive").debug("warming up");
    const log = await nextMatching(events, is("log", uuid));
    assert.deepEqual([log.record.level, log.record.loggerName, log.record.message], [
      "DEBUG",
      "drive",
      "warming up",
    ]);
    assert.deepEqual(cloud.endpoints.get(uuid)?.logs.map((r) => r.message), ["warming up"]);

    const id = await cloud.exec(uuid, { jobURI: "cmd://selfTest", data: "quick" });
    assert.match(id, /^[A-Za-z0-9-]+$/);
    const exec = await spy.waitFor((m) => m.topic === `@exec/${uuid}`);
    assert.deepEqual(JSON.parse(text(exec.payload)), {
      correlationID: id,
      jobURI: "cmd://selfTest",
      data: "quick",
      sendOutput: true,
    });
    assert.deepEqual(serverProblems(exec.topic, exec.payload), []);
    const first = await nextMatching(events, is("execOutput", uuid));
    assert.deepEqual([first.correlationID, first.data], [id, "motor ok (quick)"]);
    await nextMatching(events, (e) => e.type === "execOutput" && e.data === "battery 93 %");
    const job = cloud.endpoints.get(uuid)!.jobs.find((j) => j.correlationID === id)!;
    assert.deepEqual([job.jobURI, job.data, job.sendOutput], ["cmd://selfTest", "quick", true]);
    assert.deepEqual(job.output, ["motor ok (quick)", "battery 93 %"]);
    assert.deepEqual(cloud.endpoints.get(uuid)?.rejected, []);

    await assert.rejects(cloud.logsLevel(uuid, "VERBOSE" as never), RangeError);
    await assert.rejects(cloud.logsLevel(crypto.randomUUID(), "INFO"), /no such endpoint/);
    await assert.rejects(cloud.exec(uuid, { jobURI: "" }), /job URI is empty/);
    await assert.rejects(
      cloud.exec(uuid, { jobURI: "cmd://listJobs", correlationID: "a/b" }),
      /not 1 to 64 letters, digits or "-"/,
    );
  } finally {
    await endpoint.close();
  }
});

Deno.test("the devcloud server gives the state, pushes events, sets, and sends @logsLevel and @exec", async () => {
  await using stack = await startStack();
  const { broker, cloud, server } = stack;
  const uuid = crypto.randomUUID();
  const endpoint = pump(broker, uuid);
  endpoint.addJob("hello", (job) => job.output(`HELLO ${job.data}`));
  await using device = await connectCloud(broker.url, {
    subscribe: [`@logsLevel/${uuid}`, `@exec/${uuid}`],
  });
  await using stream = await openEvents(server.url);
  try {
    const snapshot = await stream.waitFor((m) => m.type === "snapshot");
    assert.equal(typeof snapshot.at, "number");
    assert.equal((snapshot.state as DevCloudState).brokerUrl, broker.url);

    await endpoint.connect();
    await stream.waitFor((m) => m.type === "online" && m.uuid === uuid);

    // GET /api/state
    const response = await fetch(new URL("api/state", server.url));
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /^application\/json/);
    const state = await response.json() as DevCloudState;
    const view = state.endpoints.find((e) => e.uuid === uuid)!;
    assert.equal(view.online, true);
    assert.deepEqual(view.nodes.Pump.objects!.Parameters.attributes!.label, {
      type: "String",
      constraint: "Parameter",
      value: "P-1",
    });
    assert.deepEqual([view.logs, view.jobs, view.rejected], [[], [], []]);
    assert.deepEqual(view.supportedFormats, ["JSON", "CBOR"]);

    // SSE pushes an @update as it happens.
    const rate = endpoint.node("Pump")!.object("Status")!.attribute("rate")!;
    rate.value = 7.25;
    const update = await stream.waitFor((m) => m.type === "update" && m.uuid === uuid);
    assert.equal(update.path, "Pump/Status/rate");
    assert.equal((update.attribute as { value: number }).value, 7.25);
    assert.equal(typeof update.at, "number");

    // POST set → @set → @didSet.
    const target = endpoint.node("Pump")!.object("Parameters")!.attribute("target")!;
    const changes = target.changes();
    const set = await postJson(server.url, `api/endpoints/${uuid}/set`, {
      path: "Pump/Parameters/target",
      value: 3.75,
    });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal(set.body.confirmed, true);
    assert.equal(typeof set.body.latency, "number");
    assert.deepEqual((set.body.attribute as { value: number }).value, 3.75);
    const change = await nextMatching(changes, () => true);
    assert.deepEqual([change.source, change.value, target.value], ["cloud", 3.75, 3.75]);
    await stream.waitFor((m) => m.type === "didSet" && m.path === "Pump/Parameters/target");

    // POST logsLevel → @logsLevel.
    const level = await postJson(server.url, `api/endpoints/${uuid}/logsLevel`, { level: "WARN" });
    assert.deepEqual([level.status, level.body], [200, { level: "WARN" }]);
    const levelMessage = await device.waitFor((m) => m.topic === `@logsLevel/${uuid}`);
    assert.equal(text(levelMessage.payload), '{"level":"WARN"}');

    // POST exec → @exec; the endpoint's output comes back through SSE.
    const exec = await postJson(server.url, `api/endpoints/${uuid}/exec`, {
      jobURI: "cmd://hello",
      data: "world",
      sendOutput: true,
    });
    assert.equal(exec.status, 200, JSON.stringify(exec.body));
    const id = exec.body.correlationID as string;
    assert.match(id, /^[A-Za-z0-9-]+$/);
    const execMessage = await device.waitFor((m) => m.topic === `@exec/${uuid}`);
    assert.deepEqual(JSON.parse(text(execMessage.payload)), {
      correlationID: id,
      jobURI: "cmd://hello",
      data: "world",
      sendOutput: true,
    });
    const output = await stream.waitFor((m) => m.type === "execOutput");
    assert.deepEqual([output.uuid, output.correlationID, output.data], [uuid, id, "HELLO world"]);

    // A set that no endpoint answers.
    const ghost = crypto.randomUUID();
    await device.publish(
      `@online/${ghost}`,
      JSON.stringify({
        version: "v0.2",
        messageFormatVersion: 2,
        supportedFormats: ["JSON"],
        nodes: {
          N: {
            implements: [],
            objects: {
              O: { objects: {}, attributes: { p: { type: "Integer", constraint: "Parameter" } } },
            },
          },
        },
      }),
    );
    await stream.waitFor((m) => m.type === "online" && m.uuid === ghost);
    const unanswered = await postJson(server.url, `api/endpoints/${ghost}/set`, {
      path: "N/O/p",
      value: 3,
      timeout: 200,
    });
    assert.deepEqual([unanswered.status, unanswered.body], [200, {
      confirmed: false,
      timeout: 200,
    }]);

    // The page and its files.
    const page = await fetch(server.url);
    assert.match(page.headers.get("content-type")!, /^text\/html/);
    assert.match(await page.text(), /data-testid="tree"/);
    for (const [file, type] of [["app.js", /^text\/javascript/], ["style.css", /^text\/css/]]) {
      const asset = await fetch(new URL(file as string, server.url));
      assert.equal(asset.status, 200, file as string);
      assert.match(asset.headers.get("content-type")!, type as RegExp);
      await asset.body?.cancel();
    }
    assert.equal(cloud.endpoints.get(uuid)?.rejected.length, 0);
  } finally {
    await endpoint.close();
  }
});

Deno.test("the devcloud server answers bad requests with a clear 4xx", async () => {
  await using stack = await startStack();
  const { broker, server } = stack;
  const uuid = crypto.randomUUID();
  const endpoint = pump(broker, uuid);
  const events = stack.cloud.events();
  try {
    await endpoint.connect();
    await nextMatching(events, is("online", uuid));
    const set = `api/endpoints/${uuid}/set`;
    const cases: [string, unknown, number, RegExp][] = [
      [set, "{not json", 400, /The body is not JSON/],
      [set, [1, 2], 400, /must be a JSON object/],
      [set, { value: 1 }, 400, /"path" must be an attribute path/],
      [
        set,
        { path: "Pump/Parameters/target" },
        400,
        /"value" must be a boolean, a number or a string/,
      ],
      [set, { path: "Pump/Parameters/target", value: null }, 400, /"value" must be/],
      [set, { path: "Pump/Parameters/target", value: 1, timeout: -1 }, 400, /"timeout" must be/],
      [set, { path: "Pump/Parameters/target", value: 1, force: true }, 400, /Unknown key "force"/],
      [set, { path: "Pump/Parameters/nope", value: 1 }, 400, /there is no such attribute/],
      [set, { path: "Pump/Status/rate", value: 1 }, 400, /a Measure attribute is not writable/],
      [set, { path: "Pump/Parameters/target", value: "fast" }, 400, /"fast" is not a valid Number/],
      [
        `api/endpoints/${uuid}/logsLevel`,
        { level: "LOUD" },
        400,
        /"level" must be one of OFF, FATAL/,
      ],
      [`api/endpoints/${uuid}/exec`, { jobURI: " " }, 400, /"jobURI" must be a non-empty string/],
      [
        `api/endpoints/${uuid}/exec`,
        { jobURI: "x", sendOutput: "yes" },
        400,
        /"sendOutput" must be/,
      ],
      [`api/endpoints/${uuid}/exec`, { jobURI: "x", data: 5 }, 400, /"data" must be a string/],
      [`api/endpoints/${crypto.randomUUID()}/set`, { path: "a/b/c", value: 1 }, 404, /no endpoint/],
      [`api/endpoints/${uuid}/reboot`, {}, 404, /There is nothing at/],
    ];
    for (const [path, body, status, message] of cases) {
      const reply = await postJson(server.url, path, body);
      assert.equal(
        reply.status,
        status,
        `${path} ${JSON.stringify(body)}: ${JSON.stringify(reply.body)}`,
      );
      assert.match(reply.body.error as string, message);
    }
    // Not JSON, another site, the wrong method.
    const plain = await fetch(new URL(set, server.url), { method: "POST", body: "{}" });
    assert.equal(plain.status, 415);
    assert.match((await plain.json()).error, /Send the body as application\/json/);
    const foreign = await postJson(server.url, set, { path: "Pump/Parameters/target", value: 1 }, {
      origin: "http://evil.example",
    });
    assert.equal(foreign.status, 403);
    const get = await fetch(new URL(set, server.url));
    assert.deepEqual([get.status, get.headers.get("allow")], [405, "POST"]);
    await get.body?.cancel();
    const target = endpoint.node("Pump")!.object("Parameters")!.attribute("target")!;
    assert.equal(target.value, 2.5, "no bad request reached the device");
    await assert.rejects(
      startDevCloudServer({ cloud: stack.cloud, hostname: "0.0.0.0" }),
      /only 127\.0\.0\.1, ::1, localhost are allowed/,
    );
  } finally {
    await endpoint.close();
  }
});

Deno.test("the devcloud's broker takes endpoints over WebSocket too", async () => {
  await using broker = await startLocalBroker({ websocketPort: 0 });
  assert.match(broker.wsUrl!, /^ws:\/\/127\.0\.0\.1:\d+\/mqtt$/);
  await using cloud = await DevCloud.connect({ url: broker.url });
  const events = cloud.events();
  const endpoint = new Endpoint(crypto.randomUUID(), {
    config: { hostUri: broker.wsUrl!, persistence: "memory" },
    onError: () => {},
  });
  const level = endpoint.addNode("Tank").addObject("Status").addAttribute("level", {
    type: "Number",
    constraint: "Measure",
  });
  await endpoint.connect();
  level.value = 0.5;
  const seen = await collectUntil(
    events,
    (event) => event.type === "update",
    5000,
    "the devcloud's update event",
  );
  assert.deepEqual(seen.map((e) => e.type), ["online", "update"]);
  const update = seen[1] as Extract<(typeof seen)[number], { type: "update" }>;
  assert.equal(update.attribute.value, 0.5);
  await endpoint.close();
});
