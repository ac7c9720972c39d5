import { unlinkSync } from "node:fs";
import { fifoPath, lockContainer, type StoredState } from "../state/store.js";
import { native, procStat } from "../syscalls/index.js";
import { loadContainer } from "./container.js";
import { hookStateOf, runHostHooks, waitForExec } from "./hooks.js";
import { RuntimeError } from "./errors.js";

const START_TIMEOUT_MS = 60_000;

/** startContainer hooks run in the init before the process; poststart ones once it runs. */
export function afterStart(state: StoredState): void {
  const hooks = state.hooks;
  if (!hooks?.startContainer?.length && !hooks?.poststart?.length) return;
  if (!waitForExec(state.initPid, state.initStartTime))
    throw new RuntimeError(hooks.startContainer?.length
      ? "the container process did not start: a startContainer hook failed"
      : "the container process exited before it started");
  runHostHooks("poststart", hooks.poststart, hookStateOf(state, "running", state.initPid), false);
}

export function startContainer(root: string, id: string): void {
  const c = loadContainer(root, id);
  const release = lockContainer(root, id);
  try {
    const status = c.status();
    if (status === "stopped") throw new RuntimeError("cannot start a container that has stopped");
    if (status === "running") throw new RuntimeError("cannot start an already running container");
    if (status === "paused") throw new RuntimeError("cannot start a container in the paused state");
    const pidfd = native.pidfdOpen(c.state.initPid);
    try {
      if (procStat(c.state.initPid)?.startTime !== c.state.initStartTime) throw new RuntimeError("container init is gone");
      const fifo = fifoPath(root, id);
      const result = native.fifoStart(fifo, pidfd, START_TIMEOUT_MS);
      if (result !== "started") throw new RuntimeError(`exec fifo is empty: container init ${result === "timeout" ? "did not respond" : "exited"}`);
      unlinkSync(fifo);
    } finally {
      native.close(pidfd);
    }
    afterStart(c.state);
  } finally {
    release();
  }
}
