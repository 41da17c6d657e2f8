import assert from "node:assert/strict";
import { configError } from "./_helpers_test.ts";
import { parseProperties } from "./properties.ts";
import { type EndpointSettings, settingsFromProperties } from "./settings.ts";

// `Deno.test` without the Deno namespace types: this folder is also type-checked against the
// web-only libraries of web.json, and a `/// <reference lib="deno.ns" />` would apply to every
// file of that check.
declare const Deno: { test(name: string, fn: () => void | Promise<void>): void };

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";
const SOURCE = "/etc/cloud.io/pump.properties";
const P = "ch.hevs.cloudio.endpoint.";
const PLACES = { baseDir: "/etc/cloud.io", home: "/home/pi" };

/** Settings from `key=value` pairs written without the prefix, with a host and a UUID. */
function settings(
  pairs: Record<string, string>,
  options: { baseDir?: string; home?: string } = {},
): EndpointSettings {
  const props = new Map(Object.entries({ hostUri: "example.com", ...pairs }));
  return settingsFromProperties(props, { uuid: UUID, source: SOURCE, ...options });
}

Deno.test("settingsFromProperties() applies the Java reference defaults", () => {
  const props = new Map([[`${P}hostUri`, "ssl://cloudio.example.com"]]);
  assert.deepEqual(settingsFromProperties(props, { uuid: UUID }), {
    uuid: UUID,
    broker: {
      url: "mqtts://cloudio.example.com:8883",
      protocol: "mqtts",
      host: "cloudio.example.com",
      port: 8883,
    },
    brokers: [{
      url: "mqtts://cloudio.example.com:8883",
      protocol: "mqtts",
      host: "cloudio.example.com",
      port: 8883,
    }],
    verifyHostname: true,
    messageFormat: "CBOR",
    supportedFormats: ["JSON", "CBOR"],
    keepAlive: 60_000,
    connectTimeout: 5_000,
    connectRetryInterval: 10_000,
    cleanSession: false,
    maxInFlight: 1000,
    persistence: "file",
    properties: props,
    warnings: [],
  });
});

Deno.test("settingsFromProperties() reads every key", () => {
  const text = [
    `${P}uuid=${UUID}`,
    `${P}hostUri=wss\\://broker.example.com/ws`,
    `${P}ssl.authorityCert=ca-cert.pem`,
    `${P}ssl.clientCert=file\\:/opt/pump/${UUID}-client-cert.pem`,
    `${P}ssl.clientKey=home\\:/.config/cloud.io/${UUID}-private-key.pem`,
    `${P}ssl.verifyHostname=false`,
    `${P}messageFormat=json`,
    `${P}supportedMessageFormats=JSON`,
    `${P}keepAliveInterval=30`,
    `${P}connectTimeout=2.5`,
    `${P}connectRetryInterval=60`,
    `${P}cleanSession=true`,
    `${P}maxInFlight=10`,
    `${P}persistence=memory`,
    `${P}persistenceLocation=~/mqtt-persistence`,
    `${P}update-limit=500`,
    `${P}log-limit=50`,
    `${P}lifecycle-limit=5`,
    `${P}update-bytes-limit=5000`,
    `${P}log-bytes-limit=500`,
    `${P}dropPolicy=latest-per-attribute`,
    `${P}persistenceSync=normal`,
    `${P}jobs.folder=/opt/pump/jobs`,
  ].join("\n");
  const props = parseProperties(text);
  const result = settingsFromProperties(props, {
    source: SOURCE,
    baseDir: "/etc/cloud.io",
    home: "/home/pi",
    uuid: "pump",
  });
  assert.deepEqual(result, {
    uuid: UUID,
    broker: {
      url: "wss://broker.example.com:443/ws",
      protocol: "wss",
      host: "broker.example.com",
      port: 443,
      path: "/ws",
    },
    brokers: [{
      url: "wss://broker.example.com:443/ws",
      protocol: "wss",
      host: "broker.example.com",
      port: 443,
      path: "/ws",
    }],
    authorityCert: "/etc/cloud.io/ca-cert.pem",
    clientCert: `/opt/pump/${UUID}-client-cert.pem`,
    clientKey: `/home/pi/.config/cloud.io/${UUID}-private-key.pem`,
    verifyHostname: false,
    messageFormat: "JSON",
    supportedFormats: ["JSON"],
    keepAlive: 30_000,
    connectTimeout: 2_500,
    connectRetryInterval: 60_000,
    cleanSession: true,
    maxInFlight: 10,
    persistence: "memory",
    persistenceLocation: "/home/pi/mqtt-persistence",
    updateLimit: 500,
    logLimit: 50,
    lifecycleLimit: 5,
    updateBytesLimit: 5000,
    logBytesLimit: 500,
    dropPolicy: "latest-per-attribute",
    persistenceSync: "normal",
    jobsFolder: "/opt/pump/jobs",
    source: SOURCE,
    properties: props,
    warnings: [],
  });
});

Deno.test("settingsFromProperties() copies the properties it was given", () => {
  const props = new Map([["hostUri", "h"]]);
  const result = settingsFromProperties(props, { uuid: UUID });
  assert.notEqual(result.properties, props);
  props.set("hostUri", "other");
  assert.equal(result.properties.get("hostUri"), "h");
});

Deno.test("settingsFromProperties() accepts bare keys", () => {
  const result = settingsFromProperties(
    new Map([["uuid", UUID], ["hostUri", "tcp://h"], ["keepAliveInterval", "5"]]),
  );
  assert.equal(result.uuid, UUID);
  assert.equal(result.broker.url, "mqtt://h:1883");
  assert.equal(result.keepAlive, 5_000);
});

Deno.test("settingsFromProperties() prefers prefixed keys to bare ones", () => {
  const result = settings({ [`${P}hostUri`]: "tcp://prefixed", hostUri: "tcp://bare" });
  assert.equal(result.broker.host, "prefixed");
});

Deno.test("settingsFromProperties() lets property uuid override the looked-up name", () => {
  const other = "4969b2fc-7938-4207-a7ab-97380b8a6a6b";
  assert.equal(settings({ uuid: other }).uuid, other);
});

Deno.test("settingsFromProperties() takes the looked-up name as UUID", () => {
  assert.equal(settings({}).uuid, UUID);
});

Deno.test("settingsFromProperties() refuses a missing UUID", () => {
  const error = configError(() =>
    settingsFromProperties(new Map([["hostUri", "h"]]), { source: SOURCE })
  );
  assert.equal(error.key, "uuid");
  assert.equal(error.path, SOURCE);
  assert.equal(error.message, `Missing property "uuid" in ${SOURCE}: the endpoint has no UUID`);
});

Deno.test("settingsFromProperties() refuses an invalid uuid property", () => {
  const error = configError(() => settings({ uuid: "not-a-uuid" }));
  assert.equal(error.key, "uuid");
  assert.equal(error.path, SOURCE);
  assert.match(
    error.message,
    new RegExp(`^Cannot read property "uuid" in ${SOURCE}: "not-a-uuid"`),
  );
  const nil = configError(() => settings({ uuid: "00000000-0000-0000-0000-000000000000" }));
  assert.match(nil.message, /nil/);
});

Deno.test("settingsFromProperties() asks for property uuid when the name is no UUID", () => {
  const props = new Map([["hostUri", "h"]]);
  const error = configError(() => settingsFromProperties(props, { uuid: "pump", source: SOURCE }));
  assert.equal(error.key, "uuid");
  assert.match(error.message, /^Cannot use "pump" as endpoint UUID: /);
  assert.match(error.message, new RegExp(`property "uuid" in ${SOURCE}$`));
});

Deno.test("settingsFromProperties() refuses a missing hostUri and names the file", () => {
  const error = configError(() =>
    settingsFromProperties(new Map(), { uuid: UUID, source: SOURCE })
  );
  assert.equal(error.key, "hostUri");
  assert.equal(error.path, SOURCE);
  assert.match(error.message, new RegExp(`^Missing property "hostUri" in ${SOURCE}`));
  const empty = configError(() => settings({ hostUri: "  " }));
  assert.equal(empty.key, "hostUri");
});

Deno.test("settingsFromProperties() refuses an invalid hostUri", () => {
  const error = configError(() => settings({ hostUri: "http://h" }));
  assert.equal(error.key, "hostUri");
  assert.equal(
    error.message,
    `Cannot read property "hostUri" in ${SOURCE}: "http://h": scheme "http" is not supported ` +
      "(use ssl, tcp, mqtts, mqtt, wss or ws)",
  );
});

Deno.test("settingsFromProperties() refuses credentials in hostUri without showing them", () => {
  const error = configError(() => settings({ hostUri: "ssl://pump:hunter2@h" }));
  assert.equal(error.key, "hostUri");
  assert.doesNotMatch(error.message, /hunter2|pump:/);
});

Deno.test("settingsFromProperties() converts seconds to milliseconds", () => {
  const result = settings({
    keepAliveInterval: "0.5",
    connectTimeout: "1",
    connectRetryInterval: "120",
  });
  assert.equal(result.keepAlive, 500);
  assert.equal(result.connectTimeout, 1000);
  assert.equal(result.connectRetryInterval, 120_000);
});

Deno.test("settingsFromProperties() trims values and takes empty ones for absent", () => {
  const result = settings({
    keepAliveInterval: " 30 ",
    connectTimeout: "",
    cleanSession: "\ttrue ",
  });
  assert.equal(result.keepAlive, 30_000);
  assert.equal(result.connectTimeout, 5_000);
  assert.equal(result.cleanSession, true);
});

Deno.test("settingsFromProperties() names the key and the bad value of a number", () => {
  const error = configError(() => settings({ keepAliveInterval: "abc" }));
  assert.equal(error.key, "keepAliveInterval");
  assert.equal(error.path, SOURCE);
  assert.equal(
    error.message,
    `Cannot read property "keepAliveInterval" in ${SOURCE}: "abc" is not a number`,
  );
});

Deno.test("settingsFromProperties() refuses numbers that are not positive and finite", () => {
  const cases: [string, string, RegExp][] = [
    ["connectTimeout", "0", /"0" is not a positive number/],
    ["connectTimeout", "-5", /"-5" is not a number/],
    ["connectRetryInterval", "1e400", /is not a positive number/],
    ["connectRetryInterval", "Infinity", /is not a number/],
    ["keepAliveInterval", "0x10", /is not a number/],
    ["keepAliveInterval", "10s", /is not a number/],
    ["maxInFlight", "NaN", /is not a number/],
    ["connectTimeout", "0.0001", /less than a millisecond/],
  ];
  for (const [key, value, message] of cases) {
    const error = configError(() => settings({ [key]: value }));
    assert.equal(error.key, key, `${key}=${value}`);
    assert.match(error.message, message, `${key}=${value}`);
  }
});

Deno.test("settingsFromProperties() refuses fractional counts", () => {
  for (const key of ["maxInFlight", "update-limit", "logLimit"]) {
    const error = configError(() => settings({ [key]: "1.5" }));
    assert.equal(error.key, key);
    assert.match(error.message, /"1.5" is not a whole number/);
  }
});

Deno.test("settingsFromProperties() refuses a keep-alive above the MQTT limit", () => {
  assert.equal(settings({ keepAliveInterval: "65535" }).keepAlive, 65_535_000);
  const error = configError(() => settings({ keepAliveInterval: "65536" }));
  assert.match(error.message, /more than 65535/);
});

Deno.test("settingsFromProperties() reads both spellings of the buffer limits", () => {
  assert.equal(settings({ "update-limit": "7", "log-limit": "8" }).updateLimit, 7);
  assert.equal(settings({ updateLimit: "7", logLimit: "8" }).logLimit, 8);
  assert.equal(settings({ [`${P}updateLimit`]: "9" }).updateLimit, 9);
  const error = configError(() => settings({ [`${P}log-limit`]: "x" }));
  assert.equal(error.key, "log-limit");
});

Deno.test("settingsFromProperties() reads booleans in any case", () => {
  assert.equal(settings({ cleanSession: "TRUE" }).cleanSession, true);
  assert.equal(settings({ "ssl.verifyHostname": "False" }).verifyHostname, false);
  const error = configError(() => settings({ cleanSession: "yes" }));
  assert.equal(error.key, "cleanSession");
  assert.equal(
    error.message,
    `Cannot read property "cleanSession" in ${SOURCE}: "yes" is not a boolean (use true or false)`,
  );
});

Deno.test("settingsFromProperties() reads message formats in any case", () => {
  assert.equal(settings({ messageFormat: "json" }).messageFormat, "JSON");
  assert.equal(settings({ messageFormat: "Cbor" }).messageFormat, "CBOR");
  assert.deepEqual(settings({ supportedMessageFormats: "cbor, json" }).supportedFormats, [
    "CBOR",
    "JSON",
  ]);
  assert.deepEqual(settings({ supportedMessageFormats: "CBOR,cbor,," }).supportedFormats, ["CBOR"]);
});

Deno.test("settingsFromProperties() refuses unknown message formats", () => {
  const error = configError(() => settings({ messageFormat: "json+zip" }));
  assert.equal(error.key, "messageFormat");
  assert.match(error.message, /"json\+zip" is not a message format \(use JSON or CBOR\)$/);
  assert.equal(
    configError(() => settings({ supportedMessageFormats: "JSON,XML" })).key,
    "supportedMessageFormats",
  );
  assert.match(
    configError(() => settings({ supportedMessageFormats: " , " })).message,
    /names no format/,
  );
});

Deno.test("settingsFromProperties() requires the supported formats to contain the message format", () => {
  const error = configError(() => settings({ supportedMessageFormats: "JSON" }));
  assert.equal(error.key, "supportedMessageFormats");
  assert.match(error.message, /does not contain the message format "CBOR"/);
  assert.deepEqual(
    settings({ messageFormat: "JSON", supportedMessageFormats: "json" }).supportedFormats,
    [
      "JSON",
    ],
  );
});

Deno.test("settingsFromProperties() reads every persistence mode", () => {
  const modes: [string, string][] = [
    ["memory", "memory"],
    ["FILE", "file"],
    ["none", "none"],
    ["true", "file"],
    ["False", "none"],
  ];
  for (const [value, mode] of modes) {
    assert.equal(settings({ persistence: value }).persistence, mode, value);
  }
  const error = configError(() => settings({ persistence: "disk" }));
  assert.equal(error.key, "persistence");
  assert.match(error.message, /"disk" is not a persistence mode/);
});

Deno.test("settingsFromProperties() resolves locations against the file and the home", () => {
  const result = settings({
    "ssl.authorityCert": "ca-cert.pem",
    "ssl.clientCert": "path:certs/client.pem",
    "ssl.clientKey": "/secure/key.pem",
    persistenceLocation: "home:mqtt",
  }, PLACES);
  assert.equal(result.authorityCert, "/etc/cloud.io/ca-cert.pem");
  assert.equal(result.clientCert, "/etc/cloud.io/certs/client.pem");
  assert.equal(result.clientKey, "/secure/key.pem");
  assert.equal(result.persistenceLocation, "/home/pi/mqtt");
});

Deno.test("settingsFromProperties() names the key of a location it cannot resolve", () => {
  const error = configError(() => settings({ "ssl.clientCert": "~/client.pem" }));
  assert.equal(error.key, "ssl.clientCert");
  assert.equal(error.path, SOURCE);
  assert.equal(
    error.message,
    `Cannot read property "ssl.clientCert" in ${SOURCE}: ` +
      'cannot resolve "~/client.pem": the home directory is unknown',
  );
  const jks = configError(() => settings({ "ssl.authorityCert": "classpath:authority.jks" }));
  assert.equal(jks.key, "ssl.authorityCert");
});

Deno.test("settingsFromProperties() reads the Python test file with quoted ~ paths", () => {
  // cloudio-endpoint-python tests/config/test-vacuum-cleaner-example.properties (ConfigObj).
  const text = "ch.hevs.cloudio.endpoint.hostUri=127.0.0.1\n" +
    "username=cloudio-client-vacuum-cleaner\n" +
    "password=<the password>\n" +
    'ch.hevs.cloudio.endpoint.ssl.authorityCert="~/.config/cloud.io/ca.pem"\n' +
    'ch.hevs.cloudio.endpoint.ssl.clientCert="~/.config/cloud.io/vacuum-cleaner-cert.pem"\n' +
    'ch.hevs.cloudio.endpoint.ssl.clientKey="~/.config/cloud.io/vacuum-cleaner-key.pem"\n';
  const result = settingsFromProperties(parseProperties(text), { uuid: UUID, home: "/home/pi" });
  assert.equal(result.broker.url, "mqtts://127.0.0.1:8883");
  assert.equal(result.authorityCert, "/home/pi/.config/cloud.io/ca.pem");
  assert.equal(result.clientCert, "/home/pi/.config/cloud.io/vacuum-cleaner-cert.pem");
  assert.equal(result.clientKey, "/home/pi/.config/cloud.io/vacuum-cleaner-key.pem");
});

Deno.test("settingsFromProperties() reads a provisioned file written on Windows", () => {
  // cloudio-endpoint-python-example config/example.properties.
  const text = "#\n#Fri Sep 09 16:53:06 CEST 2022\n" +
    `${P}ssl.clientCert=C:/Users/pi/config/${UUID}-client-cert.pem\n` +
    `${P}ssl.verifyHostname=false\n` +
    `${P}ssl.authorityCert=file:/C:/Users/pi/config/ca-cert.pem\n` +
    `${P}uuid=${UUID}\n` +
    `${P}hostUri=ssl://192.168.37.130\n`;
  const result = settingsFromProperties(parseProperties(text), { uuid: "example" });
  assert.equal(result.uuid, UUID);
  assert.equal(result.clientCert, `C:/Users/pi/config/${UUID}-client-cert.pem`);
  assert.equal(result.authorityCert, "C:/Users/pi/config/ca-cert.pem");
  assert.equal(result.verifyHostname, false);
});

Deno.test("settingsFromProperties() writes messages in sentence case without a final period", () => {
  const bad: Record<string, string>[] = [
    { hostUri: "" },
    { hostUri: "ftp://h" },
    { uuid: "x" },
    { keepAliveInterval: "x" },
    { cleanSession: "x" },
    { messageFormat: "x" },
    { persistence: "x" },
    { "ssl.clientKey": "home:/k.pem" },
  ];
  for (const pairs of bad) {
    const { message } = configError(() => settings(pairs));
    assert.match(message, /^[A-Z]/, message);
    assert.doesNotMatch(message, /\.$/, message);
  }
});

Deno.test("settingsFromProperties() reads persistenceSync", () => {
  const read = (value?: string) =>
    settingsFromProperties(
      new Map([
        ["hostUri", "ssl://h"],
        ["uuid", "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55"],
        ...(value ? [["persistenceSync", value]] as [string, string][] : []),
      ]),
    ).persistenceSync;
  assert.equal(read(), undefined);
  assert.equal(read("NORMAL"), "normal");
  assert.equal(read("full"), "full");
  assert.throws(() => read("lazy"), /not a sync mode/);
});

Deno.test("settingsFromProperties() lowers a capitalised UUID to the cloud's form", () => {
  const upper = "0B3C8E3A-4F1D-4C2B-9A8E-2F6D1C0B7A55";
  const fromName = settingsFromProperties(new Map([["hostUri", "example.com"]]), { uuid: upper });
  assert.equal(fromName.uuid, upper.toLowerCase());
  const fromProperty = settingsFromProperties(
    new Map([["ch.hevs.cloudio.endpoint.uuid", upper], ["hostUri", "example.com"]]),
    { uuid: "lamp" },
  );
  assert.equal(fromProperty.uuid, upper.toLowerCase());
});

Deno.test("settingsFromProperties() warns of unknown and unsupported keys, naming the closest known key", () => {
  const settings = settingsFromProperties(
    new Map([
      ["ch.hevs.cloudio.endpoint.hostUri", "example.com"],
      ["ch.hevs.cloudio.endpoint.persistance", "memory"],
      ["keepAliveIntervall", "30"],
      ["ch.hevs.cloudio.endpoint.ssl.version", "tlsv1.2"],
      ["ch.hevs.cloudio.endpoint.ssl.clientPassword", ""],
      ["my.own.key", "x"],
    ]),
    { uuid: "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55" },
  );
  assert.deepEqual(settings.warnings.map((w) => [w.key, w.message]), [
    [
      "persistance",
      'Property "persistance" is unknown and is ignored: did you mean "persistence"?',
    ],
    [
      "keepAliveIntervall",
      'Property "keepAliveIntervall" is unknown and is ignored: did you mean "keepAliveInterval"?',
    ],
    [
      "ssl.version",
      'Property "ssl.version" is not supported here and is ignored: the TLS version is negotiated with the broker (TLS 1.2 or 1.3)',
    ],
    [
      "ssl.clientPassword",
      'Property "ssl.clientPassword" is not supported here and is ignored: PKCS#12 files are not read: give PEM files in ssl.authorityCert, ssl.clientCert and ssl.clientKey',
    ],
    ["my.own.key", 'Property "my.own.key" is unknown and is ignored'],
  ]);
  // What it would have meant is not applied.
  assert.equal(settings.persistence, "file");
  assert.equal(settings.keepAlive, 60_000);
});

Deno.test("settingsFromProperties() points at a misspelt hostUri when it is missing", () => {
  assert.throws(
    () =>
      settingsFromProperties(new Map([["hostURI", "example.com"]]), {
        uuid: "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55",
      }),
    {
      name: "ConfigError",
      key: "hostUri",
      message:
        'Missing property "hostUri": it names the broker, such as "ssl://example.com:8883" (is "hostURI" meant to be "hostUri"?)',
    },
  );
});

Deno.test("settingsFromProperties() reads jobs.folder and lifecycle-limit", () => {
  const settings = settingsFromProperties(
    new Map([
      ["hostUri", "example.com"],
      ["ch.hevs.cloudio.endpoint.jobs.folder", "jobs"],
      ["ch.hevs.cloudio.endpoint.lifecycle-limit", "50"],
    ]),
    { uuid: "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55", baseDir: "/etc/cloud.io" },
  );
  assert.equal(settings.jobsFolder, "/etc/cloud.io/jobs");
  assert.equal(settings.lifecycleLimit, 50);
  assert.deepEqual(settings.warnings, []);
});
