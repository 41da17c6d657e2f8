import assert from "node:assert/strict";
import {
  checkProvisioned,
  installedProperties,
  parseProvisioningJson,
  parseProvisioningZip,
  provision,
  type Provisioned,
  ProvisioningError,
  stringifyProvisioningJson,
} from "./provision.ts";
import { ConfigError, ConnectionError } from "../errors.ts";
import { testPki } from "../../tests/_certs.ts";
import { createSigner, writeZip } from "../../tests/_provision_server.ts";

const pki = await testPki();
const signer = await createSigner(pki);
const UUID = crypto.randomUUID();
const rsa = await signer.generate();
const CERT = await signer.certify(UUID, rsa.publicKeyPem);
const TOKEN = "Ab3".repeat(21) + "Z";
const API = "https://cloudio.example.com";

/** Runs openssl with `input` on stdin and returns stdout. */
async function openssl(args: string[], input: string): Promise<string> {
  const child = new Deno.Command("openssl", {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const { success, stdout, stderr } = await child.output();
  assert.ok(success, new TextDecoder().decode(stderr));
  return new TextDecoder().decode(stdout);
}

/** The provisioning JSON with some members replaced (`undefined` removes one). */
function json(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    endpoint: UUID,
    properties: { "ch.hevs.cloudio.endpoint.hostUri": "ssl://cloudio.example.com:8883" },
    caCertificate: pki.caPem,
    clientCertificate: CERT,
    clientPrivateKey: rsa.keyPem,
    ...overrides,
  });
}

function configError(pattern: RegExp, key?: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ConfigError, `a ConfigError, not ${error}`);
    assert.match(error.message, pattern);
    if (key !== undefined) assert.equal(error.key, key);
    // PEM content never appears in messages.
    assert.ok(!error.message.includes("MII"), error.message);
    return true;
  };
}

// ---------------------------------------------------------------------------------------------
// JSON

Deno.test("parseProvisioningJson() returns the checked material", () => {
  const provisioned = parseProvisioningJson(json({
    properties: {
      "ch.hevs.cloudio.endpoint.hostUri": "ssl://x.example:8883",
      retries: 3,
      on: true,
    },
    clientCertificate: CERT.replace(/\n/g, "\r\n"),
  }));
  assert.equal(provisioned.uuid, UUID);
  assert.deepEqual(
    provisioned.properties,
    new Map([["ch.hevs.cloudio.endpoint.hostUri", "ssl://x.example:8883"], ["retries", "3"], [
      "on",
      "true",
    ]]),
  );
  assert.equal(provisioned.caPem, pki.caPem);
  assert.equal(provisioned.certPem, CERT, "line ends normalized");
  assert.equal(provisioned.keyPem, rsa.keyPem);
});

Deno.test("parseProvisioningJson() takes a missing, null or empty clientPrivateKey as no key", () => {
  for (const clientPrivateKey of [undefined, null, ""]) {
    assert.equal(parseProvisioningJson(json({ clientPrivateKey })).keyPem, undefined);
  }
  assert.equal(parseProvisioningJson(json({ properties: undefined })).properties.size, 0);
});

Deno.test("parseProvisioningJson() accepts PKCS#1, PKCS#8 and SEC 1 keys that belong to the certificate", async () => {
  const pkcs1 = await openssl(["pkey", "-traditional"], rsa.keyPem);
  assert.match(pkcs1, /BEGIN RSA PRIVATE KEY/);
  assert.equal(parseProvisioningJson(json({ clientPrivateKey: pkcs1 })).keyPem, pkcs1);
  const ec = await pki.client(UUID);
  const sec1 = await openssl(["pkey", "-traditional"], ec.keyPem);
  assert.match(sec1, /BEGIN EC PRIVATE KEY/);
  // `openssl ecparam -genkey` puts an "EC PARAMETERS" block first.
  const withParameters = await openssl(["ecparam", "-name", "prime256v1", "-genkey"], "");
  assert.match(withParameters, /BEGIN EC PARAMETERS[\s\S]+BEGIN EC PRIVATE KEY/);
  const certified = await signer.certify(UUID, await openssl(["pkey", "-pubout"], withParameters));
  assert.equal(
    parseProvisioningJson(json({ clientCertificate: certified, clientPrivateKey: withParameters }))
      .keyPem,
    withParameters,
  );
  // A SEC 1 key without its public point: the public half is derived and compared.
  const bare = await openssl(["ec", "-no_public"], ec.keyPem);
  assert.match(bare, /BEGIN EC PRIVATE KEY/);
  assert.ok(bare.length < sec1.length, "no public point");
  for (const key of [ec.keyPem, sec1, bare]) {
    const provisioned = parseProvisioningJson(
      json({ clientCertificate: ec.certPem, clientPrivateKey: key }),
    );
    assert.equal(provisioned.keyPem, key);
  }
});

Deno.test("parseProvisioningJson() refuses a private key of another certificate", async () => {
  const other = await signer.generate();
  assert.throws(
    () => parseProvisioningJson(json({ clientPrivateKey: other.keyPem })),
    configError(/private key: it does not belong to the client certificate/, "ssl.clientKey"),
  );
  const ec = await pki.client(crypto.randomUUID());
  const bare = await openssl(["ec", "-no_public"], ec.keyPem);
  for (const key of [ec.keyPem, bare]) {
    assert.throws(
      () => parseProvisioningJson(json({ clientPrivateKey: key })),
      configError(/does not belong/, "ssl.clientKey"),
    );
  }
});

Deno.test("parseProvisioningJson() refuses a certificate that does not name the endpoint", async () => {
  const other = await pki.client(crypto.randomUUID());
  assert.throws(
    () =>
      parseProvisioningJson(
        json({ clientCertificate: other.certPem, clientPrivateKey: other.keyPem }),
      ),
    configError(
      /client certificate: its CN is "[0-9a-f-]+", not the endpoint's UUID/,
      "ssl.clientCert",
    ),
  );
  // The CA certificate has a CN, but not the UUID.
  assert.throws(
    () =>
      parseProvisioningJson(json({ clientCertificate: pki.caPem, clientPrivateKey: undefined })),
    configError(/its CN is "cloudio test CA"/, "ssl.clientCert"),
  );
});

Deno.test("parseProvisioningJson() refuses PEM of the wrong kind", async () => {
  const encrypted = await openssl(["pkey", "-aes256", "-passout", "pass:secret"], rsa.keyPem);
  const cases: [Record<string, unknown>, RegExp, string][] = [
    [
      { caCertificate: pki.caPem + rsa.keyPem },
      /CA certificate: it holds a private key/,
      "ssl.authorityCert",
    ],
    [{ caCertificate: "hello" }, /CA certificate: it is not PEM/, "ssl.authorityCert"],
    [{ caCertificate: 42 }, /"caCertificate" is not a PEM string/, "ssl.authorityCert"],
    [
      { clientCertificate: rsa.keyPem },
      /client certificate: it holds a private key/,
      "ssl.clientCert",
    ],
    [
      { clientCertificate: rsa.publicKeyPem },
      /client certificate: it holds a "PUBLIC KEY" block/,
      "ssl.clientCert",
    ],
    [
      { clientPrivateKey: CERT },
      /private key: it holds a certificate, not a private key/,
      "ssl.clientKey",
    ],
    [{ clientPrivateKey: encrypted }, /private key: it is encrypted/, "ssl.clientKey"],
    [
      { clientPrivateKey: "-----BEGIN PRIVATE KEY-----\nMIIBAAAA\n-----END PRIVATE KEY-----\n" },
      /private key: it is not a valid "PRIVATE KEY" \(/,
      "ssl.clientKey",
    ],
    [{ clientPrivateKey: rsa.keyPem + rsa.keyPem }, /holds 2 blocks/, "ssl.clientKey"],
    [
      { caCertificate: "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n" },
      /not valid base64/,
      "ssl.authorityCert",
    ],
    [
      { caCertificate: "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n" },
      /certificate 1 is not a valid X\.509 certificate/,
      "ssl.authorityCert",
    ],
    [
      { caCertificate: "-----BEGIN CERTIFICATE-----\nMIIB\n" },
      /no matching "-----END" line/,
      "ssl.authorityCert",
    ],
  ];
  for (const [overrides, pattern, key] of cases) {
    assert.throws(() => parseProvisioningJson(json(overrides)), configError(pattern, key));
  }
});

Deno.test("parseProvisioningJson() refuses malformed documents", () => {
  assert.throws(() => parseProvisioningJson("<html>"), configError(/not JSON/));
  assert.throws(() => parseProvisioningJson("[]"), configError(/not a JSON object/));
  assert.throws(
    () => parseProvisioningJson(json({ endpoint: 7 })),
    configError(/"endpoint"/, "uuid"),
  );
  assert.throws(
    () => parseProvisioningJson(json({ endpoint: "not-a-uuid" })),
    configError(/not a UUID/, "uuid"),
  );
  assert.throws(() => parseProvisioningJson(json({ properties: [] })), configError(/"properties"/));
  assert.throws(
    () => parseProvisioningJson(json({ properties: { a: { b: 1 } } })),
    configError(/property "a" is not a string/, "a"),
  );
});

Deno.test("parseProvisioningJson() checks the cloud's properties", () => {
  const props = (properties: Record<string, string>) => json({ properties });
  // A uuid property naming this endpoint is taken out; one naming another is refused.
  assert.equal(
    parseProvisioningJson(props({ "ch.hevs.cloudio.endpoint.uuid": UUID })).properties.size,
    0,
  );
  assert.throws(
    () => parseProvisioningJson(props({ uuid: crypto.randomUUID() })),
    configError(/"uuid" names endpoint/, "uuid"),
  );
  // Certificate paths naming the files provisioning installs are taken out; others are refused.
  const same = parseProvisioningJson(props({
    "ch.hevs.cloudio.endpoint.ssl.authorityCert": "home:/.config/cloud.io/ca-cert.pem",
    "ssl.clientKey": `/etc/cloud.io/${UUID}-private-key.pem`,
  }));
  assert.equal(same.properties.size, 0);
  assert.throws(
    () =>
      parseProvisioningJson(
        props({ "ch.hevs.cloudio.endpoint.ssl.clientKey": "/tmp/their-key.pem" }),
      ),
    configError(
      /"ch\.hevs\.cloudio\.endpoint\.ssl\.clientKey" points to "\/tmp\/their-key\.pem"/,
      "ssl.clientKey",
    ),
  );
  assert.throws(
    () => parseProvisioningJson(props({ "ch.hevs.cloudio.endpoint.hostUri": "ftp://x" })),
    configError(/scheme "ftp"/, "hostUri"),
  );
});

Deno.test("checkProvisioned() refuses what is not a Provisioned value", () => {
  const good = parseProvisioningJson(json());
  assert.throws(
    () => checkProvisioned({ ...good, properties: {} as Map<string, string> }),
    configError(/not a Map/),
  );
  assert.throws(
    () => checkProvisioned({ ...good, uuid: UUID.toUpperCase() }),
    configError(/CN is/),
  );
});

Deno.test("stringifyProvisioningJson() writes what parseProvisioningJson() reads", () => {
  const provisioned = parseProvisioningJson(json());
  assert.deepEqual(parseProvisioningJson(stringifyProvisioningJson(provisioned)), provisioned);
  const keyless: Provisioned = { ...provisioned };
  delete keyless.keyPem;
  assert.ok(!stringifyProvisioningJson(keyless).includes("clientPrivateKey"));
});

// ---------------------------------------------------------------------------------------------
// ZIP

function archiveFiles(prefix = "", withKey = true): { name: string; data: string }[] {
  const files = [
    {
      name: `${prefix}${UUID}.properties`,
      data: "#Tue Mar 07 10:00:00 CET 2023\n" +
        "ch.hevs.cloudio.endpoint.hostUri=ssl\\://cloudio.example.com\\:8883\n" +
        `ch.hevs.cloudio.endpoint.uuid=${UUID}\n`,
    },
    { name: `${prefix}ca-cert.pem`, data: pki.caPem },
    { name: `${prefix}${UUID}-client-cert.pem`, data: CERT },
  ];
  if (withKey) files.push({ name: `${prefix}${UUID}-private-key.pem`, data: rsa.keyPem });
  return files;
}

Deno.test("parseProvisioningZip() reads the cloud's archive, flat or in one directory", async () => {
  for (const prefix of ["", "cloud.io/"]) {
    const provisioned = await parseProvisioningZip(await writeZip(archiveFiles(prefix)));
    assert.equal(provisioned.uuid, UUID);
    assert.deepEqual(
      provisioned.properties,
      new Map([["ch.hevs.cloudio.endpoint.hostUri", "ssl://cloudio.example.com:8883"]]),
    );
    assert.equal(provisioned.caPem, pki.caPem);
    assert.equal(provisioned.certPem, CERT);
    assert.equal(provisioned.keyPem, rsa.keyPem);
  }
  const keyless = await parseProvisioningZip(await writeZip(archiveFiles("", false)));
  assert.equal(keyless.keyPem, undefined);
});

Deno.test("parseProvisioningZip() finds the UUID in the file name, and reads ISO-8859-1 properties", async () => {
  const files = archiveFiles();
  const latin1 = new Uint8Array([...new TextEncoder().encode("site="), 0xe9, 0x0a]);
  const archive = await writeZip([{ name: `${UUID}.properties`, data: latin1 }, ...files.slice(1)]);
  const provisioned = await parseProvisioningZip(archive);
  assert.equal(provisioned.uuid, UUID);
  assert.equal(provisioned.properties.get("site"), "é");
});

Deno.test("parseProvisioningZip() names what is missing or wrong", async () => {
  const files = archiveFiles();
  const without = (i: number) => files.filter((_, j) => j !== i);
  await assert.rejects(
    parseProvisioningZip(await writeZip(without(0))),
    configError(/no \.properties file/),
  );
  await assert.rejects(
    parseProvisioningZip(await writeZip(without(1))),
    configError(/no "ca-cert\.pem" \(the CA certificate\)/, "ssl.authorityCert"),
  );
  await assert.rejects(
    parseProvisioningZip(await writeZip(without(2))),
    configError(/-client-cert\.pem" \(the client certificate\)/, "ssl.clientCert"),
  );
  await assert.rejects(
    parseProvisioningZip(await writeZip([...files, { name: "other.properties", data: "" }])),
    configError(/2 \.properties files/),
  );
  await assert.rejects(
    parseProvisioningZip(await writeZip([{ name: "app.properties", data: "a=1\n" }])),
    configError(/has no property "ch\.hevs\.cloudio\.endpoint\.uuid"/, "uuid"),
  );
  await assert.rejects(
    parseProvisioningZip(
      await writeZip([
        { name: "cloud.io/x.properties", data: "a=1\n" },
        { name: "cloud.io/authority.jks", data: "x" },
        { name: `cloud.io/${UUID}.p12`, data: "x" },
      ]),
    ),
    configError(/Java archive/),
  );
  await assert.rejects(
    parseProvisioningZip(await writeZip([{ name: "../x.properties", data: "" }])),
    configError(/zip slip/),
  );
});

// ---------------------------------------------------------------------------------------------
// The properties file

Deno.test("installedProperties() adds the UUID and the certificate files, and may replace the broker", () => {
  const provisioned = parseProvisioningJson(json({
    properties: { hostUri: "ssl://old.example", "ch.hevs.cloudio.endpoint.messageFormat": "JSON" },
  }));
  assert.deepEqual(
    installedProperties(provisioned, { hostUri: "mqtts://127.0.0.1:8883" }),
    new Map([
      ["ch.hevs.cloudio.endpoint.uuid", UUID],
      ["ch.hevs.cloudio.endpoint.hostUri", "mqtts://127.0.0.1:8883"],
      ["ch.hevs.cloudio.endpoint.messageFormat", "JSON"],
      ["ch.hevs.cloudio.endpoint.ssl.authorityCert", "ca-cert.pem"],
      ["ch.hevs.cloudio.endpoint.ssl.clientCert", `${UUID}-client-cert.pem`],
      ["ch.hevs.cloudio.endpoint.ssl.clientKey", `${UUID}-private-key.pem`],
    ]),
  );
  assert.equal(installedProperties(provisioned).get("hostUri"), "ssl://old.example");
  assert.throws(
    () => installedProperties(provisioned, { hostUri: "ssl://u:p@x" }),
    configError(/credentials/),
  );
});

// ---------------------------------------------------------------------------------------------
// provision() over a fake fetch

interface Seen {
  url: URL;
  accept: string | null;
  redirect: RequestRedirect | undefined;
}

/** A `fetch` that answers with `handler`, recording each request. */
function fakeFetch(handler: (url: URL, init: RequestInit) => Response | Promise<Response>) {
  const seen: Seen[] = [];
  const fetch = (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(input instanceof Request ? input.url : input);
    seen.push({ url, accept: new Headers(init.headers).get("accept"), redirect: init.redirect });
    return Promise.resolve(handler(url, init));
  };
  return { fetch: fetch as typeof globalThis.fetch, seen };
}

/** The cloud's JSON answer, certifying the public key sent (or generating a key without one). */
async function cloudAnswer(url: URL, headers: Record<string, string> = {}): Promise<Response> {
  const publicKey = url.searchParams.get("publicKey");
  const body = publicKey === null ? json() : json({
    clientCertificate: await signer.certify(UUID, publicKey),
    clientPrivateKey: undefined,
  });
  return new Response(body, {
    headers: { "content-type": "application/json", endpoint: UUID, ...headers },
  });
}

Deno.test("provision() sends only a public key generated here, and returns the private key with the certificate", async () => {
  const { fetch, seen } = fakeFetch((url) => cloudAnswer(url));
  const provisioned = await provision(`${API}/`, TOKEN, { fetch });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].url.origin + seen[0].url.pathname, `${API}/api/v1/provision/${TOKEN}`);
  assert.equal(seen[0].accept, "application/json");
  assert.equal(seen[0].redirect, "manual");
  const publicKey = seen[0].url.searchParams.get("publicKey")!;
  assert.match(publicKey, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
  assert.ok(seen[0].url.search.includes("%0A") && !seen[0].url.search.includes("+"), "URL-encoded");
  assert.equal(provisioned.uuid, UUID);
  assert.match(provisioned.keyPem!, /^-----BEGIN PRIVATE KEY-----/);
  assert.notEqual(provisioned.keyPem, rsa.keyPem);
  // The key generated here belongs to the certificate the cloud returned.
  checkProvisioned(provisioned);
});

Deno.test("provision() with generateKey false takes the cloud's key, and a base URL ending in /api/v1", async () => {
  const { fetch, seen } = fakeFetch((url) => cloudAnswer(url));
  const provisioned = await provision(`${API}/cloudio/api/v1`, TOKEN, {
    fetch,
    generateKey: false,
  });
  assert.equal(seen[0].url.href, `${API}/cloudio/api/v1/provision/${TOKEN}`);
  assert.equal(provisioned.keyPem, rsa.keyPem);
});

Deno.test("provision() asks for a ZIP archive when told, and reads whatever format comes", async () => {
  const zip = await writeZip(archiveFiles());
  const { fetch, seen } = fakeFetch(() =>
    new Response(zip.slice(), { headers: { "content-type": "application/zip", endpoint: UUID } })
  );
  const provisioned = await provision(API, TOKEN, { fetch, format: "zip", generateKey: false });
  assert.equal(seen[0].accept, "application/zip");
  assert.equal(provisioned.keyPem, rsa.keyPem);
  // JSON sent as octet-stream is still recognized.
  const { fetch: octets } = fakeFetch(() =>
    new Response(json(), { headers: { "content-type": "application/octet-stream" } })
  );
  assert.equal((await provision(API, TOKEN, { fetch: octets, generateKey: false })).uuid, UUID);
});

Deno.test("provision() refuses a certificate for another key than the one sent", async () => {
  const { fetch } = fakeFetch(() => new Response(json({ clientPrivateKey: undefined })));
  await assert.rejects(
    provision(API, TOKEN, { fetch }),
    configError(/does not certify the public key that was sent/, "ssl.clientCert"),
  );
});

Deno.test("provision() refuses an Endpoint header that names another endpoint", async () => {
  const { fetch } = fakeFetch((url) => cloudAnswer(url, { endpoint: crypto.randomUUID() }));
  await assert.rejects(
    provision(API, TOKEN, { fetch, generateKey: false }),
    configError(/Endpoint header names "[0-9a-f-]+", but its content is for/, "uuid"),
  );
});

Deno.test("provision() reports HTTP errors with the status and the server's message, never the token", async () => {
  const spring = {
    timestamp: "2024-01-01T00:00:00Z",
    status: 403,
    error: "Forbidden",
    message: "Forbidden",
    path: `/api/v1/provision/${TOKEN}`,
  };
  const { fetch } = fakeFetch(() => Response.json(spring, { status: 403 }));
  await assert.rejects(provision(API, TOKEN, { fetch, generateKey: false }), (error: unknown) => {
    assert.ok(error instanceof ProvisioningError && error instanceof ConnectionError);
    assert.equal(error.status, 403);
    assert.equal(error.serverMessage, "Forbidden");
    assert.match(error.message, /answered 403 \(the token is unknown or was already used/);
    assert.equal(error.url, `${API}/api/v1/provision/Ab3A…`);
    assert.ok(!error.message.includes(TOKEN));
    return true;
  });
  const { fetch: failing } = fakeFetch(() =>
    new Response(`boom\n${TOKEN}\n${"x".repeat(100_000)}`, { status: 502 })
  );
  await assert.rejects(
    provision(API, TOKEN, { fetch: failing, generateKey: false }),
    (error: unknown) => {
      assert.ok(error instanceof ProvisioningError);
      assert.equal(error.status, 502);
      assert.match(error.serverMessage!, /^boom … x+…$/);
      assert.ok(!error.message.includes(TOKEN));
      return true;
    },
  );
});

Deno.test("provision() reports network failures, timeouts, redirects and odd answers", async () => {
  const network = fakeFetch(() => {
    throw new TypeError("connection refused");
  });
  await assert.rejects(
    provision(API, TOKEN, { fetch: network.fetch, generateKey: false }),
    (error: unknown) => {
      assert.ok(error instanceof ProvisioningError);
      assert.equal(error.status, undefined);
      assert.match(error.message, /Cannot reach the provisioning API at .*: connection refused/);
      assert.ok(error.cause instanceof TypeError);
      return true;
    },
  );
  const hanging = fakeFetch((_, init) =>
    new Promise<Response>((_, reject) => {
      init.signal!.addEventListener("abort", () => reject(init.signal!.reason));
    })
  );
  await assert.rejects(
    provision(API, TOKEN, { fetch: hanging.fetch, generateKey: false, timeout: 50 }),
    { name: "ProvisioningError", message: /no answer within 50 ms/ },
  );
  const redirect = fakeFetch(() =>
    new Response(null, { status: 302, headers: { location: "http://elsewhere.example/x" } })
  );
  await assert.rejects(
    provision(API, TOKEN, { fetch: redirect.fetch, generateKey: false }),
    { name: "ProvisioningError", status: 302, message: /redirects \(302\) to http:\/\/elsewhere/ },
  );
  const html = fakeFetch(() =>
    new Response("<html>login</html>", { headers: { "content-type": "text/html" } })
  );
  await assert.rejects(
    provision(API, TOKEN, { fetch: html.fetch, generateKey: false }),
    { name: "ProvisioningError", message: /the answer is text\/html, not JSON or ZIP/ },
  );
  const huge = fakeFetch(() => new Response(new Uint8Array((1 << 20) + 1)));
  await assert.rejects(
    provision(API, TOKEN, { fetch: huge.fetch, generateKey: false }),
    { name: "ProvisioningError", message: /larger than 1048576 bytes/ },
  );
});

Deno.test("provision() rejects with the signal's reason when aborted", async () => {
  const controller = new AbortController();
  const hanging = fakeFetch((_, init) =>
    new Promise<Response>((_, reject) => {
      init.signal!.addEventListener("abort", () => reject(init.signal!.reason));
      controller.abort(new Error("user gave up"));
    })
  );
  await assert.rejects(
    provision(API, TOKEN, { fetch: hanging.fetch, generateKey: false, signal: controller.signal }),
    { message: "user gave up" },
  );
  await assert.rejects(
    provision(API, TOKEN, { fetch: hanging.fetch, signal: AbortSignal.abort(new Error("early")) }),
    { message: "early" },
  );
});

Deno.test("provision() refuses malformed tokens and unsafe URLs before sending anything", async () => {
  const { fetch, seen } = fakeFetch(() => new Response("unexpected", { status: 500 }));
  const cases: [string, string, RegExp, string][] = [
    [API, "short", /has 5 characters, not 64/, "token"],
    [API, "-".repeat(64), /characters other than letters and digits/, "token"],
    [API, `${TOKEN.slice(0, 63)}/`, /characters other than letters and digits/, "token"],
    ["cloudio.example.com", TOKEN, /not an absolute URL/, "apiUrl"],
    ["ftp://cloudio.example.com", TOKEN, /only https/, "apiUrl"],
    ["http://cloudio.example.com", TOKEN, /plain http would expose/, "apiUrl"],
    ["https://user:secret@cloudio.example.com", TOKEN, /contains credentials/, "apiUrl"],
    ["https://cloudio.example.com/?x=1", TOKEN, /query or fragment/, "apiUrl"],
  ];
  for (const [api, token, pattern, key] of cases) {
    await assert.rejects(provision(api, token, { fetch }), (error: unknown) => {
      configError(pattern, key)(error);
      assert.ok(!(error as Error).message.includes("secret"));
      return true;
    });
  }
  assert.equal(seen.length, 0);
  await assert.rejects(provision(API, TOKEN, { fetch, timeout: 0 }), RangeError);
  // Loopback, or an explicit opt-in, may use plain http.
  for (const api of ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"]) {
    await assert.rejects(provision(api, TOKEN, { fetch, generateKey: false }), { status: 500 });
  }
  await assert.rejects(
    provision("http://cloud.lan", TOKEN, { fetch, generateKey: false, allowInsecureHttp: true }),
    { status: 500 },
  );
  assert.equal(seen.length, 4);
});
