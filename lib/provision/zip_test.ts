import assert from "node:assert/strict";
import { crc32, readZip } from "./zip.ts";
import { ConfigError } from "../errors.ts";
import {
  hasZipCli,
  type TestZipEntry,
  writeZip,
  zipWithCli,
} from "../../tests/_provision_server.ts";
import { type IgnoreReason, testUnless } from "../../tests/_ignore.ts";

const text = (data: Uint8Array) => new TextDecoder().decode(data);
const ZIP_CLI = await hasZipCli();
const ZIP_MISSING: IgnoreReason | undefined = ZIP_CLI
  ? undefined
  : { id: "zip", why: "the zip command is not installed (apt-get install zip)" };

async function refused(
  entries: TestZipEntry[] | Uint8Array,
  message: RegExp,
  options: Parameters<typeof readZip>[1] = {},
): Promise<void> {
  const archive = entries instanceof Uint8Array ? entries : await writeZip(entries);
  await assert.rejects(readZip(archive, options), (error: Error) => {
    assert.ok(error instanceof ConfigError, `a ConfigError, not ${error}`);
    assert.match(error.message, /^Cannot read the ZIP archive/);
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("crc32() gives the standard check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

Deno.test("readZip() reads stored and deflated entries, with and without data descriptors", async () => {
  const big = "line of a certificate\n".repeat(500);
  const archive = await writeZip([
    { name: "a.properties", data: "a=1\n", method: "store" },
    { name: "ca-cert.pem", data: big, method: "deflate" },
    { name: "dir/", data: "", method: "store" },
    { name: "dir/b.txt", data: big, method: "deflate", dataDescriptor: true },
    { name: "empty.txt", data: "", method: "deflate" },
  ], { comment: "made by a test" });
  const entries = await readZip(archive);
  assert.deepEqual(entries.map((entry) => entry.name), [
    "a.properties",
    "ca-cert.pem",
    "dir/b.txt",
    "empty.txt",
  ]);
  assert.equal(text(entries[0].data), "a=1\n");
  assert.equal(text(entries[1].data), big);
  assert.equal(text(entries[2].data), big);
  assert.equal(entries[3].data.length, 0);
});

testUnless(ZIP_MISSING, {
  name: "readZip() reads archives made by the zip command, stored and deflated",
  async fn() {
    const files = { "x.properties": "k=v\n", "ca-cert.pem": "-----BEGIN\n".repeat(100) };
    for (const args of [[], ["-0"]]) {
      const entries = await readZip(await zipWithCli(files, args));
      assert.deepEqual(
        Object.fromEntries(entries.map((entry) => [entry.name, text(entry.data)])),
        files,
      );
    }
  },
});

Deno.test("readZip() refuses zip-slip, absolute and odd names", async () => {
  for (
    const [name, message] of [
      ["../evil.sh", /zip slip/],
      ["a/../../evil.sh", /zip slip/],
      ["/etc/passwd", /absolute/],
      ["C:/Windows/evil.exe", /absolute/],
      ["..\\evil.sh", /contains "\\"/],
      ["a//b", /empty or "\." part/],
      ["./a", /empty or "\." part/],
      ["a\nb", /control characters/],
    ] as const
  ) {
    await refused([{ name, data: "x" }], message);
  }
});

Deno.test("readZip() refuses encrypted entries and other methods", async () => {
  await refused([{ name: "key.pem", data: "x", flags: 0x0001 }], /"key\.pem" is encrypted/);
  await refused([{ name: "key.pem", data: "x", flags: 0x0040 }], /encrypted/);
  await refused([{ name: "key.pem", data: "x", methodCode: 99 }], /method 99/);
});

Deno.test("readZip() refuses ZIP64 archives and entries", async () => {
  await refused(await writeZip([{ name: "a", data: "x" }], { zip64Locator: true }), /ZIP64/);
  const zip64Extra = new Uint8Array([1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  await refused([{ name: "a", data: "x", centralExtra: zip64Extra }], /"a" uses ZIP64/);
  await refused([{ name: "a", data: "x", declaredSize: 0xffffffff }], /ZIP64/);
});

Deno.test("readZip() refuses zip bombs: sizes above the limits, and data larger than declared", async () => {
  const zeros = new Uint8Array(10 << 20); // 10 MiB of zeros deflate to about 10 KiB.
  await refused([{ name: "bomb", data: zeros }], /10485760 bytes uncompressed, more than/);
  // The header claims 100 bytes: inflating stops as soon as there is more.
  await refused(
    [{ name: "bomb", data: zeros, declaredSize: 100 }],
    /inflates to more than its declared 100/,
  );
  await refused(
    [{ name: "a", data: "x".repeat(600) }, { name: "b", data: "y".repeat(600) }],
    /add up to more than the 1000 bytes/,
    { maxTotalSize: 1000 },
  );
  await refused(
    Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, data: "x" })),
    /5 entries, more than the 4/,
    { maxEntries: 4 },
  );
});

Deno.test("readZip() refuses corrupt archives", async () => {
  await refused(new TextEncoder().encode("not a zip at all, but long enough"), /not a ZIP archive/);
  await refused(new Uint8Array(3), /too short/);
  await refused([{ name: "a", data: "hello", crc: 1234 }], /CRC-32/);
  await refused([{ name: "a", data: "hello", declaredSize: 3 }], /inflates to more than/);
  await refused(
    [{ name: "a", data: "hello", declaredSize: 9 }],
    /inflates to 5 bytes, not its declared 9/,
  );
  await refused([{ name: "a", data: "x" }, { name: "a", data: "y" }], /"a" appears twice/);
  // A central record pointing at another entry's local header.
  const crossed = await writeZip(
    [{ name: "a", data: "x", method: "store" }, { name: "b", data: "x", method: "store" }],
    { pointAt: [1, 0] },
  );
  await refused(crossed, /local header of entry "b" names another file/);
  // The data of one entry covering the next entry (the overlapping-files bomb).
  const overlapping = await writeZip([
    { name: "a", data: "x".repeat(50), compressedSize: 30 },
    { name: "b", data: "y", method: "store" },
  ]);
  await refused(overlapping, /entries "a" and "b" overlap/);
  const archive = await writeZip([{ name: "a.txt", data: "x".repeat(100), method: "store" }]);
  await refused(archive.slice(0, archive.length - 1), /not a ZIP archive/);
  await refused(archive.slice(40), /central directory|local header/);
  // Garbage in the deflate stream.
  const broken = await writeZip([{ name: "a.txt", data: "x".repeat(100) }]);
  broken[30 + 5] ^= 0xff;
  broken[30 + 6] ^= 0xff;
  await refused(broken, /a\.txt/);
});
