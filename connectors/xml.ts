/**
 * Reads an endpoint model from the XML layout of the Python reference's test connector
 * (protocol §10.1), with a few extensions: nested objects, interfaces, `conforms` and initial
 * values. The result is plain, validated data; nothing is connected.
 *
 * ```xml
 * <configs>
 *   <config deviceId="TheVacuumCleaner">
 *     <deviceType typeId="VacuumCleaner" implements="NodeInterface">
 *       <object id="Status" conforms="VacuumStatus">
 *         <attribute id="throughput" template="double" constraint="measure" value="3.5"/>
 *       </object>
 *     </deviceType>
 *   </config>
 * </configs>
 * ```
 *
 * This module is browser compatible.
 *
 * @module
 */

import { putOwn } from "../lib/_record.ts";
import { ModelError, type ModelProblem } from "../lib/errors.ts";
import { coerceValue } from "../lib/model/coerce.ts";
import { lineColumn, show, textLocation } from "../lib/model/_location.ts";
import { assertName } from "../lib/model/names.ts";
import type {
  AttributeConstraint,
  AttributeModel,
  AttributeType,
  EndpointModel,
  NodeModel,
  ObjectModel,
  PublishPolicy,
} from "../lib/model/types.ts";
import { deadbandOf, modelProblems, POLICY_KEYS, policyProblems } from "../lib/model/validate.ts";
import type { ConnectorOptions } from "./json.ts";

/** fast-xml-parser's exports. */
type XmlParser = typeof import("npm:fast-xml-parser@5.12.1");

// The parser is loaded with the first XML model, not with `mod.ts`: a device whose model is JSON
// or code does not pay for it (7 MB of resident memory and 10 ms of start-up, measured here).
let parser: Promise<XmlParser> | undefined;

const TEMPLATES: Readonly<Record<string, AttributeType>> = {
  bool: "Boolean",
  boolean: "Boolean",
  short: "Integer",
  int: "Integer",
  integer: "Integer",
  long: "Integer",
  float: "Number",
  double: "Number",
  number: "Number",
  str: "String",
  string: "String",
};

const CONSTRAINTS: Readonly<Record<string, AttributeConstraint>> = {
  static: "Static",
  parameter: "Parameter",
  status: "Status",
  setpoint: "SetPoint",
  measure: "Measure",
};

/** What each XML attribute of a `<policy>` (a key of `PublishPolicy`) must be, for messages. */
const POLICY_EXPECTED: Readonly<Record<(typeof POLICY_KEYS)[number], string>> = {
  onChange: "true or false",
  deadband: 'an amount such as 0.5, or a percentage such as "2%"',
  minInterval: "milliseconds",
  maxInterval: "milliseconds",
  latestOnlyWhileOffline: "true or false",
};

const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;

/** The interface every node implements when its `<deviceType>` has no `implements`. */
const DEFAULT_INTERFACE = "NodeInterface";

/** What a `value` XML attribute of each type must be, for the problem message. */
const EXPECTED_VALUES: Readonly<Record<AttributeType, string>> = {
  Boolean: 'true, false, 1 or 0 for type "Boolean"',
  Integer: 'a decimal safe integer for type "Integer"',
  Number: 'a finite decimal number for type "Number"',
  String: 'a text for type "String"',
};

/**
 * Reads a whole endpoint model from XML. It is asynchronous because the XML parser
 * (fast-xml-parser) is loaded with the first call, not with the library.
 *
 * The layout is `<configs>` → `<config>` (its `deviceId` is ignored) → `<deviceType typeId="NODE">`
 * (one node each; several `<deviceType>` or `<config>` elements give several nodes) →
 * `<object id="OBJ">` → `<attribute id="NAME" template="TYPE" constraint="CONSTRAINT"/>`.
 *
 * - `template` takes `bool`/`boolean` (Boolean), `short`/`int`/`integer`/`long` (Integer),
 *   `float`/`double`/`number` (Number) and `str`/`string` (String), in any case; `constraint`
 *   takes the five constraint names in any case (`setpoint` → `SetPoint`).
 * - `name` may stand for `id` or `typeId`.
 * - A node implements `NodeInterface`, as the Python connector declares, unless its
 *   `<deviceType>` has `implements="A,B"` (comma-separated; empty for none).
 * - `<object>` elements nest: a child `<object>` stays a child object (the Python connector
 *   flattens them). An `<object>` may have `conforms="CLASS"`.
 * - An `<attribute>` may have an initial `value="…"`, read per type: `true`/`false`/`1`/`0` (any
 *   case) for Boolean, a decimal safe integer for Integer, a finite decimal number for Number,
 *   the text as it is for String (white space around the others is ignored), the rules by which
 *   the endpoint reads a `@set`. Without it the attribute has no value (and no timestamp).
 * - An `<attribute>` may hold one `<policy/>`, its publish policy (Status and Measure only), with
 *   the keys of `PublishPolicy` as XML attributes: `onChange="true"`, `deadband="0.5"` or
 *   `deadband="2%"` (Integer and Number), `minInterval="1000"` and `maxInterval="60000"` (ms),
 *   `latestOnlyWhileOffline="true"`.
 *
 * Unknown elements, unknown XML attributes, text inside elements, bad names, unknown types or
 * constraints, bad values, duplicate node, object or attribute names and attributes directly
 * inside a `<deviceType>` are problems. Every problem is reported with the position of the
 * element or XML attribute at fault, as `line:column` (1-based), prefixed by `source:` when a
 * source is given.
 *
 * @param text The XML text.
 * @param options The file name for messages and locations.
 * @returns A promise of the model: every node has `implements` and `objects`, every object `objects` and
 * `attributes` (and `conforms` when given).
 * @throws {ModelError} (a rejection) When the XML is malformed (located at the parser's line and column) or
 * the model has problems; every problem is listed and no partial model is returned.
 *
 * @example Reading the Python connector's layout
 * ```ts
 * import { modelFromXml } from "./xml.ts";
 * import assert from "node:assert/strict";
 *
 * const model = await modelFromXml(`
 *   <configs>
 *     <config deviceId="demo">
 *       <deviceType typeId="Pump">
 *         <object id="Status">
 *           <attribute id="flow" template="double" constraint="measure" value="1.5"/>
 *         </object>
 *       </deviceType>
 *     </config>
 *   </configs>`);
 * assert.deepEqual(model.nodes.Pump, {
 *   implements: ["NodeInterface"],
 *   objects: {
 *     Status: {
 *       objects: {},
 *       attributes: { flow: { type: "Number", constraint: "Measure", value: 1.5 } },
 *     },
 *   },
 * });
 * ```
 *
 * @example Problems carry their position
 * ```ts
 * import { modelFromXml } from "./xml.ts";
 * import { ModelError } from "../lib/errors.ts";
 * import assert from "node:assert/strict";
 *
 * const text = `<configs><config><deviceType typeId="Pump">
 * <object id="Status"><attribute id="flow" template="Real" constraint="Measure"/></object>
 * </deviceType></config></configs>`;
 * await assert.rejects(
 *   modelFromXml(text, { source: "pump.xml" }),
 *   (error) =>
 *     error instanceof ModelError &&
 *     error.problems.length === 1 &&
 *     error.problems[0].location === "pump.xml:2:42",
 * );
 * ```
 */
export async function modelFromXml(
  text: string,
  options: ConnectorOptions = {},
): Promise<EndpointModel> {
  const reader = new Reader(
    await (parser ??= import("npm:fast-xml-parser@5.12.1")),
    text,
    options.source,
  );
  const model = reader.read();
  const problems = reader.problems();
  // A safety net: what the reader accepted must be a valid model.
  if (problems.length === 0) problems.push(...modelProblems(model));
  if (problems.length > 0) {
    throw new ModelError(problems, { source: options.source, cause: reader.cause });
  }
  return model;
}

/** An element of the parsed document. */
interface Element {
  tag: string;
  attributes: Record<string, string>;
  children: Element[];
  /** Text that is not only white space. */
  text: string;
  /** Offset of the `<` in the text without its byte order mark. */
  offset: number;
}

class Reader {
  cause: unknown;
  readonly #problems: { offset: number; problem: ModelProblem }[] = [];
  readonly #xml: XmlParser;
  readonly #text: string;
  readonly #source: string | undefined;
  readonly #attributeOffsets = new Map<Element, Map<string, number>>();
  readonly #nodes = new Map<string, number>();

  constructor(xml: XmlParser, text: string, source: string | undefined) {
    this.#xml = xml;
    // Positions are counted without the byte order mark, as editors do.
    this.#text = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
    this.#source = source;
  }

  /** Every problem found, in document order. */
  problems(): ModelProblem[] {
    return this.#problems.toSorted((a, b) => a.offset - b.offset).map((p) => p.problem);
  }

  read(): EndpointModel {
    const model: EndpointModel = { nodes: {} };
    const roots = this.#parse();
    if (roots === undefined) return model;
    if (roots.length === 0) {
      this.#problem(0, "Missing root element <configs>");
      return model;
    }
    roots.slice(1).forEach((extra) =>
      this.#problem(extra.offset, "Unexpected second root element")
    );
    const root = roots[0];
    if (root.tag !== "configs") {
      this.#problem(root.offset, `Unknown root element <${root.tag}>: expected <configs>`);
      return model;
    }
    this.#attributes(root, []);
    for (const config of this.#children(root, ["config"])) {
      this.#attributes(config, ["deviceId"]);
      for (const child of this.#children(config, ["deviceType", "attribute"])) {
        if (child.tag === "attribute") {
          this.#misplacedAttribute(child, "a <config>");
          continue;
        }
        this.#node(child, model.nodes);
      }
    }
    return model;
  }

  // -------------------------------------------------------------------------------------------

  #node(element: Element, nodes: Record<string, NodeModel>): void {
    this.#attributes(element, ["typeId", "name", "implements"]);
    const name = this.#name(element, "typeId", "node");
    const declared = element.attributes.implements;
    const objects: Record<string, ObjectModel> = {};
    const node: NodeModel = {
      implements: declared === undefined
        ? [DEFAULT_INTERFACE]
        : declared.split(",").map((s) => s.trim()).filter((s) => s !== ""),
      objects,
    };
    const label = describe("node", element, "typeId");
    const seen = new Map<string, number>();
    for (const child of this.#children(element, ["object", "attribute"])) {
      if (child.tag === "attribute") this.#misplacedAttribute(child, label);
      else this.#object(child, objects, seen, label);
    }
    if (name === undefined) return;
    const first = this.#nodes.get(name.value);
    if (first !== undefined) {
      this.#problem(
        name.offset,
        `Duplicate node ${show(name.value)}: first defined at ${this.#at(first)}`,
      );
      return;
    }
    this.#nodes.set(name.value, name.offset);
    putOwn(nodes, name.value, node);
  }

  #object(
    element: Element,
    objects: Record<string, ObjectModel>,
    seen: Map<string, number>,
    parent: string,
  ): void {
    this.#attributes(element, ["id", "name", "conforms"]);
    const name = this.#name(element, "id", "object");
    const object: ObjectModel = {};
    if (element.attributes.conforms !== undefined) object.conforms = element.attributes.conforms;
    object.objects = {};
    object.attributes = {};
    const here = describe("object", element, "id");
    const seenObjects = new Map<string, number>();
    const seenAttributes = new Map<string, number>();
    for (const child of this.#children(element, ["object", "attribute"])) {
      if (child.tag === "object") this.#object(child, object.objects, seenObjects, here);
      else this.#attribute(child, object.attributes, seenAttributes, here);
    }
    if (name !== undefined && this.#unique(name, seen, "object", parent)) {
      putOwn(objects, name.value, object);
    }
  }

  #attribute(
    element: Element,
    attributes: Record<string, AttributeModel>,
    seen: Map<string, number>,
    parent: string,
  ): void {
    this.#attributes(element, ["id", "name", "template", "constraint", "value"]);
    const policies = this.#children(element, ["policy"]);
    const name = this.#name(element, "id", "attribute");
    const label = describe("attribute", element, "id");
    const type = this.#lookup(element, "template", TEMPLATES, label, [
      "bool, boolean (Boolean)",
      "short, int, integer, long (Integer)",
      "float, double, number (Number)",
      "str, string (String)",
    ]);
    const constraint = this.#lookup(element, "constraint", CONSTRAINTS, label, [
      "Static, Parameter, Status, SetPoint, Measure",
    ]);
    const attribute = { type, constraint } as AttributeModel;
    const raw = element.attributes.value;
    if (raw !== undefined && type !== undefined) {
      const value = coerceValue(type, raw);
      if (value === undefined) {
        this.#problem(
          this.#attributeOffset(element, "value"),
          `Invalid value ${show(raw)} of ${label}: expected ${EXPECTED_VALUES[type]}`,
        );
      } else {
        attribute.value = value;
      }
    }
    policies.slice(1).forEach((extra) =>
      this.#problem(extra.offset, `Unexpected second <policy> in ${label}`)
    );
    if (policies.length > 0) {
      const policy = this.#policy(policies[0], type, constraint);
      if (policy) attribute.policy = policy;
    }
    if (name !== undefined && this.#unique(name, seen, "attribute", parent)) {
      putOwn(attributes, name.value, attribute);
    }
  }

  #policy(
    element: Element,
    type: AttributeType | undefined,
    constraint: AttributeConstraint | undefined,
  ): PublishPolicy | undefined {
    this.#attributes(element, [...POLICY_KEYS]);
    this.#children(element, []);
    const policy: PublishPolicy = {};
    let readable = true;
    for (const key of POLICY_KEYS) {
      const raw = element.attributes[key];
      if (raw === undefined) continue;
      const text = raw.trim();
      let value: boolean | number | string | undefined;
      if (key === "onChange" || key === "latestOnlyWhileOffline") {
        value = coerceValue("Boolean", text) as boolean | undefined;
      } else if (key === "deadband" && /%$/.test(text)) {
        value = deadbandOf(text) === undefined ? undefined : text.replace(/\s+/g, "");
      } else {
        value = DECIMAL.test(text) ? Number(text) : undefined;
      }
      if (value === undefined) {
        readable = false;
        this.#problem(
          this.#attributeOffset(element, key),
          `Invalid ${key} ${show(raw)} of <policy>: expected ${POLICY_EXPECTED[key]}`,
        );
      } else {
        (policy as Record<string, unknown>)[key] = value;
      }
    }
    if (!readable) return undefined;
    const problems = policyProblems(type, constraint, policy);
    for (const problem of problems) {
      this.#problem(
        problem.key ? this.#attributeOffset(element, problem.key) : element.offset,
        problem.key ? `Invalid ${problem.key} of <policy>: ${problem.message}` : problem.message,
      );
    }
    return problems.length === 0 ? policy : undefined;
  }

  #misplacedAttribute(element: Element, parent: string): void {
    const what = describe("attribute", element, "id").replace(/^(an? )?attribute/, "<attribute>");
    this.#problem(
      element.offset,
      `Unexpected ${what} directly inside ${parent}: an attribute must live in an <object>`,
    );
  }

  // -------------------------------------------------------------------------------------------

  #name(
    element: Element,
    primary: "typeId" | "id",
    kind: "node" | "object" | "attribute",
  ): { value: string; offset: number } | undefined {
    const { [primary]: main, name } = element.attributes;
    if (main !== undefined && name !== undefined) {
      this.#problem(
        this.#attributeOffset(element, "name"),
        `Use either ${primary} or name on <${element.tag}>, not both`,
      );
      return undefined;
    }
    const value = main ?? name;
    if (value === undefined) {
      this.#problem(element.offset, `Missing ${primary} (or name) on <${element.tag}>`);
      return undefined;
    }
    const offset = this.#attributeOffset(element, main !== undefined ? primary : "name");
    try {
      assertName(kind, value);
    } catch (error) {
      this.#problem(offset, (error as Error).message);
      return undefined;
    }
    return { value, offset };
  }

  #unique(
    name: { value: string; offset: number },
    seen: Map<string, number>,
    kind: string,
    parent: string,
  ): boolean {
    const first = seen.get(name.value);
    if (first !== undefined) {
      this.#problem(
        name.offset,
        `Duplicate ${kind} ${show(name.value)} in ${parent}: first defined at ${this.#at(first)}`,
      );
      return false;
    }
    seen.set(name.value, name.offset);
    return true;
  }

  #lookup<T extends string>(
    element: Element,
    key: "template" | "constraint",
    table: Readonly<Record<string, T>>,
    label: string,
    expected: string[],
  ): T | undefined {
    const raw = element.attributes[key];
    if (raw === undefined) {
      this.#problem(element.offset, `Missing ${key} on ${label}`);
      return undefined;
    }
    const found = Object.hasOwn(table, raw.trim().toLowerCase())
      ? table[raw.trim().toLowerCase()]
      : undefined;
    if (found === undefined) {
      this.#problem(
        this.#attributeOffset(element, key),
        `Unknown ${key} ${show(raw)} of ${label}: expected ${expected.join("; ")} in any case`,
      );
    }
    return found;
  }

  /** Reports XML attributes that are not allowed; `xmlns` and `xmlns:*` are always allowed. */
  #attributes(element: Element, allowed: string[]): void {
    for (const key of Object.keys(element.attributes)) {
      if (allowed.includes(key) || key === "xmlns" || key.startsWith("xmlns:")) continue;
      this.#problem(
        this.#attributeOffset(element, key),
        `Unknown XML attribute ${show(key)} on <${element.tag}>: ${
          allowed.length === 0 ? "it takes none" : `expected ${allowed.join(", ")}`
        }`,
      );
    }
  }

  /** Returns the child elements of the allowed kinds, reporting the others and any text. */
  #children(element: Element, allowed: string[]): Element[] {
    if (element.text !== "") {
      this.#problem(
        element.offset,
        `Unexpected text ${show(element.text.trim())} inside <${element.tag}>`,
      );
    }
    return element.children.filter((child) => {
      if (allowed.includes(child.tag)) return true;
      this.#problem(
        child.offset,
        `Unknown element <${child.tag}> inside <${element.tag}>: ${
          allowed.length === 0
            ? "it takes none"
            : `expected ${allowed.map((a) => `<${a}>`).join(" or ")}`
        }`,
      );
      return false;
    });
  }

  // -------------------------------------------------------------------------------------------

  #parse(): Element[] | undefined {
    const { XMLParser, XMLValidator } = this.#xml;
    const verdict = XMLValidator.validate(this.#text);
    if (verdict !== true) {
      const { line, col = 1, msg } = verdict.err;
      this.#problems.push({
        offset: 0,
        problem: {
          location: textLocation(this.#source, line, col),
          message: msg,
        },
      });
      return undefined;
    }
    let parsed: unknown;
    try {
      parsed = new XMLParser({
        preserveOrder: true,
        ignoreAttributes: false,
        attributeNamePrefix: "@_",
        captureMetaData: true,
        parseAttributeValue: false,
        parseTagValue: false,
        trimValues: false,
        htmlEntities: true,
      }).parse(this.#text);
    } catch (error) {
      this.cause = error;
      this.#problems.push({
        offset: 0,
        problem: {
          location: this.#source ?? "xml",
          message: `Cannot read the XML: ${(error as Error).message}`,
        },
      });
      return undefined;
    }
    return toElements(parsed, XMLParser.getMetaDataSymbol() as unknown as string).children;
  }

  #attributeOffset(element: Element, name: string): number {
    let offsets = this.#attributeOffsets.get(element);
    if (offsets === undefined) {
      offsets = new Map();
      const text = this.#text;
      // The start tag ends at the first ">" outside quotes.
      let end = element.offset;
      for (let quote = ""; end < text.length; end++) {
        const c = text[end];
        if (quote) {
          if (c === quote) quote = "";
        } else if (c === '"' || c === "'") {
          quote = c;
        } else if (c === ">") {
          break;
        }
      }
      const tag = text.slice(element.offset, end);
      const pattern = /([^\s=/>"'<]+)\s*=\s*(?:"[^"]*"|'[^']*')/g;
      pattern.lastIndex = 1 + element.tag.length;
      for (let match; (match = pattern.exec(tag)) !== null;) {
        if (!offsets.has(match[1])) offsets.set(match[1], element.offset + match.index);
      }
      this.#attributeOffsets.set(element, offsets);
    }
    return offsets.get(name) ?? element.offset;
  }

  #at(offset: number): string {
    const { line, column } = lineColumn(this.#text, offset);
    return `${line}:${column}`;
  }

  #problem(offset: number, message: string): void {
    const { line, column } = lineColumn(this.#text, offset);
    this.#problems.push({
      offset,
      problem: {
        location: textLocation(this.#source, line, column),
        message,
      },
    });
  }
}

/** Names an element for messages by its raw name: `object "Status"`, or `an object`. */
function describe(kind: string, element: Element, primary: "typeId" | "id"): string {
  const name = element.attributes[primary] ?? element.attributes.name;
  return name === undefined
    ? `${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind}`
    : `${kind} ${show(name)}`;
}

/**
 * Turns fast-xml-parser's ordered output into elements (comments and `<?…?>` are dropped);
 * `metaKey` is the key its `captureMetaData` puts positions under.
 */
function toElements(items: unknown, metaKey: string): Element {
  const root: Element = { tag: "", attributes: {}, children: [], text: "", offset: 0 };
  const fill = (parent: Element, list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const item of list as Record<string, unknown>[]) {
      const tag = Object.keys(item).find((key) => key !== ":@");
      if (tag === undefined || tag.startsWith("?")) continue;
      if (tag === "#text") {
        const text = String(item[tag]);
        if (text.trim() !== "") parent.text += text;
        continue;
      }
      const attributes: Record<string, string> = {};
      const raw = (item[":@"] ?? {}) as Record<string, unknown>;
      for (const [key, value] of Object.entries(raw)) {
        putOwn(attributes, key.startsWith("@_") ? key.slice(2) : key, String(value));
      }
      const meta = item[metaKey] as { startIndex?: number } | undefined;
      const element: Element = {
        tag,
        attributes,
        children: [],
        text: "",
        offset: meta?.startIndex ?? 0,
      };
      parent.children.push(element);
      fill(element, item[tag]);
    }
  };
  fill(root, items);
  return root;
}
