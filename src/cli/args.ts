// Shared helpers for command modules: runc's positional-argument rules.
import type { ArgumentsCamelCase } from "yargs";
import { UsageError } from "./usage.js";
import type { GlobalArgs } from "./globals.js";

export type Args = ArgumentsCamelCase<GlobalArgs & Record<string, unknown>>;

/** Positionals after the command name. */
export function positionals(argv: Args): string[] {
  return argv._.slice(1).map(String);
}

export function exactArgs(argv: Args, cmd: string, n: number): string[] {
  const pos = positionals(argv);
  if (pos.length !== n) throw new UsageError(`tsrun: ${JSON.stringify(cmd)} requires exactly ${n} argument(s)`);
  return pos;
}

export function minArgs(argv: Args, cmd: string, n: number): string[] {
  const pos = positionals(argv);
  if (pos.length < n) throw new UsageError(`tsrun: ${JSON.stringify(cmd)} requires a minimum of ${n} argument(s)`);
  return pos;
}

export function rangeArgs(argv: Args, cmd: string, min: number, max: number): string[] {
  const pos = minArgs(argv, cmd, min);
  if (pos.length > max) throw new UsageError(`tsrun: ${JSON.stringify(cmd)} requires a maximum of ${max} argument(s)`);
  return pos;
}

/** The last value of a flag that may have been repeated. */
export function last<T>(v: T | T[] | undefined): T | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

export function str(v: unknown): string | undefined {
  const x = last(v as string | string[] | undefined);
  return x === undefined ? undefined : String(x);
}

export function bool(v: unknown): boolean {
  const x = last(v as boolean | boolean[] | undefined);
  return x === true || (x as unknown) === "true";
}
