// Global flags every command shares, and what they set up.
import { RuntimeError } from "../lifecycle/errors.js";
import { setLogSink } from "../lifecycle/log.js";
import { configureLog, logDebug, logWarn, type LogFormat } from "./log.js";

export interface GlobalArgs {
  root: string;
  log?: string;
  "log-format": string;
  debug: boolean;
  "systemd-cgroup": boolean;
  rootless: string;
}

export function setupGlobals(argv: GlobalArgs): void {
  const format = argv["log-format"];
  if (format !== "text" && format !== "json") throw new RuntimeError(`invalid log-format: ${format}`);
  if (argv.root === "/") throw new RuntimeError("Option --root argument should not be set to /");
  configureLog({ log: argv.log, format: format as LogFormat, debug: argv.debug });
  setLogSink({ warn: logWarn, debug: logDebug }, argv.debug);
}

