/**
 * A helper of the tests in this folder (the `_test.ts` ending keeps it out of the package).
 *
 * This module is browser compatible.
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
