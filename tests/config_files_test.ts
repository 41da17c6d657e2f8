/**
 * The configuration search and PEM reading against real files in a temporary directory.
 */

import assert from "node:assert/strict";
import { denoConfigReader, readPem } from "../lib/adapters/deno_config.ts";
import { type ConfigReader, discoverProperties, loadSettings } from "../lib/config/discover.ts";
import { ConfigError } from "../lib/errors.ts";
import { type IgnoreReason, testUnless } from "./_ignore.ts";

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";

const CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIBCERTBODYSECRET\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIIEKEYBODYSECRET\n-----END PRIVATE KEY-----\n";

/** A temporary directory that removes itself. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "cloudio_config_" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.chmod(path, 0o700).catch(() => {});
      await Deno.remove(path, { recursive: true });
    },
  };
}

/** Writes a file, creating its directory. */
async function write(path: string, text: string): Promise<void> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, text);
}

/** The Deno reader with another home directory. */
function readerWithHome(home: string): ConfigReader {
  return { readTextFile: denoConfigReader.readTextFile, home };
}

/** Whether `chmod 000` stops this process from reading a file; it does not stop root. */
async function chmodBlocksReads(): Promise<boolean> {
  await using dir = await tempDir();
  const path = `${dir.path}/probe`;
  await Deno.writeTextFile(path, "x");
  try {
    await Deno.chmod(path, 0o000);
    await Deno.readTextFile(path);
    return false;
  } catch (error) {
    return error instanceof Deno.errors.PermissionDenied;
  }
}

const CHMOD_BLOCKS_READS = await chmodBlocksReads();
/** Why the permission tests cannot run here: chmod 000 does not stop root. */
const PRIVILEGED: IgnoreReason | undefined = CHMOD_BLOCKS_READS ? undefined : {
  id: "root",
  why: "chmod 000 does not stop this user (root); .ci/run runs these tests as an unprivileged user",
};

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
// denoConfigReader

Deno.test("denoConfigReader reads a file and gives undefined for a missing one", async () => {
  await using dir = await tempDir();
  await write(`${dir.path}/a.properties`, "a=1\n");
  assert.equal(await denoConfigReader.readTextFile(`${dir.path}/a.properties`), "a=1\n");
  assert.equal(await denoConfigReader.readTextFile(`${dir.path}/b.properties`), undefined);
  assert.equal(await denoConfigReader.readTextFile(`${dir.path}/no/dir/b.properties`), undefined);
});

Deno.test("denoConfigReader gives undefined when a file stands in place of a directory", async () => {
  await using dir = await tempDir();
  await write(`${dir.path}/file`, "x");
  assert.equal(await denoConfigReader.readTextFile(`${dir.path}/file/a.properties`), undefined);
});

Deno.test("denoConfigReader takes the home directory from HOME", () => {
  assert.equal(denoConfigReader.home, Deno.env.get("HOME") || undefined);
});

Deno.test("denoConfigReader works without read and env permissions", async () => {
  await using dir = await tempDir();
  await write(`${dir.path}/outside/x.properties`, "a=1\n");
  const adapter = new URL("../lib/adapters/deno_config.ts", import.meta.url).href;
  const script = `${dir.path}/probe.ts`;
  await write(
    script,
    `import { denoConfigReader } from ${JSON.stringify(adapter)};\n` +
      "const result: Record<string, unknown> = { home: denoConfigReader.home ?? null };\n" +
      "try {\n" +
      `  await denoConfigReader.readTextFile(${
        JSON.stringify(`${dir.path}/outside/x.properties`)
      });\n` +
      "} catch (error) {\n" +
      "  result.name = (error as Error).name;\n" +
      "  result.message = (error as Error).message;\n" +
      "}\n" +
      "console.log(JSON.stringify(result));\n",
  );
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--no-prompt", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
  const result = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.equal(result.home, null);
  assert.equal(result.name, "ConfigError");
  assert.match(result.message, /^Cannot read .*x\.properties: read access is not granted/);
});

// ---------------------------------------------------------------------------------------------
// discoverProperties() and loadSettings() on real files

Deno.test("discoverProperties() searches the caller's directory before the home directory", async () => {
  await using dir = await tempDir();
  const home = `${dir.path}/home`;
  const name = crypto.randomUUID();
  await write(`${dir.path}/app/${name}.properties`, "where=app\n");
  await write(`${home}/.config/cloud.io/${name}.properties`, "where=home\n");
  const reader = readerWithHome(home);

  const first = await discoverProperties(name, { locations: [`${dir.path}/app`], reader });
  assert.equal(first.path, `${dir.path}/app/${name}.properties`);
  assert.equal(first.text, "where=app\n");

  const second = await discoverProperties(name, { locations: [`${dir.path}/empty`], reader });
  assert.equal(second.path, `${home}/.config/cloud.io/${name}.properties`);
  assert.deepEqual(second.searched, [
    `${dir.path}/empty/${name}.properties`,
    `${home}/.config/cloud.io/${name}.properties`,
  ]);
});

Deno.test("discoverProperties() lists every path searched when no file exists", async () => {
  await using dir = await tempDir();
  const name = crypto.randomUUID();
  const error = await rejection(
    discoverProperties(name, {
      locations: [`file:${dir.path}/x`],
      reader: readerWithHome(dir.path),
    }),
  );
  const searched = [
    `${dir.path}/x/${name}.properties`,
    `${dir.path}/.config/cloud.io/${name}.properties`,
    `/etc/cloud.io/${name}.properties`,
  ];
  assert.deepEqual(error.searched, searched);
  for (const path of searched) assert.ok(error.message.includes(path), path);
});

Deno.test("discoverProperties() reports a directory in place of the file", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/demo.properties`);
  const error = await rejection(
    discoverProperties("demo", { locations: [dir.path], reader: readerWithHome(dir.path) }),
  );
  assert.equal(error.path, `${dir.path}/demo.properties`);
  assert.ok(error.cause instanceof Deno.errors.IsADirectory);
});

testUnless(PRIVILEGED, {
  name: "loadSettings() reports a properties file it may not read",
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/${UUID}.properties`;
    await write(path, "hostUri=h\n");
    await Deno.chmod(path, 0o000);
    const error = await rejection(
      loadSettings(UUID, { locations: [dir.path], reader: readerWithHome(dir.path) }),
    );
    assert.equal(error.path, path);
    assert.ok(error.cause instanceof Deno.errors.PermissionDenied);
    assert.match(error.message, /permission denied/);
  },
});

Deno.test("loadSettings() reads a provisioned directory and its PEM files", async () => {
  await using dir = await tempDir();
  const config = `${dir.path}/home/.config/cloud.io`;
  await write(
    `${config}/pump.properties`,
    "#Wed Nov 25 13:57:06 UTC 2026\n" +
      `ch.hevs.cloudio.endpoint.uuid=${UUID}\n` +
      "ch.hevs.cloudio.endpoint.hostUri=ssl\\://cloudio.example.com\\:8883\n" +
      "ch.hevs.cloudio.endpoint.ssl.authorityCert=ca-cert.pem\n" +
      `ch.hevs.cloudio.endpoint.ssl.clientCert=home\\:/.config/cloud.io/${UUID}-client-cert.pem\n` +
      `ch.hevs.cloudio.endpoint.ssl.clientKey=file\\:${config}/${UUID}-private-key.pem\n`,
  );
  await write(`${config}/ca-cert.pem`, CERTIFICATE);
  await write(`${config}/${UUID}-client-cert.pem`, CERTIFICATE);
  await write(`${config}/${UUID}-private-key.pem`, KEY);

  const settings = await loadSettings("pump", { reader: readerWithHome(`${dir.path}/home`) });
  assert.equal(settings.uuid, UUID);
  assert.equal(settings.source, `${config}/pump.properties`);
  assert.equal(settings.authorityCert, `${config}/ca-cert.pem`);
  assert.equal(settings.clientCert, `${config}/${UUID}-client-cert.pem`);
  assert.equal(settings.clientKey, `${config}/${UUID}-private-key.pem`);
  assert.equal(await readPem(settings.authorityCert!, "authorityCert"), CERTIFICATE);
  assert.equal(await readPem(settings.clientCert!, "clientCert"), CERTIFICATE);
  assert.equal(await readPem(settings.clientKey!, "clientKey"), KEY);
});

// ---------------------------------------------------------------------------------------------
// readPem()

Deno.test("readPem() reports a missing PEM file with its key and path", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/missing.pem`;
  const error = await rejection(readPem(path, "clientCert"));
  assert.equal(error.key, "ssl.clientCert");
  assert.equal(error.path, path);
  assert.ok(error.cause instanceof Deno.errors.NotFound);
  assert.equal(error.message, `Cannot read ssl.clientCert file ${path}: it does not exist`);
});

Deno.test("readPem() reports a directory in place of a PEM file", async () => {
  await using dir = await tempDir();
  const error = await rejection(readPem(dir.path, "authorityCert"));
  assert.equal(error.key, "ssl.authorityCert");
  assert.match(error.message, /it is a directory$/);
});

testUnless(PRIVILEGED, {
  name: "readPem() reports a PEM file it may not read",
  async fn() {
    await using dir = await tempDir();
    const path = `${dir.path}/key.pem`;
    await write(path, KEY);
    await Deno.chmod(path, 0o000);
    const error = await rejection(readPem(path, "clientKey"));
    assert.equal(error.key, "ssl.clientKey");
    assert.equal(error.message, `Cannot read ssl.clientKey file ${path}: permission denied`);
  },
});

Deno.test("readPem() refuses a private key given as a certificate", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/key.pem`;
  await write(path, KEY);
  for (const what of ["authorityCert", "clientCert"] as const) {
    const error = await rejection(readPem(path, what));
    assert.equal(error.key, `ssl.${what}`);
    assert.equal(error.path, path);
    assert.equal(
      error.message,
      `Cannot use ssl.${what} file ${path}: it holds a private key, not a certificate`,
    );
  }
});

Deno.test("readPem() refuses a certificate given as a private key", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/cert.pem`;
  await write(path, CERTIFICATE);
  const error = await rejection(readPem(path, "clientKey"));
  assert.equal(error.key, "ssl.clientKey");
  assert.equal(
    error.message,
    `Cannot use ssl.clientKey file ${path}: it holds a certificate, not a private key`,
  );
});

Deno.test("readPem() refuses a file that is not PEM", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/client.p12`;
  await Deno.writeFile(path, new Uint8Array([0x30, 0x82, 0x0a, 0x1b, 0x02, 0x01, 0x03]));
  const error = await rejection(readPem(path, "clientCert"));
  assert.match(error.message, /it is not a PEM file/);
});

Deno.test("readPem() refuses a PEM file of another kind", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/req.pem`;
  await write(
    path,
    "-----BEGIN CERTIFICATE REQUEST-----\nMIIC\n-----END CERTIFICATE REQUEST-----\n",
  );
  assert.match((await rejection(readPem(path, "authorityCert"))).message, /holds no certificate$/);
  assert.match((await rejection(readPem(path, "clientKey"))).message, /holds no private key$/);
});

Deno.test("readPem() refuses an encrypted private key", async () => {
  await using dir = await tempDir();
  const pkcs8 = `${dir.path}/pkcs8.pem`;
  await write(
    pkcs8,
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF\n-----END ENCRYPTED PRIVATE KEY-----\n",
  );
  const legacy = `${dir.path}/legacy.pem`;
  await write(
    legacy,
    "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nMIIE\n" +
      "-----END RSA PRIVATE KEY-----\n",
  );
  for (const path of [pkcs8, legacy]) {
    const error = await rejection(readPem(path, "clientKey"));
    assert.match(error.message, /encrypted/, path);
  }
});

Deno.test("readPem() accepts every unencrypted private key format", async () => {
  await using dir = await tempDir();
  for (const label of ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]) {
    const path = `${dir.path}/${label.replaceAll(" ", "_")}.pem`;
    const pem = `-----BEGIN ${label}-----\nMIIE\n-----END ${label}-----\n`;
    await write(path, pem);
    assert.equal(await readPem(path, "clientKey"), pem);
  }
});

Deno.test("readPem() accepts a certificate chain and a certificate with its key", async () => {
  await using dir = await tempDir();
  const chain = `${dir.path}/chain.pem`;
  await write(chain, CERTIFICATE + CERTIFICATE);
  assert.equal(await readPem(chain, "authorityCert"), CERTIFICATE + CERTIFICATE);
  const both = `${dir.path}/both.pem`;
  await write(both, `Bag Attributes\n${KEY}${CERTIFICATE}`);
  assert.equal(await readPem(both, "clientCert"), `Bag Attributes\n${KEY}${CERTIFICATE}`);
  assert.equal(await readPem(both, "clientKey"), `Bag Attributes\n${KEY}${CERTIFICATE}`);
});

Deno.test("readPem() never puts the file's content in its messages", async () => {
  await using dir = await tempDir();
  const key = `${dir.path}/key.pem`;
  await write(key, KEY);
  const cert = `${dir.path}/cert.pem`;
  await write(cert, CERTIFICATE);
  const text = `${dir.path}/text.pem`;
  await write(text, "SECRET plain text\n");
  const errors = [
    await rejection(readPem(key, "clientCert")),
    await rejection(readPem(cert, "clientKey")),
    await rejection(readPem(text, "authorityCert")),
  ];
  for (const error of errors) assert.doesNotMatch(error.message, /SECRET|MIIE/, error.message);
});
