// run: create and start in one step; in the foreground, forward signals and return the exit status.
import { createContainer, type CreateOptions } from "./create.js";
import { afterStart } from "./start.js";
import { deleteContainer } from "./delete.js";
import { forwardSignals, waitExitStatus } from "./foreground.js";
import { relayReady, relayReadySync } from "./notify.js";
import { warn } from "./log.js";

export interface RunOptions extends Omit<CreateOptions, "waitForStart" | "subreaper" | "detached"> {
  detach?: boolean;
  keep?: boolean;
}

/** Returns the exit code tsrun should exit with. */
export async function runContainer(opts: RunOptions): Promise<number> {
  if (opts.detach) {
    const { state, execReport, notifySocket } = createContainer({ ...opts, waitForStart: false, detached: true });
    afterStart(state, execReport!);
    if (notifySocket !== undefined) relayReadySync(notifySocket, state.initPid);
    return 0;
  }
  const forwarder = forwardSignals();
  let created = false;
  try {
    const { pid, state, terminal, execReport, notifySocket } = createContainer({ ...opts, waitForStart: false, subreaper: true, detached: false });
    created = true;
    const tty = terminal?.start();
    forwarder.attach(pid, state.initStartTime);
    try {
      afterStart(state, execReport!);
      if (notifySocket !== undefined) {
        try {
          await relayReady(notifySocket, pid);
        } catch (e) {
          warn(`NOTIFY_SOCKET: ${(e as Error).message}`);
        }
      }
      const status = await waitExitStatus(pid);
      if (tty) await Promise.race([tty.drained, new Promise((r) => setTimeout(r, 500))]);
      return status;
    } finally {
      tty?.stop();
    }
  } finally {
    forwarder.detach();
    if (created && !opts.keep) deleteContainer(opts.root, opts.id, true);
  }
}
