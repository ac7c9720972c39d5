// run: create and start in one step; in the foreground, forward signals and return the exit status.
import { constants } from "node:os";
import { native, signalPid } from "../syscalls/index.js";
import { createContainer, type CreateOptions } from "./create.js";
import { deleteContainer } from "./delete.js";

/** Signals run forwards to the container (all catchable ones but SIGCHLD, SIGWINCH, SIGURG). */
const FORWARDED = [
  "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
  "SIGCONT", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGVTALRM", "SIGPROF", "SIGIO", "SIGPWR", "SIGSYS",
] as const;

export interface RunOptions extends Omit<CreateOptions, "waitForStart" | "subreaper"> {
  detach?: boolean;
  keep?: boolean;
}

/** Returns the exit code tsrun should exit with. */
export async function runContainer(opts: RunOptions): Promise<number> {
  if (opts.detach) {
    createContainer({ ...opts, waitForStart: false });
    return 0;
  }
  let initPid = 0;
  let initStart = "";
  const pending: number[] = [];
  const forward = (sig: number) => {
    if (!initPid) return void pending.push(sig);
    try {
      signalPid(initPid, sig, initStart);
    } catch {
      // the container is exiting
    }
  };
  const handlers = FORWARDED.map((name) => {
    const handler = () => forward(constants.signals[name]);
    process.on(name, handler);
    return [name, handler] as const;
  });
  try {
    const { pid, state } = createContainer({ ...opts, waitForStart: false, subreaper: true });
    initPid = pid;
    initStart = state.initStartTime;
    for (const sig of pending.splice(0)) forward(sig);
    const status = await native.waitpidAsync(pid);
    return status.signal !== undefined ? 128 + status.signal : status.code ?? 0;
  } finally {
    for (const [name, handler] of handlers) process.off(name, handler);
    if (initPid && !opts.keep) deleteContainer(opts.root, opts.id, true);
  }
}
