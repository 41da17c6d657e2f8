/**
 * A UUID written with capitals, in a file name, a property or the endpoint's name, works as the
 * cloud's lower-case UUID everywhere, against a real mosquitto whose ACL is keyed on the
 * certificate's (lower-case) CN; a certificate issued for the capitalised form is refused early.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConfigError, Endpoint, type EndpointOptions } from "../mod.ts";
import type { CloudioError } from "../lib/errors.ts";
import { type Mosquitto, startMosquitto } from "./_broker.ts";
import { connectCloud } from "./_cloud.ts";
import { tlsEndpoint, UUID } from "./_endpoint.ts";

const UPPER = UUID.toUpperCase();

async function propertiesFile(
  broker: Mosquitto,
  dir: string,
  file: string,
  extra = "",
): Promise<void> {
  const credentials = await broker.pki.client(UUID);
  await Deno.writeTextFile(
    `${dir}/${file}.properties`,
    [
      `ch.hevs.cloudio.endpoint.hostUri=${broker.tlsUrl}`,
      `ch.hevs.cloudio.endpoint.ssl.authorityCert=${broker.pki.caCert}`,
      `ch.hevs.cloudio.endpoint.ssl.clientCert=${credentials.cert}`,
      `ch.hevs.cloudio.endpoint.ssl.clientKey=${credentials.key}`,
      "ch.hevs.cloudio.endpoint.persistence=memory",
      extra,
    ].join("\n"),
  );
}

/** Connects, then checks the endpoint is heard and obeyed under the lower-case UUID. */
async function assertWorks(broker: Mosquitto, name: string, options: EndpointOptions) {
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
  const errors: CloudioError[] = [];
  await using endpoint = new Endpoint(name, { ...options, onError: (e) => errors.push(e) });
  const on = endpoint.addNode("Lamp").addObject("Parameters").addAttribute("on", {
    type: "Boolean",
    constraint: "Parameter",
    value: false,
  });
  await endpoint.connect();
  assert.equal(endpoint.uuid, UUID);
  await cloud.waitFor((m) => m.topic === `@online/${UUID}`);
  // The cloud writes the lower-case form.
  await cloud.publish(
    `@set/${UUID}/Lamp/Parameters/on`,
    JSON.stringify({ value: true, timestamp: Date.now() / 1000 }),
  );
  await cloud.waitFor((m) => m.topic === `@didSet/${UUID}/Lamp/Parameters/on`);
  assert.equal(on.value, true);
  assert.deepEqual(errors, []);
  assert.ok(!cloud.messages.some((m) => m.topic.includes(UPPER)), "nothing under the capitals");
}

Deno.test("a properties file named with a capitalised UUID is found and used under the lower-case UUID", async () => {
  await using broker = await startMosquitto({ logTypes: ["all"] });
  const dir = await Deno.makeTempDir({ prefix: "cloudio-uuid-" });
  try {
    await propertiesFile(broker, dir, UPPER);
    await assertWorks(broker, UPPER, { locations: [dir] });
    assert.ok(!/Denied PUBLISH/.test(broker.output()), "no publish was refused by the ACL");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a capitalised UUID as the endpoint's name finds the lower-case file", async () => {
  await using broker = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "cloudio-uuid-" });
  try {
    await propertiesFile(broker, dir, UUID);
    await assertWorks(broker, UPPER, { locations: [dir] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a capitalised uuid property is used in its lower-case form", async () => {
  await using broker = await startMosquitto();
  const dir = await Deno.makeTempDir({ prefix: "cloudio-uuid-" });
  try {
    await propertiesFile(broker, dir, "lamp", `ch.hevs.cloudio.endpoint.uuid=${UPPER}`);
    await assertWorks(broker, "lamp", { locations: [dir] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a capitalised UUID given with the config option is used in its lower-case form", async () => {
  await using broker = await startMosquitto();
  const credentials = await broker.pki.client(UUID);
  await assertWorks(broker, UPPER, {
    config: {
      hostUri: broker.tlsUrl,
      "ssl.authorityCert": broker.pki.caCert,
      "ssl.clientCert": credentials.cert,
      "ssl.clientKey": credentials.key,
      persistence: "memory",
    },
  });
});

Deno.test("a client certificate issued for the capitalised UUID is refused before connecting", async () => {
  await using broker = await startMosquitto();
  const { endpoint } = await tlsEndpoint(broker, UUID, {
    credentials: await broker.pki.client(UPPER).then((c) => ({
      ca: broker.pki.caPem,
      cert: c.certPem,
      key: c.keyPem,
    })),
  });
  await using _ = endpoint;
  await assert.rejects(endpoint.connect(), (error: Error) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.key, "ssl.clientCert");
    assert.match(error.message, new RegExp(`CN "${UPPER}" is not the lower-case UUID ${UUID}`));
    return true;
  });
});
