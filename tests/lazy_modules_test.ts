/**
 * What `mod.ts` loads before it is used: a device pays in start-up time and resident memory for
 * every module its program imports, so the parts that only some runs need (the XML parser, SQLite,
 * MQTT.js, provisioning, the devcloud) are imported where they are first needed.
 *
 * @module
 */

import assert from "node:assert/strict";

interface Dependency {
  code?: { specifier: string };
  isDynamic?: boolean;
}

/** The modules `deno run` loads with `root` before running it: its static imports, transitively. */
async function staticGraph(root: string): Promise<Set<string>> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const info = JSON.parse(new TextDecoder().decode(stdout)) as {
    roots: string[];
    modules: { specifier: string; dependencies?: Dependency[] }[];
    redirects: Record<string, string>;
  };
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const visit = (specifier: string) => {
    const resolved = info.redirects[specifier] ?? specifier;
    if (seen.has(resolved)) return;
    seen.add(resolved);
    for (const dependency of modules.get(resolved)?.dependencies ?? []) {
      if (dependency.code && !dependency.isDynamic) visit(dependency.code.specifier);
    }
  };
  info.roots.forEach(visit);
  return seen;
}

Deno.test("mod.ts loads neither the XML parser, SQLite, MQTT.js, node:crypto, provisioning nor the devcloud", async () => {
  const graph = [...await staticGraph(new URL("../mod.ts", import.meta.url).href)];
  const loaded = (pattern: RegExp) => graph.filter((specifier) => pattern.test(specifier));
  assert.deepEqual(loaded(/fast-xml-parser/), [], "the XML parser: with the first XML model");
  assert.deepEqual(loaded(/node:sqlite|sqlite_(store|file)\.ts$/), [], "SQLite: with a file store");
  assert.deepEqual(loaded(/npm:\/?mqtt@|adapters\/mqtt\.ts$/), [], "MQTT.js: with connect()");
  assert.deepEqual(loaded(/^node:crypto$/), [], "node:crypto: with the first client certificate");
  assert.deepEqual(loaded(/\/lib\/provision\/|\/provision\.ts$/), [], "provisioning");
  assert.deepEqual(loaded(/\/devcloud\//), [], "the devcloud");
  // The walk itself must see what mod.ts does load, or the checks above prove nothing.
  assert.ok(loaded(/\/connectors\/xml\.ts$/).length === 1, "the XML connector itself is loaded");
  assert.ok(loaded(/\/lib\/endpoint\.ts$/).length === 1);
});

Deno.test("the MQTT transport loads node:tls only for a TLS broker", async () => {
  const graph = await staticGraph(new URL("../lib/adapters/mqtt.ts", import.meta.url).href);
  assert.ok(!graph.has("node:tls"), "node:tls: with the first mqtts:// connection");
  assert.ok(graph.has("node:net"), "the walk sees the node: modules it does load");
});
