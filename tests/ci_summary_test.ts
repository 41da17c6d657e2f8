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
  assert.equal(await summarize(output, 0), "0 ignored\n12 passed, 0 failed\n");
});

Deno.test("summary.sh reads a failing run with ignored tests", async () => {
  assert.equal(
    await summarize("FAILED | 10 passed | 2 failed | 1 ignored (5s)\n\nerror: Test failed\n", 1),
    "1 ignored\n10 passed, 2 failed\n",
  );
});

Deno.test("summary.sh sums every summary line and strips colours", async () => {
  const output = [
    "\x1b[0m\x1b[32mok\x1b[0m | 8 passed | 0 failed \x1b[0m\x1b[38;5;245m(2s)\x1b[0m",
    "ok | 3 passed | 0 failed | 1 ignored (27ms)",
    "FAILED | 0 passed (1 step) | 1 failed (1 step) (10ms)",
  ].join("\n");
  assert.equal(await summarize(output), "1 ignored\n11 passed, 1 failed\n");
});

Deno.test("summary.sh reports one failure without a summary line", async () => {
  assert.equal(await summarize(""), "0 ignored\n0 passed, 1 failed\n");
  assert.equal(
    await summarize("error: TS2304 [ERROR]: Cannot find name 'x'.\n", 1),
    "0 ignored\n0 passed, 1 failed\n",
  );
});

Deno.test("summary.sh ignores lines that only mention a summary", async () => {
  const output =
    "log: last time it said ok | 99 passed | 0 failed\nok | 1 passed | 0 failed (1ms)\n";
  assert.equal(await summarize(output, 0), "0 ignored\n1 passed, 0 failed\n");
});

Deno.test("summary.sh reports a failure when the exit code is non-zero but nothing failed", async () => {
  assert.equal(
    await summarize("ok | 4 passed | 0 failed (1s)\n", 1),
    "0 ignored\n4 passed, 1 failed\n",
  );
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

const IGNORES = new URL("../.ci/ignores.sh", import.meta.url).pathname;

async function checkIgnores(output: string, allowed: string): Promise<string[]> {
  const child = new Deno.Command(IGNORES, {
    args: [allowed],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(output));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  return new TextDecoder().decode(stdout).trimEnd().split("\n");
}

Deno.test("ignores.sh accepts the ignores allowed on the machine and counts the others", async () => {
  const output = [
    "ignored [root] readPem() reports a PEM file it may not read: chmod 000 does not stop root",
    "ignored [chromium] the page shows the device: /usr/bin/chromium is not installed",
    "\x1b[0m\x1b[32mok\x1b[0m | 10 passed | 0 failed | 2 ignored (1s)",
  ].join("\n");
  assert.deepEqual(await checkIgnores(output, "root"), [
    "ci: unexpected ignore on this machine: ignored [chromium] the page shows the device: " +
    "/usr/bin/chromium is not installed",
    "1 unexpected",
  ]);
  assert.deepEqual(await checkIgnores(output, "root chromium"), ["0 unexpected"]);
  assert.deepEqual(await checkIgnores(output, ""), [
    "ci: unexpected ignore on this machine: ignored [root] readPem() reports a PEM file it may " +
    "not read: chmod 000 does not stop root",
    "ci: unexpected ignore on this machine: ignored [chromium] the page shows the device: " +
    "/usr/bin/chromium is not installed",
    "2 unexpected",
  ]);
});

Deno.test("ignores.sh counts an ignored test that gave no reason", async () => {
  assert.deepEqual(await checkIgnores("ok | 3 passed | 0 failed | 1 ignored (27ms)\n", "root"), [
    "ci: 1 test(s) ignored without saying why (tests/_ignore.ts)",
    "1 unexpected",
  ]);
  assert.deepEqual(await checkIgnores("ok | 3 passed | 0 failed (27ms)\n", ""), ["0 unexpected"]);
});

Deno.test(".ci/run installs zip, has an overall timeout, and runs the permission tests unprivileged", async () => {
  const run = await Deno.readTextFile(RUN);
  assert.match(run, /have zip \|\| missing\+=\(zip\)/);
  assert.match(
    run,
    /timeout --kill-after=\d+ "\$timeout_s" npx -y "deno@\$\{DENO_VERSION\}" task test/,
  );
  assert.match(run, /TIMEOUT: the tests did not finish/);
  assert.match(run, /\.ci\/unprivileged\.sh" "\$DENO_VERSION" --filter "may not read"/);
  assert.match(run, /\.ci\/ignores\.sh" "\$allowed_ignores"/);
  // The summary line is still the very last thing printed.
  assert.match(
    run,
    /echo "\$\{passed\} passed, \$\{failed\} failed"\nsummary_printed=1\nexit "\$rc"\n$/,
  );
  for (const file of [IGNORES, new URL("../.ci/unprivileged.sh", import.meta.url).pathname]) {
    assert.ok(((await Deno.stat(file)).mode ?? 0) & 0o100, `${file} must be executable`);
    const { code, stderr } = await new Deno.Command("bash", { args: ["-n", file] }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
  }
});
