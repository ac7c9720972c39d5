import { constants } from "node:os";
import { containerDirExists, lockContainer, readState, removeContainerDir } from "../state/store.js";
import { checkId, loadContainer, type Container } from "./container.js";
import { waitGone } from "./init-process.js";
import { RuntimeError } from "./errors.js";
import { hookStateOf, runHostHooks } from "./hooks.js";
import { signalContainer } from "./kill.js";
import { warn } from "./log.js";

export function deleteContainer(root: string, id: string, force: boolean): void {
  checkId(id);
  if (!readState(root, id)) {
    // a stray directory (e.g. a crashed create) is removed either way
    if (containerDirExists(root, id)) removeContainerDir(root, id);
    if (force) return;
    throw new RuntimeError("container does not exist");
  }
  const c = loadContainer(root, id);
  let release: () => void;
  try {
    release = lockContainer(root, id);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    release = () => {};
  }
  try {
    // a concurrent delete got here first: it removed the state, and ran the poststop hooks
    if (!readState(root, id)) {
      if (force) return;
      throw new RuntimeError("container does not exist");
    }
    const status = c.status();
    if ((status === "running" || status === "paused") && !force)
      throw new RuntimeError(`cannot delete container ${id} that is not stopped: ${status}`);
    if (status !== "stopped") {
      try {
        signalContainer(c, constants.signals.SIGKILL, false);
      } catch (e) {
        if (!(e instanceof RuntimeError)) throw e; // already gone
      }
      if (status === "paused") c.cgroup()?.thaw();
      waitGone(c.state.initPid, 10_000);
      if (c.status() !== "stopped") throw new RuntimeError("container init still running");
    }
    destroy(c, force);
  } finally {
    release();
  }
}

/** How long delete waits for killed processes to leave the cgroup. */
const CGROUP_EMPTY_TIMEOUT_MS = 10_000;

function destroy(c: Container, force: boolean): void {
  const cgroup = c.cgroup();
  if (cgroup) {
    // without a pid namespace, processes can outlive the init; with --force, whatever is in the
    // cgroup goes (a create killed half way may have left an init nobody recorded)
    if (force || !c.state.pidNamespace) {
      cgroup.killAll(constants.signals.SIGKILL);
      if (!cgroup.waitEmpty(CGROUP_EMPTY_TIMEOUT_MS))
        throw new RuntimeError(`container's cgroup still holds processes ${cgroup.pids().join(" ")} ${CGROUP_EMPTY_TIMEOUT_MS / 1000}s after SIGKILL`);
    }
    try {
      cgroup.destroy();
    } catch (e) {
      // a cgroup that held other processes before the container (runc logs this and goes on)
      if (force || cgroup.pids().length === 0) throw e;
      warn(`failed to remove the container's cgroup: ${(e as Error).message}`);
    }
  }
  removeContainerDir(c.root, c.state.id);
  const s = c.state;
  runHostHooks("poststop", s.hooks?.poststop, hookStateOf(s, "stopped"), false);
}
