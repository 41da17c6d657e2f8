/**
 * Headless Chromium for tests: Debian's `/usr/bin/chromium` driven by playwright-core.
 *
 * @module
 */

import { chromium } from "npm:playwright-core@1.65.1";
import type { IgnoreReason } from "./_ignore.ts";

/** Where Debian puts Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether Chromium is installed (tests that need it are ignored, saying so, when it is not). */
export const haveChromium: boolean = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

/** Why the browser tests cannot run here, or `undefined` when they can. */
export const CHROMIUM_MISSING: IgnoreReason | undefined = haveChromium ? undefined : {
  id: "chromium",
  why: `${CHROMIUM} is not installed (apt-get install chromium)`,
};

/**
 * Launches headless Chromium with the flags this sandboxed, offline machine needs.
 *
 * @returns The browser.
 */
export function launchChromium(): ReturnType<typeof chromium.launch> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
