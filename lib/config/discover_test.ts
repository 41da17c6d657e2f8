import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";
import { type ConfigReader, discoverProperties, loadSettings } from "./discover.ts";

// `Deno.test` without the Deno namespace types: this folder is also type-checked against the
// web-only libraries of web.json, and a `/// <reference lib="deno.ns" />` would apply to every
// file of that check.
declare const Deno: { test(name: string, fn: () => void | Promise<void>): void };

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";
const HOME_DIR = "/home/pi/.config/cloud.io";
const ETC_DIR = "/etc/cloud.io";

/** A reader over an in-memory file system that records every path it is asked for. */
interface MemoryReader extends ConfigReader {
  reads: string[];
}

function memoryReader(
  files: Record<string, string>,
  options: { home?: string; errors?: Record<string, unknown> } = { home: "/home/pi" },
): MemoryReader {
  const reads: string[] = [];
  return {
    home: options.home,
    reads,
    readTextFile(path: string): Promise<string | undefined> {
      reads.push(path);
      if (options.errors && path in options.errors) return Promise.reject(options.errors[path]);
      return Promise.resolve(files[path]);
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error;
  }
  assert.fail("expected a ConfigError, but the promise resolved");
}

// ---------------------------------------------------------------------------------------------
// discoverProperties()

Deno.test("discoverProperties() searches the caller's locations, then home, then /etc", async () => {
  const reader = memoryReader({});
  const error = await rejection(
    discoverProperties("demo", { locations: ["/opt/a", "/opt/b/"], reader }),
  );
  const searched = [
    "/opt/a/demo.properties",
    "/opt/b/demo.properties",
    `${HOME_DIR}/demo.properties`,
    `${ETC_DIR}/demo.properties`,
  ];
  assert.deepEqual(error.searched, searched);
  assert.deepEqual(reader.reads, searched);
  assert.equal(
    error.message,
    `Cannot find properties file "demo.properties" in ${searched.join(", ")}`,
  );
  assert.equal(error.path, undefined);
});

Deno.test("discoverProperties() takes the first file found", async () => {
  const files = {
    "/opt/b/demo.properties": "b=1",
    [`${HOME_DIR}/demo.properties`]: "home=1",
    [`${ETC_DIR}/demo.properties`]: "etc=1",
  };
  const reader = memoryReader(files);
  const found = await discoverProperties("demo", { locations: ["/opt/a", "/opt/b"], reader });
  assert.deepEqual(found, {
    path: "/opt/b/demo.properties",
    text: "b=1",
    searched: ["/opt/a/demo.properties", "/opt/b/demo.properties"],
  });
  assert.deepEqual(reader.reads, found.searched);
});

Deno.test("discoverProperties() prefers the home directory to /etc", async () => {
  const files = {
    [`${HOME_DIR}/demo.properties`]: "home=1",
    [`${ETC_DIR}/demo.properties`]: "etc=1",
  };
  const found = await discoverProperties("demo", { reader: memoryReader(files) });
  assert.equal(found.path, `${HOME_DIR}/demo.properties`);
  assert.equal(found.text, "home=1");
});

Deno.test("discoverProperties() falls back to /etc/cloud.io", async () => {
  const files = { [`${ETC_DIR}/demo.properties`]: "etc=1" };
  const found = await discoverProperties("demo", { reader: memoryReader(files) });
  assert.equal(found.path, `${ETC_DIR}/demo.properties`);
  assert.deepEqual(found.searched, [`${HOME_DIR}/demo.properties`, `${ETC_DIR}/demo.properties`]);
});

Deno.test("discoverProperties() takes an empty file for a found one", async () => {
  const files = { [`${HOME_DIR}/demo.properties`]: "" };
  const found = await discoverProperties("demo", { reader: memoryReader(files) });
  assert.equal(found.text, "");
});

Deno.test("discoverProperties() resolves home:, file:, ~ and relative locations", async () => {
  const reader = memoryReader({});
  const locations = ["home:/conf", "home:other", "file:/srv/conf/", "file:///srv/x", "~/y", "conf"];
  await rejection(discoverProperties("demo", { locations, reader }));
  assert.deepEqual(reader.reads.slice(0, locations.length), [
    "/home/pi/conf/demo.properties",
    "/home/pi/other/demo.properties",
    "/srv/conf/demo.properties",
    "/srv/x/demo.properties",
    "/home/pi/y/demo.properties",
    "conf/demo.properties",
  ]);
});

Deno.test("discoverProperties() skips home locations when the home is unknown", async () => {
  const reader = memoryReader({}, { home: undefined });
  const error = await rejection(
    discoverProperties("demo", { locations: ["~/conf", "/opt"], reader }),
  );
  assert.deepEqual(error.searched, ["/opt/demo.properties", `${ETC_DIR}/demo.properties`]);
  assert.equal(
    error.message,
    `Cannot find properties file "demo.properties" in /opt/demo.properties, ` +
      `${ETC_DIR}/demo.properties (skipped ~/conf, home:/.config/cloud.io/: ` +
      "the home directory is unknown)",
  );
});

Deno.test("discoverProperties() does not read a path twice", async () => {
  const reader = memoryReader({});
  await rejection(
    discoverProperties("demo", { locations: ["/etc/cloud.io", "/etc/cloud.io/"], reader }),
  );
  assert.deepEqual(reader.reads, [`${ETC_DIR}/demo.properties`, `${HOME_DIR}/demo.properties`]);
});

Deno.test("discoverProperties() wraps a read error with the path and the cause", async () => {
  const failure = new Error("Input/output error");
  const path = `${HOME_DIR}/demo.properties`;
  const files = { [`${ETC_DIR}/demo.properties`]: "etc=1" };
  const reader = memoryReader(files, { home: "/home/pi", errors: { [path]: failure } });
  const error = await rejection(discoverProperties("demo", { reader }));
  assert.equal(error.path, path);
  assert.equal(error.cause, failure);
  assert.deepEqual(error.searched, [path]);
  assert.equal(error.message, `Cannot read properties file ${path}: Input/output error`);
  assert.deepEqual(reader.reads, [path], "the search stops at a file that cannot be read");
});

Deno.test("discoverProperties() passes a ConfigError of the reader on unchanged", async () => {
  const path = `${HOME_DIR}/demo.properties`;
  const denied = new ConfigError(`Cannot read ${path}: permission denied`, { path });
  const reader = memoryReader({}, { home: "/home/pi", errors: { [path]: denied } });
  assert.equal(await rejection(discoverProperties("demo", { reader })), denied);
});

Deno.test("discoverProperties() refuses names that are not file names", async () => {
  for (const name of ["", "a/b", "../x", "a\\b"]) {
    await assert.rejects(discoverProperties(name, { reader: memoryReader({}) }), TypeError, name);
  }
});

Deno.test("discoverProperties() refuses locations with an unsupported scheme", async () => {
  const reader = memoryReader({});
  const error = await rejection(
    discoverProperties("demo", { locations: ["classpath:cloud.io/"], reader }),
  );
  assert.match(error.message, /"classpath:" is not supported/);
  assert.deepEqual(reader.reads, []);
});

// ---------------------------------------------------------------------------------------------
// loadSettings()

Deno.test("loadSettings() resolves paths against the file's directory and the reader's home", async () => {
  const text = "ch.hevs.cloudio.endpoint.hostUri=ssl\\://example.com\\:8883\n" +
    "ch.hevs.cloudio.endpoint.ssl.authorityCert=ca-cert.pem\n" +
    `ch.hevs.cloudio.endpoint.ssl.clientCert=${UUID}-client-cert.pem\n` +
    "ch.hevs.cloudio.endpoint.ssl.clientKey=home\\:/keys/key.pem\n";
  const reader = memoryReader({ [`/opt/pump/${UUID}.properties`]: text });
  const settings = await loadSettings(UUID, { locations: ["/opt/pump"], reader });
  assert.equal(settings.uuid, UUID);
  assert.equal(settings.source, `/opt/pump/${UUID}.properties`);
  assert.equal(settings.broker.url, "mqtts://example.com:8883");
  assert.equal(settings.authorityCert, "/opt/pump/ca-cert.pem");
  assert.equal(settings.clientCert, `/opt/pump/${UUID}-client-cert.pem`);
  assert.equal(settings.clientKey, "/home/pi/keys/key.pem");
});

Deno.test("loadSettings() takes the UUID from a file named after the application", async () => {
  const text = `ch.hevs.cloudio.endpoint.uuid=${UUID}\nch.hevs.cloudio.endpoint.hostUri=h\n`;
  const reader = memoryReader({ [`${ETC_DIR}/pump.properties`]: text });
  assert.equal((await loadSettings("pump", { reader })).uuid, UUID);
});

Deno.test("loadSettings() refuses an application name without a uuid property", async () => {
  const reader = memoryReader({ [`${ETC_DIR}/pump.properties`]: "hostUri=h\n" });
  const error = await rejection(loadSettings("pump", { reader }));
  assert.equal(error.key, "uuid");
  assert.equal(error.path, `${ETC_DIR}/pump.properties`);
  assert.match(error.message, /"pump"/);
});

Deno.test("loadSettings() names the file and the line of a syntax error", async () => {
  const path = `${ETC_DIR}/${UUID}.properties`;
  const reader = memoryReader({ [path]: "hostUri=h\n# comment\nx=\\u12\n" });
  const error = await rejection(loadSettings(UUID, { reader }));
  assert.equal(error.path, path);
  assert.ok(error.cause instanceof SyntaxError);
  assert.equal(
    error.message,
    `Cannot parse properties file ${path} at line 3: ` +
      '"\\u" must be followed by four hexadecimal digits',
  );
});

Deno.test("loadSettings() names the file and the key of a bad setting", async () => {
  const path = `${HOME_DIR}/${UUID}.properties`;
  const reader = memoryReader({ [path]: "hostUri=h\nmaxInFlight=lots\n" });
  const error = await rejection(loadSettings(UUID, { reader }));
  assert.equal(error.key, "maxInFlight");
  assert.equal(error.path, path);
  assert.equal(
    error.message,
    `Cannot read property "maxInFlight" in ${path}: "lots" is not a number`,
  );
});

Deno.test("loadSettings() names the file when hostUri is missing", async () => {
  const path = `${ETC_DIR}/${UUID}.properties`;
  const reader = memoryReader({ [path]: "# provisioned without a broker\n" });
  const error = await rejection(loadSettings(UUID, { reader }));
  assert.equal(error.key, "hostUri");
  assert.match(error.message, new RegExp(`^Missing property "hostUri" in ${path}`));
});

Deno.test("loadSettings() lists the searched paths when no file exists", async () => {
  const error = await rejection(loadSettings(UUID, { reader: memoryReader({}) }));
  assert.deepEqual(error.searched, [
    `${HOME_DIR}/${UUID}.properties`,
    `${ETC_DIR}/${UUID}.properties`,
  ]);
});
