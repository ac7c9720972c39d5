// restore: a new container from a checkpoint. tsrun makes what create would (state dir, cgroup
// with the config's resources), lets criu rebuild the process tree inside it, then records the
// restored init in state.json. Detached it returns at once; otherwise it waits like `run`.
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { cgroupManagerFor, containerDeviceRules, readHostCgroupInfo, resolvePaths, SystemdManager } from "../cgroups/index.js";
import type { CgroupManager, SavedCgroup } from "../cgroups/types.js";
import { hasNamespace, resolveSource } from "../plan/compile.js";
import {
  cgroupRoots, CriuOptionError, DESCRIPTORS_FILE, externalNamespaces, RESTORE_LOG, restoreArgs, restoreMountpoints,
  type CriuHostFacts, type RestoreOptions,
} from "../plan/criu.js";
import { compileSeccomp } from "../plan/seccomp.js";
import { loadBundleConfig } from "../spec/load.js";
import type { Spec } from "../spec/types.js";
import {
  containerDir, createContainerDir, ensureRoot, lockContainer, readState, removeContainerDir, writePidFile, writeState,
  type StoredState,
} from "../state/store.js";
import { native, procStat, signalPid } from "../syscalls/index.js";
import { checkConsole } from "./console.js";
import { checkId, loadContainer } from "./container.js";
import { bindRootfs, ensureDir, runCriu } from "./criu.js";
import { deleteContainer } from "./delete.js";
import { RuntimeError } from "./errors.js";
import { forwardSignals, waitExitStatus } from "./foreground.js";
import { hookStateOf, runHostHooks } from "./hooks.js";
import { Undo, waitGone } from "./init-process.js";
import { nowRfc3339Nano, rootfsOf, statKind } from "./create.js";
import { warn } from "./log.js";

export interface RestoreRequest extends Omit<RestoreOptions, "imagePath" | "workPath"> {
  root: string;
  id: string;
  bundle: string;
  imagePath?: string;
  workPath?: string;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  noSubreaper?: boolean;
  noPivot?: boolean;
  systemdCgroup?: boolean;
  rootless?: boolean;
}

/** The state.json of a restored container: create's, with the restored init. Pure. */
export function restoredState(a: {
  id: string; spec: Spec; bundle: string; rootfs: string; pid: number; startTime: string; created: string;
  cgroup?: SavedCgroup; seccomp?: { bpf: string; flags: number }; rootless: boolean;
}): StoredState {
  return {
    ociVersion: a.spec.ociVersion,
    id: a.id,
    initPid: a.pid,
    initStartTime: a.startTime,
    bundle: a.bundle,
    rootfs: a.rootfs,
    created: a.created,
    annotations: a.spec.annotations,
    cgroup: a.cgroup,
    pidNamespace: hasNamespace(a.spec, "pid"),
    namespaces: (a.spec.linux?.namespaces ?? []).map((n) => ({ type: n.type, path: n.path })),
    process: a.spec.process,
    hooks: a.spec.hooks,
    seccomp: a.seccomp,
    rootless: a.rootless,
  };
}

/** Returns the exit code tsrun should exit with (0 when detached). */
export async function restoreContainer(req: RestoreRequest): Promise<number> {
  checkId(req.id);
  const bundle = resolve(req.bundle);
  const pidFile = req.pidFile ? resolve(req.pidFile) : undefined;
  const imagePath = resolve(req.imagePath || "checkpoint");
  const workPath = req.workPath ? resolve(req.workPath) : imagePath;
  const { spec } = loadBundleConfig(bundle, { systemdCgroup: req.systemdCgroup });
  if (!spec.process || !spec.root) throw new RuntimeError("config.json: /process and /root are required to restore a container");
  checkConsole(!!spec.process.terminal, !!req.detach, req.consoleSocket);
  if (spec.process.terminal)
    throw new RuntimeError("restoring a container with a terminal is not supported by tsrun yet (criu's orphan-pts-master needs its RPC interface)");
  const rootfs = rootfsOf(spec.root, bundle);
  const descriptors = readDescriptors(imagePath);
  const hooks = spec.hooks ?? {};
  for (const kind of ["prestart", "createRuntime", "createContainer", "startContainer"] as const)
    if (hooks[kind]?.length) warn(`restore: ${kind} hooks are not run on restore by tsrun yet`);
  const seccomp = spec.linux?.seccomp ? compileSeccomp(spec.linux.seccomp) : undefined;

  replaceStoppedContainer(req.root, req.id);
  ensureRoot(req.root);
  if (!createContainerDir(req.root, req.id)) throw new RuntimeError("container with given ID already exists");
  const undo = new Undo();
  undo.push(() => removeContainerDir(req.root, req.id));
  const forwarder = req.detach ? undefined : forwardSignals();
  let state: StoredState;
  try {
    const release = lockContainer(req.root, req.id);
    undo.push(release);
    ensureDir(workPath);
    const hostInfo = readHostCgroupInfo();
    const cgroup = cgroupManagerFor({ id: req.id, cgroupsPath: spec.linux?.cgroupsPath, systemd: req.systemdCgroup, rootless: req.rootless, host: hostInfo, annotations: spec.annotations });
    cgroup.create();
    undo.push(() => cgroup.destroy());
    const { devices: deviceRules, ...resources } = spec.linux?.resources ?? {};
    const setResources = () => {
      for (const w of cgroup.set({ ...resources, devices: containerDeviceRules(deviceRules, spec.linux?.devices) })) warn(w);
    };
    // systemd: the scope is held by tsrun itself while criu fills it, and gets its resources after
    const scope = cgroup instanceof SystemdManager ? cgroup.holdScope() : undefined;
    if (scope) undo.push(scope.leave);
    else setResources();
    const v2 = cgroup.saved.driver === "v2";
    const roots = cgroupRoots(scope ? scope.cgroupPaths : resolvePaths(hostInfo, spec.linux?.cgroupsPath, req.id).cgroupPaths, v2);

    const criuRoot = join(containerDir(req.root, req.id), "criu-root");
    const unbind = bindRootfs(rootfs, criuRoot);
    undo.push(unbind);
    const bindSource = (s: string) => resolveSource(s, bundle);
    makeMountpoints(criuRoot, restoreMountpoints(spec, statKind, bindSource));

    const nsFds: Record<string, number> = {};
    const extraStdio: number[] = [];
    for (const ns of externalNamespaces(spec)) {
      const fd = openSync(ns.path, "r");
      undo.push(() => closeSync(fd));
      nsFds[ns.key] = 3 + extraStdio.length;
      extraStdio.push(fd);
    }
    const host: CriuHostFacts = {
      bindSource,
      cgroupPaths: cgroup.saved.paths,
      cgroupV2: v2,
      namespaceInode: () => 0,
    };
    const criuPidFile = join(containerDir(req.root, req.id), "criu-restore.pid");
    let args: string[];
    try {
      args = restoreArgs({ root: criuRoot, spec, pidFile: criuPidFile, options: { ...req, imagePath, workPath }, host, cgroupRoots: roots, descriptors, namespaceFds: nsFds });
    } catch (e) {
      if (e instanceof CriuOptionError) throw new RuntimeError(e.message);
      throw e;
    }
    if (!req.detach && !req.noSubreaper) native.setSubreaper(true);
    // criu's fds 0-2 are ours: the restored init's stdio pipes are replaced by them (--inherit-fd)
    try {
      runCriu(args, join(workPath, RESTORE_LOG), ["inherit", "inherit", "inherit", ...extraStdio]);
    } finally {
      scope?.leave();
    }
    if (scope) setResources();
    const pid = Number(readFileSync(criuPidFile, "utf8").trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new RuntimeError(`criu restore wrote no pid to ${criuPidFile}`);
    const startTime = procStat(pid)?.startTime ?? "";
    undo.push(() => killRestored(pid, startTime, cgroup));
    joinCgroup(cgroup, pid);
    state = restoredState({
      id: req.id, spec, bundle, rootfs, pid, startTime, created: nowRfc3339Nano(),
      cgroup: cgroup.saved, seccomp: seccomp && { bpf: seccomp.bpf.toString("base64"), flags: seccomp.flags }, rootless: !!req.rootless,
    });
    writeState(req.root, state);
    unbind();
    for (const fd of extraStdio) closeSync(fd);
    if (pidFile) writePidFile(pidFile, pid);
    release();
  } catch (e) {
    undo.run();
    forwarder?.detach();
    throw e;
  }
  runHostHooks("poststart", state.hooks?.poststart, hookStateOf(state, "running", state.initPid), false);
  if (!forwarder) return 0;
  try {
    forwarder.attach(state.initPid, state.initStartTime);
    return await waitExitStatus(state.initPid);
  } finally {
    forwarder.detach();
    deleteContainer(req.root, req.id, true);
  }
}

function readDescriptors(imagePath: string): string[] {
  const file = join(imagePath, DESCRIPTORS_FILE);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new RuntimeError(`${imagePath} is not a checkpoint of tsrun or runc: cannot read ${DESCRIPTORS_FILE}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const parsed = JSON.parse(text) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((d) => typeof d === "string")) throw new RuntimeError(`${file}: not a list of file names`);
  return parsed;
}

/** A checkpointed container stays `stopped` under its id; restoring that id replaces it. */
function replaceStoppedContainer(root: string, id: string): void {
  if (!readState(root, id)) return;
  if (loadContainer(root, id).status() !== "stopped") throw new RuntimeError("container with given ID already exists");
  deleteContainer(root, id, false);
}

/**
 * Bind mount points missing from the rootfs (the checkpoint may come from another host). Nothing
 * is created through a symlink: criu mounts on the path as the container sees it.
 */
function makeMountpoints(root: string, points: { path: string; dir: boolean }[]): void {
  for (const { path, dir } of points) {
    const parts = path.split("/").filter(Boolean);
    let cur = root;
    for (let i = 0; i < parts.length; i++) {
      cur = join(cur, parts[i]);
      const last = i === parts.length - 1;
      let st;
      try {
        st = lstatSync(cur);
      } catch {
        if (last && !dir) writeFileSync(cur, "", { flag: "wx", mode: 0o644 });
        else mkdirSync(cur, { mode: 0o755 });
        continue;
      }
      if (st.isSymbolicLink()) break; // criu resolves it inside the container; leave it alone
    }
  }
}

/**
 * criu puts the tree in the cgroups of the image, rebased on ours; with --manage-cgroups-mode ignore
 * it leaves it in criu's (our) cgroup. The tree is already running: the init goes first (what it
 * forks from then on is born inside), then its descendants, again until a pass finds none outside;
 * a process that exits meanwhile (ESRCH) is no error.
 */
function joinCgroup(cgroup: CgroupManager, pid: number): void {
  for (let pass = 0; pass < 10; pass++) {
    const inside = new Set(cgroup.pids());
    const outside = [pid, ...descendants(pid)].filter((p) => !inside.has(p));
    if (!outside.length) return;
    for (const p of outside) {
      try {
        cgroup.apply(p);
      } catch (e) {
        // a descendant that exited meanwhile (gone, or a zombie the kernel will not move)
        if (p === pid || ((e as { code?: string }).code !== "ESRCH" && existsSync(`/proc/${p}`))) throw e;
      }
    }
  }
}

function descendants(pid: number): number[] {
  const out: number[] = [];
  const visit = (p: number) => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let children = "";
      try {
        children = readFileSync(`/proc/${p}/task/${t}/children`, "utf8");
      } catch {
        continue;
      }
      for (const c of children.split(" ").filter(Boolean).map(Number)) {
        out.push(c);
        visit(c);
      }
    }
  };
  visit(pid);
  return out;
}

function killRestored(pid: number, startTime: string, cgroup: CgroupManager): void {
  try {
    signalPid(pid, 9, startTime);
  } catch {
    // gone
  }
  try {
    cgroup.killAll(9);
  } catch {
    // the cgroup is being removed anyway
  }
  waitGone(pid, 5000);
}
