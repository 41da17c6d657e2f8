import assert from "node:assert/strict";
import { Endpoint } from "../mod.ts";
import { modelFromJson } from "./json.ts";
import { modelToTypeScript } from "./typescript.ts";
import { modelFromXml } from "./xml.ts";
import { defaults, generate } from "../tools/model_types.ts";

const UUID = "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55";
const examples = new URL("../examples/", import.meta.url);

Deno.test("the generated VacuumCleaner constant is up to date with vacuum_cleaner.xml", async () => {
  const committed = await Deno.readTextFile(new URL("vacuum_cleaner_model.ts", examples));
  assert.equal(
    await generate("examples/vacuum_cleaner.xml"),
    committed,
    "run: deno task model-types examples/vacuum_cleaner.xml",
  );
});

Deno.test("modelToTypeScript() writes a constant that builds the same endpoint as its model", async () => {
  const xml = await Deno.readTextFile(new URL("vacuum_cleaner.xml", examples));
  const json = await Deno.readTextFile(new URL("vacuum_cleaner.json", examples));
  for (const model of [await modelFromXml(xml), modelFromJson(json)]) {
    const source = modelToTypeScript(model, { name: "generated" });
    const url = `data:application/typescript;base64,${btoa(source)}`;
    const { generated } = await import(url);
    assert.deepEqual(
      new Endpoint(UUID, { model: generated }).toModel(),
      new Endpoint(UUID, { model }).toModel(),
    );
  }
});

Deno.test("modelToTypeScript() quotes names that are not identifiers and keeps timestamps", () => {
  const source = modelToTypeScript({
    nodes: {
      "my node": {
        objects: {
          "1st": {
            attributes: {
              "flow-rate": {
                type: "Number",
                constraint: "Measure",
                value: 1.5,
                timestamp: 1700000000250,
              },
            },
          },
        },
      },
    },
  });
  assert.match(source, /"my node": \{/);
  assert.match(source, /"1st": \{/);
  assert.match(source, /"flow-rate": \{\n\s+type: "Number",\n[^}]*timestamp: 1700000000250,\n/);
  assert.throws(() => modelToTypeScript({ nodes: {} }, { name: "not a name" }), TypeError);
});

Deno.test("the generator names the file and the constant after the model file", () => {
  assert.deepEqual(defaults("examples/vacuum_cleaner.xml"), {
    out: "examples/vacuum_cleaner_model.ts",
    name: "vacuumCleanerModel",
  });
  assert.deepEqual(defaults("3-phase meter.json"), {
    out: "3-phase meter_model.ts",
    name: "_3PhaseMeterModel",
  });
});
