import assert from "node:assert/strict";
import type { CloudioAttribute, Endpoint } from "../mod.ts";
import { CHROMIUM, CHROMIUM_MISSING, launchChromium } from "./_browser.ts";
import {
  localEndpoint,
  nextMatching,
  type Stack,
  startStack,
  vacuumCleanerModel,
} from "./_devcloud.ts";
import { testUnless } from "./_ignore.ts";

type Browser = Awaited<ReturnType<typeof launchChromium>>;
type Page = Awaited<ReturnType<Browser["newPage"]>>;

/** Launches chromium; when it is installed but does not start, the test fails saying why. */
async function launch(): Promise<Browser> {
  try {
    return await launchChromium();
  } catch (error) {
    throw new Error(
      `Cannot launch ${CHROMIUM} with playwright-core, so the page cannot be tested: ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
}

/** Opens the page and collects its script errors. */
async function openPage(browser: Browser, stack: Stack, hash = ""): Promise<[Page, string[]]> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 960 } });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  await page.goto(`${stack.server.url}${hash}`);
  await page.getByTestId("connection").filter({ hasText: "live" }).waitFor();
  return [page, errors];
}

function attribute<T extends "Boolean" | "Number">(
  endpoint: Endpoint,
  path: string,
): CloudioAttribute<T> {
  const [object, name] = path.split("/");
  return endpoint.node("VacuumCleaner")!.object(object)!.attribute(name) as CloudioAttribute<T>;
}

async function waitUntil(check: () => boolean, what: string, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

testUnless(CHROMIUM_MISSING, {
  name:
    "the devcloud page shows the VacuumCleaner live, and a set-point edited on it reaches the device",
  async fn() {
    await using stack = await startStack();
    const uuid = crypto.randomUUID();
    const endpoint = localEndpoint(stack.broker, uuid, await vacuumCleanerModel());
    const browser = await launch();
    try {
      await endpoint.connect();
      const [page, errors] = await openPage(browser, stack);
      const row = (path: string) =>
        page.locator(`[data-testid=attribute][data-path="VacuumCleaner/${path}"]`);

      // The tree: node → objects → attributes, with type, constraint and value.
      await page.locator(`[data-testid=endpoint][data-uuid="${uuid}"][data-online=true]`).waitFor();
      await row("Status/throughput").waitFor();
      assert.equal(await page.getByTestId("endpoint-title").textContent(), uuid);
      assert.equal(
        await page.locator("[data-testid=node]").getAttribute("data-node"),
        "VacuumCleaner",
      );
      assert.deepEqual(
        await page.locator("[data-testid=object]").evaluateAll((all) =>
          all.map((o) => o.getAttribute("data-path"))
        ),
        ["VacuumCleaner/Parameters", "VacuumCleaner/Status"],
      );
      assert.equal(await page.locator("[data-testid=attribute]").count(), 8);
      const setThroughput = row("Parameters/set_throughput");
      assert.equal(await setThroughput.getByTestId("type").textContent(), "Number");
      assert.equal(await setThroughput.getByTestId("constraint").textContent(), "Parameter");
      assert.equal(await setThroughput.getByTestId("value").textContent(), "2.5");
      assert.equal(await row("Status/throughput").getByTestId("set-form").count(), 0);

      // A Measure set on the device shows without a reload, with its age and its sparkline.
      await page.evaluate(() => Object.assign(globalThis, { marker: "the same page" }));
      const throughput = attribute<"Number">(endpoint, "Status/throughput");
      const value = row("Status/throughput").getByTestId("value");
      throughput.value = 2.75;
      await value.filter({ hasText: /^2\.75$/ }).waitFor({ timeout: 5000 });
      throughput.value = 3.25;
      await value.filter({ hasText: /^3\.25$/ }).waitFor({ timeout: 5000 });
      assert.equal(
        await page.evaluate(() => (globalThis as { marker?: string }).marker),
        "the same page",
      );
      assert.match(
        await row("Status/throughput").getByTestId("age").textContent() ?? "",
        /^\d+ s ago$/,
      );
      const points = await row("Status/throughput").locator("[data-testid=sparkline] polyline")
        .getAttribute("points");
      assert.equal(points?.split(" ").length, 2, `sparkline points: ${points}`);

      // A set-point edited on the page (Enter) reaches the device; the page shows the @didSet.
      const target = attribute<"Number">(endpoint, "Parameters/set_throughput");
      const targetChanges = target.changes();
      const input = setThroughput.getByTestId("set-input");
      await input.fill("4.5");
      await input.press("Enter");
      const change = await nextMatching(targetChanges, () => true);
      assert.deepEqual([change.source, change.value], ["cloud", 4.5]);
      assert.equal(target.value, 4.5);
      await setThroughput.getByTestId("set-result").filter({ hasText: /^confirmed in \d+ ms$/ })
        .waitFor({ timeout: 5000 });
      await setThroughput.getByTestId("value").filter({ hasText: /^4\.5$/ }).waitFor();

      // A Boolean, with the button.
      const power = attribute<"Boolean">(endpoint, "Parameters/set_power_on");
      const powerChanges = power.changes();
      const powerRow = row("Parameters/set_power_on");
      await powerRow.getByTestId("set-input").selectOption("true");
      await powerRow.getByTestId("set-button").click();
      const powerChange = await nextMatching(powerChanges, () => true);
      assert.deepEqual([powerChange.source, powerChange.value, power.value], ["cloud", true, true]);
      await powerRow.getByTestId("set-result").filter({ hasText: /^confirmed in \d+ ms$/ })
        .waitFor({ timeout: 5000 });

      // A wrong entry is caught on the page, before any @set.
      const mode = row("Parameters/set_operating_mode");
      await mode.getByTestId("set-input").fill("1.5");
      await mode.getByTestId("set-input").press("Enter");
      await mode.getByTestId("set-result").filter({ hasText: "enter a whole number" }).waitFor();

      assert.deepEqual(errors, []);
      assert.deepEqual(stack.cloud.endpoints.get(uuid)?.rejected, []);
    } finally {
      await browser.close();
      await endpoint.close();
    }
  },
});

testUnless(CHROMIUM_MISSING, {
  name:
    "the devcloud page sends @logsLevel and @exec, shows logs, job output and rejected messages, and a missing @didSet",
  async fn() {
    await using stack = await startStack({ didSetTimeout: 1000 });
    const uuid = crypto.randomUUID();
    const endpoint = localEndpoint(stack.broker, uuid, await vacuumCleanerModel());
    endpoint.addJob("selfTest", (job) => {
      job.output(`motor ok (${job.data})`);
      job.output("filter ok");
    });
    const browser = await launch();
    try {
      await endpoint.connect();
      const [page, errors] = await openPage(browser, stack, `#${uuid}`);
      await page.locator("[data-testid=attribute]").first().waitFor();

      // Logs: the level goes to the device, its records come back.
      await page.getByTestId("logs-level").selectOption("DEBUG");
      await page.getByTestId("logs-level-send").click();
      await waitUntil(() => endpoint.logLevel === "DEBUG", "the endpoint's log level");
      await page.getByTestId("logs-level-result").filter({ hasText: "DEBUG" }).waitFor();
      endpoint.logger("brush").info("brush changed");
      const line = page.getByTestId("log-line").filter({ hasText: "brush changed" });
      await line.waitFor({ timeout: 5000 });
      assert.equal(await line.getAttribute("data-level"), "INFO");

      // Jobs: @exec from the form, @execOutput lines as they come.
      await page.getByTestId("job-uri").fill("cmd://selfTest");
      await page.getByTestId("job-data").fill("quick");
      await page.getByTestId("job-run").click();
      const job = page.getByTestId("job").filter({ hasText: "cmd://selfTest" });
      await job.getByTestId("job-output").filter({ hasText: "filter ok" }).waitFor({
        timeout: 5000,
      });
      assert.equal(
        await job.getByTestId("job-output").textContent(),
        "motor ok (quick)\nfilter ok",
      );
      assert.match(await job.getAttribute("data-correlation-id") ?? "", /^[A-Za-z0-9-]+$/);

      // Rejected: what the real cloud would refuse, and why.
      await stack.cloud.publish(
        `@update/${uuid}/VacuumCleaner/Status/throughput`,
        new TextEncoder().encode(
          '{"type":"Number","constraint":"Measure","timestamp":1700000000.5,"value":20}',
        ),
      );
      const rejected = page.getByTestId("rejected-item");
      await rejected.waitFor({ timeout: 5000 });
      assert.equal(
        await rejected.getByTestId("rejected-topic").textContent(),
        `@update/${uuid}/VacuumCleaner/Status/throughput`,
      );
      assert.match(
        await rejected.getByTestId("rejected-problem").textContent() ?? "",
        /not a floating-point token/,
      );
      assert.equal(await page.getByTestId("rejected-count").textContent(), "1");
      assert.equal(
        await page.locator(`[data-testid=endpoint][data-uuid="${uuid}"]`)
          .getByTestId("endpoint-rejected").textContent(),
        "1 rejected",
      );

      // An endpoint that never answers a @set: the page says no @didSet came.
      const ghost = crypto.randomUUID();
      await stack.cloud.publish(
        `@online/${ghost}`,
        new TextEncoder().encode(JSON.stringify({
          version: "v0.2",
          messageFormatVersion: 2,
          supportedFormats: ["JSON"],
          nodes: {
            Ghost: {
              implements: [],
              objects: {
                Knobs: {
                  objects: {},
                  attributes: { level: { type: "Integer", constraint: "SetPoint" } },
                },
              },
            },
          },
        })),
      );
      await page.locator(`[data-testid=endpoint][data-uuid="${ghost}"]`).waitFor();
      await page.locator(`[data-testid=endpoint][data-uuid="${ghost}"] a`).click();
      const knob = page.locator('[data-testid=attribute][data-path="Ghost/Knobs/level"]');
      await knob.getByTestId("set-input").fill("3");
      await knob.getByTestId("set-input").press("Enter");
      await knob.getByTestId("set-result").filter({ hasText: "no @didSet within 1 s" })
        .waitFor({ timeout: 5000 });
      assert.equal(await page.getByTestId("endpoint-title").textContent(), ghost);

      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await endpoint.close();
    }
  },
});
