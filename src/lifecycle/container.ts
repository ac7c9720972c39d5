// Loads a container by id and derives its live status.
import { existsSync } from "node:fs";
import { loadCgroupManager } from "../cgroups/index.js";
import type { CgroupManager } from "../cgroups/types.js";
import type { ContainerState } from "../spec/types.js";
import { deriveStatus, type Status } from "../state/status.js";
import { fifoPath, readState, type StoredState } from "../state/store.js";
import { isValidId } from "../state/id.js";
import { procStat } from "../syscalls/index.js";
import { RuntimeError } from "./errors.js";

export interface Container {
  root: string;
  state: StoredState;
  status(): Status;
  cgroup(): CgroupManager | undefined;
}

export function checkId(id: string): void {
  if (!isValidId(id)) throw new RuntimeError("invalid container ID format");
}

export function loadContainer(root: string, id: string): Container {
  checkId(id);
  const state = readState(root, id);
  if (!state) throw new RuntimeError("container does not exist");
  let manager: CgroupManager | undefined;
  const cgroup = () => {
    // a rootless container may have no cgroup at all
    if (!manager && state.cgroup && Object.keys(state.cgroup.paths).length) manager = loadCgroupManager(state.cgroup);
    return manager;
  };
  return {
    root,
    state,
    cgroup,
    status: () =>
      deriveStatus(state.initPid, state.initStartTime, {
        procStat,
        fifoExists: () => existsSync(fifoPath(root, id)),
        isFrozen: () => {
          try {
            return cgroup()?.isFrozen() ?? false;
          } catch {
            return false;
          }
        },
      }),
  };
}

/** The runtime-spec state of a container, as `state` and `list` print it. */
export function specState(c: Container, status: Status = c.status()): ContainerState {
  const s = c.state;
  // key order is runc's: annotations (omitted when empty) come before owner
  const annotations = s.annotations && Object.keys(s.annotations).length ? { annotations: s.annotations } : {};
  return {
    ociVersion: s.ociVersion,
    id: s.id,
    pid: status === "stopped" ? 0 : s.initPid,
    status,
    bundle: s.bundle,
    rootfs: s.rootfs,
    created: s.created,
    ...annotations,
    owner: "",
  };
}
