import assert from "node:assert/strict";
import { installedProperties } from "./installed_properties.ts";
import type { Provisioned } from "./provisioned.ts";

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";

Deno.test("installedProperties() adds the UUID and the certificate files, and may replace the broker", () => {
  const provisioned: Provisioned = {
    uuid: UUID,
    properties: new Map([
      ["hostUri", "ssl://old.example"],
      ["ch.hevs.cloudio.endpoint.messageFormat", "JSON"],
    ]),
    caPem: "",
    certPem: "",
  };
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
    { name: "ConfigError", key: "hostUri", message: /credentials/ },
  );
});
