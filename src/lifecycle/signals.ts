// runc's signal argument rules: digits are a number; names are case-insensitive, SIG optional.
import { constants } from "node:os";
import { RuntimeError } from "./errors.js";

const SIGNALS = constants.signals as Record<string, number>;

export function parseSignal(arg: string): number {
  if (/^[0-9]+$/.test(arg)) return Number(arg);
  let name = arg.toUpperCase();
  if (!name.startsWith("SIG")) name = "SIG" + name;
  const n = SIGNALS[name];
  if (n === undefined) throw new RuntimeError(`unknown signal ${JSON.stringify(arg)}`);
  return n;
}
