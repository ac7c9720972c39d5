// Shared helpers of the conformance suite: the runtime under test, bundles,
// running the probe, waiting for states, and cleaning up after every test.
//
// The runtime is the binary named by $RUNTIME (default: <repo>/dist/tsrun),
// always called with `--root <fresh temp dir>`.
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  statSync,
} from "node:fs";
import { join, resolve } from "node:path";
import {
  consoleRecvPath,
  ensureProbe,
  makeBundle,
  repoRoot,
  type Bundle,
  type BundleOptions,
  type OciConfig,
  type OciHook,
} from "../bundle-fixtures/rootfs.js";

export { makeBundle, type Bundle, type OciConfig, type OciHook };

/** Path of the console-socket receiver, built on demand. */
export function consoleRecv(): string {
  ensureProbe();
  return consoleRecvPath;
}

export const RUNTIME: string = resolve(repoRoot, process.env.RUNTIME ?? "dist/tsrun");

function detectRunc(): boolean {
  const forced = process.env.CONFORMANCE_RUNC_DEVIATIONS;
  if (forced === "1" || forced === "0") return forced === "1";
  try {
    const r = spawnSync(RUNTIME, ["--version"], { encoding: "utf8", timeout: 10000 });
    const out = r.stdout ?? "";
    // runc 1.1.x itself, not another runtime that mimics runc's version line.
    return /^runc version 1\.1\./m.test(out) && !/tsrun|crun|youki/i.test(out);
  } catch {
    return false;
  }
}

/** True when the runtime under test is runc 1.1 (override: CONFORMANCE_RUNC_DEVIATIONS=1|0). */
export const isRunc: boolean = detectRunc();

/** True when the runtime under test is tsrun (its --version names it). */
export const isTsrun: boolean = (() => {
  try {
    return /^tsrun: /m.test(spawnSync(RUNTIME, ["--version"], { encoding: "utf8", timeout: 10000 }).stdout ?? "");
  } catch {
    return false;
  }
})();

/**
 * Deviations tsrun keeps on purpose, because the engines depend on runc's behaviour there (see
 * conformance/README.md). Against tsrun the matching assertions are TODO with this reason.
 */
export const TSRUN_COMPAT_DEVIATIONS: Partial<Record<string, string>> = {
  deleteCreated:
    "tsrun keeps runc's behaviour on purpose: containerd's shim deletes a created-but-never-started task with a plain `delete` and relies on it succeeding (../shared/runc-cli.md, delete)",
};

/**
 * Known, documented deviations of runc 1.1.5 from the specification (see
 * conformance/README.md). Against runc the matching assertions are marked
 * TODO (they still run and report what runc does); against any other
 * runtime they are ordinary assertions.
 */
export const RUNC_DEVIATIONS = {
  deleteCreated:
    "runc deletes a `created` container without --force; runtime.md#delete says deleting a container that is not stopped MUST be an error",
  umaskInherit:
    "runc always sets umask 0022 when process.user.umask is unset; config.md#posix-platform-user says the umask should not be changed",
  personality: "runc 1.1.5 ignores linux.personality",
  timeNamespace: "runc 1.1.5 does not support the time namespace (added in runc 1.2)",
  rlimitDuplicate: "runc 1.1.5 accepts duplicated rlimits types",
  deviceExists:
    "runc replaces (bind-mounts over) an existing non-device file at a linux.devices path instead of generating an error",
  idmapNoUserns: "runc 1.1.5 does not know the idmap option and silently ignores it on bind mounts",
  errnoRetKill: "runc 1.1.5 accepts errnoRet on an action that has no errno",
  poststartFailure:
    "runc 1.1.5 treats a failing poststart hook as an error (of create, where it runs poststart) and destroys the container; runtime.md#lifecycle step 9 says log a warning and continue",
  mountDefaults:
    "runc 1.1.5 does not know the `defaults` mount option and passes it to the filesystem as data (tmpfs then fails with EINVAL)",
  domainname: "runc 1.1.5 ignores the domainname property",
  poststartAtCreate:
    "runc 1.1.5 runs the poststart hooks during create, before startContainer and before the user program is executed (fixed in runc 1.2)",
  startContainerFailure:
    "runc 1.1.5 `start` exits 0 when a startContainer hook fails (the init reports the failure nowhere); the program does not run",
  poststopFailure: "runc 1.1.5 stops running the remaining poststop hooks after the first one fails",
  concurrentDeletePoststop:
    "runc 1.1.5 runs the poststop hooks once per concurrent `delete --force` that gets past its state check (17 runs for 10 containers, 4 deletes each, on the development machine)",
  rootfsShared:
    "runc 1.1.5 leaves the rootfs mount private with rootfsPropagation shared (it makes the rootfs parent private before binding the rootfs)",
  rootfsUnbindable: "runc 1.1.5 fails to create the container with rootfsPropagation unbindable (EINVAL binding the rootfs)",
  listedDeviceAccess:
    "runc 1.1.5 creates the linux.devices node but its device cgroup denies access to it unless resources.devices allows it explicitly",
} as const;

export type Deviation = keyof typeof RUNC_DEVIATIONS;

/** Assertion options: TODO with the reason when the runtime is runc. */
export function dev(key: Deviation): { todo?: string } {
  if (isRunc) return { todo: RUNC_DEVIATIONS[key] };
  const compat = isTsrun ? TSRUN_COMPAT_DEVIATIONS[key] : undefined;
  return compat ? { todo: compat } : {};
}

export interface RtResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  error?: Error;
}

function toResult(r: SpawnSyncReturns<string>): RtResult {
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? "",
    stderr: r.stderr ?? "",
    error: r.error,
  };
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Poll fn every 20 ms until it returns a truthy value or timeoutMs passes. */
export function waitFor<T>(fn: () => T, timeoutMs = 5000): T | undefined {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) return undefined;
    sleepMs(20);
  }
}

export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

export function nsLink(pid: number | "self", kind: string): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return null;
  }
}

/** The probe's report (see bundle-fixtures/probe.c for every field). */
export interface ProbeReport {
  probe: number;
  argv: string[];
  pid: number;
  ppid: number;
  hostname: string;
  domainname: string;
  uname: { sysname: string; release: string; version: string; machine: string };
  personality: number;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  groups: number[];
  cwd: string;
  umask: number;
  env: string[];
  caps: Record<"effective" | "permitted" | "inheritable" | "bounding" | "ambient", { hex: string; names: string[] }>;
  no_new_privs: boolean;
  seccomp: number | null;
  oom_score_adj: number | null;
  rlimits: Record<string, { soft: number; hard: number } | null>;
  mounts: ProbeMount[];
  ns: Record<string, string | null>;
  cgroup: { hierarchy: number; controllers: string; path: string }[];
  uid_map: number[][] | null;
  gid_map: number[][] | null;
  devices: ProbeDevice[];
  fds: { fd: number; target: string | null }[];
  root_readonly: boolean | null;
  sysctl: Record<string, string | null>;
  actions: ProbeAction[];
  stdio: { fd: number; isatty: boolean; target: string | null }[];
  clocks: { monotonic: number; boottime: number; realtime: number };
  winsize: { rows: number; cols: number } | null;
  label: string | null;
}
export interface ProbeMount {
  id: number;
  parent: number;
  root: string;
  mount_point: string;
  options: string[];
  optional: string[];
  propagation: string;
  fstype: string;
  source: string;
  super_options: string[];
}
export interface ProbeDevice {
  path: string;
  type: string;
  major: number;
  minor: number;
  mode: number;
  uid: number;
  gid: number;
  target: string | null;
}
export interface ProbeAction {
  op: string;
  path: string | null;
  ok: boolean;
  errno: number;
  errno_name: string | null;
  data?: string | null;
  entries?: string[] | null;
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  major?: number;
  minor?: number;
  target?: string | null;
  readonly?: boolean | null;
}

/** The last mount at a mount point (the one a process sees). */
export function mountAt(r: ProbeReport, point: string): ProbeMount | undefined {
  const ms = r.mounts.filter((m) => m.mount_point === point);
  return ms[ms.length - 1];
}

export function allOptions(m: ProbeMount | undefined): string[] {
  return m ? [...m.options, ...m.super_options] : [];
}

export function device(r: ProbeReport, path: string): ProbeDevice | undefined {
  return r.devices.find((d) => d.path === path);
}

let counter = 0;

/**
 * One per test file: a fresh temp dir with the runtime's --root, bundles and
 * scratch space; every container id handed out is force-deleted in teardown.
 */
export class Env {
  readonly tmp: string;
  readonly root: string;
  readonly ids = new Set<string>();
  readonly cgroups = new Set<string>();
  private readonly prefix: string;
  private cleanups: (() => void)[] = [];

  constructor(name: string) {
    this.tmp = mkdtempSync(`/tmp/tsrun-conf-${name}-`);
    chmodSync(this.tmp, 0o755);
    this.root = join(this.tmp, "root");
    mkdirSync(this.root, { mode: 0o700 });
    this.prefix = `conf-${name}-${process.pid}`;
  }

  /** A fresh, unique container id (registered for cleanup). */
  id(tag = "c"): string {
    const id = `${this.prefix}-${tag}-${++counter}`;
    this.ids.add(id);
    return id;
  }

  /** A unique absolute cgroups path, removed in teardown. */
  cgroupPath(tag = "cg"): string {
    const p = `/${this.prefix}-${tag}-${++counter}`;
    this.cgroups.add(p);
    return p;
  }

  /** A scratch directory (mode 0755) under the temp dir. */
  dir(tag = "d"): string {
    const d = join(this.tmp, `${tag}-${++counter}`);
    mkdirSync(d, { recursive: true, mode: 0o755 });
    chmodSync(d, 0o755);
    return d;
  }

  bundle(opts: BundleOptions = {}): Bundle {
    return makeBundle(join(this.tmp, `bundle-${++counter}`), opts);
  }

  onCleanup(fn: () => void): void {
    this.cleanups.push(fn);
  }

  /** Run the runtime with --root; stdout/stderr captured. */
  rt(args: string[], opts: { timeout?: number; input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): RtResult {
    return toResult(
      spawnSync(RUNTIME, ["--root", this.root, ...args], {
        encoding: "utf8",
        timeout: opts.timeout ?? 30000,
        killSignal: "SIGKILL",
        input: opts.input ?? "",
        cwd: opts.cwd,
        env: opts.env,
      }),
    );
  }

  /**
   * `create`, with the container's stdio on files in the bundle (a pipe would
   * keep us waiting for the container). Returns the result with the
   * runtime's stderr (read back from the file).
   */
  create(b: Bundle, id: string, extra: string[] = []): RtResult {
    this.ids.add(id);
    const out = openSync(join(b.bundle, `${id}.stdout`), "w");
    const err = openSync(join(b.bundle, `${id}.stderr`), "w");
    try {
      const r = spawnSync(RUNTIME, ["--root", this.root, "create", "--bundle", b.bundle, ...extra, id], {
        encoding: "utf8",
        timeout: 30000,
        killSignal: "SIGKILL",
        stdio: ["ignore", out, err],
      });
      const res = toResult(r);
      res.stderr = readFileSync(join(b.bundle, `${id}.stderr`), "utf8");
      return res;
    } finally {
      closeSync(out);
      closeSync(err);
    }
  }

  /** The container's stdout so far (for containers made by create()). */
  containerStdout(b: Bundle, id: string): string {
    try {
      return readFileSync(join(b.bundle, `${id}.stdout`), "utf8");
    } catch {
      return "";
    }
  }

  start(id: string): RtResult {
    return this.rt(["start", id]);
  }

  kill(id: string, signal?: string): RtResult {
    return this.rt(signal === undefined ? ["kill", id] : ["kill", id, signal]);
  }

  delete(id: string, force = false): RtResult {
    return this.rt(force ? ["delete", "--force", id] : ["delete", id]);
  }

  /** Parsed `state`, or null when the runtime reports an error. */
  state(id: string): (Record<string, unknown> & { status?: string; pid?: number }) | null {
    const r = this.rt(["state", id]);
    if (r.status !== 0) return null;
    try {
      return JSON.parse(r.stdout) as Record<string, unknown> & { status?: string; pid?: number };
    } catch {
      return null;
    }
  }

  waitStatus(id: string, status: string, timeoutMs = 5000): boolean {
    return !!waitFor(() => this.state(id)?.status === status, timeoutMs);
  }

  /**
   * `run` a bundle in the foreground and parse the probe's report from
   * stdout. report is null when the output is not one JSON object.
   */
  run(b: Bundle, id = this.id("run"), extra: string[] = []): { res: RtResult; report: ProbeReport | null; id: string } {
    this.ids.add(id);
    const res = this.rt(["run", "--bundle", b.bundle, ...extra, id]);
    let report: ProbeReport | null = null;
    const line = res.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
    if (line) {
      try {
        report = JSON.parse(line) as ProbeReport;
      } catch {
        report = null;
      }
    }
    // `run` deletes the container when it exits; make sure of it.
    if (this.state(id)) this.rt(["delete", "--force", id]);
    return { res, report, id };
  }

  /** Bundle + run with the probe and the given probe arguments. */
  probe(
    probeArgs: string[] = [],
    mutate?: (cfg: OciConfig) => void,
    rootfs?: "probe" | "busybox",
  ): { res: RtResult; report: ProbeReport | null; bundle: Bundle; id: string } {
    const bundle = this.bundle({ args: ["/probe", ...probeArgs], mutate, rootfs });
    const { res, report, id } = this.run(bundle);
    return { res, report, bundle, id };
  }

  /** Force-delete every container, remove cgroups and the temp dir. */
  cleanup(): void {
    for (const id of this.ids) {
      if (this.state(id)) this.rt(["delete", "--force", id]);
    }
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        fn();
      } catch {
        /* best effort */
      }
    }
    for (const p of this.cgroups) removeCgroup(p);
    try {
      rmSync(this.tmp, { recursive: true, force: true });
    } catch {
      /* a mount left behind would make this fail; reported by leftovers() */
    }
  }

  /** What is left in --root (should be nothing once every container is deleted). */
  rootEntries(): string[] {
    try {
      return readdirSync(this.root);
    } catch {
      return [];
    }
  }
}

/** cgroup v1 controller mount points (or the v2 root) on this host. */
export function cgroupMounts(): string[] {
  const out: string[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const parts = line.split(" ");
    const sep = parts.indexOf("-");
    if (sep < 0) continue;
    if (parts[sep + 1] === "cgroup" || parts[sep + 1] === "cgroup2") out.push(parts[4]);
  }
  return out;
}

export function cgroupV1Controller(name: string): string | null {
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const parts = line.split(" ");
    const sep = parts.indexOf("-");
    if (sep < 0 || parts[sep + 1] !== "cgroup") continue;
    const opts = (parts[sep + 3] ?? "").split(",");
    if (opts.includes(name)) return parts[4];
  }
  return null;
}

/** rmdir a cgroup path (and its children) in every hierarchy; ignore errors. */
export function removeCgroup(path: string): void {
  for (const m of cgroupMounts()) {
    const dir = join(m, path);
    rmTreeCgroup(dir);
    // Also remove now-empty parents that belong to the path.
    let p = path;
    while (p.split("/").filter(Boolean).length > 1) {
      p = p.slice(0, p.lastIndexOf("/"));
      try {
        rmdirSync(join(m, p));
      } catch {
        break;
      }
    }
  }
}

function rmTreeCgroup(dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) rmTreeCgroup(join(dir, e.name));
  }
  try {
    rmdirSync(dir);
  } catch {
    /* busy */
  }
}

export function fileText(p: string): string | null {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return null;
  }
}

export function exists(p: string): boolean {
  return existsSync(p);
}

/** Host-side feature probes, for skips. */
export const host = {
  userns: (fileText("/proc/sys/user/max_user_namespaces") ?? "0").trim() !== "0",
  timens: existsSync("/proc/self/ns/time"),
  cgroupns: existsSync("/proc/self/ns/cgroup"),
  selinux: existsSync("/sys/fs/selinux/enforce"),
  apparmor: existsSync("/sys/kernel/security/apparmor"),
  cgroupV1: cgroupV1Controller("pids") !== null,
  fuse: existsSync("/dev/fuse"),
  sysrq: existsSync("/proc/sysrq-trigger"),
  busybox: existsSync("/bin/busybox"),
};
