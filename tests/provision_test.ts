/**
 * Provisioning against the stand-in cloud (`_provision_server.ts`, protocol §8.3), then the
 * provisioned endpoint against the test mosquitto over TLS; and the `examples/provision.ts` CLI.
 */

import assert from "node:assert/strict";
import { Endpoint } from "../mod.ts";
import { decodePayload } from "../lib/codec/decode.ts";
import type { CloudioError } from "../lib/errors.ts";
import { installFromZip, installProvisioned, provision, ProvisioningError } from "../provision.ts";
import { testPki } from "./_certs.ts";
import { startMosquitto } from "./_broker.ts";
import { connectCloud } from "./_cloud.ts";
import { hasZipCli, startProvisionServer } from "./_provision_server.ts";
import { DENO } from "./_process.ts";
import { serveDir } from "./_serve.ts";

const ROOT = new URL("../", import.meta.url);
const CLI = new URL("examples/provision.ts", ROOT).pathname;

async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "cloudio_provision_" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

async function mode(path: string): Promise<number> {
  return (await Deno.stat(path)).mode! & 0o777;
}

/** Provisions with `options`, installs into a fresh directory, connects and sends one value. */
async function provisionAndConnect(
  options: { generateKey: boolean; format: "json" | "zip" },
): Promise<void> {
  await using broker = await startMosquitto();
  await using server = await startProvisionServer(broker.pki);
  await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "@update/#" });
  await using tmp = await tempDir();
  const uuid = server.createEndpoint({
    "ch.hevs.cloudio.endpoint.hostUri": broker.tlsUrl,
    "ch.hevs.cloudio.endpoint.persistence": "memory",
  });
  const token = server.createToken(uuid);

  const provisioned = await provision(server.url, token, options);
  assert.equal(provisioned.uuid, uuid);
  const [request] = server.requests;
  assert.equal(request.status, 200);
  assert.equal(request.accept, options.format === "zip" ? "application/zip" : "application/json");
  if (options.generateKey) {
    assert.match(request.publicKey!, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(server.endpoint(uuid)!.keyPem, "", "the cloud never saw the private key");
  } else {
    assert.equal(request.publicKey, null);
    assert.equal(provisioned.keyPem, server.endpoint(uuid)!.keyPem);
  }

  const dir = `${tmp.path}/cloud.io`;
  const files = await installProvisioned(provisioned, { dir });
  assert.equal(await mode(files.clientKey), 0o600);
  assert.equal(await mode(dir), 0o700);

  // The endpoint finds everything through its own properties search, and connects at once:
  // connect() rejects when the first attempt fails.
  const errors: CloudioError[] = [];
  const endpoint = new Endpoint(uuid, { locations: [dir], onError: (error) => errors.push(error) });
  await using _ = endpoint;
  const temperature = endpoint.addNode("Room").addObject("Climate").addAttribute("temperature", {
    type: "Number",
    constraint: "Measure",
  });
  await endpoint.connect();
  assert.equal(endpoint.state, "online");
  temperature.value = 21.5;
  const update = await cloud.waitFor((m) => m.topic === `@update/${uuid}/Room/Climate/temperature`);
  assert.equal(decodePayload(update.payload, { maxBytes: 1 << 16 }).value.value, 21.5);
  assert.deepEqual(errors, []);
  // The broker took the certificate's CN as the login (protocol §9).
  assert.match(broker.output(), new RegExp(`New client connected .* as ${uuid} .*u'${uuid}'`));
}

Deno.test("provisioning from the stand-in cloud yields an endpoint that connects over TLS on the first try", async () => {
  await provisionAndConnect({ generateKey: true, format: "json" });
});

Deno.test("provisioning a ZIP archive with the cloud's key pair yields an endpoint that connects", async () => {
  await provisionAndConnect({ generateKey: false, format: "zip" });
});

Deno.test("provision() is refused a used token, or one replaced by a newer token, with 403", async () => {
  await using server = await startProvisionServer(await testPki());
  const uuid = server.createEndpoint({ "ch.hevs.cloudio.endpoint.hostUri": "ssl://example.com" });
  const replaced = server.createToken(uuid);
  const token = server.createToken(uuid);
  await provision(server.url, token, { generateKey: false });
  for (const refused of [token, replaced]) {
    await assert.rejects(
      provision(server.url, refused, { generateKey: false }),
      (error: unknown) => {
        assert.ok(error instanceof ProvisioningError);
        assert.equal(error.status, 403);
        assert.equal(error.serverMessage, "Forbidden");
        assert.ok(!error.message.includes(refused));
        return true;
      },
    );
  }
  assert.deepEqual(server.requests.map((r) => r.status), [200, 403, 403]);
});

Deno.test("provision() refuses an answer whose certificate or header does not fit", async () => {
  await using server = await startProvisionServer(await testPki());
  const uuid = server.createEndpoint({ "ch.hevs.cloudio.endpoint.hostUri": "ssl://example.com" });
  server.misbehave.ignorePublicKey = true;
  await assert.rejects(provision(server.url, server.createToken(uuid)), {
    name: "ConfigError",
    key: "ssl.clientCert",
    message: /does not certify the public key that was sent/,
  });
  server.misbehave.ignorePublicKey = false;
  server.misbehave.endpointHeader = crypto.randomUUID();
  await assert.rejects(provision(server.url, server.createToken(uuid), { generateKey: false }), {
    name: "ConfigError",
    message: /Endpoint header names/,
  });
});

Deno.test("installFromZip() installs archives as the cloud sends them, zipped by the zip command or the test writer", async () => {
  const pki = await testPki();
  for (const zip of (await hasZipCli()) ? ["cli", "writer"] as const : ["writer"] as const) {
    await using server = await startProvisionServer(pki, { zip });
    await using tmp = await tempDir();
    const uuid = server.createEndpoint({ "ch.hevs.cloudio.endpoint.hostUri": "ssl://example.com" });
    const token = server.createToken(uuid);
    // Downloaded by hand, e.g. with curl -H 'Accept: application/zip'.
    const response = await fetch(`${server.url}/api/v1/provision/${token}`, {
      headers: { accept: "application/zip" },
    });
    assert.equal(response.headers.get("content-type"), "application/zip");
    const files = await installFromZip(new Uint8Array(await response.arrayBuffer()), {
      dir: tmp.path,
    });
    assert.equal(files.uuid, uuid);
    assert.equal(await Deno.readTextFile(files.clientKey), server.endpoint(uuid)!.keyPem);
    assert.equal(await mode(files.clientKey), 0o600);
  }
});

// ---------------------------------------------------------------------------------------------
// The CLI

async function run(args: string[], env: Record<string, string>, cwd?: string) {
  const output = await new Deno.Command(DENO, {
    args,
    cwd,
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("examples/provision.ts installs from the API and prints the next command", async () => {
  await using server = await startProvisionServer(await testPki());
  await using home = await tempDir();
  const uuid = server.createEndpoint({ "ch.hevs.cloudio.endpoint.hostUri": "ssl://example.com" });
  const token = server.createToken(uuid);
  // The token from the environment, the default directory under HOME.
  const result = await run(["run", "-A", CLI, "--api", server.url], {
    HOME: home.path,
    CLOUDIO_PROVISION_TOKEN: token,
  });
  assert.equal(result.code, 0, result.stderr);
  const dir = `${home.path}/.config/cloud.io`;
  assert.match(
    result.stdout,
    new RegExp(`Provisioned endpoint ${uuid} \\(its key pair was generated here`),
  );
  assert.match(result.stdout, new RegExp(`Installed endpoint ${uuid} in ${dir}:`));
  assert.match(result.stdout, new RegExp(`${uuid}-private-key\\.pem \\(owner only\\)`));
  assert.match(
    result.stdout,
    /Next, run an endpoint with it:\n {2}deno run -A \S+vacuum_cleaner\.ts --uuid /,
  );
  assert.match(result.stdout, new RegExp(`new Endpoint\\("${uuid}"\\)`));
  assert.equal(await mode(`${dir}/${uuid}-private-key.pem`), 0o600);

  // The token is used up: exit code 1, a one-line error without the token.
  const again = await run(["run", "-A", CLI, "--api", server.url, "--token", token, "--dir", dir], {
    HOME: home.path,
  });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^error: Cannot provision from .* answered 403/);
  assert.ok(!again.stderr.includes(token) && !again.stderr.includes("    at "), again.stderr);

  const bad = await run(["run", "-A", CLI, "--api", server.url, "--zip", "x.zip"], {
    HOME: home.path,
  });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /give exactly one of --api, --zip and --json/);
});

Deno.test("examples/provision.ts saves what it fetched when it cannot install it, for --json later", async () => {
  await using server = await startProvisionServer(await testPki());
  await using home = await tempDir();
  const uuid = server.createEndpoint({}); // The cloud stores no hostUri.
  const token = server.createToken(uuid);
  const failed = await run(
    ["run", "-A", CLI, "--api", server.url, "--token", token, "--dir", `${home.path}/out`],
    { HOME: home.path },
    home.path,
  );
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /Missing property "hostUri"/);
  const saved = `${home.path}/${uuid}.provisioning.json`;
  assert.match(failed.stderr, new RegExp(`saved in ${saved}`));
  assert.equal(await mode(saved), 0o600);
  const installed = await run(
    [
      "run",
      "-A",
      CLI,
      "--json",
      saved,
      "--dir",
      `${home.path}/out`,
      "--host-uri",
      "ssl://broker.example",
    ],
    { HOME: home.path },
  );
  assert.equal(installed.code, 0, installed.stderr);
  assert.match(installed.stdout, / --uuid \S+ --config \S+\/out\n/);
  assert.match(
    await Deno.readTextFile(`${home.path}/out/${uuid}.properties`),
    /hostUri=ssl\\:\/\/broker\.example/,
  );
});

Deno.test("examples/provision.ts runs by URL with no import map", async () => {
  await using files = serveDir(ROOT.pathname);
  await using server = await startProvisionServer(await testPki());
  await using home = await tempDir();
  const uuid = server.createEndpoint({ "ch.hevs.cloudio.endpoint.hostUri": "ssl://example.com" });
  const response = await fetch(`${server.url}/api/v1/provision/${server.createToken(uuid)}`);
  await Deno.writeTextFile(`${home.path}/download.json`, await response.text());
  const result = await run(
    [
      "run",
      "--no-config",
      "-A",
      `${files.url}examples/provision.ts`,
      "--json",
      `${home.path}/download.json`,
    ],
    { HOME: home.path },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`Installed endpoint ${uuid}`));
  assert.match(
    result.stdout,
    new RegExp(`deno run -A ${files.url}examples/vacuum_cleaner\\.ts --uuid ${uuid}\n`),
  );
  assert.ok(files.requested.includes("/lib/provision/zip.ts"));
});
