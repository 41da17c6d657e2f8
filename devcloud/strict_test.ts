import assert from "node:assert/strict";
import { encodeAttribute } from "../lib/codec/encode.ts";
import { serverProblems } from "./strict.ts";

Deno.test("serverProblems() wants a real, non-nil endpoint UUID in the topic (§2)", () => {
  const payload = encodeAttribute("JSON", {
    type: "Integer",
    constraint: "Status",
    value: 1,
    timestamp: 1,
  });
  assert.deepEqual(
    serverProblems("@update/0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55/n/o/a", payload),
    [],
  );
  assert.match(serverProblems("@update/notauuid/n/o/a", payload)[0], /not an endpoint UUID/);
  assert.match(
    serverProblems("@update/00000000-0000-0000-0000-000000000000/n/o/a", payload)[0],
    /nil/,
  );
});
