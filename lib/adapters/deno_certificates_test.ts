import assert from "node:assert/strict";
import { certificateMatchesKey, readCertificate } from "./deno_certificates.ts";
import * as web from "../tls/x509.ts";

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";
const dir = await Deno.makeTempDir({ prefix: "cloudio_certificates_" });
addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
let count = 0;

/** Runs openssl in the scratch directory; returns stdout. */
async function openssl(...args: string[]): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command("openssl", { args, cwd: dir }).output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  return new TextDecoder().decode(stdout);
}

/** A self-signed certificate and its key (PKCS#8), made by `openssl req`. */
async function selfSigned(
  key: string[],
  ...more: string[]
): Promise<{ certPem: string; keyPem: string; keyPath: string }> {
  const n = ++count;
  await openssl(
    "req",
    "-x509",
    "-newkey",
    ...key,
    "-nodes",
    "-keyout",
    `k${n}.pem`,
    "-out",
    `c${n}.pem`,
    "-days",
    "30",
    ...more,
  );
  return {
    certPem: await Deno.readTextFile(`${dir}/c${n}.pem`),
    keyPem: await Deno.readTextFile(`${dir}/k${n}.pem`),
    keyPath: `${dir}/k${n}.pem`,
  };
}

const EC = ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
const ec = await selfSigned(EC, "-subj", `/CN=${UUID}/O=client`);
const rsa = await selfSigned(["rsa:2048"], "-subj", "/O=o/CN=rsa", "-set_serial", "0x80aa");

/** The certificate with every 2-byte UTF8String "ab" made the BMPString "A" (0x00 0x41). */
async function bmpString(): Promise<string> {
  const { certPem } = await selfSigned(EC, "-subj", "/CN=ab");
  const der = Uint8Array.from(
    atob(certPem.replace(/-----[A-Z ]+-----|\s/g, "")),
    (c) => c.charCodeAt(0),
  );
  for (let i = 0; i + 4 <= der.length; i++) {
    if (der[i] === 0x0c && der[i + 1] === 2 && der[i + 2] === 0x61 && der[i + 3] === 0x62) {
      der.set([0x1e, 2, 0, 0x41], i);
    }
  }
  const base64 = btoa(String.fromCharCode(...der)).replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
}

Deno.test("readCertificate() reads with node:crypto what x509.ts reads", async () => {
  const pems = [
    ec.certPem,
    rsa.certPem,
    `leading text\n${ec.certPem}`,
    rsa.certPem + ec.certPem,
    ec.certPem.replace(/\n/g, "\r\n"),
    ec.certPem.replace(/CERTIFICATE/g, "X509 CERTIFICATE"),
    (await selfSigned(EC, "-subj", "/O=no common name", "-set_serial", "5")).certPem,
    (await selfSigned(EC, "-subj", "/CN=first/O=o/CN=second")).certPem,
    (await selfSigned(EC, "-multivalue-rdn", "-subj", "/O=o+CN=in an RDN/CN=later")).certPem,
    (await selfSigned(EC, "-utf8", "-subj", "/CN=Zürich")).certPem,
    await bmpString(),
  ];
  for (const pem of pems) assert.deepEqual(readCertificate(pem), web.readCertificate(pem));
  assert.deepEqual(readCertificate(ec.certPem).commonName, UUID);
  assert.deepEqual(readCertificate(rsa.certPem).serial, "0080aa");
  const info = readCertificate(ec.certPem);
  assert.ok(Math.abs(info.notAfter - info.notBefore - 30 * 86_400_000) < 1000);
});

Deno.test("readCertificate() refuses what is not a certificate", () => {
  for (
    const text of [
      "nothing",
      ec.keyPem,
      "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----",
      "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----",
    ]
  ) {
    assert.throws(() => readCertificate(text), SyntaxError);
  }
  assert.throws(() => readCertificate(new Uint8Array([0x30, 3, 2, 1, 0])), {
    name: "SyntaxError",
    message: /^Not an X\.509 certificate \(/,
  });
});

Deno.test("certificateMatchesKey() tells the certificate's key from another, whatever its format", async () => {
  const sec1 = await openssl("pkey", "-traditional", "-in", ec.keyPath);
  assert.match(sec1, /BEGIN EC PRIVATE KEY/);
  await Deno.writeTextFile(`${dir}/sec1.pem`, sec1);
  const withoutPublic = await openssl("ec", "-no_public", "-in", `${dir}/sec1.pem`);
  const publicKey = await openssl("pkey", "-pubout", "-in", ec.keyPath);
  for (const key of [ec.keyPem, sec1, withoutPublic, publicKey]) {
    assert.equal(certificateMatchesKey(ec.certPem, key), true);
  }
  const pkcs1 = await openssl("pkey", "-traditional", "-in", rsa.keyPath);
  assert.match(pkcs1, /BEGIN RSA PRIVATE KEY/);
  assert.equal(certificateMatchesKey(rsa.certPem, pkcs1), true);
  assert.equal(certificateMatchesKey(rsa.certPem, ec.keyPem), false);
  assert.equal(
    certificateMatchesKey(ec.certPem, (await selfSigned(EC, "-subj", "/CN=x")).keyPem),
    false,
  );
  const ed25519 = await selfSigned(["ed25519"], "-subj", "/CN=ed");
  assert.equal(certificateMatchesKey(ed25519.certPem, ed25519.keyPem), true);
});

Deno.test("certificateMatchesKey() refuses a key it cannot read", () => {
  assert.throws(
    () =>
      certificateMatchesKey(
        ec.certPem,
        "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
      ),
    { name: "SyntaxError", message: /^Not a private key \(/ },
  );
  assert.throws(() => certificateMatchesKey(ec.certPem, "junk"), {
    name: "SyntaxError",
    message: /^Not a public key \(/,
  });
  assert.throws(() => certificateMatchesKey("junk", ec.keyPem), SyntaxError);
});
