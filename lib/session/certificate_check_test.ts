import assert from "node:assert/strict";
import type { EndpointSettings } from "../config/settings.ts";
import { ConfigError } from "../errors.ts";
import type { EndpointStatus } from "../status.ts";
import type { CertificateInfo } from "../tls/certificate.ts";
import { inspectCredentials, type InspectOptions } from "./certificate_check.ts";

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";
const DAY = 86_400_000;

function options(events: EndpointStatus[], overrides: Partial<InspectOptions> = {}) {
  return {
    settings: { uuid: UUID } as EndpointSettings,
    now: () => 1000 * DAY,
    report: () => {},
    emit: (event: EndpointStatus) => events.push(event),
    ...overrides,
  };
}

Deno.test("inspectCredentials() reads the certificate with the reader it is given", async () => {
  const read: string[] = [];
  const events: EndpointStatus[] = [];
  const info: CertificateInfo = {
    commonName: UUID,
    notBefore: 0,
    notAfter: 2000 * DAY,
    serial: "01",
  };
  const provider = inspectCredentials(
    () => Promise.resolve({ cert: "the client certificate" }),
    options(events, {
      readCertificate: (pem) => {
        read.push(pem);
        return info;
      },
    }),
  );
  assert.deepEqual(await provider(), { cert: "the client certificate" });
  assert.deepEqual(read, ["the client certificate"]);
  assert.deepEqual(events, [
    { type: "certificate", commonName: UUID, notAfter: 2000 * DAY, expiresIn: 1000 * DAY },
  ]);
});

Deno.test("inspectCredentials() reads with x509.ts by default, and names what it cannot read", async () => {
  const provider = inspectCredentials(() => Promise.resolve({ cert: "not PEM" }), options([]));
  await assert.rejects(provider(), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.key, "ssl.clientCert");
    assert.equal(
      error.message,
      "Cannot read the client certificate: No certificate in the PEM text",
    );
    return true;
  });
});
