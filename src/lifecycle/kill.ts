import { constants } from "node:os";
import { lockContainer } from "../state/store.js";
import { signalPid } from "../syscalls/index.js";
import { loadContainer, type Container } from "./container.js";
import { RuntimeError } from "./errors.js";

export function killContainer(root: string, id: string, signal: number, all: boolean): void {
  const c = loadContainer(root, id);
  const release = lockContainer(root, id);
  try {
    const status = c.status();
    if (status === "stopped") {
      if (all) return;
      throw new RuntimeError("container not running");
    }
    signalContainer(c, signal, all);
    if (signal === constants.signals.SIGKILL && status === "paused") c.cgroup()?.thaw();
  } finally {
    release();
  }
}

/** SIGKILL to a container without its own pid namespace (or --all) reaches every process of its cgroup. */
export function signalContainer(c: Container, signal: number, all: boolean): void {
  const cgroup = c.cgroup();
  if (cgroup && (all || (!c.state.pidNamespace && signal === constants.signals.SIGKILL))) {
    cgroup.killAll(signal);
    return;
  }
  try {
    signalPid(c.state.initPid, signal, c.state.initStartTime);
  } catch (e) {
    if ((e as { code?: string }).code === "ESRCH") throw new RuntimeError("container not running");
    throw e;
  }
}
