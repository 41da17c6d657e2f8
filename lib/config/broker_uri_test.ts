import assert from "node:assert/strict";
import { configError } from "./_helpers_test.ts";
import { parseBrokerUri } from "./broker_uri.ts";

// `Deno.test` without the Deno namespace types: this folder is also type-checked against the
// web-only libraries of web.json, and a `/// <reference lib="deno.ns" />` would apply to every
// file of that check.
declare const Deno: { test(name: string, fn: () => void | Promise<void>): void };

Deno.test("parseBrokerUri() reads ssl:// as MQTT over TLS on port 8883", () => {
  assert.deepEqual(parseBrokerUri("ssl://cloudio.example.com"), {
    url: "mqtts://cloudio.example.com:8883",
    protocol: "mqtts",
    host: "cloudio.example.com",
    port: 8883,
  });
});

Deno.test("parseBrokerUri() reads tcp:// as plain MQTT on port 1883", () => {
  assert.deepEqual(parseBrokerUri("tcp://broker"), {
    url: "mqtt://broker:1883",
    protocol: "mqtt",
    host: "broker",
    port: 1883,
  });
});

Deno.test("parseBrokerUri() reads mqtts:// and mqtt://", () => {
  assert.equal(parseBrokerUri("mqtts://h").url, "mqtts://h:8883");
  assert.equal(parseBrokerUri("mqtt://h").url, "mqtt://h:1883");
});

Deno.test("parseBrokerUri() keeps an explicit port", () => {
  assert.equal(parseBrokerUri("ssl://h:18883").port, 18883);
  assert.equal(parseBrokerUri("tcp://h:65535").url, "mqtt://h:65535");
});

Deno.test("parseBrokerUri() reads wss:// with port 443 and path /mqtt by default", () => {
  assert.deepEqual(parseBrokerUri("wss://cloudio.example.com"), {
    url: "wss://cloudio.example.com:443/mqtt",
    protocol: "wss",
    host: "cloudio.example.com",
    port: 443,
    path: "/mqtt",
  });
});

Deno.test("parseBrokerUri() reads ws:// with port 80 and path /mqtt by default", () => {
  assert.deepEqual(parseBrokerUri("ws://h"), {
    url: "ws://h:80/mqtt",
    protocol: "ws",
    host: "h",
    port: 80,
    path: "/mqtt",
  });
});

Deno.test("parseBrokerUri() keeps a WebSocket path and port", () => {
  assert.deepEqual(parseBrokerUri("wss://h:15673/ws"), {
    url: "wss://h:15673/ws",
    protocol: "wss",
    host: "h",
    port: 15673,
    path: "/ws",
  });
  assert.equal(parseBrokerUri("ws://h/").path, "/");
});

Deno.test("parseBrokerUri() takes a bare host for MQTT over TLS, as Python does", () => {
  assert.equal(parseBrokerUri("192.168.37.130").url, "mqtts://192.168.37.130:8883");
  assert.equal(parseBrokerUri("localhost:18883").url, "mqtts://localhost:18883");
});

Deno.test("parseBrokerUri() ignores case in scheme and host", () => {
  assert.equal(
    parseBrokerUri("SSL://CloudIO.Example.COM:8883").url,
    "mqtts://cloudio.example.com:8883",
  );
});

Deno.test("parseBrokerUri() trims white space", () => {
  assert.equal(parseBrokerUri("  ssl://h  ").url, "mqtts://h:8883");
});

Deno.test("parseBrokerUri() accepts a trailing slash after an MQTT host", () => {
  assert.equal(parseBrokerUri("ssl://h:8883/").url, "mqtts://h:8883");
});

Deno.test("parseBrokerUri() reads IPv6 literals in brackets", () => {
  assert.deepEqual(parseBrokerUri("ssl://[::1]"), {
    url: "mqtts://[::1]:8883",
    protocol: "mqtts",
    host: "::1",
    port: 8883,
  });
  assert.equal(parseBrokerUri("tcp://[FE80::1]:1884").url, "mqtt://[fe80::1]:1884");
  assert.equal(parseBrokerUri("[2001:db8::2]").url, "mqtts://[2001:db8::2]:8883");
  assert.equal(parseBrokerUri("wss://[::1]:8443/ws").url, "wss://[::1]:8443/ws");
});

Deno.test("parseBrokerUri() refuses an IPv6 literal without brackets", () => {
  assert.match(configError(() => parseBrokerUri("::1")).message, /brackets/);
  assert.match(configError(() => parseBrokerUri("ssl://fe80::1:8883")).message, /brackets/);
});

Deno.test("parseBrokerUri() refuses credentials without showing them", () => {
  for (const uri of ["ssl://alice:s3cret@h:8883", "ssl://alice@h", "wss://alice:s3cret@h/ws"]) {
    const error = configError(() => parseBrokerUri(uri));
    assert.equal(error.key, "hostUri");
    assert.match(error.message, /credentials/);
    assert.doesNotMatch(error.message, /s3cret|alice/);
  }
});

Deno.test("parseBrokerUri() allows @ in a WebSocket path", () => {
  assert.equal(parseBrokerUri("wss://h/a@b").path, "/a@b");
});

Deno.test("parseBrokerUri() refuses unknown schemes", () => {
  const error = configError(() => parseBrokerUri("https://h"));
  assert.equal(error.key, "hostUri");
  assert.equal(
    error.message,
    'Cannot parse broker URI "https://h": scheme "https" is not supported ' +
      "(use ssl, tcp, mqtts, mqtt, wss or ws)",
  );
});

Deno.test("parseBrokerUri() refuses bad ports", () => {
  for (const uri of ["ssl://h:0", "ssl://h:65536", "ssl://h:88a", "ssl://h:", "h:-1", "h:123456"]) {
    assert.match(configError(() => parseBrokerUri(uri)).message, /port/, uri);
  }
});

Deno.test("parseBrokerUri() refuses a path on an MQTT URI", () => {
  assert.match(configError(() => parseBrokerUri("ssl://h/mqtt")).message, /only allowed with ws/);
});

Deno.test("parseBrokerUri() refuses a query or fragment", () => {
  for (const uri of ["wss://h/mqtt?token=x", "ssl://h#x", "ws://h?x"]) {
    assert.match(configError(() => parseBrokerUri(uri)).message, /query or fragment/, uri);
  }
});

Deno.test("parseBrokerUri() refuses an empty URI or host", () => {
  assert.match(configError(() => parseBrokerUri("")).message, /empty/);
  assert.match(configError(() => parseBrokerUri("ssl://")).message, /no host/);
  assert.match(configError(() => parseBrokerUri("ssl://:8883")).message, /no host/);
});

Deno.test("parseBrokerUri() refuses an invalid host name", () => {
  for (const uri of ["ssl://ho st", "ssl://h%20", "ssl://-h", "ssl://[zz]"]) {
    assert.ok(configError(() => parseBrokerUri(uri)), uri);
  }
});
