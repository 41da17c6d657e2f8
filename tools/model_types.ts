#!/usr/bin/env -S deno run --allow-read --allow-write
/**
 * Writes a model file (XML or JSON) as a TypeScript constant, so that the endpoint built from it
 * is typed: `endpoint.nodes.VacuumCleaner.objects.Status.attributes.throughput.value = 3.5` is
 * checked by the compiler.
 *
 *     deno task model-types examples/vacuum_cleaner.xml            # writes examples/vacuum_cleaner_model.ts
 *     deno run -R -W tools/model_types.ts MODEL [--out FILE] [--name NAME]
 *
 * The constant is named after the file (`vacuumCleanerModel`) unless `--name` says otherwise;
 * `--out -` prints it instead of writing it. Run it again when the model changes.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { modelFromJson } from "../connectors/json.ts";
import { modelToTypeScript } from "../connectors/typescript.ts";
import { modelFromXml } from "../connectors/xml.ts";

const USAGE = "Usage: deno task model-types MODEL.xml|MODEL.json [--out FILE|-] [--name NAME]";

/**
 * Tells the file and constant a model file is written to by default.
 *
 * @param path The model file.
 * @returns `<stem>_model.ts` beside it, and `<stem in camelCase>Model`.
 */
export function defaults(path: string): { out: string; name: string } {
  const stem = path.replace(/\.[^./]*$/, "");
  const base = stem.slice(stem.lastIndexOf("/") + 1);
  const words = base.split(/[^A-Za-z0-9]+/).filter((w) => w !== "");
  const name =
    words.map((w, i) => i === 0 ? w[0].toLowerCase() + w.slice(1) : w[0].toUpperCase() + w.slice(1))
      .join("") + "Model";
  return { out: `${stem}_model.ts`, name: /^[0-9]/.test(name) ? `_${name}` : name };
}

/**
 * Reads a model file and returns the TypeScript module for it.
 *
 * @param path The model file: `.json` is read as JSON, anything else as XML.
 * @param name The constant's name.
 * @returns The module's source.
 */
export async function generate(path: string, name?: string): Promise<string> {
  const text = await Deno.readTextFile(path);
  const source = path.slice(path.lastIndexOf("/") + 1);
  const model = path.endsWith(".json")
    ? modelFromJson(text, { source })
    : await modelFromXml(text, { source });
  return modelToTypeScript(model, {
    name: name ?? defaults(path).name,
    source,
    command: `deno task model-types ${path}`,
  });
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      name: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || positionals.length !== 1) {
    console.log(USAGE);
    Deno.exit(values.help ? 0 : 2);
  }
  const path = positionals[0];
  const source = await generate(path, values.name);
  const out = values.out ?? defaults(path).out;
  if (out === "-") {
    console.log(source);
  } else {
    await Deno.writeTextFile(out, source);
    console.log(`wrote ${out}`);
  }
}
