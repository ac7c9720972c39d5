// runc's exec and ps stop parsing flags at the first positional (the container id): everything
// after it belongs to the command. yargs cannot do that per command, so the split happens here.

let trailing: string[] = [];

/** Flags of `exec`/`ps` that take a value (the next argument unless given as --flag=value). */
const VALUE_FLAGS: Record<string, Set<string>> = {
  exec: new Set(["console-socket", "pidfd-socket", "cwd", "env", "e", "user", "u", "additional-gids", "g", "process", "p",
    "pid-file", "process-label", "apparmor", "cap", "c", "preserve-fds", "cgroup"]),
  ps: new Set(["format", "f"]),
};
const GLOBAL_VALUE_FLAGS = new Set(["root", "log", "log-format", "rootless", "criu"]);

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
        if (!(a in VALUE_FLAGS)) return args;
        continue;
      }
      if (GLOBAL_VALUE_FLAGS.has(flagName(a)) && !a.includes("=")) i++;
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
    if (VALUE_FLAGS[command].has(flagName(a)) && !a.includes("=")) i++;
  }
  return args;
}

function flagName(a: string): string {
  return a.replace(/^--?/, "").split("=")[0];
}

export function trailingArgs(): string[] {
  return trailing;
}
