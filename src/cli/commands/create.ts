import type { CommandModule } from "yargs";
import { bool, exactArgs, str, type Args } from "../args.js";
import { rootlessOf, setupGlobals } from "../globals.js";

export const createOptions = {
  bundle: { alias: "b", type: "string", default: ".", describe: "path to the root of the bundle directory" },
  "console-socket": { type: "string", describe: "path to an AF_UNIX socket which will receive the pty master" },
  "pidfd-socket": { type: "string", describe: "path to an AF_UNIX socket which will receive a pidfd of the init" },
  "pid-file": { type: "string", describe: "specify the file to write the process id to" },
  "no-pivot": { type: "boolean", describe: "do not use pivot root to jail process inside rootfs" },
  "no-new-keyring": { type: "boolean", describe: "do not create a new session keyring for the container" },
  "preserve-fds": { type: "number", default: 0, describe: "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)" },
  detach: { alias: "d", type: "boolean", hidden: true, describe: "accepted for go-runc compatibility; create always detaches" },
} as const;

export function createArgs(argv: Args) {
  return {
    root: argv.root,
    bundle: str(argv.bundle) ?? ".",
    pidFile: str(argv["pid-file"]),
    consoleSocket: str(argv["console-socket"]),
    pidfdSocket: str(argv["pidfd-socket"]),
    noPivot: bool(argv["no-pivot"]),
    noNewKeyring: bool(argv["no-new-keyring"]),
    preserveFds: Number(str(argv["preserve-fds"]) ?? 0),
    systemdCgroup: argv["systemd-cgroup"],
    rootless: rootlessOf(argv),
  };
}

export const createCommand: CommandModule<object, Args> = {
  command: "create",
  describe: "create a container",
  builder: (y) => y.options(createOptions) as never,
  handler: async (argv) => {
    setupGlobals(argv);
    const [id] = exactArgs(argv, "create", 1);
    const { createContainer } = await import("../../lifecycle/create.js");
    createContainer({ ...createArgs(argv), id, waitForStart: true, detached: true });
  },
};
