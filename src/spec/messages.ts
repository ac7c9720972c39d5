// Turns the generated validators' errors into problems a person can act on: each names the
// JSON pointer of the offending value and says in a plain sentence what it must be, using
// the schemas' `x-expect` phrases (collected into SHAPES by gen-validators.mjs).

import type { SchemaError, ShapeNode } from "./generated/validators.js";
import { escapePointer } from "./json.js";
import type { Problem } from "./problems.js";

/** Splits a JSON pointer into unescaped segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** The value at a JSON pointer, or undefined. */
export function valueAt(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const seg of pointerSegments(pointer)) {
    if (cur === null || typeof cur !== "object") return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** The shape node for a place in a document, following property names, then `*`. */
export function shapeAt(root: ShapeNode | undefined, segments: string[]): ShapeNode | undefined {
  let node = root;
  for (const seg of segments) {
    if (!node) return undefined;
    node = node.props && Object.prototype.hasOwnProperty.call(node.props, seg) ? node.props[seg] : node.any;
  }
  return node;
}

const TYPE_PHRASES: Record<string, string> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
  array: "an array",
  object: "a JSON object",
  null: "null",
};

/** A short description of a value, for "..., not <found>". */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return v.length === 0 ? "an empty array" : "an array";
  switch (typeof v) {
    case "string":
      return v.length > 60 ? `${JSON.stringify(v.slice(0, 57))}...` : JSON.stringify(v);
    case "number":
      if (!Number.isFinite(v)) return "a number too large to represent";
      return String(v);
    case "boolean":
      return String(v);
    case "object":
      return "an object";
    default:
      return typeof v;
  }
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return v.length === 0 ? "an empty array" : "an array";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `a string (${describeValue(v)})`;
  return describeValue(v);
}

function listValues(values: unknown[]): string {
  return values.map((v) => (typeof v === "string" ? (v === "" ? '"" (empty)' : v) : JSON.stringify(v))).join(", ");
}

interface Located {
  pointer: string;
  message: string;
  /** Lower is more specific and wins when one pointer has several messages. */
  rank: number;
}

/**
 * Translates validator errors. `doc` is the validated document, `shape` its shape tree,
 * `base` a pointer prefix (when a sub-document was validated on its own).
 */
export function translateSchemaErrors(
  errors: readonly SchemaError[],
  doc: unknown,
  shape: ShapeNode,
  file: string,
  base = "",
): Problem[] {
  const located: Located[] = [];
  for (const e of collapseCombinators(errors)) {
    const l = translateOne(e, doc, shape);
    if (l) located.push(l);
  }
  // One message per pointer: a wrong type says it all; otherwise keep distinct messages.
  const byPointer = new Map<string, Located[]>();
  for (const l of located) {
    const list = byPointer.get(l.pointer) ?? [];
    list.push(l);
    byPointer.set(l.pointer, list);
  }
  const problems: Problem[] = [];
  for (const [pointer, list] of byPointer) {
    const best = Math.min(...list.map((l) => l.rank));
    const seen = new Set<string>();
    for (const l of list) {
      if (l.rank !== best || seen.has(l.message)) continue;
      seen.add(l.message);
      problems.push({ file, pointer: base + pointer, message: l.message, severity: "error" });
    }
  }
  if (problems.length === 0 && errors.length > 0) {
    // Never lose a rejection, even for an error shape this file does not know.
    const e = errors[0];
    problems.push({ file, pointer: base + e.instancePath, message: `is not valid (${e.keyword} ${e.schemaPath})`, severity: "error" });
  }
  return problems;
}

/**
 * anyOf/oneOf failures come with every branch's errors. Keep one useful set: the branch
 * that got furthest into the value (its deepest error), or the combinator's own message.
 */
function collapseCombinators(errors: readonly SchemaError[]): SchemaError[] {
  let list = errors.filter((e) => e.keyword !== "if");
  for (let guard = 0; guard < 1000; guard++) {
    const combos = list.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf");
    if (combos.length === 0) return list;
    const c = combos.reduce((a, b) => (b.schemaPath.length < a.schemaPath.length ? b : a));
    const prefix = c.schemaPath.replace(/\/(anyOf|oneOf)$/, `/${c.keyword}/`);
    const inBranch = (e: SchemaError) =>
      e !== c && e.schemaPath.startsWith(prefix) && (e.instancePath === c.instancePath || e.instancePath.startsWith(c.instancePath + "/"));
    const branchErrors = list.filter(inBranch);
    const rest = list.filter((e) => e !== c && !inBranch(e));
    if (c.keyword === "oneOf" && branchErrors.length === 0) {
      // oneOf failed because several branches matched.
      list = [...rest, { ...c, keyword: "oneOf-ambiguous" }];
      continue;
    }
    const branches = new Map<string, SchemaError[]>();
    for (const e of branchErrors) {
      const idx = e.schemaPath.slice(prefix.length).split("/")[0];
      const l = branches.get(idx) ?? [];
      l.push(e);
      branches.set(idx, l);
    }
    let chosen: SchemaError[] = [];
    let bestScore = -1;
    for (const errs of branches.values()) {
      // Branches that only fail on the value's own type are the least informative.
      const depth = Math.max(...errs.map((e) => e.instancePath.length + (e.keyword === "type" && e.instancePath === c.instancePath ? -1 : 0)));
      const score = depth * 1000 - errs.length;
      if (score > bestScore) {
        bestScore = score;
        chosen = errs;
      }
    }
    const onlyTypeAtTop = chosen.every((e) => e.instancePath === c.instancePath && e.keyword === "type");
    list = onlyTypeAtTop || chosen.length === 0 ? [...rest, { ...c, keyword: "combinator" }] : [...rest, ...chosen];
  }
  return list;
}

function translateOne(e: SchemaError, doc: unknown, root: ShapeNode): Located | undefined {
  const segments = pointerSegments(e.instancePath);
  const node = shapeAt(root, segments);
  const value = valueAt(doc, e.instancePath);
  const expect = node?.expect;
  const p = e.params as Record<string, unknown>;
  const must = (fallback: string) => `must be ${expect ?? fallback}`;
  switch (e.keyword) {
    case "type": {
      const types = Array.isArray(p.type) ? (p.type as string[]) : String(p.type).split(",");
      const fallback = types.map((t) => TYPE_PHRASES[t] ?? t).join(" or ");
      return { pointer: e.instancePath, message: `${must(fallback)}, not ${typeName(value)}`, rank: 0 };
    }
    case "required": {
      const missing = String(p.missingProperty);
      const childPointer = `${e.instancePath}/${escapePointer(missing)}`;
      const child = shapeAt(root, [...segments, missing]);
      const message = child?.expect ? `is required and must be ${child.expect}` : "is required";
      return { pointer: childPointer, message, rank: 1 };
    }
    case "enum": {
      const allowed = (p.allowedValues as unknown[] | undefined) ?? node?.enum ?? [];
      const shown = typeof value === "string" ? JSON.stringify(value) : describeValue(value);
      return { pointer: e.instancePath, message: `${shown} is not one of ${listValues(allowed)}`, rank: 1 };
    }
    case "const":
      return { pointer: e.instancePath, message: `must be ${JSON.stringify(p.allowedValue)}`, rank: 1 };
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum": {
      const cmp = String(p.comparison ?? "");
      const fallback = `a number ${cmp} ${String(p.limit)}`;
      return { pointer: e.instancePath, message: `${must(fallback)}, not ${describeValue(value)}`, rank: 1 };
    }
    case "multipleOf":
      return { pointer: e.instancePath, message: `must be a multiple of ${String(p.multipleOf)}`, rank: 1 };
    case "minItems":
      return {
        pointer: e.instancePath,
        message: expect ? must("") : `must have at least ${String(p.limit)} item${p.limit === 1 ? "" : "s"}`,
        rank: 1,
      };
    case "maxItems":
      return { pointer: e.instancePath, message: `must have at most ${String(p.limit)} items`, rank: 1 };
    case "minLength":
      return {
        pointer: e.instancePath,
        message: expect ? `${must("")}, not an empty string` : `must be at least ${String(p.limit)} characters long`,
        rank: 1,
      };
    case "maxLength":
      return { pointer: e.instancePath, message: `must be at most ${String(p.limit)} characters long`, rank: 1 };
    case "pattern":
      return { pointer: e.instancePath, message: `${must(`a string matching ${String(p.pattern)}`)}, not ${describeValue(value)}`, rank: 1 };
    case "minProperties":
      return { pointer: e.instancePath, message: expect ? must("") : `must have at least ${String(p.limit)} properties`, rank: 1 };
    case "uniqueItems":
      return {
        pointer: e.instancePath,
        message: `must not contain duplicates (items ${String(p.j)} and ${String(p.i)} are the same)`,
        rank: 1,
      };
    case "additionalProperties":
      return {
        pointer: `${e.instancePath}/${escapePointer(String(p.additionalProperty))}`,
        message: "is not allowed here",
        rank: 1,
      };
    case "combinator":
      return { pointer: e.instancePath, message: `${must("one of the allowed forms")}, not ${typeName(value)}`, rank: 0 };
    case "oneOf-ambiguous":
      return { pointer: e.instancePath, message: "matches more than one of the allowed forms", rank: 1 };
    default:
      return { pointer: e.instancePath, message: expect ? must("") : `is not valid (${e.keyword})`, rank: 2 };
  }
}
