/**
 * Helpers of the tests in this folder (the `_test.ts` ending keeps them out of the package).
 *
 * @module
 */

import assert from "node:assert/strict";
import { ModelError, type ModelProblem } from "../lib/errors.ts";

/**
 * The fixtures of the reference implementations, which sit beside the project
 * (../shared/fixtures/); they are read in place, never copied.
 */
export const FIXTURES: URL = new URL("../../shared/fixtures/", import.meta.url);

/**
 * Tells whether the fixtures are there; without them, the tests that need them are ignored, and
 * a warning names the test file.
 *
 * @param testFile The test file's name, for the warning.
 */
export function checkFixtures(testFile: string): boolean {
  let present: boolean;
  try {
    present = Deno.statSync(FIXTURES).isDirectory;
  } catch {
    present = false;
  }
  if (!present) {
    console.warn(
      `Ignoring the fixture tests of ${testFile}: ${FIXTURES.pathname} is absent ` +
        "(the shared fixtures sit beside the project, see shared/fixtures/README.md)",
    );
  }
  return present;
}

/** Runs `fn`, which must throw a ModelError, and returns its problems. */
export function problemsOf(fn: () => unknown): readonly ModelProblem[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ModelError, `expected a ModelError, got ${error}`);
    return error.problems;
  }
  assert.fail("expected a ModelError");
}

/** The problems of the ModelError a promise rejects with (asserting that it does). */
export async function rejectedProblems(
  promise: Promise<unknown>,
): Promise<readonly ModelProblem[]> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ModelError, `expected a ModelError, got ${error}`);
    return error.problems;
  }
  assert.fail("expected a ModelError");
}
