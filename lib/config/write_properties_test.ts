import assert from "node:assert/strict";
import { stringifyProperties } from "./write_properties.ts";
import { parseProperties } from "./properties.ts";

Deno.test("stringifyProperties() escapes as java.util.Properties.store does", () => {
  const text = stringifyProperties(
    new Map([
      ["ch.hevs.cloudio.endpoint.hostUri", "ssl://example.com:8883"],
      ["key with spaces", " leading and inner spaces"],
      ["a=b:c", "x#y!z"],
      ["path", "C:\\cloud.io\\ca.pem"],
      ["unicode", "Zürich ☃"],
      ["lines", "one\ntwo\tthree"],
    ]),
  );
  assert.equal(
    text,
    "ch.hevs.cloudio.endpoint.hostUri=ssl\\://example.com\\:8883\n" +
      "key\\ with\\ spaces=\\ leading and inner spaces\n" +
      "a\\=b\\:c=x\\#y\\!z\n" +
      "path=C\\:\\\\cloud.io\\\\ca.pem\n" +
      "unicode=Z\\u00FCrich \\u2603\n" +
      "lines=one\\ntwo\\tthree\n",
  );
});

Deno.test("stringifyProperties() output reads back unchanged with parseProperties()", () => {
  const props = new Map([
    ["plain", "value"],
    ["empty", ""],
    ["quoted", '"wholly quoted"'],
    ["single", "'single'"],
    ["trailing backslash", "ends with \\"],
    ["trailing space", "ends with space "],
    ["#not a comment", "!nor this"],
    [" leading", "  two leading"],
    ["控制", "\u0001\u001f\u007f"],
    ["emoji", "😀"],
    ["crlf", "a\r\nb"],
  ]);
  assert.deepEqual(parseProperties(stringifyProperties(props)), props);
  assert.deepEqual(parseProperties(stringifyProperties(Object.fromEntries(props))), props);
});

Deno.test("stringifyProperties() writes a comment, one line each", () => {
  assert.equal(
    stringifyProperties(new Map([["a", "1"]]), { comment: "first\nsecond é" }),
    "#first\n#second \\u00E9\na=1\n",
  );
  assert.deepEqual(
    parseProperties(stringifyProperties(new Map([["a", "1"]]), { comment: "x\\\ny" })),
    new Map([["a", "1"]]),
  );
});
