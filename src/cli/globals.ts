// Global flags every command shares, and what they set up.
import { RuntimeError } from "../lifecycle/errors.js";
import { setLogSink } from "../lifecycle/log.js";
import { configureLog, logDebug, logWarn, type LogFormat } from "./log.js";
import { defaultRoot, parseRootless, prepareXdgRoot } from "./root.js";

export interface GlobalArgs {
  root: string;
  log?: string;
  "log-format": string;
  debug: boolean;
  "systemd-cgroup": boolean;
  rootless: string;
}

export function setupGlobals(argv: GlobalArgs, opts: { needsRoot?: boolean } = {}): void {
  const format = argv["log-format"];
  if (format !== "text" && format !== "json") throw new RuntimeError(`invalid log-format: ${format}`);
  if (argv.root === "/") throw new RuntimeError("Option --root argument should not be set to /");
  configureLog({ log: argv.log, format: format as LogFormat, debug: argv.debug });
  setLogSink({ warn: logWarn, debug: logDebug }, argv.debug);
  parseRootless(argv.rootless);
  if (opts.needsRoot === false) return;
  const dflt = defaultRoot();
  if (!argv.root) throw new RuntimeError(dflt.reason && !dflt.root ? dflt.reason : "Option --root argument should not be empty");
  if (dflt.xdg && argv.root === dflt.root) prepareXdgRoot(argv.root);
}

/** --rootless as a boolean (auto resolved for this process). */
export function rootlessOf(argv: GlobalArgs): boolean {
  return parseRootless(argv.rootless);
}

