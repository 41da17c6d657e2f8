import assert from "node:assert/strict";
import { generateKeyPair } from "./keys.ts";
import { pemBlocks } from "./_pem.ts";

function der(pem: string, label: string): Uint8Array<ArrayBuffer> {
  const blocks = pemBlocks(pem);
  assert.ok(Array.isArray(blocks) && blocks.length === 1, "one PEM block");
  assert.equal(blocks[0].label, label);
  return blocks[0].der;
}

Deno.test("generateKeyPair() gives an RSA 2048 pair that Web Crypto imports, signs and verifies with", async () => {
  const { publicKeyPem, privateKeyPem } = await generateKeyPair();
  assert.match(
    publicKeyPem,
    /^-----BEGIN PUBLIC KEY-----\n([A-Za-z0-9+/=]{64}\n)+[A-Za-z0-9+/=]{1,64}\n-----END PUBLIC KEY-----\n$/,
  );
  assert.match(
    privateKeyPem,
    /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/,
  );
  const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const publicKey = await crypto.subtle.importKey(
    "spki",
    der(publicKeyPem, "PUBLIC KEY"),
    algorithm,
    true,
    ["verify"],
  );
  const privateKey = await crypto.subtle.importKey(
    "pkcs8",
    der(privateKeyPem, "PRIVATE KEY"),
    algorithm,
    true,
    ["sign"],
  );
  const data = new TextEncoder().encode("cloud.iO");
  const signature = await crypto.subtle.sign(algorithm.name, privateKey, data);
  assert.ok(await crypto.subtle.verify(algorithm.name, publicKey, signature, data));
  const jwk = await crypto.subtle.exportKey("jwk", publicKey);
  assert.equal(jwk.e, "AQAB");
  assert.equal(atob(jwk.n!.replace(/-/g, "+").replace(/_/g, "/")).length, 256);
  // The private key belongs to this public key.
  const privateJwk = await crypto.subtle.exportKey("jwk", privateKey);
  assert.equal(privateJwk.n, jwk.n);
});

Deno.test("generateKeyPair() makes a new pair every time", async () => {
  const [a, b] = await Promise.all([generateKeyPair(), generateKeyPair()]);
  assert.notEqual(a.publicKeyPem, b.publicKeyPem);
});

Deno.test("generateKeyPair() refuses weak or odd modulus lengths", async () => {
  // deno-lint-ignore no-explicit-any
  await assert.rejects(generateKeyPair({ modulusLength: 1024 as any }), RangeError);
});
