/**
 * Helpers of the tests in this folder (the `_test.ts` ending keeps them out of the package).
 *
 * @module
 */

import assert from "node:assert/strict";
import { ConfigError } from "../errors.ts";

/** The ConfigError that `fn` throws. */
export function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error;
  }
  assert.fail("expected a ConfigError, but nothing was thrown");
}
