// A direct parser for the commands engines call all the time, with Go's flag rules (one or two
// dashes, --flag=value or --flag value, bool flags take no value). Anything it is unsure of (help,
// an unknown flag, a missing value) returns undefined, and yargs handles the command line instead.
import { COMMAND_FLAGS, GLOBAL_FLAGS } from "./flags.js";

/** The commands the fast path handles; everything else goes to yargs. */
const FAST = new Set(["state", "start", "kill", "delete", "list", "create", "run", "exec"]);
const ALIASES: Record<string, string> = { b: "bundle", d: "detach", a: "all", f: "force", q: "quiet", e: "env", t: "tty", u: "user", g: "additional-gids", p: "process", c: "cap" };
const REPEATED = new Set(["env", "cap", "additional-gids", "cgroup"]);

export interface FastParse {
  command: string;
  argv: Record<string, unknown> & { _: string[] };
}

export function parseFast(args: string[], defaultRoot: string): FastParse | undefined {
  const argv: Record<string, unknown> & { _: string[] } = { _: [], root: defaultRoot, "log-format": "text", debug: false, "systemd-cgroup": false, rootless: "auto" };
  let command: string | undefined;
  let flags = GLOBAL_FLAGS;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--") {
      argv._.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      if (!command) {
        if (!FAST.has(a)) return undefined;
        command = a;
        flags = COMMAND_FLAGS[a];
        argv._.push(a);
      } else argv._.push(a);
      continue;
    }
    const [rawName, inline] = splitFlag(a);
    if (rawName === "help" || rawName === "h" || rawName === "version" || rawName === "v") return undefined;
    const kind = flags[rawName];
    if (!kind) return undefined; // unknown here (or a global flag after the command): let yargs judge
    const name = ALIASES[rawName] && flags === COMMAND_FLAGS[command ?? ""] ? ALIASES[rawName] : rawName;
    let value: string | boolean;
    if (kind === "bool") {
      if (inline === undefined) value = true;
      else if (inline === "true" || inline === "false") value = inline === "true";
      else return undefined;
    } else if (inline !== undefined) value = inline;
    else {
      if (i + 1 >= args.length) return undefined;
      value = args[++i];
    }
    if (REPEATED.has(name)) argv[name] = [...((argv[name] as string[] | undefined) ?? []), value];
    else argv[name] = value;
  }
  if (!command) return undefined;
  return { command, argv };
}

/**
 * Does the command line ask for the version? Go's flag rules on the global flags, as runc's: they
 * are read up to the first positional argument (the command) or `--`; a value flag takes the next
 * argument whatever it looks like (`--root --version` sets the root); `-v`, `--version`,
 * `-version` and `--version=true` ask for it; help wins over it; an unknown flag is for yargs to
 * report, so the answer is then no.
 */
export function wantsVersion(args: string[]): boolean {
  let version = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--" || !a.startsWith("-") || a === "-") break;
    const [name, inline] = splitFlag(a);
    if (name === "version" || name === "v") version = inline === undefined || inline === "true";
    else if (name === "help" || name === "h") return false;
    else if (GLOBAL_FLAGS[name] === "string") {
      if (inline === undefined) i++;
    } else if (GLOBAL_FLAGS[name] !== "bool" || (inline !== undefined && inline !== "true" && inline !== "false")) return false;
  }
  return version;
}

function splitFlag(a: string): [string, string | undefined] {
  const body = a.replace(/^--?/, "");
  const eq = body.indexOf("=");
  return eq < 0 ? [body, undefined] : [body.slice(0, eq), body.slice(eq + 1)];
}
