import assert from "node:assert/strict";
import { installFromJson, installFromZip, installProvisioned } from "./install.ts";
import { denoConfigReader, readPem } from "../adapters/deno_config.ts";
import { loadSettings } from "../config/discover.ts";
import { parseProperties } from "../config/properties.ts";
import { ConfigError } from "../errors.ts";
import { parseProvisioningJson } from "./json.ts";
import type { Provisioned } from "./provisioned.ts";
import { testPki } from "../../tests/_certs.ts";
import { createSigner, writeZip } from "../../tests/_provision_server.ts";
import { type IgnoreReason, testUnless } from "../../tests/_ignore.ts";

const POSIX_MISSING: IgnoreReason | undefined = Deno.build.os === "windows"
  ? { id: "posix", why: "file modes are POSIX only" }
  : undefined;

const pki = await testPki();
const signer = await createSigner(pki);
const POSIX = Deno.build.os !== "windows";

/** A provisioned endpoint with an RSA key pair made by the test CA. */
async function material(properties: Record<string, string> = {}): Promise<Provisioned> {
  const uuid = crypto.randomUUID();
  const { keyPem, publicKeyPem } = await signer.generate();
  return parseProvisioningJson(JSON.stringify({
    endpoint: uuid,
    properties: { "ch.hevs.cloudio.endpoint.hostUri": "ssl://cloudio.example.com", ...properties },
    caCertificate: pki.caPem,
    clientCertificate: await signer.certify(uuid, publicKeyPem),
    clientPrivateKey: keyPem,
  }));
}

const ENDPOINT = await material({ "ch.hevs.cloudio.endpoint.messageFormat": "JSON" });

async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "cloudio_install_" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.chmod(path, 0o700).catch(() => {});
      await Deno.remove(path, { recursive: true });
    },
  };
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

async function names(dir: string): Promise<string[]> {
  const result: string[] = [];
  for await (const entry of Deno.readDir(dir)) result.push(entry.name);
  return result.sort();
}

Deno.test("installProvisioned() writes the properties and PEM files where the endpoint finds them", async () => {
  await using tmp = await tempDir();
  const dir = `${tmp.path}/new/cloud.io`;
  const { uuid } = ENDPOINT;
  const files = await installProvisioned(ENDPOINT, { dir });
  assert.deepEqual(files, {
    uuid,
    name: uuid,
    dir,
    properties: `${dir}/${uuid}.properties`,
    authorityCert: `${dir}/ca-cert.pem`,
    clientCert: `${dir}/${uuid}-client-cert.pem`,
    clientKey: `${dir}/${uuid}-private-key.pem`,
    unchanged: [],
  });
  assert.deepEqual(
    await names(dir),
    [
      `${uuid}-client-cert.pem`,
      `${uuid}-private-key.pem`,
      `${uuid}.properties`,
      "ca-cert.pem",
    ].sort(),
    "no temporary file left behind",
  );
  assert.equal(await Deno.readTextFile(files.clientKey), ENDPOINT.keyPem);
  assert.equal(await Deno.readTextFile(files.clientCert), ENDPOINT.certPem);
  assert.equal(await Deno.readTextFile(files.authorityCert), pki.caPem);
  if (POSIX) {
    assert.equal(await mode(files.clientKey), 0o600);
    assert.equal(await mode(dir), 0o700);
    assert.equal((await mode(files.properties)) & 0o600, 0o600);
  }
  const text = await Deno.readTextFile(files.properties);
  assert.match(text, /^#cloud\.iO endpoint .*\n/);
  assert.deepEqual(
    parseProperties(text),
    new Map([
      ["ch.hevs.cloudio.endpoint.uuid", uuid],
      ["ch.hevs.cloudio.endpoint.hostUri", "ssl://cloudio.example.com"],
      ["ch.hevs.cloudio.endpoint.messageFormat", "JSON"],
      ["ch.hevs.cloudio.endpoint.ssl.authorityCert", "ca-cert.pem"],
      ["ch.hevs.cloudio.endpoint.ssl.clientCert", `${uuid}-client-cert.pem`],
      ["ch.hevs.cloudio.endpoint.ssl.clientKey", `${uuid}-private-key.pem`],
    ]),
  );
  // The endpoint's own loader finds the file and every PEM file it names.
  const settings = await loadSettings(uuid, { locations: [dir], reader: denoConfigReader });
  assert.equal(settings.uuid, uuid);
  assert.equal(settings.messageFormat, "JSON");
  assert.equal(await readPem(settings.authorityCert!, "authorityCert"), pki.caPem);
  assert.equal(await readPem(settings.clientCert!, "clientCert"), ENDPOINT.certPem);
  assert.equal(await readPem(settings.clientKey!, "clientKey"), ENDPOINT.keyPem);
});

Deno.test("installProvisioned() leaves identical files alone and refuses to replace others unless told", async () => {
  await using tmp = await tempDir();
  const dir = tmp.path;
  const first = await installProvisioned(ENDPOINT, { dir });
  // Installing the same again changes nothing.
  const again = await installProvisioned(ENDPOINT, { dir });
  assert.deepEqual(again.unchanged, [
    first.authorityCert,
    first.clientCert,
    first.clientKey,
    first.properties,
  ]);
  // A second endpoint shares ca-cert.pem.
  const second = await material();
  const other = await installProvisioned(second, { dir });
  assert.deepEqual(other.unchanged, [other.authorityCert]);
  // New credentials for the same endpoint: refused, and nothing is touched…
  const renewed = { ...ENDPOINT, properties: new Map([["hostUri", "ssl://elsewhere.example"]]) };
  const before = await Deno.readTextFile(first.properties);
  await assert.rejects(installProvisioned(renewed, { dir }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /\.properties already exists with other content/);
    assert.equal(error.path, first.properties);
    return true;
  });
  assert.equal(await Deno.readTextFile(first.properties), before);
  // …unless overwriting is allowed.
  const replaced = await installProvisioned(renewed, { dir, overwrite: true });
  assert.match(
    await Deno.readTextFile(replaced.properties),
    /hostUri=ssl\\:\/\/elsewhere\.example/,
  );
  assert.equal((await names(dir)).filter((name) => name.endsWith(".tmp")).length, 0);
});

testUnless(POSIX_MISSING, {
  name: "installProvisioned() makes an existing private key owner-only again",
  async fn() {
    await using tmp = await tempDir();
    const files = await installProvisioned(ENDPOINT, { dir: tmp.path });
    await Deno.chmod(files.clientKey, 0o644);
    const again = await installProvisioned(ENDPOINT, { dir: tmp.path });
    assert.equal(await mode(files.clientKey), 0o600);
    assert.ok(!again.unchanged.includes(files.clientKey));
  },
});

Deno.test("installProvisioned() needs a private key, which may be given apart", async () => {
  await using tmp = await tempDir();
  const keyless: Provisioned = { ...ENDPOINT };
  delete keyless.keyPem;
  await assert.rejects(installProvisioned(keyless, { dir: tmp.path }), {
    name: "ConfigError",
    key: "ssl.clientKey",
    message: /there is no private key/,
  });
  assert.deepEqual(await names(tmp.path), [], "nothing written");
  const files = await installProvisioned(keyless, { dir: tmp.path, keyPem: ENDPOINT.keyPem });
  assert.equal(await Deno.readTextFile(files.clientKey), ENDPOINT.keyPem);
  await assert.rejects(installProvisioned(ENDPOINT, { dir: tmp.path, keyPem: ENDPOINT.keyPem }), {
    key: "ssl.clientKey",
    message: /has one already/,
  });
  const stranger = await signer.generate();
  await assert.rejects(installProvisioned(keyless, { dir: tmp.path, keyPem: stranger.keyPem }), {
    key: "ssl.clientKey",
    message: /does not belong/,
  });
});

Deno.test("installProvisioned() checks the settings the endpoint will read before writing", async () => {
  await using tmp = await tempDir();
  const noBroker = { ...ENDPOINT, properties: new Map() };
  await assert.rejects(installProvisioned(noBroker, { dir: tmp.path }), {
    name: "ConfigError",
    key: "hostUri",
    message: /Missing property "hostUri"/,
  });
  const badValue = {
    ...ENDPOINT,
    properties: new Map([["hostUri", "x"], ["keepAliveInterval", "soon"]]),
  };
  await assert.rejects(installProvisioned(badValue, { dir: tmp.path }), {
    key: "keepAliveInterval",
  });
  assert.deepEqual(await names(tmp.path), [], "nothing written");
  const files = await installProvisioned(noBroker, {
    dir: tmp.path,
    hostUri: "mqtts://127.0.0.1:8883",
  });
  const settings = await loadSettings(ENDPOINT.uuid, {
    locations: [tmp.path],
    reader: denoConfigReader,
  });
  assert.equal(settings.broker.url, "mqtts://127.0.0.1:8883");
  assert.equal(settings.source, files.properties);
});

Deno.test("installProvisioned() writes <name>.properties for an application name", async () => {
  await using tmp = await tempDir();
  const files = await installProvisioned(ENDPOINT, { dir: tmp.path, name: "pump" });
  assert.equal(files.properties, `${tmp.path}/pump.properties`);
  const settings = await loadSettings("pump", { locations: [tmp.path], reader: denoConfigReader });
  assert.equal(settings.uuid, ENDPOINT.uuid);
  for (const name of ["../pump", "a/b", "", ".hidden"]) {
    await assert.rejects(installProvisioned(ENDPOINT, { dir: tmp.path, name }), TypeError);
  }
});

Deno.test("installProvisioned() reports a directory it cannot use", async () => {
  await using tmp = await tempDir();
  await Deno.writeTextFile(`${tmp.path}/file`, "");
  await assert.rejects(installProvisioned(ENDPOINT, { dir: `${tmp.path}/file` }), {
    name: "ConfigError",
    message: /is not a directory/,
  });
  await Deno.mkdir(`${tmp.path}/d/ca-cert.pem`, { recursive: true });
  await assert.rejects(installProvisioned(ENDPOINT, { dir: `${tmp.path}/d` }), {
    name: "ConfigError",
    message: /exists and is not a regular file/,
  });
  if (POSIX && Deno.uid() !== 0) {
    await Deno.mkdir(`${tmp.path}/ro`);
    await Deno.chmod(`${tmp.path}/ro`, 0o500);
    await assert.rejects(installProvisioned(ENDPOINT, { dir: `${tmp.path}/ro` }), {
      name: "ConfigError",
      path: `${tmp.path}/ro`,
      message: /permission denied/i,
    });
    assert.deepEqual(await names(`${tmp.path}/ro`), []);
  }
});

Deno.test("installFromZip() and installFromJson() install downloaded files", async () => {
  await using tmp = await tempDir();
  const { uuid } = ENDPOINT;
  const zip = await writeZip([
    {
      name: `${uuid}.properties`,
      data:
        `#Tue Mar 07 10:00:00 CET 2023\nch.hevs.cloudio.endpoint.hostUri=ssl\\://example.com\n` +
        `ch.hevs.cloudio.endpoint.uuid=${uuid}\n`,
    },
    { name: "ca-cert.pem", data: ENDPOINT.caPem },
    { name: `${uuid}-client-cert.pem`, data: ENDPOINT.certPem },
    { name: `${uuid}-private-key.pem`, data: ENDPOINT.keyPem! },
  ]);
  const fromZip = await installFromZip(zip, { dir: `${tmp.path}/zip` });
  assert.equal(await Deno.readTextFile(fromZip.clientKey), ENDPOINT.keyPem);
  await assert.rejects(
    installFromZip(zip, { dir: `${tmp.path}/zip2`, zip: { maxEntrySize: 100 } }),
    {
      name: "ConfigError",
      message: /more than the 100 allowed/,
    },
  );
  const json = JSON.stringify({
    endpoint: uuid,
    properties: { hostUri: "ssl://example.com" },
    caCertificate: ENDPOINT.caPem,
    clientCertificate: ENDPOINT.certPem,
    clientPrivateKey: ENDPOINT.keyPem,
  });
  const fromJson = await installFromJson(json, { dir: `${tmp.path}/json` });
  assert.equal(await Deno.readTextFile(fromJson.clientCert), ENDPOINT.certPem);
});
