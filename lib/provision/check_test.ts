import assert from "node:assert/strict";
import { checkProvisioned } from "./check.ts";
import type { Provisioned } from "./provisioned.ts";
import { CERT, configError, pki, rsa, signer, UUID } from "../../tests/_provisioning.ts";

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

/** The endpoint's material, with some members replaced. */
function material(overrides: Partial<Provisioned> = {}): Provisioned {
  return {
    uuid: UUID,
    properties: new Map([["ch.hevs.cloudio.endpoint.hostUri", "ssl://cloudio.example.com:8883"]]),
    caPem: pki.caPem,
    certPem: CERT,
    keyPem: rsa.keyPem,
    ...overrides,
  };
}

Deno.test("checkProvisioned() accepts PKCS#1, PKCS#8 and SEC 1 keys that belong to the certificate", async () => {
  const pkcs1 = await openssl(["pkey", "-traditional"], rsa.keyPem);
  assert.match(pkcs1, /BEGIN RSA PRIVATE KEY/);
  assert.equal(checkProvisioned(material({ keyPem: pkcs1 })).keyPem, pkcs1);
  const ec = await pki.client(UUID);
  const sec1 = await openssl(["pkey", "-traditional"], ec.keyPem);
  assert.match(sec1, /BEGIN EC PRIVATE KEY/);
  // `openssl ecparam -genkey` puts an "EC PARAMETERS" block first.
  const withParameters = await openssl(["ecparam", "-name", "prime256v1", "-genkey"], "");
  assert.match(withParameters, /BEGIN EC PARAMETERS[\s\S]+BEGIN EC PRIVATE KEY/);
  const certified = await signer.certify(UUID, await openssl(["pkey", "-pubout"], withParameters));
  assert.equal(
    checkProvisioned(material({ certPem: certified, keyPem: withParameters })).keyPem,
    withParameters,
  );
  // A SEC 1 key without its public point: the public half is derived and compared.
  const bare = await openssl(["ec", "-no_public"], ec.keyPem);
  assert.match(bare, /BEGIN EC PRIVATE KEY/);
  assert.ok(bare.length < sec1.length, "no public point");
  for (const key of [ec.keyPem, sec1, bare]) {
    assert.equal(checkProvisioned(material({ certPem: ec.certPem, keyPem: key })).keyPem, key);
  }
});

Deno.test("checkProvisioned() refuses a private key of another certificate", async () => {
  const other = await signer.generate();
  assert.throws(
    () => checkProvisioned(material({ keyPem: other.keyPem })),
    configError(/private key: it does not belong to the client certificate/, "ssl.clientKey"),
  );
  const ec = await pki.client(crypto.randomUUID());
  const bare = await openssl(["ec", "-no_public"], ec.keyPem);
  for (const key of [ec.keyPem, bare]) {
    assert.throws(
      () => checkProvisioned(material({ keyPem: key })),
      configError(/does not belong/, "ssl.clientKey"),
    );
  }
});

Deno.test("checkProvisioned() refuses a certificate that does not name the endpoint", async () => {
  const other = await pki.client(crypto.randomUUID());
  assert.throws(
    () => checkProvisioned(material({ certPem: other.certPem, keyPem: other.keyPem })),
    configError(
      /client certificate: its CN is "[0-9a-f-]+", not the endpoint's UUID/,
      "ssl.clientCert",
    ),
  );
  // The CA certificate has a CN, but not the UUID.
  assert.throws(
    () => checkProvisioned(material({ certPem: pki.caPem, keyPem: undefined })),
    configError(/its CN is "cloudio test CA"/, "ssl.clientCert"),
  );
});

Deno.test("checkProvisioned() refuses PEM of the wrong kind", async () => {
  const encrypted = await openssl(["pkey", "-aes256", "-passout", "pass:secret"], rsa.keyPem);
  const cases: [Partial<Provisioned>, RegExp, string][] = [
    [
      { caPem: pki.caPem + rsa.keyPem },
      /CA certificate: it holds a private key/,
      "ssl.authorityCert",
    ],
    [{ caPem: "hello" }, /CA certificate: it is not PEM/, "ssl.authorityCert"],
    [{ certPem: rsa.keyPem }, /client certificate: it holds a private key/, "ssl.clientCert"],
    [
      { certPem: rsa.publicKeyPem },
      /client certificate: it holds a "PUBLIC KEY" block/,
      "ssl.clientCert",
    ],
    [{ keyPem: CERT }, /private key: it holds a certificate, not a private key/, "ssl.clientKey"],
    [{ keyPem: encrypted }, /private key: it is encrypted/, "ssl.clientKey"],
    [
      { keyPem: "-----BEGIN PRIVATE KEY-----\nMIIBAAAA\n-----END PRIVATE KEY-----\n" },
      /private key: it is not a valid "PRIVATE KEY" \(/,
      "ssl.clientKey",
    ],
    [{ keyPem: rsa.keyPem + rsa.keyPem }, /holds 2 blocks/, "ssl.clientKey"],
    [
      { caPem: "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n" },
      /not valid base64/,
      "ssl.authorityCert",
    ],
    [
      { caPem: "-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n" },
      /certificate 1 is not a valid X\.509 certificate/,
      "ssl.authorityCert",
    ],
    [
      { caPem: "-----BEGIN CERTIFICATE-----\nMIIB\n" },
      /no matching "-----END" line/,
      "ssl.authorityCert",
    ],
  ];
  for (const [overrides, pattern, key] of cases) {
    assert.throws(() => checkProvisioned(material(overrides)), configError(pattern, key));
  }
});

Deno.test("checkProvisioned() checks the cloud's properties", () => {
  const props = (properties: Record<string, string>) =>
    material({ properties: new Map(Object.entries(properties)) });
  // A uuid property naming this endpoint is taken out; one naming another is refused.
  assert.equal(
    checkProvisioned(props({ "ch.hevs.cloudio.endpoint.uuid": UUID })).properties.size,
    0,
  );
  assert.throws(
    () => checkProvisioned(props({ uuid: crypto.randomUUID() })),
    configError(/"uuid" names endpoint/, "uuid"),
  );
  // Certificate paths naming the files provisioning installs are taken out; others are refused.
  const same = checkProvisioned(props({
    "ch.hevs.cloudio.endpoint.ssl.authorityCert": "home:/.config/cloud.io/ca-cert.pem",
    "ssl.clientKey": `/etc/cloud.io/${UUID}-private-key.pem`,
  }));
  assert.equal(same.properties.size, 0);
  assert.throws(
    () =>
      checkProvisioned(props({ "ch.hevs.cloudio.endpoint.ssl.clientKey": "/tmp/their-key.pem" })),
    configError(
      /"ch\.hevs\.cloudio\.endpoint\.ssl\.clientKey" points to "\/tmp\/their-key\.pem"/,
      "ssl.clientKey",
    ),
  );
  assert.throws(
    () => checkProvisioned(props({ "ch.hevs.cloudio.endpoint.hostUri": "ftp://x" })),
    configError(/scheme "ftp"/, "hostUri"),
  );
});

Deno.test("checkProvisioned() refuses what is not a Provisioned value", () => {
  const good = checkProvisioned(material());
  assert.throws(
    () => checkProvisioned({ ...good, properties: {} as Map<string, string> }),
    configError(/not a Map/),
  );
  assert.throws(
    () => checkProvisioned({ ...good, uuid: UUID.toUpperCase() }),
    configError(/CN is/),
  );
});
