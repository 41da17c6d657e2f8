/**
 * Takes the README's screenshot of the devcloud page: runs the VacuumCleaner demo, changes two
 * set-points and the log level on the page, lets the measures run for a while, runs the
 * self-test job and photographs the result (about 30 s).
 *
 *     deno run -A tests/_devcloud_screenshot.ts [docs/devcloud.png]
 *
 * @module
 */

import { launchChromium } from "./_browser.ts";
import { spawnDeno } from "./_process.ts";

const ROOT = new URL("../", import.meta.url);
const output = Deno.args[0] ?? new URL("docs/devcloud.png", ROOT).pathname;
const home = await Deno.makeTempDir({ prefix: "cloudio-home-" });
const demo = spawnDeno(["run", "-A", new URL("examples/vacuum_cleaner.ts", ROOT).pathname], {
  env: { HOME: home, XDG_STATE_HOME: `${home}/state` },
});
const browser = await launchChromium();
try {
  const line = await demo.waitForLine(/Open (http:\/\/\S+) to see the device/);
  const url = line.match(/Open (http:\/\/\S+) to see/)![1];
  const page = await browser.newPage({ viewport: { width: 1440, height: 960 } });
  await page.goto(url);
  const row = (name: string) => page.locator(`[data-testid=attribute][data-path$="/${name}"]`);
  await row("throughput").waitFor();
  // Ship INFO logs, switch the cleaner on at 3.5 on the page (the scripted writes then stop),
  // let the measures run for a while, and run the self-test job.
  await page.getByTestId("logs-level").selectOption("INFO");
  await page.getByTestId("logs-level-send").click();
  await page.getByTestId("logs-level-result").filter({ hasText: "INFO" }).waitFor();
  await page.waitForTimeout(2000);
  const power = row("set_power_on");
  await power.getByTestId("set-input").selectOption("true");
  await power.getByTestId("set-button").click();
  await power.getByTestId("set-result").filter({ hasText: /confirmed in/ }).waitFor();
  const input = row("set_throughput").getByTestId("set-input");
  await input.fill("3.5");
  await input.press("Enter");
  await row("set_throughput").getByTestId("set-result").filter({ hasText: /confirmed in/ })
    .waitFor();
  await input.blur();
  await page.waitForTimeout(Number(Deno.env.get("SCREENSHOT_WAIT") ?? 20_000));
  await page.getByTestId("job-uri").fill("cmd://selfTest");
  await page.getByTestId("job-run").click();
  await page.getByTestId("job-output").filter({ hasText: "filter: ok" }).waitFor();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: output, fullPage: true });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  demo.kill("SIGINT");
  await demo.status;
  await Deno.remove(home, { recursive: true });
}
