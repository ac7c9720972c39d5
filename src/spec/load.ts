// Loads and validates a bundle's config.json, an `exec --process` process.json, or a state
// document. Validation is the generated schema validators (scripts/gen-validators.mjs, no
// schema is compiled at run time), then the semantic checks; every problem is reported at
// once, each with its file, JSON pointer and a plain sentence.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SHAPES, validateConfigSchema, validateProcessSchema, validateStateSchema } from "./generated/validators.js";
import { parseJsonText } from "./json.js";
import { translateSchemaErrors } from "./messages.js";
import { SpecError, type Problem } from "./problems.js";
import { checkConfig, checkOciVersion, checkProcess, Collector, unknownPropertyWarnings, type ValidateOptions } from "./semantic.js";
import type { ContainerState, Process, Spec } from "./types.js";

export type { ValidateOptions } from "./semantic.js";

export interface LoadedConfig {
  spec: Spec;
  warnings: Problem[];
  configPath: string;
  bundle: string;
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason =
      err.code === "ENOENT"
        ? `no such file: is the ${what} path right?`
        : err.code === "EISDIR"
          ? "is a directory, not a file"
          : err.code === "EACCES"
            ? "permission denied"
            : err.message;
    throw new SpecError([{ file: path, pointer: "", message: `cannot read ${what}: ${reason}`, severity: "error" }]);
  }
}

/** Reads, parses and validates `<bundleDir>/config.json`. Throws SpecError listing every error. */
export function loadBundleConfig(bundleDir: string, opts: ValidateOptions = {}): LoadedConfig {
  const bundle = resolve(bundleDir);
  const configPath = join(bundle, "config.json");
  const text = readText(configPath, "bundle's config.json");
  const doc = parseJson(text, configPath);
  const problems = validateConfig(doc, configPath, opts);
  if (problems.some((p) => p.severity === "error")) throw new SpecError(problems);
  return { spec: doc as Spec, warnings: problems, configPath, bundle };
}

/** JSON.parse with errors that give line, column and the JSON pointer where parsing stopped. */
export function parseJson(text: string, file: string): unknown {
  return parseJsonText(text, file);
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  const out: Problem[] = [];
  for (const p of problems) {
    const key = `${p.severity}\u0000${p.pointer}\u0000${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(p);
  }
  // Errors first, then warnings; each in the order found.
  return [...out.filter((p) => p.severity === "error"), ...out.filter((p) => p.severity === "warning")];
}

/** Every problem in a config.json document: schema errors, then semantic errors, then warnings. */
export function validateConfig(doc: unknown, file: string, opts: ValidateOptions = {}): Problem[] {
  const problems: Problem[] = [];
  if (!validateConfigSchema(doc)) {
    problems.push(...translateSchemaErrors(validateConfigSchema.errors ?? [], doc, SHAPES.validateConfigSchema, file));
  }
  const c = new Collector(file);
  checkConfig(c, doc, SHAPES.validateConfigSchema, opts);
  problems.push(...c.problems);
  return dedupe(problems);
}

/**
 * Every problem in a process object (`exec --process`, or config.json's process).
 * `basePointer` prefixes every pointer ("" for a process.json file, "/process" inside a
 * config). When `container` (the container's config) is given, the process is also checked
 * against it (uid/gid mapped in its user namespace).
 */
export function validateProcess(process: unknown, file: string, basePointer = "", container?: unknown): Problem[] {
  const problems: Problem[] = [];
  if (!validateProcessSchema(process)) {
    problems.push(...translateSchemaErrors(validateProcessSchema.errors ?? [], process, SHAPES.validateProcessSchema, file, basePointer));
  }
  const c = new Collector(file);
  const spec = container as Spec | undefined;
  const userNs = spec?.linux?.namespaces?.find?.((n) => n?.type === "user");
  const ctx = userNs && !userNs.path ? { uidMappings: spec?.linux?.uidMappings, gidMappings: spec?.linux?.gidMappings } : {};
  checkProcess(c, process, basePointer, ctx);
  unknownPropertyWarnings(c, process, SHAPES.validateProcessSchema, basePointer, false);
  problems.push(...c.problems);
  return dedupe(problems);
}

/** Reads and validates the process.json of `exec --process`. Throws SpecError listing every error. */
export function loadProcessFile(path: string, container?: Spec): { process: Process; warnings: Problem[] } {
  const file = resolve(path);
  const doc = parseJson(readText(file, "process file"), file);
  const problems = validateProcess(doc, file, "", container);
  if (problems.some((p) => p.severity === "error")) throw new SpecError(problems);
  return { process: doc as Process, warnings: problems };
}

/** Every problem in a container state document (what `state` prints). */
export function validateState(doc: unknown, file: string): Problem[] {
  const problems: Problem[] = [];
  if (!validateStateSchema(doc)) {
    problems.push(...translateSchemaErrors(validateStateSchema.errors ?? [], doc, SHAPES.validateStateSchema, file));
  }
  const c = new Collector(file);
  if (typeof doc === "object" && doc !== null) checkOciVersion(c, (doc as ContainerState).ociVersion);
  problems.push(...c.problems);
  return dedupe(problems);
}
