// run: create and start in one step; in the foreground, forward signals and return the exit status.
import { createContainer, type CreateOptions } from "./create.js";
import { afterStart } from "./start.js";
import { deleteContainer } from "./delete.js";
import { forwardSignals, waitExitStatus } from "./foreground.js";

export interface RunOptions extends Omit<CreateOptions, "waitForStart" | "subreaper" | "detached"> {
  detach?: boolean;
  keep?: boolean;
}

/** Returns the exit code tsrun should exit with. */
export async function runContainer(opts: RunOptions): Promise<number> {
  if (opts.detach) {
    const { state, execReport } = createContainer({ ...opts, waitForStart: false, detached: true });
    afterStart(state, execReport!);
    return 0;
  }
  const forwarder = forwardSignals();
  let created = false;
  try {
    const { pid, state, terminal, execReport } = createContainer({ ...opts, waitForStart: false, subreaper: true, detached: false });
    created = true;
    const tty = terminal?.start();
    forwarder.attach(pid, state.initStartTime);
    try {
      afterStart(state, execReport!);
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
