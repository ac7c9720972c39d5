// checkpoint: dump a running (or paused) container with criu. Without --leave-running or
// --pre-dump criu ends the container's processes and the container is left `stopped` (delete
// removes it, restore may reuse its id). A failing criu changes nothing: the container keeps
// running, and the image directory holds at most criu's log, which the error names.
import { readlinkSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { resolveSource } from "../plan/compile.js";
import { loadBundleConfig } from "../spec/load.js";
import type { Spec } from "../spec/types.js";
import { CriuOptionError, DESCRIPTORS_FILE, DUMP_LOG, dumpArgs, type CheckpointOptions, type CriuHostFacts } from "../plan/criu.js";
import { lockContainer } from "../state/store.js";
import { loadContainer, type Container } from "./container.js";
import { ensureDir, listDir, runCriu, tidyDir } from "./criu.js";
import { statKind } from "./create.js";
import { RuntimeError } from "./errors.js";
import { waitGone } from "./init-process.js";

export interface CheckpointRequest extends Omit<CheckpointOptions, "imagePath" | "workPath"> {
  root: string;
  id: string;
  /** Default: ./checkpoint, as runc. */
  imagePath?: string;
  workPath?: string;
}

export function checkpointContainer(req: CheckpointRequest): void {
  const c = loadContainer(req.root, req.id);
  const release = lockContainer(req.root, req.id);
  try {
    const status = c.status();
    if (status === "created" || status === "stopped") throw new RuntimeError(`Container cannot be checkpointed in ${status} state`);
    const spec = bundleSpec(c);
    if (spec.process?.terminal)
      throw new RuntimeError("checkpointing a container with a terminal is not supported by tsrun yet (criu's orphan-pts-master needs its RPC interface)");
    const imagePath = resolve(req.imagePath || "checkpoint");
    const workPath = req.workPath ? resolve(req.workPath) : imagePath;
    const options: CheckpointOptions = { ...req, imagePath, workPath };
    const pid = c.state.initPid;
    let args: string[];
    try {
      args = dumpArgs({ pid, rootfs: c.state.rootfs, spec, freezerPath: freezerPath(c), options, host: dumpHostFacts(c, pid) });
    } catch (e) {
      if (e instanceof CriuOptionError) throw new RuntimeError(e.message);
      throw e;
    }
    if (req.parentPath) {
      const parent = join(imagePath, req.parentPath);
      try {
        statSync(parent);
      } catch (e) {
        throw new RuntimeError(`invalid --parent-path: ${(e as Error).message}`);
      }
    }
    const imageBefore = listDir(imagePath);
    const workBefore = listDir(workPath);
    const image = ensureDir(imagePath);
    if (workPath !== imagePath) ensureDir(workPath);
    try {
      writeFileSync(join(imagePath, DESCRIPTORS_FILE), JSON.stringify(stdioOf(pid)), { mode: 0o600 });
      runCriu(args, join(workPath, DUMP_LOG), ["ignore", "ignore", "pipe", ...statusFdStdio(req.statusFd)]);
    } catch (e) {
      const keepInImage = workPath === imagePath ? DUMP_LOG : undefined;
      tidyDir(imagePath, imageBefore, image.created, keepInImage);
      if (workPath !== imagePath) tidyDir(workPath, workBefore, false, DUMP_LOG);
      throw e;
    }
    if (!req.leaveRunning && !req.preDump) {
      waitGone(pid, 10_000);
      if (c.status() !== "stopped") throw new RuntimeError("criu reported success but the container is still running");
    }
  } finally {
    release();
  }
}

/** The container's config: what create applied (its mounts, masked paths, namespaces). */
function bundleSpec(c: Container): Spec {
  try {
    return loadBundleConfig(c.state.bundle).spec;
  } catch (e) {
    throw new RuntimeError(`cannot checkpoint: the container's config (${c.state.bundle}/config.json) is unreadable: ${(e as Error).message}`);
  }
}

function freezerPath(c: Container): string | undefined {
  const saved = c.state.cgroup;
  if (!saved) return undefined;
  return saved.driver === "v2" ? saved.paths[""] : saved.paths.freezer;
}

function dumpHostFacts(c: Container, pid: number): CriuHostFacts {
  const saved = c.state.cgroup;
  return {
    kindInRoot: (p) => statKind(`/proc/${pid}/root${p}`),
    bindSource: (s) => resolveSource(s, c.state.bundle),
    cgroupPaths: saved?.paths ?? {},
    cgroupV2: saved?.driver === "v2",
    namespaceInode: (p) => statSync(p).ino,
  };
}

/** What the init's fds 0-2 are ("pipe:[123]", "/dev/null"...): restore hands pipes over. */
function stdioOf(pid: number): string[] {
  return [0, 1, 2].map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return "";
    }
  });
}

/** --status-fd N: criu gets our fd N at the same number. */
function statusFdStdio(fd: number | undefined): (number | "ignore")[] {
  if (fd === undefined || fd < 3) return [];
  return [...Array<"ignore">(fd - 3).fill("ignore"), fd];
}

