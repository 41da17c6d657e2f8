/**
 * A parser for Java `.properties` text, the format of cloud.iO endpoint configuration files
 * (protocol §8.1). Its writer, `stringifyProperties()`, is in `write_properties.ts` beside it.
 *
 * This module is browser compatible.
 *
 * @module
 */

/** One logical line: its characters, and where they came from in the source text. */
interface LogicalLine {
  text: string;
  /**
   * Pairs of offsets, `[offset in text, offset in source, …]`, one pair for each run of characters
   * copied from one natural line.
   */
  runs: number[];
}

/** The index in the source text of the character at `index` of a logical line. */
function sourceIndex(line: LogicalLine, index: number): number {
  let i = 0;
  while (i + 2 < line.runs.length && line.runs[i + 2] <= index) i += 2;
  return line.runs[i + 1] + (index - line.runs[i]);
}

function isLineEnd(c: string): boolean {
  return c === "\n" || c === "\r";
}

/**
 * Reads the next logical line starting at `state.pos`, the way `java.util.Properties.LineReader`
 * does (OpenJDK 17–25): leading white space, blank lines and comment lines are skipped, a line
 * ending in an odd number of backslashes continues on the next line (whose leading white space is
 * dropped), and the backslash that continues a line is not part of it.
 */
function readLogicalLine(source: string, state: { pos: number }): LogicalLine | undefined {
  const end = source.length;
  let off = state.pos;
  let text = "";
  const runs: number[] = [];
  let skipWhiteSpace = true;
  let appendedLineBegin = false;
  let precedingBackslash = false;
  const done = (): LogicalLine => {
    state.pos = off;
    return { text: precedingBackslash ? text.slice(0, -1) : text, runs };
  };

  while (true) {
    if (off >= end) {
      state.pos = off;
      return text.length === 0 ? undefined : done();
    }
    const c = source[off];
    if (skipWhiteSpace) {
      if (c === " " || c === "\t" || c === "\f" || (!appendedLineBegin && isLineEnd(c))) {
        off++;
        continue;
      }
      skipWhiteSpace = false;
      appendedLineBegin = false;
    }
    if (text.length === 0 && (c === "#" || c === "!")) {
      // A comment runs to the end of its line; a trailing backslash does not continue it.
      while (off < end && !isLineEnd(source[off])) off++;
      if (off >= end) {
        state.pos = off;
        return undefined;
      }
      off++;
      skipWhiteSpace = true;
      continue;
    }
    if (!isLineEnd(c)) {
      // Copy the rest of the natural line; only its trailing backslashes matter.
      let stop = off;
      while (stop < end && !isLineEnd(source[stop])) stop++;
      runs.push(text.length, off);
      text += source.slice(off, stop);
      let backslashes = 0;
      while (stop - backslashes > off && source[stop - backslashes - 1] === "\\") backslashes++;
      const odd = backslashes % 2 === 1;
      precedingBackslash = backslashes === stop - off ? precedingBackslash !== odd : odd;
      off = stop;
      continue;
    }
    // End of a natural line.
    off++;
    if (text.length === 0) {
      skipWhiteSpace = true;
      continue;
    }
    if (off >= end) return done();
    if (!precedingBackslash) {
      state.pos = off;
      return { text, runs };
    }
    // The line continues: drop the backslash, then the next line's leading white space.
    text = text.slice(0, -1);
    skipWhiteSpace = true;
    appendedLineBegin = true;
    precedingBackslash = false;
    if (c === "\r" && source[off] === "\n") off++;
  }
}

/** The 1-based line number of the character at `index`; CRLF, CR and LF each end one line. */
function lineNumberAt(source: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index && i < source.length; i++) {
    const c = source[i];
    if (c === "\n" || (c === "\r" && source[i + 1] !== "\n")) line++;
  }
  return line;
}

const ESCAPES: Record<string, string> = { t: "\t", r: "\r", n: "\n", f: "\f" };

/**
 * Decodes the backslash escapes of `line.text[start, end)` like Java's `loadConvert`: `\t`, `\r`,
 * `\n`, `\f`, `\uXXXX`, and any other character after a backslash stands for itself.
 */
function unescape(source: string, logical: LogicalLine, start: number, end: number): string {
  const { text } = logical;
  const first = text.indexOf("\\", start);
  if (first < 0 || first >= end) return text.slice(start, end);
  let out = text.slice(start, first);
  let off = first;
  while (off < end) {
    const c = text[off++];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const escaped = text[off++];
    if (escaped !== "u") {
      out += ESCAPES[escaped] ?? escaped;
      continue;
    }
    const hex = text.slice(off, Math.min(off + 4, end));
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
      // The characters are not quoted: the value may be a password.
      const line = lineNumberAt(source, sourceIndex(logical, off - 2));
      throw new SyntaxError(
        `Cannot parse properties at line ${line}: ` +
          '"\\u" must be followed by four hexadecimal digits',
      );
    }
    out += String.fromCharCode(parseInt(hex, 16));
    off += 4;
  }
  return out;
}

/**
 * Returns the quote character when the raw value `[start, end)` is wholly wrapped in a matching
 * pair of unescaped `"` or `'` with no other unescaped one of the same kind inside.
 */
function wrappingQuote(text: string, start: number, end: number): string | undefined {
  if (end - start < 2) return undefined;
  const quote = text[start];
  if ((quote !== '"' && quote !== "'") || text[end - 1] !== quote) return undefined;
  let escaped = false;
  for (let i = start + 1; i < end - 1; i++) {
    const c = text[i];
    if (escaped) escaped = false;
    else if (c === "\\") escaped = true;
    else if (c === quote) return undefined;
  }
  // An odd run of backslashes before the closing quote escapes it.
  return escaped ? undefined : quote;
}

/**
 * Parses the text of a Java `.properties` file, as `java.util.Properties.load` does.
 *
 * - Each logical line is `key=value`, `key:value` or `key value`: the key ends at the first
 *   unescaped `=`, `:` or white space; white space around the separator is dropped, and a
 *   `key value` line may still use one `=` or `:` after the white space (`key = value`).
 * - Lines whose first non-blank character is `#` or `!` are comments; blank lines are skipped;
 *   leading white space (space, tab, form feed) is skipped. Trailing white space of a value is
 *   kept, as in Java.
 * - Escapes: `\t`, `\n`, `\r`, `\f`, `\uXXXX`; any other escaped character stands for itself
 *   (`\:`, `\=`, `\ `, `\#`, `\\`), so an unknown escape loses its backslash.
 * - A line ending in an odd number of backslashes continues on the next line, whose leading white
 *   space is dropped. Lines end with CRLF, CR or LF.
 * - When a key appears twice, the later value wins.
 *
 * Differences from Java, both for files written by hand or by Python tools:
 * - A byte order mark (U+FEFF) at the start of the text is ignored (Java would make it part of
 *   the first key).
 * - Like Python's ConfigObj, which the Python reference endpoint uses, a value wholly wrapped in
 *   one pair of matching double or single quotes is unquoted: `a="x y"` gives `x y`. This applies
 *   only when the value starts and ends with the same unescaped quote and contains no other
 *   unescaped one of that kind. To keep the quotes, escape the first one: `a=\"x y"` gives
 *   `"x y"`. Keys are never unquoted.
 *
 * The text must already be decoded (Java's `load(InputStream)` reads ISO-8859-1; files written by
 * `Properties.store` escape everything else as `\uXXXX`, so they read the same either way).
 *
 * @param text The file's content.
 * @returns The properties, in the order their keys first appeared.
 * @throws {SyntaxError} When a `\u` escape is not followed by four hexadecimal digits; the message
 * gives the line number.
 *
 * @example Reading a file written by `java.util.Properties.store`
 * ```ts
 * import { parseProperties } from "./properties.ts";
 * import assert from "node:assert/strict";
 *
 * const props = parseProperties(
 *   "#Tue Mar 07 10:00:00 CET 2023\n" +
 *     "ch.hevs.cloudio.endpoint.hostUri=ssl\\://example.com\\:8883\n",
 * );
 * assert.equal(props.get("ch.hevs.cloudio.endpoint.hostUri"), "ssl://example.com:8883");
 * ```
 *
 * @example Separators, continuations and quotes
 * ```ts
 * import { parseProperties } from "./properties.ts";
 * import assert from "node:assert/strict";
 *
 * const props = parseProperties('a: 1\nb 2\nc = x=y\nlist = one, \\\n  two\nq = "quoted"\n');
 * assert.deepEqual([...props], [
 *   ["a", "1"],
 *   ["b", "2"],
 *   ["c", "x=y"],
 *   ["list", "one, two"],
 *   ["q", "quoted"],
 * ]);
 * ```
 *
 * @example A malformed escape
 * ```ts
 * import { parseProperties } from "./properties.ts";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseProperties("a=1\nb=\\u12\n"), {
 *   name: "SyntaxError",
 *   message: /line 2/,
 * });
 * ```
 */
export function parseProperties(text: string): Map<string, string> {
  const result = new Map<string, string>();
  const state = { pos: text.charCodeAt(0) === 0xfeff ? 1 : 0 };
  while (true) {
    const line = readLogicalLine(text, state);
    if (line === undefined) return result;
    const chars = line.text;
    const limit = chars.length;
    let keyLen = 0;
    let valueStart = limit;
    let hasSeparator = false;
    let precedingBackslash = false;
    while (keyLen < limit) {
      const c = chars[keyLen];
      if ((c === "=" || c === ":") && !precedingBackslash) {
        valueStart = keyLen + 1;
        hasSeparator = true;
        break;
      }
      if ((c === " " || c === "\t" || c === "\f") && !precedingBackslash) {
        valueStart = keyLen + 1;
        break;
      }
      precedingBackslash = c === "\\" ? !precedingBackslash : false;
      keyLen++;
    }
    while (valueStart < limit) {
      const c = chars[valueStart];
      if (c !== " " && c !== "\t" && c !== "\f") {
        if (!hasSeparator && (c === "=" || c === ":")) hasSeparator = true;
        else break;
      }
      valueStart++;
    }
    const key = unescape(text, line, 0, keyLen);
    const quoted = wrappingQuote(chars, valueStart, limit) !== undefined;
    const value = quoted
      ? unescape(text, line, valueStart + 1, limit - 1)
      : unescape(text, line, valueStart, limit);
    result.set(key, value);
  }
}
