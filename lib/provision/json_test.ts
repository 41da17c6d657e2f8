import assert from "node:assert/strict";
import { parseProvisioningJson, stringifyProvisioningJson } from "./json.ts";
import type { Provisioned } from "./provisioned.ts";
import { CERT, configError, json, pki, rsa, UUID } from "../../tests/_provisioning.ts";

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
    () => parseProvisioningJson(json({ caCertificate: 42 })),
    configError(/"caCertificate" is not a PEM string/, "ssl.authorityCert"),
  );
  assert.throws(
    () => parseProvisioningJson(json({ properties: { a: { b: 1 } } })),
    configError(/property "a" is not a string/, "a"),
  );
});

Deno.test("parseProvisioningJson() checks what it read", async () => {
  const other = await pki.client(crypto.randomUUID());
  assert.throws(
    () => parseProvisioningJson(json({ clientPrivateKey: other.keyPem })),
    configError(/private key: it does not belong to the client certificate/, "ssl.clientKey"),
  );
  assert.throws(
    () => parseProvisioningJson(json({ properties: { uuid: crypto.randomUUID() } })),
    configError(/"uuid" names endpoint/, "uuid"),
  );
});

Deno.test("stringifyProvisioningJson() writes what parseProvisioningJson() reads", () => {
  const provisioned = parseProvisioningJson(json());
  assert.deepEqual(parseProvisioningJson(stringifyProvisioningJson(provisioned)), provisioned);
  const keyless: Provisioned = { ...provisioned };
  delete keyless.keyPem;
  assert.ok(!stringifyProvisioningJson(keyless).includes("clientPrivateKey"));
});
