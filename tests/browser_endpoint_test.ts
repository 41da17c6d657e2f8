import assert from "node:assert/strict";
import { decodePayload } from "../lib/codec/decode.ts";
import { encodeAttribute } from "../lib/codec/encode.ts";
import { CHROMIUM_MISSING, launchChromium } from "./_browser.ts";
import { startMosquitto } from "./_broker.ts";
import { connectCloud } from "./_cloud.ts";
import { randomUuid } from "./_endpoint.ts";
import { assertServerValid } from "./_judges.ts";
import { DENO } from "./_process.ts";
import { serveDir } from "./_serve.ts";
import { testUnless } from "./_ignore.ts";

/** Bundles web.ts for browsers, next to the test page, in a fresh directory. */
async function pageWithBundle(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "cloudio-page-" });
  const root = new URL("../", import.meta.url).pathname;
  const { code, stderr } = await new Deno.Command(DENO, {
    args: ["bundle", "--platform", "browser", "--output", `${dir}/cloudio.js`, `${root}web.ts`],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`deno bundle failed: ${new TextDecoder().decode(stderr)}`);
  await Deno.copyFile(`${root}tests/browser/endpoint.html`, `${dir}/index.html`);
  return dir;
}

for (const format of ["CBOR", "JSON"] as const) {
  testUnless(CHROMIUM_MISSING, {
    name:
      `the core runs in Chromium over MQTT on WebSocket: online, @update, @set → @didSet (${format})`,
    async fn() {
      await using broker = await startMosquitto({ websockets: true });
      const uuid = randomUuid();
      await using cloud = await connectCloud(broker.cloudUrl, { subscribe: "#" });
      const dir = await pageWithBundle();
      await using server = serveDir(dir);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on("pageerror", (error) => errors.push(String(error)));
        await page.goto(
          `${server.url}index.html?uuid=${uuid}&broker=${
            encodeURIComponent(broker.wsUrl!)
          }&format=${format}`,
        );
        await page.waitForFunction(
          'document.getElementById("state")?.textContent === "online"',
          null,
          { timeout: 10_000 },
        )
          .catch(async (error) => {
            throw new Error(
              `${error}; page says: ${await page.textContent("body")}; errors: ${
                errors.join("; ")
              }`,
            );
          });
        const online = await cloud.waitFor((m) => m.topic === `@online/${uuid}`);
        // Everything the page's endpoint published is in the format it was given (protocol §5.1:
        // "{" is JSON, a map 0xA0–0xBF is CBOR).
        const formatOf = (payload: Uint8Array) =>
          payload[0] === 0x7b ? "JSON" : (payload[0] & 0xe0) === 0xa0 ? "CBOR" : "neither";
        assert.equal(formatOf(online.payload), format, "@online");
        // deno-lint-ignore no-explicit-any
        assert.deepEqual(Object.keys((decodePayload(online.payload).value as any).nodes), [
          "Browser",
        ]);
        const update = await cloud.waitFor((m) =>
          m.topic === `@update/${uuid}/Browser/Status/level`
        );
        assert.equal(decodePayload(update.payload).value.value, 0.75);
        assert.equal(formatOf(update.payload), format, "@update");
        await cloud.publish(
          `@set/${uuid}/Browser/Parameters/target`,
          encodeAttribute("JSON", {
            type: "Number",
            constraint: "SetPoint",
            value: 5,
            timestamp: Date.now(),
          }),
        );
        const didSet = await cloud.waitFor((m) =>
          m.topic === `@didSet/${uuid}/Browser/Parameters/target`
        );
        assert.equal(decodePayload(didSet.payload).value.value, 5);
        assert.equal(formatOf(didSet.payload), format, "@didSet");
        await page.waitForFunction('document.getElementById("target")?.textContent === "5"');
        assertServerValid(cloud.messages, uuid); // both judges
        assert.deepEqual(errors, []);
        // Closing the page drops the WebSocket: the broker publishes the will.
        await page.close();
        await cloud.waitFor((m) => m.topic === `@offline/${uuid}`);
      } finally {
        await browser.close();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
