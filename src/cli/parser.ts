// The yargs command line: help, usage errors, and every command the fast path leaves to it.
import yargs, { type Argv } from "yargs";
import { commands } from "./commands.js";

// Go's flag package: -flag and --flag are the same long flag, no negation, no camelCase copies
export const GO_FLAG_RULES = {
  "short-option-groups": false,
  "boolean-negation": false,
  "camel-case-expansion": false,
  "dot-notation": false,
  "strip-aliased": true,
  "duplicate-arguments-array": true,
} as const;

/** runc's global flags (the man page and completions are made from this too: src/cli/docs.ts). */
export function globalOptions(defaultRoot: string) {
  return {
    root: { type: "string", default: defaultRoot, describe: "root directory for storage of container state (this should be located in tmpfs)" },
    log: { type: "string", describe: "set the log file to write runtime logs to (default is '/dev/stderr')" },
    "log-format": { type: "string", default: "text", describe: "set the log format ('text' (default), or 'json')" },
    debug: { type: "boolean", default: false, describe: "enable debug logging (adds per-step timings)" },
    "systemd-cgroup": { type: "boolean", default: false, describe: "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\"" },
    rootless: { type: "string", default: "auto", describe: "ignore cgroup permission errors ('true', 'false', or 'auto')" },
    criu: { type: "string", hidden: true, describe: "ignored (accepted for compatibility)" },
  } as const;
}

export const USAGE = "tsrun [global options] command [command options] [arguments...]";
export const SUMMARY = "Open Container Initiative runtime (a drop-in replacement for runc)";

export function buildParser(argv: string[], defaultRoot: string): Argv {
  let y = yargs(argv)
    .version(false)
    .scriptName("tsrun")
    .usage(`${USAGE}\n\n${SUMMARY}`)
    .parserConfiguration(GO_FLAG_RULES)
    .options(globalOptions(defaultRoot))
    .version(false)
    .option("version", { alias: "v", type: "boolean", describe: "print the version" })
    .help("help")
    .alias("help", "h")
    .strictOptions()
    .demandCommand(1, "tsrun: a command is required (see --help)")
    .wrap(null); // wrapped at spaces by wrapHelp (src/cli/wrap.ts)
  for (const cmd of commands) y = y.command(cmd);
  return y;
}

