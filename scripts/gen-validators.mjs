#!/usr/bin/env node
// Compiles tsrun's JSON Schemas (src/spec/schema/*.schema.json) into standalone validator
// code (ajv standalone, ESM) at src/spec/generated/validators.js, with a .d.ts next to it.
// Nothing is compiled when tsrun runs: the output is plain code with no import at all
// (the two ajv runtime helpers it can need are inlined below).
//
// The output also carries, for each root schema, a "shape" tree built from the schemas:
// for every place in a document (property names, `*` for array items and map values) the
// noun phrase used in error messages (`x-expect`), and the property names the spec
// defines there (used to warn about likely typos). `x-expect` is stripped before
// compiling, so it does not bloat the validators.
//
// Usage: node scripts/gen-validators.mjs [--out DIR]
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import standaloneModule from "ajv/dist/standalone/index.js";

const standaloneCode = standaloneModule.default ?? standaloneModule;
const AjvClass = Ajv.default ?? Ajv;

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const schemaDir = join(repo, "src/spec/schema");
const outIdx = process.argv.indexOf("--out");
const outDir = outIdx > 0 ? resolve(process.argv[outIdx + 1]) : join(repo, "src/spec/generated");

const BASE = "https://tsrun.dev/schema/";
const files = ["defs", "config", "process", "state"];
const schemas = Object.fromEntries(
  files.map((name) => {
    const text = readFileSync(join(schemaDir, `${name}.schema.json`), "utf8");
    return [name, JSON.parse(text)];
  }),
);
// The exported validators: name in the generated module -> root schema.
const roots = { validateConfigSchema: "config", validateProcessSchema: "process", validateStateSchema: "state" };

// ---- shape trees -------------------------------------------------------------------------

function resolveRef(ref, currentFile) {
  const [filePart, pointer = ""] = ref.split("#");
  const file = filePart ? filePart.replace(/\.json$/, "").replace(BASE, "") : currentFile;
  let node = schemas[file];
  if (!node) throw new Error(`unresolvable $ref ${ref}`);
  for (const seg of pointer.split("/").filter(Boolean)) {
    node = node[seg.replace(/~1/g, "/").replace(/~0/g, "~")];
    if (node === undefined) throw new Error(`unresolvable $ref ${ref}`);
  }
  return { schema: node, file };
}

/** Walks a schema, filling a shape node: {expect?, enum?, keys?, props?: {name: node}, any?: node}. */
function walk(schema, file, node, depth = 0) {
  if (depth > 50) throw new Error("schema nesting too deep (recursive $ref?)");
  if (typeof schema !== "object" || schema === null) return node;
  if (schema["x-expect"] !== undefined && node.expect === undefined) node.expect = schema["x-expect"];
  if (schema.$ref) {
    const target = resolveRef(schema.$ref, file);
    walk(target.schema, target.file, node, depth + 1);
  }
  if (Array.isArray(schema.enum) && node.enum === undefined) node.enum = schema.enum;
  if (schema.properties) {
    node.props ??= {};
    node.keys = [...new Set([...(node.keys ?? []), ...Object.keys(schema.properties)])];
    for (const [k, sub] of Object.entries(schema.properties)) walk(sub, file, (node.props[k] ??= {}), depth + 1);
  }
  if (schema.items && typeof schema.items === "object" && !Array.isArray(schema.items)) {
    walk(schema.items, file, (node.any ??= {}), depth + 1);
  }
  if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
    node.map = true;
    walk(schema.additionalProperties, file, (node.any ??= {}), depth + 1);
  }
  for (const kw of ["anyOf", "oneOf", "allOf"]) {
    if (Array.isArray(schema[kw])) for (const branch of schema[kw]) walk(branch, file, node, depth + 1);
  }
  return node;
}

// ---- compile -------------------------------------------------------------------------------

const stripAnnotations = (s) => JSON.parse(JSON.stringify(s, (k, v) => (k === "x-expect" ? undefined : v)));

const ajv = new AjvClass({
  allErrors: true,
  strict: true,
  allowUnionTypes: true,
  messages: false,
  inlineRefs: false,
  code: { source: true, esm: true, lines: false },
});
for (const name of files) ajv.addSchema(stripAnnotations(schemas[name]));

const exportMap = Object.fromEntries(Object.entries(roots).map(([fn, name]) => [fn, `${BASE}${name}.json`]));
let code = standaloneCode(ajv, exportMap);

// The standalone output still `require`s ajv's runtime helpers, even in ESM mode. Inline
// them (own implementations) so the generated module has no imports at all.
const HELPERS = {
  "ajv/dist/runtime/ucs2length": `function (str) {
  let length = 0;
  for (let i = 0; i < str.length; i++) {
    length++;
    const c = str.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) {
      const d = str.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return length;
}`,
  "ajv/dist/runtime/equal": `function deepEqual(a, b) {
  if (a === b) return true;
  if (a && b && typeof a === "object" && typeof b === "object") {
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    if (Array.isArray(a)) {
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
      return true;
    }
    const ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) if (!Object.prototype.hasOwnProperty.call(b, k) || !deepEqual(a[k], b[k])) return false;
    return true;
  }
  return a !== a && b !== b;
}`,
};
code = code.replace(/const (\w+) = require\("([^"]+)"\)\.default;/g, (_m, name, mod) => {
  const impl = HELPERS[mod];
  if (!impl) throw new Error(`generated code requires ${mod}, which gen-validators.mjs cannot inline`);
  return `const ${name} = ${impl};`;
});
if (/\brequire\(/.test(code)) throw new Error("generated code still contains require()");

const shapes = Object.fromEntries(Object.entries(roots).map(([fn, name]) => [fn, walk(schemas[name], name, {})]));
const hash = createHash("sha256")
  .update(files.map((n) => JSON.stringify(schemas[n])).join("\n"))
  .digest("hex")
  .slice(0, 16);

const header = `// GENERATED by scripts/gen-validators.mjs from src/spec/schema/*.schema.json. Do not edit.
// schema hash: ${hash}
`;
const shapesCode = `\nexport const SHAPES = ${JSON.stringify(shapes)};\nexport const SCHEMA_HASH = ${JSON.stringify(hash)};\n`;

const dts = `// GENERATED by scripts/gen-validators.mjs. Do not edit.
export interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  propertyName?: string;
}
export interface SchemaValidator {
  (data: unknown): boolean;
  errors?: SchemaError[] | null;
}
/** What the schemas say about one place in a document. */
export interface ShapeNode {
  /** Noun phrase for messages: "must be <expect>". */
  expect?: string;
  /** Allowed values, when the place is an enum. */
  enum?: unknown[];
  /** Property names the spec defines here (an object with known properties). */
  keys?: string[];
  /** Subtrees for known properties. */
  props?: Record<string, ShapeNode>;
  /** Subtree for array items or map values. */
  any?: ShapeNode;
  /** True when this place is a map (free-form keys). */
  map?: boolean;
}
${Object.keys(roots)
  .map((fn) => `export declare const ${fn}: SchemaValidator;`)
  .join("\n")}
export declare const SHAPES: Record<${Object.keys(roots)
  .map((fn) => JSON.stringify(fn))
  .join(" | ")}, ShapeNode>;
export declare const SCHEMA_HASH: string;
`;

mkdirSync(outDir, { recursive: true });
function writeAtomic(path, text) {
  const tmp = `${path}.tmp${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
writeAtomic(join(outDir, "validators.js"), header + code + shapesCode);
writeAtomic(join(outDir, "validators.d.ts"), dts);
process.stdout.write(`gen-validators: wrote ${join(outDir, "validators.js")} (${(header + code + shapesCode).length} bytes, schema ${hash})\n`);
