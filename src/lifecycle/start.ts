import { unlinkSync } from "node:fs";
import { fifoPath, lockContainer, type StoredState } from "../state/store.js";
import { native, procStat } from "../syscalls/index.js";
import { loadContainer } from "./container.js";
import { hookStateOf, runHostHooks } from "./hooks.js";
import { RuntimeError } from "./errors.js";
import { awaitExec, type ExecReport } from "./init-process.js";
import { bindNotifySocket, relayReadySync } from "./notify.js";

const START_TIMEOUT_MS = 60_000;

/**
 * startContainer hooks run in the init before the process; poststart ones once it was started
 * (judged by the init's report channel reaching EOF at execve, never by looking at the process,
 * which may have exited already). Closes the report channel.
 */
export function afterStart(state: StoredState, report: ExecReport): void {
  const hooks = state.hooks;
  if (!hooks?.startContainer?.length && !hooks?.poststart?.length) return native.close(report.fd);
  const hookSeconds = (hooks.startContainer ?? []).reduce((sum, h) => sum + (h.timeout ?? 0), 0);
  awaitExec(report.fd, report.ops, START_TIMEOUT_MS + hookSeconds * 1000);
  runHostHooks("poststart", hooks.poststart, hookStateOf(state, "running", state.initPid), false);
}

export function startContainer(root: string, id: string): void {
  const c = loadContainer(root, id);
  const release = lockContainer(root, id);
  let notifySocket: number | undefined;
  try {
    const status = c.status();
    if (status === "stopped") throw new RuntimeError("cannot start a container that has stopped");
    if (status === "running") throw new RuntimeError("cannot start an already running container");
    if (status === "paused") throw new RuntimeError("cannot start a container in the paused state");
    const pidfd = native.pidfdOpen(c.state.initPid);
    let report: ExecReport;
    try {
      if (procStat(c.state.initPid)?.startTime !== c.state.initStartTime) throw new RuntimeError("container init is gone");
      const fifo = fifoPath(root, id);
      notifySocket = bindNotifySocket(root, id);
      const { result, fd } = native.fifoStart(fifo, pidfd, START_TIMEOUT_MS);
      if (result !== "started") throw new RuntimeError(`exec fifo is empty: container init ${result === "timeout" ? "did not respond" : "exited"}`);
      report = { fd, ops: c.state.startOps ?? [] };
      unlinkSync(fifo);
    } finally {
      native.close(pidfd);
    }
    afterStart(c.state, report);
  } catch (e) {
    if (notifySocket !== undefined) native.close(notifySocket);
    throw e;
  } finally {
    release();
  }
  // with NOTIFY_SOCKET, start returns once the container is ready (without the lock: kill may come)
  if (notifySocket !== undefined) relayReadySync(notifySocket, c.state.initPid);
}
