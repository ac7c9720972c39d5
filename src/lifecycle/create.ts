// create: validate the bundle, compile the init program, start tsrun-init and drive it to ready.
// Any failure undoes everything made so far (cgroup, state directory, the half-started init).
import { readFileSync, readlinkSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { cgroupManagerFor, containerDeviceRules, detectCgroupMode, hugePageSizes, validateResources } from "../cgroups/index.js";
import { formatProblem, SpecError } from "../spec/problems.js";
import type { CgroupManager } from "../cgroups/types.js";
import { compile, createsNamespace, hasNamespace, Step, type HostFacts, type SeccompProgram } from "../plan/compile.js";
import { hookStateOf, namespacePid, runContainerHooks, runHostHooks } from "./hooks.js";
import { loadBundleConfig } from "../spec/load.js";
import { rootPathProblem } from "../spec/rootfs.js";
import type { Spec } from "../spec/types.js";
import {
  createContainerDir, ensureRoot, fifoPath, lockContainer, removeContainerDir, writePidFile, writeState,
  type StoredState,
} from "../state/store.js";
import { native, procStat } from "../syscalls/index.js";
import { driveInitToReady, extraFdNumber, InitGoneError, opsAfterReady, Undo, type ExecReport } from "./init-process.js";
import { checkConsole, needsForegroundTerminal, openConsoleSocket } from "./console.js";
import { PidfdSocket } from "./pidfd-socket.js";
import { checkMountLabel, lsmFor } from "./lsm.js";
import { makeIdmappedMounts } from "./idmapped-mounts.js";
import { terminalChannel, type TerminalChannel } from "./terminal.js";
import { checkId } from "./container.js";
import { RuntimeError } from "./errors.js";
import { debug, debugStep, warn } from "./log.js";
import { compileSeccomp } from "../plan/seccomp.js";
import { normalDestination, PROC_BIND_ALLOWED } from "../plan/constants.js";
import { passListener, seccompAgentOf } from "./seccomp-agent.js";
import { inUserNamespace, prepareIdMaps, writeIdMaps } from "./idmap.js";
import { bindNotifySocket, hostNotifySocket, makeNotifyDir, NOTIFY_SOCKET_IN_CONTAINER } from "./notify.js";

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds?: number;
  systemdCgroup?: boolean;
  rootless?: boolean;
  /** Block the init on exec.fifo until `start` (create); run goes straight to exec. */
  waitForStart: boolean;
  /** Become the subreaper first so the init is our child (foreground run). */
  subreaper?: boolean;
  consoleSocket?: string;
  pidfdSocket?: string;
  /** create, or run --detach: tsrun returns while the container runs. */
  detached: boolean;
}

export interface Created {
  state: StoredState;
  pid: number;
  /** the foreground terminal, when tsrun itself holds the pty master */
  terminal?: TerminalChannel;
  /** run: the init's channel that reaches EOF at execve (create: the init reports through exec.fifo) */
  execReport?: ExecReport;
  /** run with NOTIFY_SOCKET: the container's notify socket, to relay its READY from */
  notifySocket?: number;
}


export function createContainer(opts: CreateOptions): Created {
  checkId(opts.id);
  const bundle = resolve(opts.bundle);
  const pidFile = opts.pidFile ? resolve(opts.pidFile) : undefined;
  const { spec, warnings, configPath } = loadBundleConfig(bundle, { systemdCgroup: opts.systemdCgroup });
  for (const w of warnings) warn(formatProblem(w));
  debugStep("config loaded");
  if (!spec.process) throw new RuntimeError("config.json: /process: is required to create a container");
  if (!spec.root) throw new RuntimeError("config.json: /root: is required to create a container");
  checkConsole(!!spec.process.terminal, opts.detached, opts.consoleSocket);
  const lsm = lsmFor(spec.process, "config.json: process");
  checkMountLabel(spec.linux?.mountLabel);
  checkProcMounts(spec);
  const resourceProblems = validateResources(spec.linux?.resources, { mode: detectCgroupMode(), file: configPath, hugePageSizes: hugePageSizes() });
  if (resourceProblems.some((p) => p.severity === "error")) throw new SpecError(resourceProblems);
  for (const w of resourceProblems) warn(formatProblem(w));
  const rootfs = rootfsOf(spec.root, bundle);

  const idMaps = prepareIdMaps(spec);

  const listenFds = inheritedListenFds();
  const preservedFds = listenFds + (opts.preserveFds ?? 0);
  checkPreservedFds(preservedFds);

  ensureRoot(opts.root);
  if (!createContainerDir(opts.root, opts.id)) throw new RuntimeError("container with given ID already exists");
  const undo = new Undo();
  undo.push(() => removeContainerDir(opts.root, opts.id));
  try {
    const release = lockContainer(opts.root, opts.id);
    undo.push(release);
    const pidfdSocket = PidfdSocket.connect(opts.pidfdSocket);
    if (pidfdSocket) undo.push(() => pidfdSocket.close());
    const fifo = opts.waitForStart ? fifoPath(opts.root, opts.id) : undefined;
    if (fifo) native.mkfifo(fifo, 0o622);
    const notifySocketDir = hostNotifySocket() ? makeNotifyDir(opts.root, opts.id) : undefined;
    // run: bound before the process can send; create: start binds it
    const notifySocket = fifo ? undefined : bindNotifySocket(opts.root, opts.id);
    if (notifySocket !== undefined) undo.push(() => native.close(notifySocket));

    const cgroup = cgroupManagerFor({
      id: opts.id,
      cgroupsPath: spec.linux?.cgroupsPath,
      systemd: opts.systemdCgroup,
      rootless: opts.rootless,
      annotations: spec.annotations,
    });
    cgroup.create();
    undo.push(() => cgroup.destroy());
    for (const w of cgroup.takeWarnings()) warn(w);
    // If tsrun dies before the end (a signal, a crash), delete can still find and remove the cgroup.
    const partial: StoredState = {
      ociVersion: spec.ociVersion, id: opts.id, initPid: 0, initStartTime: "", bundle, rootfs,
      created: nowRfc3339Nano(), annotations: spec.annotations, cgroup: cgroup.saved,
      pidNamespace: hasNamespace(spec, "pid"), namespaces: [], rootless: !!opts.rootless,
    };
    writeState(opts.root, partial);
    const { devices: deviceRules, ...resources } = spec.linux?.resources ?? {};
    const devices = containerDeviceRules(deviceRules, spec.linux?.devices);
    // device rules wait until the init has made the device nodes (Step.DEVICE_RULES), or until
    // it is in its cgroup when it makes none (no mount namespace)
    const applyDeviceRules = () => {
      for (const w of cgroup.set({ devices })) warn(w);
    };
    for (const w of cgroup.set(resources)) warn(w);
    debugStep("cgroup ready");

    const host: HostFacts = {
      statKind,
      cgroupPaths: cgroupMountPaths(cgroup),
      cgroupV2: cgroup.saved.driver === "v2",
      cgroup2Path: cgroup.saved.driver === "v2" ? cgroup.saved.paths[""] : undefined,
      inUserNamespace: inUserNamespace(),
      mountPointOf,
    };
    const extraFds: number[] = [];
    let terminal: TerminalChannel | undefined;
    if (opts.consoleSocket) {
      const sock = openConsoleSocket(opts.consoleSocket);
      undo.push(() => native.close(sock));
      extraFds.push(sock);
    } else if (needsForegroundTerminal(!!spec.process.terminal, opts.detached, opts.consoleSocket)) {
      const channel = terminalChannel();
      terminal = channel;
      undo.push(() => channel.close());
      extraFds.push(channel.initEnd);
    }
    const idmappedMountFds: Record<number, number> = {};
    for (const [index, tree] of makeIdmappedMounts(spec, bundle, undo)) {
      idmappedMountFds[index] = extraFdNumber(preservedFds, extraFds.length);
      extraFds.push(tree);
    }
    const seccomp = spec.linux?.seccomp ? compileSeccompFor(spec) : undefined;
    const agent = seccompAgentOf(spec.linux?.seccomp, bundle);
    const program = compile(spec, {
      bundle,
      rootfs,
      fifoPath: fifo,
      noPivot: opts.noPivot,
      preservedFds,
      extraEnv: [
        ...(listenFds ? [`LISTEN_FDS=${listenFds}`, "LISTEN_PID=1"] : []),
        ...(notifySocketDir ? [`NOTIFY_SOCKET=${createsNamespace(spec, "mount") ? NOTIFY_SOCKET_IN_CONTAINER : join(notifySocketDir, "notify.sock")}`] : []),
      ],
      notifySocketDir,
      consoleFd: opts.consoleSocket || terminal ? extraFdNumber(preservedFds, 0) : undefined,
      idmappedMountFds,
      foregroundTerminal: terminal !== undefined && process.stdout.isTTY === true,
      seccomp,
      lsm,
      setgroupsDenied: idMaps?.denySetgroups,
    }, host);
    for (const w of program.warnings ?? []) warn(w);
    debugStep("program compiled");

    if (opts.subreaper) native.setSubreaper(true);
    const hookState = (status: string, pid?: number) => hookStateOf(partial, status, pid);
    const oomKillsBefore = cgroup.oomKillCount();
    const { pid, execReport } = explainOom(cgroup, oomKillsBefore, spec, () => driveInitToReady(program, { preservedFds, extraFds }, undo, (initPid) => {
      // from here on a tsrun killed half way leaves a state delete -f can find the init by
      partial.initPid = initPid;
      partial.initStartTime = procStat(initPid)?.startTime ?? "";
      writeState(opts.root, partial);
      if (idMaps) writeIdMaps(initPid, spec, idMaps);
      cgroup.apply(initPid);
      for (const w of cgroup.takeWarnings()) warn(w);
      if (!createsNamespace(spec, "mount")) applyDeviceRules();
      // what startContainer hooks read: the pid as the container sees it
      return spec.hooks?.startContainer?.length ? JSON.stringify(hookState("created", namespacePid(initPid))) : "";
    }, (marker, initPid, sock) => {
      if (marker === Step.DEVICE_RULES) return applyDeviceRules();
      if (marker === Step.SECCOMP_LISTENER) return passListener(sock, agent, initPid, hookState("creating", initPid));
      if (marker !== Step.CREATE_HOOKS) return;
      const state = hookState("creating", initPid);
      runHostHooks("prestart", spec.hooks?.prestart, state, true);
      runHostHooks("createRuntime", spec.hooks?.createRuntime, state, true);
      runContainerHooks("createContainer", spec.hooks?.createContainer, state, initPid);
      debugStep("create hooks done");
    }));
    debugStep("init ready");
    let report: ExecReport | undefined;
    if (fifo) native.close(execReport); // from here on the init reports through exec.fifo, to start
    else {
      report = { fd: execReport, ops: program.ops };
      undo.push(() => native.close(execReport));
    }
    pidfdSocket?.send(pid, "standard");

    const stat = procStat(pid);
    const state: StoredState = {
      ...partial,
      initPid: pid,
      initStartTime: stat?.startTime ?? "",
      created: nowRfc3339Nano(),
      cgroup: cgroup.saved, // rootless: without what apply() could not join
      namespaces: (spec.linux?.namespaces ?? []).map((n) => ({ type: n.type, path: n.path })),
      process: spec.process,
      hooks: spec.hooks,
      seccomp: seccomp && { bpf: seccomp.bpf.toString("base64"), flags: seccomp.flags, agent },
      startOps: fifo ? opsAfterReady(program) : undefined,
    };
    writeState(opts.root, state);
    if (pidFile) writePidFile(pidFile, pid);
    pidfdSocket?.close();
    release();
    return { state, pid, terminal, execReport: report, notifySocket };
  } catch (e) {
    undo.run();
    throw e;
  }
}

/** An init that died while starting, in a cgroup whose OOM killer fired meanwhile: the memory limit is why. */
function explainOom<T>(cgroup: CgroupManager, before: number | undefined, spec: Spec, start: () => T): T {
  try {
    return start();
  } catch (e) {
    const after = e instanceof InitGoneError ? cgroup.oomKillCount() : undefined;
    if (after === undefined || after <= (before ?? 0)) throw e;
    const limit = spec.linux?.resources?.memory?.limit;
    throw new RuntimeError(`config.json: /linux/resources/memory/limit: the container's init was killed by the OOM killer while starting: a memory limit of ${limit ?? "(unset)"} bytes is too small to start the container`);
  }
}

/**
 * /proc must be a procfs, and nothing may be mounted inside it but lxcfs-style files: otherwise
 * masked paths could be dodged, and paths the runtime trusts would be the image's (CVE-2019-16884).
 * Here by the spelling of the destination; the init checks again where it really leads (symlinks).
 */
function checkProcMounts(spec: Spec): void {
  (spec.mounts ?? []).forEach((m, i) => {
    const dest = normalDestination(m.destination);
    if (dest === "/proc" && m.type !== "proc")
      throw new RuntimeError(`config.json: /mounts/${i}: ${JSON.stringify(m.destination)} is /proc, where only a proc filesystem may be mounted, not ${JSON.stringify(m.type ?? m.source)}`);
    if (dest.startsWith("/proc/") && !PROC_BIND_ALLOWED.has(dest))
      throw new RuntimeError(`config.json: /mounts/${i}: mounting over ${dest} is refused: only ${[...PROC_BIND_ALLOWED].join(", ")} may be mounted inside /proc`);
  });
}

function compileSeccompFor(spec: Spec): SeccompProgram {
  let compiled;
  try {
    compiled = compileSeccomp(spec.linux!.seccomp!);
  } catch (e) {
    throw new RuntimeError(`config.json: /linux/seccomp: ${(e as Error).message}`);
  }
  for (const w of compiled.warnings) debug(w);
  debugStep("seccomp compiled");
  return { bpf: compiled.bpf, flags: compiled.flags, listener: compiled.needsNotify };
}

/** Directories a v1 "cgroup" mount binds into the container: its own cgroup of each hierarchy. */
function cgroupMountPaths(cgroup: CgroupManager): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, dir] of Object.entries(cgroup.saved.paths)) if (name) out[name] = dir;
  return out;
}

/**
 * fds 3..3+n-1 must be ones the caller passed. tsrun's runtime (Bun) opens its event loop's fds at
 * the lowest free numbers before any of our code runs, and marks inherited fds close-on-exec, so
 * flags cannot tell them apart: its eventpoll and eventfd are refused by kind instead.
 */
export function checkPreservedFds(n: number): void {
  for (let i = 0; i < n; i++) {
    const fd = 3 + i;
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      throw new RuntimeError(`unable to stat preserved-fd ${i} (of ${n}): fd ${fd}: no such file or directory`);
    }
    if (target === "anon_inode:[eventpoll]" || target === "anon_inode:[eventfd]")
      throw new RuntimeError(`unable to stat preserved-fd ${i} (of ${n}): fd ${fd} was not passed by the caller`);
  }
}

function inheritedListenFds(): number {
  const pid = Number(process.env.LISTEN_PID);
  const n = Number(process.env.LISTEN_FDS);
  return pid === process.pid && Number.isInteger(n) && n > 0 ? n : 0;
}

/** root.path on the host (relative to the bundle), which must be a directory. */
export function rootfsOf(root: NonNullable<Spec["root"]>, bundle: string): string {
  const rootfs = isAbsolute(root.path) ? root.path : resolve(bundle, root.path);
  if (statKind(rootfs) !== "dir") throw new RuntimeError(`config.json: /root/path: rootfs ${rootfs} does not exist or is not a directory`);
  const problem = rootPathProblem(root.path, bundle, realPathOrUndefined);
  if (problem) throw new RuntimeError(`config.json: /root/path: ${problem}`);
  return rootfs;
}

/** The mount point of the mount `path` is on, in tsrun's mount namespace (the longest that holds it). */
export function mountPointOf(path: string): string {
  path = realpathSync(path);
  let best = "/";
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const field = line.split(" ")[4];
    if (!field) continue;
    const mp = field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if ((path === mp || path.startsWith(mp === "/" ? "/" : mp + "/")) && mp.length > best.length) best = mp;
  }
  return best;
}

function realPathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

export function statKind(path: string): "dir" | "file" | "missing" {
  try {
    return statSync(path).isDirectory() ? "dir" : "file";
  } catch {
    return "missing";
  }
}

export function nowRfc3339Nano(): string {
  const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.678Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  return iso.slice(0, 19) + (frac ? "." + frac : "") + "Z";
}

