// Tests .ci/summary.sh, the parser .ci/run uses to end CI output with "N passed, M failed".

import assert from "node:assert/strict";

const SUMMARY = new URL("../.ci/summary.sh", import.meta.url).pathname;
const RUN = new URL("../.ci/run", import.meta.url).pathname;

async function summarize(output: string, exitCode?: number): Promise<string> {
  const child = new Deno.Command(SUMMARY, {
    args: exitCode === undefined ? [] : [String(exitCode)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(output));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return new TextDecoder().decode(stdout);
}

Deno.test("summary.sh reads a passing run with steps", async () => {
  const output = [
    "running 3 tests from ./lib/model/names_test.ts",
    "names() accepts a uuid ... ok (2ms)",
    "",
    "ok | 12 passed (3 steps) | 0 failed (2s)",
    "",
  ].join("\n");
  assert.equal(await summarize(output, 0), "12 passed, 0 failed\n");
});

Deno.test("summary.sh reads a failing run with ignored tests", async () => {
  assert.equal(
    await summarize("FAILED | 10 passed | 2 failed | 1 ignored (5s)\n\nerror: Test failed\n", 1),
    "10 passed, 2 failed\n",
  );
});

Deno.test("summary.sh sums every summary line and strips colours", async () => {
  const output = [
    "\x1b[0m\x1b[32mok\x1b[0m | 8 passed | 0 failed \x1b[0m\x1b[38;5;245m(2s)\x1b[0m",
    "ok | 3 passed | 0 failed | 1 ignored (27ms)",
    "FAILED | 0 passed (1 step) | 1 failed (1 step) (10ms)",
  ].join("\n");
  assert.equal(await summarize(output), "11 passed, 1 failed\n");
});

Deno.test("summary.sh reports one failure without a summary line", async () => {
  assert.equal(await summarize(""), "0 passed, 1 failed\n");
  assert.equal(
    await summarize("error: TS2304 [ERROR]: Cannot find name 'x'.\n", 1),
    "0 passed, 1 failed\n",
  );
});

Deno.test("summary.sh ignores lines that only mention a summary", async () => {
  const output =
    "log: last time it said ok | 99 passed | 0 failed\nok | 1 passed | 0 failed (1ms)\n";
  assert.equal(await summarize(output, 0), "1 passed, 0 failed\n");
});

Deno.test("summary.sh reports a failure when the exit code is non-zero but nothing failed", async () => {
  assert.equal(await summarize("ok | 4 passed | 0 failed (1s)\n", 1), "4 passed, 1 failed\n");
});

Deno.test(".ci/run and .ci/summary.sh are executable bash without syntax errors", async () => {
  for (const file of [RUN, SUMMARY]) {
    assert.ok(((await Deno.stat(file)).mode ?? 0) & 0o100, `${file} must be executable`);
    const { code, stderr } = await new Deno.Command("bash", { args: ["-n", file] }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
  }
  const run = await Deno.readTextFile(RUN);
  assert.match(run, /^#!\/usr\/bin\/env bash\n/);
  assert.match(run, /\nset -euo pipefail\n/);
  assert.match(run, /npx -y "deno@\$\{DENO_VERSION\}" task test/);
  assert.match(run, /DENO_VERSION="2\.9\.6"/);
});
