import assert from "node:assert/strict";
import { checkProvisioned } from "./check.ts";
import { provision, ProvisioningError } from "./provision.ts";
import { ConnectionError } from "../errors.ts";
import { archiveFiles, configError, json, rsa, signer, UUID } from "../../tests/_provisioning.ts";
import { writeZip } from "../../tests/_provision_server.ts";

const TOKEN = "Ab3".repeat(21) + "Z";
const API = "https://cloudio.example.com";

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
