// create: validate the bundle, compile the init program, start tsrun-init and drive it to ready.
// Any failure undoes everything made so far (cgroup, state directory, the half-started init).
import { constants as osConstants } from "node:os";
import { statSync, writeFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { cgroupManagerFor, containerDeviceRules } from "../cgroups/index.js";
import type { CgroupManager } from "../cgroups/types.js";
import { compile, createsNamespace, hasNamespace, type HostFacts } from "../plan/compile.js";
import { MsgType, type Program } from "../plan/ops.js";
import { encodeProgram } from "../plan/wire.js";
import { loadBundleConfig } from "../spec/load.js";
import type { Spec } from "../spec/types.js";
import {
  createContainerDir, ensureRoot, fifoPath, lockContainer, removeContainerDir, writePidFile, writeState,
  type StoredState,
} from "../state/store.js";
import { native, procStat, signalPid } from "../syscalls/index.js";
import { checkId } from "./container.js";
import { RuntimeError } from "./errors.js";
import { debugStep, warn } from "./log.js";

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
}

export interface Created {
  state: StoredState;
  pid: number;
}

const INIT_TIMEOUT_MS = 60_000;

export function createContainer(opts: CreateOptions): Created {
  checkId(opts.id);
  const bundle = resolve(opts.bundle);
  const pidFile = opts.pidFile ? resolve(opts.pidFile) : undefined;
  const { spec, warnings } = loadBundleConfig(bundle);
  for (const w of warnings) warn(`${w.file}: ${w.pointer}: ${w.message}`);
  debugStep("config loaded");
  if (!spec.process) throw new RuntimeError("config.json: /process: is required to create a container");
  if (!spec.root) throw new RuntimeError("config.json: /root: is required to create a container");
  const rootfs = isAbsolute(spec.root.path) ? spec.root.path : resolve(bundle, spec.root.path);
  if (statKind(rootfs) !== "dir") throw new RuntimeError(`config.json: /root/path: rootfs ${rootfs} does not exist or is not a directory`);

  const listenFds = inheritedListenFds();
  const preservedFds = listenFds + (opts.preserveFds ?? 0);
  for (let i = 0; i < preservedFds; i++) {
    try {
      statSync(`/proc/self/fd/${3 + i}`);
    } catch (e) {
      throw new RuntimeError(`unable to stat preserved-fd ${i} (of ${preservedFds}): ${(e as Error).message}`);
    }
  }

  ensureRoot(opts.root);
  if (!createContainerDir(opts.root, opts.id)) throw new RuntimeError("container with given ID already exists");
  const undo = new Undo();
  undo.push(() => removeContainerDir(opts.root, opts.id));
  try {
    const release = lockContainer(opts.root, opts.id);
    undo.push(release);
    const fifo = opts.waitForStart ? fifoPath(opts.root, opts.id) : undefined;
    if (fifo) native.mkfifo(fifo, 0o622);

    const cgroup = cgroupManagerFor({
      id: opts.id,
      cgroupsPath: spec.linux?.cgroupsPath,
      systemd: opts.systemdCgroup,
      rootless: opts.rootless,
    });
    cgroup.create();
    undo.push(() => cgroup.destroy());
    const resources = spec.linux?.resources ?? {};
    const devices = containerDeviceRules(resources.devices, spec.linux?.devices);
    for (const w of cgroup.set({ ...resources, devices })) warn(w);
    debugStep("cgroup ready");

    const host: HostFacts = {
      statKind,
      cgroupPaths: cgroupMountPaths(cgroup),
      cgroupV2: cgroup.saved.driver === "v2",
    };
    const program = compile(spec, {
      bundle,
      rootfs,
      fifoPath: fifo,
      noPivot: opts.noPivot,
      preservedFds,
      extraEnv: listenFds ? [`LISTEN_FDS=${listenFds}`, "LISTEN_PID=1"] : [],
    }, host);
    for (const w of program.warnings ?? []) warn(w);
    debugStep("program compiled");

    if (opts.subreaper) native.setSubreaper(true);
    const pid = runInit(program, preservedFds, spec, cgroup, undo);
    debugStep("init ready");

    const stat = procStat(pid);
    const state: StoredState = {
      ociVersion: spec.ociVersion,
      id: opts.id,
      initPid: pid,
      initStartTime: stat?.startTime ?? "",
      bundle,
      rootfs,
      created: nowRfc3339Nano(),
      annotations: spec.annotations,
      cgroup: cgroup.saved,
      pidNamespace: hasNamespace(spec, "pid"),
      namespaces: (spec.linux?.namespaces ?? []).map((n) => ({ type: n.type, path: n.path })),
      rootless: !!opts.rootless,
    };
    writeState(opts.root, state);
    if (pidFile) writePidFile(pidFile, pid);
    release();
    return { state, pid };
  } catch (e) {
    undo.run();
    throw e;
  }
}

/** Starts tsrun-init, feeds it the program and answers it until it is ready. Returns the init pid. */
function runInit(program: Program, preservedFds: number, spec: Spec, cgroup: CgroupManager, undo: Undo): number {
  const { pid: stage0, sock } = native.spawnInit(preservedFds);
  let initPid = 0;
  let sockOpen = true;
  const closeSock = () => {
    if (sockOpen) native.close(sock);
    sockOpen = false;
  };
  undo.push(() => {
    closeSock();
    if (initPid > 0) {
      try {
        signalPid(initPid, osConstants.signals.SIGKILL);
      } catch {
        // already gone
      }
      waitGone(initPid);
    }
  });
  try {
    native.writeAll(sock, encodeProgram(program));
    const first = expectMessage(sock, program);
    if (first.type !== MsgType.PID) throw new RuntimeError("tsrun-init: protocol error: expected the container pid");
    initPid = first.a;
  } finally {
    native.waitpid(stage0);
  }
  if (createsNamespace(spec, "user")) writeIdMaps(initPid, spec);
  cgroup.apply(initPid);
  native.writeAll(sock, Buffer.from("G"));
  const ready = expectMessage(sock, program);
  if (ready.type !== MsgType.READY) throw new RuntimeError("tsrun-init: protocol error: expected ready");
  closeSock();
  return initPid;
}

function expectMessage(sock: number, program: Program) {
  const msg = native.readMsg(sock, INIT_TIMEOUT_MS);
  if (!msg) throw new RuntimeError("container init exited before it was ready");
  if (msg.type === MsgType.ERROR) throw new RuntimeError(describeInitError(program, msg.a, msg.b, msg.detail));
  return msg;
}

export function describeInitError(program: Program, index: number, errno: number, detail: string): string {
  const op = program.ops[index];
  if (!op) return `tsrun-init: ${detail || errnoText(errno)}`;
  if (op.op === "FIND_EXEC") {
    const name = String(op.strs?.[0] ?? "");
    if (name.includes("/")) return `exec: ${JSON.stringify(name)}: stat ${name}: ${errnoText(errno)}`;
    return `exec: ${JSON.stringify(name)}: executable file not found in $PATH`;
  }
  return `${op.origin}: ${op.what}: ${errnoText(errno)}`;
}

const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));
const ERRNO_TEXT: Record<string, string> = {
  EPERM: "operation not permitted", ENOENT: "no such file or directory", EACCES: "permission denied",
  EINVAL: "invalid argument", EEXIST: "file exists", ENOTDIR: "not a directory", EISDIR: "is a directory",
  EBUSY: "device or resource busy", ENOSPC: "no space left on device", EROFS: "read-only file system",
  ELOOP: "too many levels of symbolic links", EXDEV: "invalid cross-device link", ENODEV: "no such device",
  ENOMEM: "cannot allocate memory", ENOSYS: "function not implemented", ENAMETOOLONG: "file name too long",
  E2BIG: "argument list too long", ENOEXEC: "exec format error", EOVERFLOW: "value too large for defined data type",
  ESRCH: "no such process", EBADF: "bad file descriptor", EPROTO: "protocol error", EAGAIN: "resource temporarily unavailable",
};

export function errnoText(errno: number): string {
  const name = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
  const text = ERRNO_TEXT[name];
  return text ? `${text} (${name})` : name;
}

function writeIdMaps(pid: number, spec: Spec): void {
  const lines = (maps: { containerID: number; hostID: number; size: number }[] = []) =>
    maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");
  try {
    writeFileSync(`/proc/${pid}/uid_map`, lines(spec.linux?.uidMappings));
  } catch (e) {
    throw new RuntimeError(`linux.uidMappings: write /proc/${pid}/uid_map: ${(e as Error).message}`);
  }
  try {
    writeFileSync(`/proc/${pid}/gid_map`, lines(spec.linux?.gidMappings));
  } catch (e) {
    throw new RuntimeError(`linux.gidMappings: write /proc/${pid}/gid_map: ${(e as Error).message}`);
  }
}

/** Directories a v1 "cgroup" mount binds into the container: its own cgroup of each hierarchy. */
function cgroupMountPaths(cgroup: CgroupManager): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, dir] of Object.entries(cgroup.saved.paths)) if (name) out[name] = dir;
  return out;
}

function inheritedListenFds(): number {
  const pid = Number(process.env.LISTEN_PID);
  const n = Number(process.env.LISTEN_FDS);
  return pid === process.pid && Number.isInteger(n) && n > 0 ? n : 0;
}

export function statKind(path: string): "dir" | "file" | "missing" {
  try {
    return statSync(path).isDirectory() ? "dir" : "file";
  } catch {
    return "missing";
  }
}

/** Waits (briefly) until a killed pid is gone, so its cgroup can be removed. */
export function waitGone(pid: number, timeoutMs = 2000): void {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const st = procStat(pid);
    if (!st || st.state === "Z" || st.state === "X") return;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
  }
}

export function nowRfc3339Nano(): string {
  const ns = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-01-02T03:04:05.678Z
  const frac = (ns % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  return iso.slice(0, 19) + (frac ? "." + frac : "") + "Z";
}

/** Cleanup actions run in reverse order when create fails. */
class Undo {
  private actions: (() => void)[] = [];
  push(action: () => void): void {
    this.actions.push(action);
  }
  run(): void {
    for (const action of this.actions.reverse()) {
      try {
        action();
      } catch {
        // keep undoing the rest
      }
    }
  }
}
