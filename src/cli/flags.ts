// runc's flags, by command, as the three parsers need them: the fast path (src/cli/fast.ts), the
// exec/ps split of trailing arguments (src/cli/trailing.ts) and the command finder (src/cli/main.ts).
// yargs (src/cli/parser.ts and the command modules) still describes every flag for --help.
export type Kind = "bool" | "string";
export type Flags = Record<string, Kind>;

export const GLOBAL_FLAGS: Flags = { root: "string", log: "string", "log-format": "string", debug: "bool", "systemd-cgroup": "bool", rootless: "string", criu: "string" };
const CREATE: Flags = {
  bundle: "string", b: "string", "console-socket": "string", "pidfd-socket": "string", "pid-file": "string",
  "no-pivot": "bool", "no-new-keyring": "bool", "preserve-fds": "string", detach: "bool", d: "bool",
};
const CRIU_COMMON: Flags = {
  "image-path": "string", "work-path": "string", "tcp-established": "bool", "ext-unix-sk": "bool", "shell-job": "bool",
  "file-locks": "bool", "manage-cgroups-mode": "string", "empty-ns": "string", "auto-dedup": "bool", "lazy-pages": "bool",
};
export const COMMAND_FLAGS: Record<string, Flags> = {
  state: {},
  start: {},
  kill: { all: "bool", a: "bool" },
  delete: { force: "bool", f: "bool" },
  list: { format: "string", f: "string", quiet: "bool", q: "bool" },
  create: CREATE,
  run: { ...CREATE, keep: "bool", "no-subreaper": "bool" },
  exec: {
    "console-socket": "string", "pidfd-socket": "string", cwd: "string", env: "string", e: "string", tty: "bool", t: "bool",
    user: "string", u: "string", "additional-gids": "string", g: "string", process: "string", p: "string", detach: "bool",
    d: "bool", "pid-file": "string", "process-label": "string", apparmor: "string", "no-new-privs": "bool", cap: "string",
    c: "string", "preserve-fds": "string", cgroup: "string", "ignore-paused": "bool",
  },
  ps: { format: "string", f: "string" },
  checkpoint: {
    ...CRIU_COMMON, "parent-path": "string", "leave-running": "bool", "tcp-skip-in-flight": "bool", "link-remap": "bool",
    "status-fd": "string", "page-server": "string", "pre-dump": "bool",
  },
  restore: {
    ...CRIU_COMMON, "console-socket": "string", bundle: "string", b: "string", detach: "bool", d: "bool", "pid-file": "string",
    "no-subreaper": "bool", "no-pivot": "bool", "no-new-keyring": "bool", "lsm-profile": "string", "lsm-mount-context": "string",
  },
};

/** Does --name take a value (the next argument when not given as --name=value)? */
export function takesValue(flags: Flags, name: string): boolean {
  return flags[name] === "string";
}
