// runc's exec and ps stop parsing flags at the first positional (the container id): everything
// after it belongs to the command. yargs cannot do that per command, so the split happens here.
import { COMMAND_FLAGS, GLOBAL_FLAGS, takesValue } from "./flags.js";

let trailing: string[] = [];

/** The commands whose flags end at the container id. */
const STOPS_AT_ID = new Set(["exec", "ps"]);

/** Returns argv up to and including the container id; what follows is kept for trailingArgs(). */
export function splitTrailing(args: string[]): string[] {
  trailing = [];
  let i = 0;
  let command: string | undefined;
  for (; i < args.length; i++) {
    const a = args[i];
    if (!command) {
      if (!a.startsWith("-")) {
        command = a;
        if (!STOPS_AT_ID.has(a)) return args;
        continue;
      }
      if (takesValue(GLOBAL_FLAGS, flagName(a)) && !a.includes("=")) i++;
      continue;
    }
    if (a === "--") {
      // `exec -- id cmd`: the id follows
      if (i + 1 < args.length) {
        trailing = args.slice(i + 2);
        return [...args.slice(0, i), args[i + 1]];
      }
      return args.slice(0, i);
    }
    if (!a.startsWith("-") || a === "-") {
      trailing = args.slice(i + 1);
      return args.slice(0, i + 1);
    }
    if (takesValue(COMMAND_FLAGS[command], flagName(a)) && !a.includes("=")) i++;
  }
  return args;
}

function flagName(a: string): string {
  return a.replace(/^--?/, "").split("=")[0];
}

export function trailingArgs(): string[] {
  return trailing;
}
