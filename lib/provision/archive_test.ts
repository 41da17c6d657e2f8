import assert from "node:assert/strict";
import { parseProvisioningZip } from "./archive.ts";
import { archiveFiles, CERT, configError, pki, rsa, UUID } from "../../tests/_provisioning.ts";
import { writeZip } from "../../tests/_provision_server.ts";

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
