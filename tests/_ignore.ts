/**
 * Ignored tests that say why. A test that cannot run on this machine is ignored with
 * {@linkcode ignoredFor}, which prints one line per ignored test:
 *
 *     ignored [<reason id>] <test name>: <why>
 *
 * `.ci/run` reads these lines: an ignore whose reason is not expected on the CI machine fails
 * the run, so a green run never hides tests that did not run. The reasons are fixed ids
 * ({@linkcode IgnoreReason}).
 *
 * @example
 * ```ts ignore
 * const name = "the page shows the device";
 * Deno.test({ name, ignore: ignoredFor(CHROMIUM_MISSING, name), fn() {} });
 * ```
 *
 * @module
 */

/** Why a test cannot run here. */
export interface IgnoreReason {
  /** A stable id that `.ci/run` knows, e.g. `chromium`. */
  id: "chromium" | "rabbitmq" | "zip" | "fixtures" | "root" | "posix";
  /** What is missing and how to get it. */
  why: string;
}

/**
 * Tells whether to ignore a test, and prints the reason when it is ignored.
 *
 * @param reason Why the test cannot run here, or `undefined` when it can.
 * @param name The test's name.
 * @returns `true` when the test is to be ignored.
 */
export function ignoredFor(reason: IgnoreReason | undefined, name: string): boolean {
  if (!reason) return false;
  console.log(`ignored [${reason.id}] ${name}: ${reason.why}`);
  return true;
}

/**
 * Registers a test that is ignored, saying why, when `reason` is given.
 *
 * @param reason Why the test cannot run here, or `undefined`.
 * @param definition The test.
 */
export function testUnless(
  reason: IgnoreReason | undefined,
  definition: Deno.TestDefinition,
): void {
  Deno.test({ ...definition, ignore: ignoredFor(reason, definition.name) });
}

/** The reference fixtures beside the checkout (`../shared/fixtures/`), or why they are missing. */
export const FIXTURES = new URL("../../shared/fixtures/", import.meta.url);
export const FIXTURES_MISSING: IgnoreReason | undefined = (() => {
  try {
    Deno.statSync(FIXTURES);
    return undefined;
  } catch {
    return {
      id: "fixtures",
      why: `${FIXTURES.pathname} is missing (the reference fixtures are read in place, not copied)`,
    };
  }
})();
