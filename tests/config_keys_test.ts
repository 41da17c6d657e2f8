/**
 * Configuration keys the endpoint does not read are reported when it connects, from a real
 * properties file and from the config option, and the keys of the references it does read work.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConfigError, Endpoint, type EndpointConfig } from "../mod.ts";
import type { CloudioError } from "../lib/errors.ts";
import { startMosquitto } from "./_broker.ts";
import { connectCloud } from "./_cloud.ts";
import { randomUuid } from "./_endpoint.ts";
import { decodePayload } from "../lib/codec/decode.ts";

Deno.test("connect() reports misspelt and unsupported keys of a properties file, and works on", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  const credentials = await broker.pki.client(uuid);
  const dir = await Deno.makeTempDir({ prefix: "cloudio-keys-" });
  try {
    const jobs = `${dir}/jobs`;
    await Deno.mkdir(jobs);
    await Deno.writeTextFile(`${jobs}/hello.sh`, "#!/bin/sh\necho hello\n", { mode: 0o755 });
    await Deno.writeTextFile(
      `${dir}/${uuid}.properties`,
      [
        `ch.hevs.cloudio.endpoint.hostUri=${broker.tlsUrl}`,
        `ch.hevs.cloudio.endpoint.ssl.authorityCert=${broker.pki.caCert}`,
        `ch.hevs.cloudio.endpoint.ssl.clientCert=${credentials.cert}`,
        `ch.hevs.cloudio.endpoint.ssl.clientKey=${credentials.key}`,
        "ch.hevs.cloudio.endpoint.persistence=memory",
        "ch.hevs.cloudio.endpoint.persistance=none",
        "ch.hevs.cloudio.endpoint.ssl.version=tlsv1.2",
        "ch.hevs.cloudio.endpoint.jobs.folder=jobs",
      ].join("\n"),
    );
    await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@execOutput/${uuid}/+` });
    const errors: CloudioError[] = [];
    await using endpoint = new Endpoint(uuid, { locations: [dir], onError: (e) => errors.push(e) });
    await endpoint.connect();
    assert.deepEqual(
      errors.map((e) => [e.name, (e as ConfigError).key, (e as ConfigError).path]),
      [
        ["ConfigError", "persistance", `${dir}/${uuid}.properties`],
        ["ConfigError", "ssl.version", `${dir}/${uuid}.properties`],
      ],
    );
    assert.match(
      errors[0].message,
      /"persistance" is unknown and is ignored: did you mean "persistence"\?/,
    );
    assert.match(errors[1].message, /"ssl.version" is not supported here/);
    // jobs.folder, the Java reference's key, is read.
    await cloud.publish(
      `@exec/${uuid}`,
      JSON.stringify({
        correlationID: "j1",
        jobURI: "file://hello.sh",
        data: "",
        sendOutput: true,
      }),
    );
    const line = await cloud.waitFor((m) => m.topic === `@execOutput/${uuid}/j1`);
    assert.equal(decodePayload(line.payload).value.data, "hello");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("connect() reports an unknown key of the config option with the key it resembles", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  const errors: CloudioError[] = [];
  // A program in JavaScript, or one that builds its configuration at run time, can misspell a
  // key that TypeScript would have refused.
  const config = { hostUri: broker.tcpUrl, persistence: "memory", keepalive: 5 } as EndpointConfig;
  await using endpoint = new Endpoint(uuid, { config, onError: (e) => errors.push(e) });
  await endpoint.connect();
  assert.equal(errors.length, 1);
  assert.ok(errors[0] instanceof ConfigError);
  assert.equal(
    errors[0].message,
    'Property "keepalive" is unknown and is ignored: did you mean "keepAliveInterval"? (the config option)',
  );
});

Deno.test("connect() points at a misspelt hostUri in the config option", async () => {
  const config = { hostURI: "mqtt://127.0.0.1:1" } as EndpointConfig;
  await using endpoint = new Endpoint(randomUuid(), { config });
  await assert.rejects(endpoint.connect(), {
    name: "ConfigError",
    key: "hostUri",
    message: /is "hostURI" meant to be "hostUri"\?/,
  });
});
