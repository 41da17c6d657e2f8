/**
 * What a newcomer's first run costs. `deno task` installs every npm package of the lockfile that
 * `deno.json` names before it runs a task (Deno 2.9.6), so `deno.lock` must hold the packages of
 * the library and its examples and nothing else; the tests, benchmarks and checks use
 * `deno.dev.lock`, which holds those and the test-only ones (ajv, fast-check, playwright-core),
 * at the same versions.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
/** The published entry points and the examples: everything a user runs. */
const ENTRIES = [
  "mod.ts",
  "web.ts",
  "extend.ts",
  "provision.ts",
  "devcloud/mod.ts",
  ...[...Deno.readDirSync(new URL("examples/", ROOT))]
    .filter((e) => e.isFile && e.name.endsWith(".ts"))
    .map((e) => `examples/${e.name}`)
    .sort(),
];

interface Lock {
  specifiers: Record<string, string>;
  npm: Record<string, { dependencies?: string[] }>;
}

function readLock(name: string): Lock {
  return JSON.parse(Deno.readTextFileSync(new URL(name, ROOT)));
}

async function deno(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return {
    code: output.code,
    stdout: text.decode(output.stdout),
    stderr: text.decode(output.stderr),
  };
}

Deno.test("deno.lock holds exactly the npm packages of the entry points and the examples", async () => {
  const used = new Set<string>();
  for (const entry of ENTRIES) {
    // --lock=deno.dev.lock: looking must not write to the lockfile under test.
    const info = await deno(["info", "--json", "--lock=deno.dev.lock", entry]);
    assert.equal(info.code, 0, info.stderr);
    for (const module of JSON.parse(info.stdout).modules as { specifier: string }[]) {
      const match = /^npm:\/(.+)$/.exec(module.specifier);
      if (match) used.add(`npm:${match[1]}`);
    }
  }
  const lock = readLock("deno.lock");
  assert.deepEqual(
    Object.keys(lock.specifiers).sort(),
    [...used].sort(),
    "deno.lock must list what the library and examples import, no more: run tests and checks " +
      "with --lock=deno.dev.lock (deno task test and deno task ok do)",
  );
});

Deno.test("deno.lock pins the same versions as deno.dev.lock", () => {
  const lock = readLock("deno.lock"), dev = readLock("deno.dev.lock");
  for (const [specifier, version] of Object.entries(lock.specifiers)) {
    assert.equal(dev.specifiers[specifier], version, specifier);
  }
  for (const [name, entry] of Object.entries(lock.npm)) {
    assert.deepEqual(entry, dev.npm[name], name);
  }
});

Deno.test("deno doc mod.ts prints no warnings", async () => {
  const doc = await deno(["doc", "mod.ts"]);
  assert.equal(doc.code, 0, doc.stderr);
  assert.doesNotMatch(doc.stderr, /Warning/, doc.stderr.slice(0, 2000));
});
