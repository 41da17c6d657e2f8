/**
 * Private helpers that spell problem locations the same way everywhere: JSON paths for data,
 * `line:column` for text.
 *
 * This module is browser compatible.
 *
 * @module
 */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Appends a key or an index to a JSON-path-like location: `.name` for identifiers,
 * `["my name"]` for any other key, `[3]` for an array index.
 */
export function childLocation(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/**
 * Turns an offset (UTF-16 code units) into a 1-based line and column. `\r\n`, `\n` and a lone
 * `\r` each end a line.
 */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: end - start + 1 };
}

/** Spells a text position as `source:line:column`, or `line:column` without a source. */
export function textLocation(source: string | undefined, line: number, column?: number): string {
  const where = column === undefined ? `${line}` : `${line}:${column}`;
  return source ? `${source}:${where}` : where;
}

/** Shows a value briefly for a problem message. */
export function show(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  }
  if (typeof value === "bigint") return `${value}n`;
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return "a symbol";
  return String(value);
}
