// tsrun's command line: runc's flags, argument forms and output, on yargs.
import yargs, { type Argv } from "yargs";
import { commands } from "./commands.js";
import { logError } from "./log.js";
import type { GlobalArgs } from "./globals.js";
import { RuntimeError } from "../lifecycle/errors.js";
import { SpecError } from "../spec/problems.js";
import { VERSION_TEXT } from "./version.js";
import { splitTrailing } from "./trailing.js";

export function buildParser(argv: string[]): Argv {
  let y = yargs(argv)
    .version(false)
    .scriptName("tsrun")
    .usage("tsrun [global options] command [command options] [arguments...]\n\nOpen Container Initiative runtime (a drop-in replacement for runc)")
    .parserConfiguration({
      // Go's flag package: -flag and --flag are the same long flag, no negation, no camelCase copies
      "short-option-groups": false,
      "boolean-negation": false,
      "camel-case-expansion": false,
      "dot-notation": false,
      "strip-aliased": true,
      "duplicate-arguments-array": true,
    })
    .option("root", { type: "string", default: defaultRoot(), describe: "root directory for storage of container state (this should be located in tmpfs)" })
    .option("log", { type: "string", describe: "set the log file to write runtime logs to (default is '/dev/stderr')" })
    .option("log-format", { type: "string", default: "text", describe: "set the log format ('text' (default), or 'json')" })
    .option("debug", { type: "boolean", default: false, describe: "enable debug logging (adds per-step timings)" })
    .option("systemd-cgroup", { type: "boolean", default: false, describe: "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\"" })
    .option("rootless", { type: "string", default: "auto", describe: "ignore cgroup permission errors ('true', 'false', or 'auto')" })
    .option("criu", { type: "string", hidden: true, describe: "ignored (accepted for compatibility)" })
    .version(false)
    .option("version", { alias: "v", type: "boolean", describe: "print the version" })
    .help("help")
    .alias("help", "h")
    .strictOptions()
    .wrap(Math.min(120, process.stdout.columns || 100));
  for (const cmd of commands) y = y.command(cmd);
  return y;
}

function defaultRoot(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg && process.geteuid?.() !== 0) return `${xdg}/tsrun`;
  return "/run/tsrun";
}

export async function main(args: string[]): Promise<number> {
  if (args.length === 0) args = ["--help"];
  if (args.includes("--version") || args.includes("-v") || args.includes("-version")) {
    const first = args.findIndex((a) => !a.startsWith("-"));
    const flag = args.findIndex((a) => a === "--version" || a === "-v" || a === "-version");
    if (first === -1 || flag < first) {
      process.stdout.write(VERSION_TEXT);
      return 0;
    }
  }
  let exitCode = 0;
  args = splitTrailing(joinStdinValues(args));
  try {
    await buildParser(args)
      .fail((msg, err) => {
        if (err) throw err;
        throw new UsageError(msg);
      })
      .parseAsync(args, {}, (_err, _argv, output) => {
        if (output) process.stdout.write(output + "\n");
      });
    exitCode = process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (e) {
    exitCode = reportError(e);
  }
  return exitCode;
}

export class UsageError extends Error {}

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
  if (e instanceof UsageError) {
    logError(e.message);
    return 1;
  }
  const err = e as Error;
  logError(err?.message ?? String(e));
  if (process.env.TSRUN_TRACE) process.stderr.write(String(err?.stack) + "\n");
  return 1;
}
