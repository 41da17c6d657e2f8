/**
 * Private to the JSON connector: JSON text read with positions. `JSON.parse` does the reading;
 * a walker over the text finds what it does not tell: the offset of a syntax error, duplicate
 * keys (which `JSON.parse` silently resolves to the last one) and the offset of every key, so
 * that problems found later can be put in document order.
 *
 * This module is browser compatible.
 *
 * @module
 */

import { ModelError, type ModelProblem } from "../lib/errors.ts";
import { childLocation, lineColumn, show, textLocation } from "../lib/model/_location.ts";

/**
 * Parses JSON text (a byte order mark is skipped), or passes an already-parsed document through.
 *
 * @returns The document, a problem for each duplicate key, and the offset of each key by JSON
 * path (for {@linkcode inDocumentOrder}; absent for a parsed document).
 * @throws {ModelError} When the text is not JSON, located at `line:column`.
 */
export function parseInput(
  input: unknown,
  source: string | undefined,
): { value: unknown; problems: ModelProblem[]; offsets?: ReadonlyMap<string, number> } {
  if (typeof input !== "string") return { value: input, problems: [] };
  // A byte order mark is not JSON. Positions are counted without it, as editors do.
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    const found = scanJson(text).error ?? fallbackError(text, cause);
    const { line, column } = lineColumn(text, found.offset);
    throw new ModelError(
      [{ location: textLocation(source, line, column), message: found.message }],
      { source, cause },
    );
  }
  const problems: ModelProblem[] = [];
  const scan = scanJson(text);
  for (const duplicate of scan.duplicates) {
    const at = lineColumn(text, duplicate.offset);
    const first = lineColumn(text, duplicate.first);
    problems.push({
      location: duplicate.location,
      message: `Duplicate key ${show(duplicate.key)} at ${at.line}:${at.column} ` +
        `(first at ${first.line}:${first.column}): ` +
        "the cloud refuses duplicate keys and JSON keeps only the last one",
    });
  }
  return { value, problems, offsets: scan.offsets };
}

/**
 * Puts problems in document order, by the offset of the key their location names (or of its
 * closest ancestor that is in the text, for a missing key). Stable for equal offsets.
 */
export function inDocumentOrder(
  problems: ModelProblem[],
  offsets: ReadonlyMap<string, number> | undefined,
): ModelProblem[] {
  if (offsets === undefined || offsets.size === 0) return problems;
  const offsetOf = (location: string): number => {
    for (let at = location; at.length > 0;) {
      const offset = offsets.get(at);
      if (offset !== undefined) return offset;
      at = at.slice(0, Math.max(at.lastIndexOf("."), at.lastIndexOf("["), 0));
    }
    return 0;
  };
  return problems
    .map((problem, index) => ({ problem, index, offset: offsetOf(problem.location) }))
    .sort((a, b) => a.offset - b.offset || a.index - b.index)
    .map((entry) => entry.problem);
}

function fallbackError(text: string, cause: unknown): { offset: number; message: string } {
  const message = cause instanceof Error ? cause.message : String(cause);
  const position = /at position (\d+)/.exec(message);
  return { offset: position ? Number(position[1]) : text.length, message };
}

interface JsonScan {
  error?: { offset: number; message: string };
  duplicates: { location: string; key: string; offset: number; first: number }[];
  /** The offset of each key (or array item) by JSON path; the first one for duplicate keys. */
  offsets: Map<string, number>;
}

/**
 * Walks JSON text without building values: finds the first syntax error with its offset (V8's
 * `JSON.parse` messages do not always carry one) and every duplicate key with its JSON path.
 */
function scanJson(text: string): JsonScan {
  const duplicates: JsonScan["duplicates"] = [];
  const offsets = new Map<string, number>([["$", 0]]);
  let i = 0;
  const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

  class Stop {
    constructor(readonly offset: number, readonly message: string) {}
  }
  function describe(at: number): string {
    return at >= text.length ? "end of input" : `character ${JSON.stringify(text[at])}`;
  }
  function fail(expectation: string, at = i): never {
    throw new Stop(at, `Unexpected ${describe(at)}: expected ${expectation}`);
  }
  function space(): void {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  }
  function string(): void {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) fail("a closing '\"'");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            fail("four hexadecimal digits after \\u", i + 2);
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else {
          fail('an escape: one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX', i + 1);
        }
      } else if (c < 0x20) {
        fail("no control character inside a string (use an escape)");
      } else {
        i++;
      }
    }
  }
  function value(path: string): void {
    space();
    const c = text[i];
    if (c === "{") {
      i++;
      space();
      if (text[i] === "}") {
        i++;
        return;
      }
      const seen = new Map<string, number>();
      for (;;) {
        space();
        if (text[i] !== '"') fail("a key in double quotes");
        const start = i;
        string();
        const key = JSON.parse(text.slice(start, i)) as string;
        const keyPath = childLocation(path, key);
        const first = seen.get(key);
        if (first === undefined) {
          seen.set(key, start);
          offsets.set(keyPath, start);
        } else {
          duplicates.push({ location: keyPath, key, offset: start, first });
        }
        space();
        if (text[i] !== ":") fail('":" after the key');
        i++;
        value(keyPath);
        space();
        if (text[i] === "}") break;
        if (text[i] !== ",") fail('"," or "}" after the value');
        i++;
      }
      i++;
      return;
    }
    if (c === "[") {
      i++;
      space();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (let index = 0;; index++) {
        space();
        offsets.set(childLocation(path, index), i);
        value(childLocation(path, index));
        space();
        if (text[i] === "]") break;
        if (text[i] !== ",") fail('"," or "]" after the value');
        i++;
      }
      i++;
      return;
    }
    if (c === '"') return string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (!match) fail("a digit", i + 1);
      i += match[0].length;
      return;
    }
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    fail("a value");
  }

  try {
    value("$");
    space();
    if (i < text.length) fail("nothing after the JSON value");
    return { duplicates, offsets };
  } catch (stop) {
    if (stop instanceof Stop) return { error: stop, duplicates, offsets };
    return { duplicates: [], offsets: new Map() }; // e.g. too deeply nested for this walker
  }
}
