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

export function buildParser(argv: string[], defaultRoot: string): Argv {
  let y = yargs(argv)
    .version(false)
    .scriptName("tsrun")
    .usage("tsrun [global options] command [command options] [arguments...]\n\nOpen Container Initiative runtime (a drop-in replacement for runc)")
    .parserConfiguration(GO_FLAG_RULES)
    .option("root", { type: "string", default: defaultRoot, describe: "root directory for storage of container state (this should be located in tmpfs)" })
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
    .demandCommand(1, "tsrun: a command is required (see --help)")
    .wrap(null); // wrapped at spaces by wrapHelp (src/cli/wrap.ts)
  for (const cmd of commands) y = y.command(cmd);
  return y;
}

