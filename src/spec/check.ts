// `tsrun check [--bundle B] [--format json]`: validates a bundle without running it and
// checks the host can honour it. Every problem at once; exit code 0 (no errors, warnings
// allowed) or 1.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { checkHostWith, readHostFacts, type HostFacts } from "./host-check.js";
import { jsonWarnings, parseJsonText } from "./json.js";
import { validateConfig } from "./load.js";
import { formatProblem, SpecError, type Problem } from "./problems.js";
import type { ValidateOptions } from "./semantic.js";

export type CheckFormat = "text" | "json";

export interface CheckOptions extends ValidateOptions {
  /** Host facts (tests); read from this host when omitted. */
  facts?: HostFacts;
  /** Skip the host checks (validate the bundle only). */
  noHost?: boolean;
}

export interface CheckResult {
  exitCode: number;
  output: string;
  problems: Problem[];
}

/** All problems of a bundle: reading, JSON, schema, semantic and host. */
export function checkBundle(bundleDir: string, opts: CheckOptions = {}): Problem[] {
  const bundle = resolve(bundleDir);
  const configPath = join(bundle, "config.json");
  let text: string;
  try {
    text = readFileSync(configPath, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such file: is --bundle right?" : code === "EISDIR" ? "is a directory, not a file" : (e as Error).message;
    return [{ file: configPath, pointer: "", message: `cannot read the bundle's config.json: ${reason}`, severity: "error" }];
  }
  let doc: unknown;
  try {
    doc = parseJsonText(text, configPath);
  } catch (e) {
    if (e instanceof SpecError) return e.problems;
    throw e;
  }
  const problems = [...validateConfig(doc, configPath, opts), ...jsonWarnings(text, configPath)];
  if (!opts.noHost) problems.push(...checkHostWith(doc, opts.facts ?? readHostFacts(), bundle, configPath));
  return [...problems.filter((p) => p.severity === "error"), ...problems.filter((p) => p.severity === "warning")];
}

/** One problem a line: `file: pointer: message` (warnings say so). */
export function formatCheckLine(p: Problem): string {
  return p.severity === "warning" ? formatProblem({ ...p, message: `warning: ${p.message}` }) : formatProblem(p);
}

export function runCheck(bundleDir: string, format: CheckFormat, opts: CheckOptions = {}): CheckResult {
  const problems = checkBundle(bundleDir, opts);
  const ok = !problems.some((p) => p.severity === "error");
  const exitCode = ok ? 0 : 1;
  if (format === "json") {
    return { exitCode, problems, output: `${JSON.stringify({ ok, problems }, null, 2)}\n` };
  }
  const lines = problems.map(formatCheckLine);
  if (ok) lines.push(`${join(resolve(bundleDir), "config.json")}: ok${problems.length > 0 ? ` (${problems.length} warning${problems.length === 1 ? "" : "s"})` : ""}`);
  return { exitCode, problems, output: `${lines.join("\n")}\n` };
}
