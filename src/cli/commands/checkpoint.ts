// checkpoint and restore: runc's flags (runc 1.1 plus the 1.2 additions), through criu.
import type { CommandModule } from "yargs";
import { RuntimeError } from "../../lifecycle/errors.js";
import { bool, exactArgs, str, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";

const CRIU_COMMON = {
  "image-path": { type: "string", describe: "path for saving criu image files (default: ./checkpoint)" },
  "work-path": { type: "string", describe: "path for saving work files and logs (default: the image path)" },
  "tcp-established": { type: "boolean", describe: "allow open tcp connections" },
  "ext-unix-sk": { type: "boolean", describe: "allow external unix sockets" },
  "shell-job": { type: "boolean", describe: "allow shell jobs" },
  "file-locks": { type: "boolean", describe: "handle file locks, for safety" },
  "manage-cgroups-mode": { type: "string", describe: "cgroups mode: soft (default), full, strict or ignore" },
  // repeatable; not `array: true`, which would swallow the container id that follows
  "empty-ns": { type: "string", describe: "create a namespace, but don't restore its properties (network only)" },
  "auto-dedup": { type: "boolean", describe: "enable auto deduplication of memory images" },
  "lazy-pages": { type: "boolean", describe: "use userfaultfd to lazily restore memory pages (not supported yet)" },
} as const;

export const CHECKPOINT_OPTIONS = {
  ...CRIU_COMMON,
  "parent-path": { type: "string", describe: "path for previous criu image files in pre-dump, relative to the image path" },
  "leave-running": { type: "boolean", describe: "leave the process running after checkpointing" },
  "tcp-skip-in-flight": { type: "boolean", describe: "skip in-flight tcp connections" },
  "link-remap": { type: "boolean", describe: "allow one to link unlinked files back when possible" },
  "status-fd": { type: "number", default: -1, describe: "criu writes \\0 to this FD once lazy-pages is ready" },
  "page-server": { type: "string", describe: "ADDRESS:PORT of the page server" },
  "pre-dump": { type: "boolean", describe: "dump container's memory information only, leave the container running after this" },
} as const;

export const RESTORE_OPTIONS = {
  ...CRIU_COMMON,
  "image-path": { ...CRIU_COMMON["image-path"], describe: "path to criu image files for restoring (default: ./checkpoint)" },
  "console-socket": { type: "string", describe: "path to an AF_UNIX socket which will receive the pty master" },
  bundle: { alias: "b", type: "string", default: ".", describe: "path to the root of the bundle directory" },
  detach: { alias: "d", type: "boolean", describe: "detach from the container's process" },
  "pid-file": { type: "string", describe: "specify the file to write the process id to" },
  "no-subreaper": { type: "boolean", describe: "disable the use of the subreaper used to reap reparented processes" },
  "no-pivot": { type: "boolean", describe: "do not use pivot root to jail process inside rootfs" },
  "no-new-keyring": { type: "boolean", hidden: true, describe: "accepted: conmon passes it to restore" },
  "lsm-profile": { type: "string", describe: "an LSM profile to be used during restore, as TYPE:NAME" },
  "lsm-mount-context": { type: "string", describe: "an LSM mount context to be used during restore" },
} as const;

function strings(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function intFlag(v: unknown, name: string): number | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n)) throw new RuntimeError(`invalid value ${JSON.stringify(s)} for flag -${name}: parse error`);
  return n;
}

function commonArgs(argv: Args) {
  return {
    imagePath: str(argv["image-path"]),
    workPath: str(argv["work-path"]),
    tcpEstablished: bool(argv["tcp-established"]),
    extUnixSk: bool(argv["ext-unix-sk"]),
    shellJob: bool(argv["shell-job"]),
    fileLocks: bool(argv["file-locks"]),
    manageCgroupsMode: str(argv["manage-cgroups-mode"]),
    emptyNs: strings(argv["empty-ns"]),
    autoDedup: bool(argv["auto-dedup"]),
    lazyPages: bool(argv["lazy-pages"]),
  };
}

export function checkpointArgs(argv: Args) {
  return {
    ...commonArgs(argv),
    root: argv.root,
    parentPath: str(argv["parent-path"]),
    leaveRunning: bool(argv["leave-running"]),
    tcpSkipInFlight: bool(argv["tcp-skip-in-flight"]),
    linkRemap: bool(argv["link-remap"]),
    statusFd: intFlag(argv["status-fd"], "status-fd"),
    pageServer: str(argv["page-server"]),
    preDump: bool(argv["pre-dump"]),
  };
}

export function restoreArgs(argv: Args) {
  return {
    ...commonArgs(argv),
    root: argv.root,
    bundle: str(argv.bundle) ?? ".",
    consoleSocket: str(argv["console-socket"]),
    detach: bool(argv.detach),
    pidFile: str(argv["pid-file"]),
    noSubreaper: bool(argv["no-subreaper"]),
    noPivot: bool(argv["no-pivot"]),
    lsmProfile: str(argv["lsm-profile"]),
    lsmMountContext: str(argv["lsm-mount-context"]),
    systemdCgroup: argv["systemd-cgroup"],
    rootless: argv.rootless === "true",
  };
}

export const checkpointCommand: CommandModule<object, Args> = {
  command: "checkpoint",
  describe: "checkpoint a running container",
  builder: (y) => y.options(CHECKPOINT_OPTIONS) as never,
  handler: async (argv) => {
    setupGlobals(argv);
    const [id] = exactArgs(argv, "checkpoint", 1);
    const { checkpointContainer } = await import("../../lifecycle/checkpoint.js");
    checkpointContainer({ ...checkpointArgs(argv), id });
  },
};

export const restoreCommand: CommandModule<object, Args> = {
  command: "restore",
  describe: "restore a container from a previous checkpoint",
  builder: (y) => y.options(RESTORE_OPTIONS) as never,
  handler: async (argv) => {
    setupGlobals(argv);
    const [id] = exactArgs(argv, "restore", 1);
    const { restoreContainer } = await import("../../lifecycle/restore.js");
    process.exitCode = await restoreContainer({ ...restoreArgs(argv), id });
  },
};
