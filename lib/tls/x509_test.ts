import assert from "node:assert/strict";
import { readCertificate } from "./x509.ts";

async function openssl(args: string[], dir: string): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stderr: "piped",
    stdout: "null",
  }).output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
}

Deno.test("readCertificate() reads CN, issuer and validity as openssl wrote them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await openssl(
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "k.pem",
        "-out",
        "c.pem",
        "-days",
        "30",
        "-subj",
        "/CN=0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55/O=client",
      ],
      dir,
    );
    const pem = await Deno.readTextFile(`${dir}/c.pem`);
    const info = readCertificate(`leading text\n${pem}`);
    assert.equal(info.commonName, "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
    assert.equal(info.issuerCommonName, "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55");
    const days = (info.notAfter - info.notBefore) / 86_400_000;
    assert.ok(Math.abs(days - 30) < 0.01, `${days} days`);
    assert.ok(Math.abs(info.notBefore - Date.now()) < 120_000);
    const { stdout } = await new Deno.Command("openssl", {
      args: ["x509", "-noout", "-serial", "-in", `${dir}/c.pem`],
    }).output();
    const serial = new TextDecoder().decode(stdout).trim().split("=")[1].toLowerCase();
    assert.equal(info.serial.replace(/^0+/, ""), serial.replace(/^0+/, ""));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readCertificate() refuses what is not a certificate", () => {
  assert.throws(() => readCertificate("nothing"), SyntaxError);
  assert.throws(
    () => readCertificate("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----"),
    SyntaxError,
  );
  assert.throws(
    () => readCertificate("-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----"),
    SyntaxError,
  );
});
