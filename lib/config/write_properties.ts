/**
 * Writing Java `.properties` text, as `java.util.Properties.store` writes it, so that every
 * reference endpoint (and our own `parseProperties`) reads back exactly what was written.
 *
 * This module is browser compatible.
 *
 * @module
 */

/** Options of {@linkcode stringifyProperties}. */
export interface StringifyPropertiesOptions {
  /**
   * A comment written first, each of its lines after `#`.
   *
   * @default {undefined} no comment
   */
  comment?: string;
}

const ESCAPES: Record<string, string> = { "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f" };

/** Java's `saveConvert`, with `escUnicode` on: ASCII out, everything else as `\uXXXX`. */
function escape(text: string, isKey: boolean): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const code = text.charCodeAt(i);
    if (c === "\\") out += "\\\\";
    else if (c === " ") out += isKey || i === 0 ? "\\ " : " ";
    else if (c in ESCAPES) out += ESCAPES[c];
    else if (c === "=" || c === ":" || c === "#" || c === "!") out += `\\${c}`;
    // A value wholly in quotes would lose them to the ConfigObj-style unquoting of
    // `parseProperties()`; an escaped first quote reads back as itself everywhere.
    else if (!isKey && i === 0 && (c === '"' || c === "'")) out += `\\${c}`;
    else if (code < 0x20 || code > 0x7e) {
      out += `\\u${code.toString(16).toUpperCase().padStart(4, "0")}`;
    } else out += c;
  }
  return out;
}

/**
 * Writes properties as the text of a `.properties` file: one `key=value` line each, in the
 * map's order, with `\`, `=`, `:`, `#`, `!`, spaces in keys, a leading space in values, line
 * breaks and every non-ASCII character escaped, as `java.util.Properties.store` does. A value's
 * leading quote is escaped too, so that `parseProperties()` keeps it.
 *
 * @param props The properties.
 * @param options An optional comment for the first lines.
 * @returns The text, ending with a newline.
 *
 * @example Writing and reading back
 * ```ts
 * import { stringifyProperties } from "./write_properties.ts";
 * import { parseProperties } from "./properties.ts";
 * import assert from "node:assert/strict";
 *
 * const props = new Map([["ch.hevs.cloudio.endpoint.hostUri", "ssl://example.com:8883"]]);
 * const text = stringifyProperties(props, { comment: "Provisioned" });
 * assert.equal(text, "#Provisioned\nch.hevs.cloudio.endpoint.hostUri=ssl\\://example.com\\:8883\n");
 * assert.deepEqual(parseProperties(text), props);
 * ```
 */
export function stringifyProperties(
  props: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  options: StringifyPropertiesOptions = {},
): string {
  const entries = props instanceof Map ? [...props] : Object.entries(props);
  let text = "";
  if (options.comment !== undefined) {
    for (const line of options.comment.split(/\r\n|\r|\n/)) {
      // Non-ASCII is escaped in comments too, so that an ISO-8859-1 reader sees the same text.
      text += `#${line.replace(/[^\x20-\x7e\t]/g, (c) => escape(c, false).replace(/^\\ /, " "))}\n`;
    }
  }
  for (const [key, value] of entries) text += `${escape(key, true)}=${escape(value, false)}\n`;
  return text;
}
