/**
 * Checks that plain model data (an {@linkcode EndpointModel}, as the connectors produce it and
 * `@online` carries it) is one the cloud will accept: shapes, names, exact type and constraint
 * spellings, values that match their type, and timestamps. Every problem is reported, each with a
 * JSON-path-like location such as `$.nodes.Pump.objects.Status.attributes.flow.type`; names that
 * are not identifiers use brackets: `$.nodes["my node"]`.
 *
 * Timestamps in the model are milliseconds since the epoch (see `types.ts`).
 *
 * This module is browser compatible.
 *
 * @module
 */

import { isPlainObject } from "../_record.ts";
import { timeProblem } from "../time.ts";
import { ModelError, type ModelProblem } from "../errors.ts";
import { childLocation, show } from "./_location.ts";
import { assertName } from "./names.ts";
import {
  ATTRIBUTE_CONSTRAINTS,
  ATTRIBUTE_TYPES,
  type AttributeConstraint,
  type AttributeType,
  type EndpointModel,
} from "./types.ts";

const MODEL_KEYS = ["nodes"] as const;
const NODE_KEYS = ["implements", "objects"] as const;
const OBJECT_KEYS = ["conforms", "objects", "attributes"] as const;
const ATTRIBUTE_KEYS = ["type", "constraint", "value", "timestamp", "policy"] as const;
/** The keys of a `PublishPolicy`. */
export const POLICY_KEYS = [
  "onChange",
  "deadband",
  "minInterval",
  "maxInterval",
  "latestOnlyWhileOffline",
] as const;
/** The longest interval a timer can wait (2³¹ − 1 ms, about 24.8 days). */
const MAX_INTERVAL = 2 ** 31 - 1;

/**
 * Lists every problem of an endpoint model, or nothing when the model is valid.
 *
 * The model must be a plain object with exactly one key, `nodes`, whose entries are nodes (see
 * {@linkcode nodeProblems}). Node names follow the name rules of `names.ts`, and `nodes` itself is
 * refused as a node name (the cloud takes it for a v0.1 topic).
 *
 * @param model The candidate model, as plain data.
 * @param location Where the model sits, the root of every reported location; `"$"` by default.
 * @returns Every problem found, in document order; empty when the model is valid.
 *
 * @example Finding a misspelt constraint
 * ```ts
 * import { modelProblems } from "./validate.ts";
 * import assert from "node:assert/strict";
 *
 * const problems = modelProblems({
 *   nodes: {
 *     Pump: {
 *       objects: {
 *         Status: { attributes: { flow: { type: "Number", constraint: "Setpoint", value: 1.5 } } },
 *       },
 *     },
 *   },
 * });
 * assert.deepEqual(problems.map((p) => p.location), [
 *   "$.nodes.Pump.objects.Status.attributes.flow.constraint",
 * ]);
 * assert.match(problems[0].message, /did you mean "SetPoint"/);
 * ```
 */
export function modelProblems(model: unknown, location = "$"): ModelProblem[] {
  const problems: ModelProblem[] = [];
  if (!expectObject(model, location, problems)) return problems;
  for (const [key, value] of Object.entries(model)) {
    const at = childLocation(location, key);
    if (key !== "nodes") {
      problems.push({ location: at, message: unknownKeyMessage(key, MODEL_KEYS) });
    } else if (value !== undefined && expectObject(value, at, problems)) {
      for (const [name, node] of Object.entries(value)) {
        const nodeAt = childLocation(at, name);
        nameCheck("node", name, nodeAt, problems);
        problems.push(...nodeProblems(node, nodeAt));
      }
    }
  }
  if (model.nodes === undefined) {
    problems.push({
      location: childLocation(location, "nodes"),
      message: 'Missing required key "nodes"',
    });
  }
  return problems;
}

/**
 * Lists every problem of one node, or nothing when the node is valid.
 *
 * A node is a plain object with the optional keys `implements` (an array of strings) and
 * `objects` (a map of object name to object). An object has the optional keys `conforms` (a
 * string), `objects` and `attributes` (a map of attribute name to attribute). An attribute has
 * `type` and `constraint` (exact spellings), and optionally a `value` of its type and a
 * `timestamp` (milliseconds after the epoch, not after 2262-04-11). Any other key is a problem; in particular a
 * node cannot have attributes, as an attribute always lives in an object. The node's own name is
 * not checked here, as it is not part of the node.
 *
 * @param node The candidate node, as plain data.
 * @param location Where the node sits, the root of every reported location.
 * @returns Every problem found, in document order; empty when the node is valid.
 *
 * @example An attribute placed directly under a node
 * ```ts
 * import { nodeProblems } from "./validate.ts";
 * import assert from "node:assert/strict";
 *
 * const problems = nodeProblems(
 *   { implements: ["Pump"], attributes: { flow: { type: "Number", constraint: "Measure" } } },
 *   "$.nodes.Pump",
 * );
 * assert.equal(problems.length, 1);
 * assert.equal(problems[0].location, "$.nodes.Pump.attributes");
 * assert.match(problems[0].message, /must live in an object/);
 * ```
 */
export function nodeProblems(node: unknown, location: string): ModelProblem[] {
  const problems: ModelProblem[] = [];
  if (!expectObject(node, location, problems)) return problems;
  for (const [key, value] of Object.entries(node)) {
    const at = childLocation(location, key);
    if (key === "implements") {
      implementsProblems(value, at, problems);
    } else if (key === "objects") {
      objectsProblems(value, at, [node], problems);
    } else {
      problems.push({
        location: at,
        message: key === "attributes"
          ? 'Unknown key "attributes": a node has objects only, an attribute must live in an object'
          : unknownKeyMessage(key, NODE_KEYS),
      });
    }
  }
  return problems;
}

/**
 * Tells why a value does not fit an attribute type, or returns `undefined` when it does.
 *
 * `Boolean` takes a boolean, `Integer` a safe integer (`Number.isSafeInteger`), `Number` any
 * finite number and `String` a string.
 *
 * @param type The attribute type.
 * @param value The candidate value.
 * @returns The reason the value does not fit, or `undefined`.
 *
 * @example
 * ```ts
 * import { valueProblem } from "./validate.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(valueProblem("Integer", 42), undefined);
 * assert.equal(valueProblem("Number", 42), undefined);
 * assert.match(valueProblem("Integer", 4.2)!, /safe integer/);
 * assert.match(valueProblem("Number", Infinity)!, /finite number/);
 * assert.match(valueProblem("Boolean", "true")!, /boolean/);
 * ```
 */
export function valueProblem(type: AttributeType, value: unknown): string | undefined {
  switch (type) {
    case "Boolean":
      return typeof value === "boolean" ? undefined : expected("a boolean", type, value);
    case "Integer":
      return Number.isSafeInteger(value) ? undefined : expected("a safe integer", type, value);
    case "Number":
      return typeof value === "number" && Number.isFinite(value)
        ? undefined
        : expected("a finite number", type, value);
    case "String":
      return typeof value === "string" ? undefined : expected("a string", type, value);
    default:
      return `Cannot check a value against unknown type ${show(type)}`;
  }
}

/**
 * Throws when an endpoint model is invalid, listing every problem (see
 * {@linkcode modelProblems}); narrows the model's type otherwise.
 *
 * @param model The candidate model, as plain data.
 * @param source The file the model came from, for the error message.
 * @throws {ModelError} When the model has at least one problem; `problems` lists them all.
 *
 * @example
 * ```ts
 * import { assertModel } from "./validate.ts";
 * import { ModelError } from "../errors.ts";
 * import assert from "node:assert/strict";
 *
 * const good: unknown = { nodes: { Pump: { implements: [], objects: {} } } };
 * assertModel(good);
 * assert.deepEqual(Object.keys(good.nodes), ["Pump"]);
 *
 * assert.throws(
 *   () => assertModel({ nodes: { "a.b": {}, nodes: {} } }, "pump.json"),
 *   (error) => error instanceof ModelError && error.problems.length === 2,
 * );
 * ```
 */
export function assertModel(model: unknown, source?: string): asserts model is EndpointModel {
  const problems = modelProblems(model);
  if (problems.length > 0) throw new ModelError(problems, { source });
}

function objectsProblems(
  objects: unknown,
  location: string,
  ancestors: object[],
  problems: ModelProblem[],
): void {
  if (objects === undefined || !expectObject(objects, location, problems)) return;
  for (const [name, object] of Object.entries(objects)) {
    const at = childLocation(location, name);
    nameCheck("object", name, at, problems);
    objectProblems(object, at, ancestors, problems);
  }
}

function implementsProblems(value: unknown, location: string, problems: ModelProblem[]): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    problems.push({
      location,
      message: `Expected an array of strings: current value is ${show(value)}`,
    });
    return;
  }
  value.forEach((name, index) => {
    if (typeof name !== "string") {
      problems.push({
        location: childLocation(location, index),
        message: `Expected a string: current value is ${show(name)}`,
      });
    }
  });
}

function objectProblems(
  object: unknown,
  location: string,
  ancestors: object[],
  problems: ModelProblem[],
): void {
  if (!expectObject(object, location, problems)) return;
  if (ancestors.includes(object)) {
    problems.push({ location, message: "The object contains itself" });
    return;
  }
  const inner = [...ancestors, object];
  for (const [key, value] of Object.entries(object)) {
    const at = childLocation(location, key);
    if (key === "conforms") {
      if (value !== undefined && typeof value !== "string") {
        problems.push({
          location: at,
          message: `Expected a string: current value is ${show(value)}`,
        });
      }
    } else if (key === "objects") {
      objectsProblems(value, at, inner, problems);
    } else if (key === "attributes") {
      if (value === undefined || !expectObject(value, at, problems)) continue;
      for (const [name, attribute] of Object.entries(value)) {
        const attributeAt = childLocation(at, name);
        nameCheck("attribute", name, attributeAt, problems);
        attributeProblems(attribute, attributeAt, problems);
      }
    } else {
      problems.push({ location: at, message: unknownKeyMessage(key, OBJECT_KEYS) });
    }
  }
}

function attributeProblems(attribute: unknown, location: string, problems: ModelProblem[]): void {
  if (!expectObject(attribute, location, problems)) return;
  const type = (ATTRIBUTE_TYPES as readonly unknown[]).includes(attribute.type)
    ? attribute.type as AttributeType
    : undefined;
  for (const [key, value] of Object.entries(attribute)) {
    const at = childLocation(location, key);
    if (value === undefined) continue;
    switch (key) {
      case "type":
        enumProblem("type", value, ATTRIBUTE_TYPES, at, problems);
        break;
      case "constraint":
        enumProblem("constraint", value, ATTRIBUTE_CONSTRAINTS, at, problems);
        break;
      case "value": {
        const problem = type === undefined ? undefined : valueProblem(type, value);
        if (problem) problems.push({ location: at, message: problem });
        break;
      }
      case "policy":
        for (const problem of policyProblems(type, attribute.constraint, value)) {
          problems.push({
            location: problem.key ? childLocation(at, problem.key) : at,
            message: problem.message,
          });
        }
        break;
      case "timestamp":
        if (timeProblem(value) !== undefined) {
          problems.push({
            location: at,
            message: `Expected a timestamp, milliseconds after the epoch and not after ` +
              `2262-04-11: current value is ${show(value)}`,
          });
        }
        break;
      default:
        problems.push({ location: at, message: unknownKeyMessage(key, ATTRIBUTE_KEYS) });
    }
  }
  for (const key of ["type", "constraint"] as const) {
    if (attribute[key] === undefined) {
      problems.push({
        location: childLocation(location, key),
        message: `Missing required key "${key}"`,
      });
    }
  }
}

/**
 * Lists the problems of a publish policy: unknown keys, values of the wrong kind, a deadband on an
 * attribute that is not a number, a policy on an attribute the device does not write.
 *
 * @param type The attribute's type, when known.
 * @param constraint The attribute's constraint.
 * @param policy The candidate policy.
 * @returns Each problem with the key it is about (`""` for the policy as a whole).
 *
 * @example
 * ```ts
 * import { policyProblems } from "./validate.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(policyProblems("Number", "Measure", { deadband: "2%", minInterval: 1000 }), []);
 * assert.deepEqual(
 *   policyProblems("String", "SetPoint", { deadband: 1 }).map((p) => p.key),
 *   ["", "deadband"],
 * );
 * ```
 */
export function policyProblems(
  type: AttributeType | undefined,
  constraint: unknown,
  policy: unknown,
): { key: string; message: string }[] {
  const problems: { key: string; message: string }[] = [];
  if (!isPlainObject(policy)) {
    return [{ key: "", message: `Expected an object: current value is ${show(policy)}` }];
  }
  if (
    (ATTRIBUTE_CONSTRAINTS as readonly unknown[]).includes(constraint) &&
    constraint !== "Status" && constraint !== "Measure"
  ) {
    problems.push({
      key: "",
      message: `A publish policy applies to Status and Measure attributes, which the device ` +
        `writes: this one is ${constraint as AttributeConstraint}`,
    });
  }
  for (const [key, value] of Object.entries(policy)) {
    if (value === undefined) continue;
    switch (key) {
      case "onChange":
      case "latestOnlyWhileOffline":
        if (typeof value !== "boolean") {
          problems.push({ key, message: `Expected a boolean: current value is ${show(value)}` });
        }
        break;
      case "deadband":
        if (type !== undefined && type !== "Integer" && type !== "Number") {
          problems.push({
            key,
            message: `A deadband applies to Integer and Number attributes: this one is ${type}`,
          });
        } else if (deadbandOf(value) === undefined) {
          problems.push({
            key,
            message: `Expected an amount ≥ 0 or a percentage such as "2%": current value is ${
              show(value)
            }`,
          });
        }
        break;
      case "minInterval":
      case "maxInterval":
        if (typeof value !== "number" || !(value > 0 && value <= MAX_INTERVAL)) {
          problems.push({
            key,
            message: `Expected milliseconds, more than 0 and at most ${MAX_INTERVAL}: current ` +
              `value is ${show(value)}`,
          });
        }
        break;
      default:
        problems.push({ key, message: unknownKeyMessage(key, POLICY_KEYS) });
    }
  }
  const { minInterval, maxInterval } = policy;
  if (
    typeof minInterval === "number" && typeof maxInterval === "number" &&
    maxInterval < minInterval
  ) {
    problems.push({
      key: "maxInterval",
      message: `Expected at least minInterval (${minInterval}): current value is ${maxInterval}`,
    });
  }
  return problems;
}

/**
 * Reads a deadband: an amount, or a percentage of the last value sent.
 *
 * @param value `0.5` or `"2%"`.
 * @returns `{ amount }` or `{ share }` (a fraction: `"2%"` is 0.02), or `undefined` when it is
 * neither a finite amount ≥ 0 nor such a percentage.
 *
 * @example
 * ```ts
 * import { deadbandOf } from "./validate.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(deadbandOf(0.5), { amount: 0.5 });
 * assert.deepEqual(deadbandOf("2.5%"), { share: 0.025 });
 * assert.equal(deadbandOf("-1%"), undefined);
 * ```
 */
export function deadbandOf(value: unknown): { amount: number } | { share: number } | undefined {
  if (typeof value === "number") {
    return Number.isFinite(value) && value >= 0 ? { amount: value } : undefined;
  }
  const match = typeof value === "string" ? /^\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*$/.exec(value) : null;
  return match ? { share: Number(match[1]) / 100 } : undefined;
}

function enumProblem(
  key: "type" | "constraint",
  value: unknown,
  allowed: readonly string[],
  location: string,
  problems: ModelProblem[],
): void {
  if (allowed.includes(value as string)) return;
  const list = allowed.map((a) => `"${a}"`).join(", ");
  const near = typeof value === "string"
    ? allowed.find((a) => a.toLowerCase() === value.toLowerCase())
    : undefined;
  problems.push({
    location,
    message: `Unknown ${key} ${show(value)}: expected one of ${list}${
      near ? ` (did you mean "${near}"?)` : ""
    }`,
  });
}

function nameCheck(
  kind: "node" | "object" | "attribute",
  name: string,
  location: string,
  problems: ModelProblem[],
): void {
  try {
    assertName(kind, name);
  } catch (error) {
    problems.push({ location, message: (error as Error).message });
  }
}

function expectObject(
  value: unknown,
  location: string,
  problems: ModelProblem[],
): value is Record<string, unknown> {
  if (isPlainObject(value)) return true;
  problems.push({ location, message: `Expected an object: current value is ${show(value)}` });
  return false;
}

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  return `Unknown key ${show(key)}: expected ${allowed.map((a) => `"${a}"`).join(", ")}`;
}

function expected(what: string, type: AttributeType, value: unknown): string {
  return `Expected ${what} for type "${type}": current value is ${show(value)}`;
}
