// tsrun's command line: runc's flags, argument forms and output, on yargs.
import { commands } from "./commands.js";
import { parseFast, wantsVersion } from "./fast.js";
import { GLOBAL_FLAGS, takesValue } from "./flags.js";
import { UsageError } from "./usage.js";
import { logError } from "./log.js";
import type { GlobalArgs } from "./globals.js";
import { RuntimeError } from "../lifecycle/errors.js";
import { SpecError } from "../spec/problems.js";
import { VERSION_TEXT } from "./version.js";
import { splitTrailing } from "./trailing.js";
import { defaultRoot } from "./root.js";
import { helpWidth, wrapHelp } from "./wrap.js";
import { printOut } from "./output.js";

export async function main(args: string[]): Promise<number> {
  if (args.length === 0) args = ["--help"];
  if (wantsVersion(args)) {
    printOut(VERSION_TEXT);
    return 0;
  }
  let exitCode = 0;
  args = splitTrailing(joinStdinValues(specFlags(args)));
  try {
    // runc's hot commands skip yargs (about 27 ms of start-up); help and everything else use it
    const fast = parseFast(args, defaultRoot().root);
    if (fast) {
      const command = commands.find((c) => c.command === fast.command)!;
      await command.handler(fast.argv as never);
      return process.exitCode === undefined ? 0 : Number(process.exitCode);
    }
    const name = firstCommand(args);
    if (name !== undefined && !commands.some((c) => c.command === name))
      throw new UsageError(`tsrun: ${JSON.stringify(name)} is not a tsrun command (see --help)`);
    const { buildParser } = await import("./parser.js");
    await buildParser(args, defaultRoot().root)
      .fail((msg, err) => {
        if (err) throw err;
        throw new UsageError(msg);
      })
      .parseAsync(args, {}, (_err, _argv, output) => {
        if (output) printOut(wrapHelp(output, helpWidth()) + "\n");
      });
    exitCode = process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    exitCode = reportError(e);
  }
  return exitCode;
}


/** The first positional argument (the command), skipping global flags and their values. */
function firstCommand(args: string[]): string | undefined {
  const i = commandIndex(args);
  return i < 0 ? undefined : args[i];
}

function commandIndex(args: string[]): number {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("-")) return i;
    const name = a.replace(/^--?/, "");
    if (takesValue(GLOBAL_FLAGS, name)) i++;
  }
  return -1;
}

/**
 * `spec --rootless` is a boolean of its own, unrelated to the global `--rootless true|false|auto`;
 * yargs would merge the two, so after the command it is renamed.
 */
export function specFlags(args: string[]): string[] {
  const at = commandIndex(args);
  if (at < 0 || args[at] !== "spec") return args;
  return args.map((a, i) => (i > at ? a.replace(/^--?rootless(?==|$)/, "--spec-rootless") : a));
}

/** `--resources -` (stdin) must stay a flag value; yargs would take a lone "-" as a positional. */
function joinStdinValues(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i + 1] === "-" && /^--?(resources|r|process|p)$/.test(args[i])) {
      out.push(`${args[i]}=-`);
      i++;
    } else out.push(args[i]);
  }
  return out;
}

export function reportError(e: unknown): number {
  if (e instanceof RuntimeError) {
    logError(e.message);
    return e.exitCode;
  }
  if (e instanceof SpecError) {
    // one record however many problems: podman reads exactly one JSON object from the log
    logError(e.message);
    return 1;
  }
  const err = e as Error;
  logError(err?.message ?? String(e));
  if (process.env.TSRUN_TRACE) process.stderr.write(String(err?.stack) + "\n");
  return 1;
}
