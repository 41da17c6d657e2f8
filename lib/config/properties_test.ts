import assert from "node:assert/strict";
import { parseProperties } from "./properties.ts";

// `Deno.test` without the Deno namespace types: this folder is also type-checked against the
// web-only libraries of web.json, and a `/// <reference lib="deno.ns" />` would apply to every
// file of that check.
declare const Deno: { test(name: string, fn: () => void | Promise<void>): void };

function entries(text: string): [string, string][] {
  return [...parseProperties(text)];
}

// Each expectation below was checked against java.util.Properties.load (OpenJDK 17).
const JAVA_CASES: [name: string, text: string, expected: [string, string][]][] = [
  ['keeps "=" inside values', "a=b=c\n", [["a", "b=c"]]],
  ['keeps ":" inside values', "url=ssl://host:8883\n", [["url", "ssl://host:8883"]]],
  ['splits "key:value"', "a:1\n", [["a", "1"]]],
  ['splits "key value"', "a 1\n", [["a", "1"]]],
  ["drops white space around the separator", "a = 1\nb : 2\nc\t=\t3\nd\f4\n", [
    ["a", "1"],
    ["b", "2"],
    ["c", "3"],
    ["d", "4"],
  ]],
  ["takes one separator after white space", "a  =  = x\nb = :y\n", [["a", "= x"], ["b", ":y"]]],
  ["splits at the first white space", "a b c\n", [["a", "b c"]]],
  ["gives an empty value to a bare key", "a\nb=\nc =\nd:\n", [
    ["a", ""],
    ["b", ""],
    ["c", ""],
    ["d", ""],
  ]],
  ["accepts an empty key", "=v\n:w\n", [["", "w"]]],
  ["keeps trailing white space of values", "a=1  \nb=x\t\n", [["a", "1  "], ["b", "x\t"]]],
  ["skips comment lines", "# one\n! two\n  # three\n\t! four\na=1\n", [["a", "1"]]],
  ["keeps a # that does not start a line", "a=1 # not a comment\nb=#2\n", [
    ["a", "1 # not a comment"],
    ["b", "#2"],
  ]],
  ["does not continue a comment ending in a backslash", "# comment \\\na=1\n", [["a", "1"]]],
  ["skips blank and white-space-only lines", "\n\n   \n\t\f\na=1\n\n", [["a", "1"]]],
  ["skips leading white space", "   a=1\n\t\fb=2\n", [["a", "1"], ["b", "2"]]],
  ["decodes \\t, \\n, \\r and \\f", "a=\\t\\n\\r\\f\n", [["a", "\t\n\r\f"]]],
  ["decodes escaped separators in keys", "my\\ key\\:x\\=y=1\n", [["my key:x=y", "1"]]],
  ["decodes escaped comment characters", "\\#a=\\!b\n", [["#a", "!b"]]],
  ["decodes an escaped backslash", "path=C\\:\\\\temp\\\\x\n", [["path", "C:\\temp\\x"]]],
  ["drops the backslash of unknown escapes", 'a=\\q\\z\\b\\"\n', [["a", 'qzb"']]],
  ["keeps an escaped leading space of a value", "a=\\  b\n", [["a", "  b"]]],
  ["decodes \\uXXXX in either case", "a=\\u00e9\\u00C9\\u20AC\n\\u0041=k\n", [
    ["a", "éÉ€"],
    ["A", "k"],
  ]],
  ["decodes surrogate pairs", "a=\\uD83D\\uDE00\n", [["a", "😀"]]],
  ["keeps non-ASCII text", "city=Zürich\n", [["city", "Zürich"]]],
  ["continues a line ending in a backslash", "list=one, \\\n    two, \\\n\t three\n", [
    ["list", "one, two, three"],
  ]],
  ["continues a key", "ke\\\n  y=1\n", [["key", "1"]]],
  ["does not continue after an even number of backslashes", "a=x\\\\\nb=2\n", [
    ["a", "x\\"],
    ["b", "2"],
  ]],
  ["continues after an odd number of backslashes", "a=x\\\\\\\n  y\n", [["a", "x\\y"]]],
  ["ends a continuation at an empty line", "a=x\\\n\nb=1\n", [["a", "x"], ["b", "1"]]],
  ["does not take # on a continuation line for a comment", "a=x\\\n  #y\n", [["a", "x#y"]]],
  ["drops a backslash at the end of the text", "a=x\\", [["a", "x"]]],
  ["reads a last line without a line end", "a=1\nb=2", [["a", "1"], ["b", "2"]]],
  ["reads CRLF line ends", "a=1\r\nb=2\r\n", [["a", "1"], ["b", "2"]]],
  ["reads CR line ends", "a=1\rb=2\r", [["a", "1"], ["b", "2"]]],
  ["continues a line across CRLF", "a=x\\\r\n  y\r\nb=2\r\n", [["a", "xy"], ["b", "2"]]],
  ["continues a line across CR", "a=x\\\r  y\rb=2\r", [["a", "xy"], ["b", "2"]]],
  ["lets a later duplicate key win", "a=1\nb=2\na=3\n", [["a", "3"], ["b", "2"]]],
  ["reads nothing from an empty text", "", []],
  ["reads nothing from comments only", "#a=1\n!b=2", []],
];

for (const [name, text, expected] of JAVA_CASES) {
  Deno.test(`parseProperties() ${name}`, () => {
    assert.deepEqual(entries(text), expected);
  });
}

// Written by `new Properties().store(outputStream, null)` (OpenJDK 17), as the provisioning
// service writes the properties of an endpoint.
const STORED = "#Wed Nov 25 13:57:06 UTC 2026\n" +
  "ch.hevs.cloudio.endpoint.messageFormat=CBOR\n" +
  "sym\\#\\!\\=\\:=a\\=b\\:c\\#d\\!e\\\\f\n" +
  "key\\ with\\ spaces=\\ leading and trailing \n" +
  "unicode=Z\\u00FCrich \\u20AC \\t\\n\n" +
  "ch.hevs.cloudio.endpoint.ssl.authorityCert=file\\:/etc/cloud.io/ca-cert.pem\n" +
  "ch.hevs.cloudio.endpoint.uuid=0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55\n" +
  "ch.hevs.cloudio.endpoint.hostUri=ssl\\://cloudio.example.com\\:8883\n";

Deno.test("parseProperties() reads the output of java.util.Properties.store", () => {
  assert.deepEqual(Object.fromEntries(parseProperties(STORED)), {
    "ch.hevs.cloudio.endpoint.uuid": "0b3c8e3a-4f1d-4c2b-9a8e-2f6d1c0b7a55",
    "ch.hevs.cloudio.endpoint.hostUri": "ssl://cloudio.example.com:8883",
    "ch.hevs.cloudio.endpoint.ssl.authorityCert": "file:/etc/cloud.io/ca-cert.pem",
    "ch.hevs.cloudio.endpoint.messageFormat": "CBOR",
    "key with spaces": " leading and trailing ",
    "sym#!=:": "a=b:c#d!e\\f",
    "unicode": "Zürich € \t\n",
  });
});

Deno.test("parseProperties() reads the output of Properties.store with CRLF line ends", () => {
  const props = parseProperties(STORED.replaceAll("\n", "\r\n"));
  assert.equal(props.get("ch.hevs.cloudio.endpoint.hostUri"), "ssl://cloudio.example.com:8883");
  assert.equal(props.get("unicode"), "Zürich € \t\n");
  assert.equal(props.size, 7);
});

Deno.test("parseProperties() keeps keys in the order they first appear", () => {
  assert.deepEqual([...parseProperties("b=1\na=2\nb=3\n").keys()], ["b", "a"]);
});

Deno.test("parseProperties() ignores a byte order mark at the start", () => {
  assert.deepEqual(entries("\uFEFFa=1\n"), [["a", "1"]]);
  assert.deepEqual(entries("\uFEFF# comment\na=1\n"), [["a", "1"]]);
});

Deno.test("parseProperties() keeps a byte order mark that is not at the start", () => {
  assert.deepEqual(entries("a=\uFEFF1\n"), [["a", "\uFEFF1"]]);
});

Deno.test("parseProperties() unquotes a value wholly wrapped in double quotes", () => {
  assert.deepEqual(entries('a="x y"\nb = " padded "\nc=""\n'), [
    ["a", "x y"],
    ["b", " padded "],
    ["c", ""],
  ]);
});

Deno.test("parseProperties() unquotes a value wholly wrapped in single quotes", () => {
  assert.deepEqual(entries("a='x y'\nb='say \"hi\"'\n"), [["a", "x y"], ["b", 'say "hi"']]);
});

Deno.test("parseProperties() unquotes a path quoted as the Python examples do", () => {
  const text = 'ch.hevs.cloudio.endpoint.ssl.authorityCert="~/.config/cloud.io/ca.pem"\n';
  assert.equal(
    parseProperties(text).get("ch.hevs.cloudio.endpoint.ssl.authorityCert"),
    "~/.config/cloud.io/ca.pem",
  );
});

Deno.test("parseProperties() decodes escapes inside quotes", () => {
  assert.deepEqual(entries('a="x\\ty"\nb="say \\"hi\\""\nc="a\\:b"\n'), [
    ["a", "x\ty"],
    ["b", 'say "hi"'],
    ["c", "a:b"],
  ]);
});

Deno.test("parseProperties() unquotes a value continued across lines", () => {
  assert.deepEqual(entries('a="one, \\\n  two"\n'), [["a", "one, two"]]);
});

Deno.test("parseProperties() keeps quotes that do not wrap the whole value", () => {
  assert.deepEqual(entries(`a="x" "y"\nb="x'\nc="\nd=x"y"\ne="x"y\nf='a'b'\n`), [
    ["a", '"x" "y"'],
    ["b", "\"x'"],
    ["c", '"'],
    ["d", 'x"y"'],
    ["e", '"x"y'],
    ["f", "'a'b'"],
  ]);
});

Deno.test("parseProperties() keeps quotes when one of them is escaped", () => {
  assert.deepEqual(entries('a=\\"x y"\nb="x y\\"\n'), [["a", '"x y"'], ["b", '"x y"']]);
});

Deno.test("parseProperties() keeps quotes when the closing one ends in white space", () => {
  // Java keeps trailing white space, so the value does not end with the quote.
  assert.deepEqual(entries('a="x" \n'), [["a", '"x" ']]);
});

Deno.test("parseProperties() never unquotes keys", () => {
  assert.deepEqual(entries('"k"=v\n'), [['"k"', "v"]]);
});

Deno.test("parseProperties() throws a SyntaxError on a malformed \\u escape", () => {
  for (const text of ["a=\\u12\n", "a=\\u12g4\n", "a=\\u\n", "a=\\u123", "\\u12=x\n"]) {
    assert.throws(() => parseProperties(text), {
      name: "SyntaxError",
      message:
        'Cannot parse properties at line 1: "\\u" must be followed by four hexadecimal digits',
    }, JSON.stringify(text));
  }
});

Deno.test("parseProperties() does not read \\u digits across the separator", () => {
  // Java checks the digits within the key alone: "=" ends the key after "\u00".
  assert.throws(() => parseProperties("\\u00=41\n"), SyntaxError);
});

Deno.test("parseProperties() gives the line of a malformed escape", () => {
  const cases: [string, number][] = [
    ["a=1\nb=2\nc=\\uZZZZ\n", 3],
    ["# comment\n\n  \na=\\u1\n", 4],
    ["a=1\r\nb=2\r\nc=\\u1\r\n", 3],
    ["a=1\rb=2\rc=\\u1\r", 3],
    ["a=ok, \\\n  still ok, \\\n  \\u1\n", 3],
    ["\uFEFFa=1\nb=\\u1\n", 2],
  ];
  for (const [text, line] of cases) {
    assert.throws(() => parseProperties(text), {
      name: "SyntaxError",
      message: new RegExp(`at line ${line}:`),
    }, JSON.stringify(text));
  }
});

Deno.test("parseProperties() does not quote the bad escape in its message", () => {
  assert.throws(() => parseProperties("ssl.clientPassword=QQ\\uQQQQ\n"), (error: Error) => {
    assert.doesNotMatch(error.message, /Q/);
    return true;
  });
});
