import assert from "node:assert/strict";
import { ConfigError, ConnectionError, type EndpointStatus } from "../mod.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import { startMosquitto } from "./_broker.ts";
import { connectCloud } from "./_cloud.ts";
import { randomUuid, tlsEndpoint, until } from "./_endpoint.ts";
import { Tally } from "./_tally.ts";
import { within } from "./_deadline.ts";

Deno.test("a certificate for another uuid is refused before connecting, naming both", async () => {
  await using broker = await startMosquitto({ logTypes: ["all"] });
  const uuid = randomUuid();
  const other = await broker.pki.client(randomUuid());
  const { endpoint } = await tlsEndpoint(broker, uuid, {
    extra: { "ssl.clientCert": other.cert, "ssl.clientKey": other.key },
  });
  await assert.rejects(() => endpoint.connect(), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.key, "ssl.clientCert");
    assert.match(error.message, new RegExp(`is for ".+", not for this endpoint ${uuid}`));
    return true;
  });
  await endpoint.close();
  assert.ok(!broker.output().includes(uuid), "no connection was attempted");
});

Deno.test("the certificate's expiry is observable ahead of time", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  const soon = await broker.pki.client(uuid, { days: 10 });
  const { endpoint, errors } = await tlsEndpoint(broker, uuid, {
    extra: { "ssl.clientCert": soon.cert, "ssl.clientKey": soon.key },
  });
  await using _ = endpoint;
  const events: EndpointStatus[] = [];
  (async () => {
    for await (const event of endpoint.status()) events.push(event);
  })();
  await endpoint.connect();
  const certificate = events.find((e) => e.type === "certificate") as Extract<
    EndpointStatus,
    { type: "certificate" }
  >;
  assert.equal(certificate.commonName, uuid);
  assert.ok(Math.abs(certificate.expiresIn - 10 * 86_400_000) < 86_400_000);
  assert.ok(errors.some((e) => e instanceof ConfigError && /expires in 9 days/.test(e.message)));
});

Deno.test("a private key file others can read gets a warning", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  const credentials = await broker.pki.client(uuid);
  const dir = await Deno.makeTempDir();
  try {
    const key = `${dir}/key.pem`;
    await Deno.writeTextFile(key, credentials.keyPem, { mode: 0o644 });
    await Deno.chmod(key, 0o644);
    const { endpoint, errors } = await tlsEndpoint(broker, uuid, {
      extra: { "ssl.clientKey": key },
    });
    await using _ = endpoint;
    await endpoint.connect();
    assert.ok(
      errors.some((e) => /can be read by others \(mode 644\): chmod 600 it/.test(e.message)),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A TLS front on loopback with a certificate for another host name, piping to a plain listener. */
function tlsFront(target: number, cert: string, key: string) {
  const listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
  const conns = new Set<Deno.Conn>();
  const serving = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        try {
          const upstream = await Deno.connect({ hostname: "127.0.0.1", port: target });
          conns.add(upstream);
          await Promise.allSettled([
            conn.readable.pipeTo(upstream.writable),
            upstream.readable.pipeTo(conn.writable),
          ]);
        } catch {
          // The client gave up during the handshake.
        }
      })();
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch {
          // Closed already.
        }
      }
      await serving.catch(() => {});
    },
  };
}

Deno.test("a broker certificate for another host name is refused unless verifyHostname is off", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  const server = await broker.pki.server("broker.other.example");
  const front = tlsFront(Number(new URL(broker.tcpUrl).port), server.certPem, server.keyPem);
  try {
    const strict = await tlsEndpoint(broker, uuid, {
      extra: { hostUri: `mqtts://127.0.0.1:${front.port}` },
    });
    await assert.rejects(() => strict.endpoint.connect(), (error: unknown) => {
      assert.ok(error instanceof ConnectionError);
      assert.match(error.message, /TLS handshake .* failed: .*(altname|Host|match|name)/i);
      return true;
    });
    await strict.endpoint.close();
    const lax = await tlsEndpoint(broker, uuid, {
      extra: { hostUri: `mqtts://127.0.0.1:${front.port}`, "ssl.verifyHostname": false },
    });
    await lax.endpoint.connect();
    assert.equal(lax.endpoint.state, "online");
    await lax.endpoint.close();
  } finally {
    await front.close();
  }
});

Deno.test("key material never appears in errors, console output or @logs", async () => {
  await using broker = await startMosquitto();
  const uuid = randomUuid();
  const credentials = await broker.pki.client(uuid);
  const keyBody = credentials.keyPem.split("\n").filter((l) => l && !l.startsWith("-----"));
  const captured: string[] = [];
  const originals = { warn: console.warn, error: console.error, log: console.log };
  for (const method of ["warn", "error", "log"] as const) {
    console[method] = (...parts: unknown[]) => captured.push(parts.map(String).join(" "));
  }
  try {
    await using cloud = await connectCloud(broker.cloudUrl, { subscribe: `@logs/${uuid}` });
    // Failure paths first: a key given as the certificate, the certificate as the key, a wrong CA.
    const failures: Record<string, string>[] = [
      { "ssl.clientCert": credentials.key },
      { "ssl.clientKey": credentials.cert },
      { "ssl.authorityCert": broker.pki.otherCaCert },
    ];
    for (const extra of failures) {
      const { endpoint } = await tlsEndpoint(broker, uuid, { extra, onError: undefined });
      await endpoint.connect().catch((error) =>
        captured.push(String(error), String((error as Error).cause ?? ""))
      );
      await endpoint.close();
    }
    // Then a working endpoint that logs, with the console bridged and a bad @set reported.
    const { endpoint } = await tlsEndpoint(broker, uuid, { onError: undefined, logLevel: "ALL" });
    await using _ = endpoint;
    using _bridge = endpoint.bridgeConsole();
    await endpoint.connect();
    endpoint.logger().info("configured from", credentials.key);
    await cloud.publish(`@set/${uuid}/x/y/z`, "garbage");
    await cloud.waitFor(() => true);
    await until(() => captured.some((l) => /Cannot (apply|decode)/.test(l)));
    const shipped = cloud.messages.map((m) => String(decodePayload(m.payload).value.message));
    const everything = [...captured, ...shipped].join("\n");
    assert.ok(captured.length >= 3, "the failures were reported");
    assert.ok(!/PRIVATE KEY/.test(everything), "no PEM key block");
    for (const line of keyBody) {
      assert.ok(!everything.includes(line), "no line of the key's base64");
    }
  } finally {
    Object.assign(console, originals);
  }
});

Deno.test("a certificate swapped on disk is used at the next reconnect, with nothing lost", async () => {
  await using broker = await startMosquitto({ persistence: true });
  const uuid = randomUuid();
  const tally = new Tally(uuid, 30);
  await using _cloud = await connectCloud(broker.cloudUrl, {
    subscribe: [`@update/${uuid}/#`, `@delayed/${uuid}`],
    clean: false,
    clientId: `rotate-${uuid.slice(0, 8)}`,
    onMessage: (m) => tally.message(m.topic, m.payload),
  });
  const dir = await Deno.makeTempDir({ prefix: "cloudio-rotate-" });
  try {
    const install = async (c: { certPem: string; keyPem: string }) => {
      await Deno.writeTextFile(`${dir}/cert.pem`, c.certPem);
      await Deno.writeTextFile(`${dir}/key.pem`, c.keyPem, { mode: 0o600 });
    };
    await install(await broker.pki.client(uuid, { days: 20 }));
    const { endpoint, errors, connection } = await tlsEndpoint(broker, uuid, {
      extra: { "ssl.clientCert": `${dir}/cert.pem`, "ssl.clientKey": `${dir}/key.pem` },
    });
    await using _ = endpoint;
    const certificates: number[] = [];
    (async () => {
      for await (const event of endpoint.status()) {
        if (event.type === "certificate") certificates.push(event.notAfter);
      }
    })();
    const a = endpoint.addNode("Node").addObject("Status").addAttribute("a0", {
      type: "Integer",
      constraint: "Status",
    });
    await endpoint.connect();
    for (let v = 1; v <= 10; v++) a.value = v;
    // The certificate on disk is replaced by an expired one: the next attempt reads it and fails.
    await install(await broker.pki.client(uuid, { expired: true }));
    connection()!.destroy();
    await until(
      () => errors.some((e) => /expired/.test(e.message)),
      5000,
      "the expired certificate to be read",
    );
    for (let v = 11; v <= 20; v++) a.value = v; // kept while the device cannot connect
    assert.notEqual(endpoint.state, "online");
    // Renewed: used at the next attempt, and the outbox is delivered.
    await install(await broker.pki.client(uuid, { days: 400 }));
    await until(() => endpoint.state === "online", 10_000, "the renewed certificate to be used");
    for (let v = 21; v <= 30; v++) a.value = v;
    await within(endpoint.delivered(), 10_000, "every value to be acknowledged");
    await until(
      () => tally.delivered === 30,
      5000,
      `every value at the cloud (${tally.summary()})`,
    );
    assert.deepEqual(tally.missing(30), [], tally.summary());
    assert.equal(tally.outOfOrder, 0);
    const days = certificates.map((t) => Math.round((t - Date.now()) / 86_400_000));
    assert.equal(days[0], 20);
    assert.ok(days.some((d) => d < 0), "the expired one was read");
    assert.equal(days.at(-1), 400);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
