// Test fixtures: a static probe, minimal root filesystems and OCI bundles.
//
//   ensureProbe()                 -> absolute path of build/fixtures/probe (built on demand)
//   makeRootfs(dir, {busybox})    -> fills dir with a minimal rootfs (/probe, /etc, busybox...)
//   makeBundle(dir, {args, rootfs, mutate}) -> dir/config.json + dir/rootfs
//   defaultConfig(args)           -> the config.json makeBundle starts from (like `runc spec`)
//
// Base root filesystems are built once per probe/busybox version under
// /tmp/tsrun-fixtures and copied from there (binaries are hard-linked when
// the bundle is on the same filesystem), so making many bundles is fast.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (this file lives in <root>/bundle-fixtures/). */
export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const probeSource: string = join(repoRoot, "bundle-fixtures", "probe.c");
export const probePath: string = join(repoRoot, "build", "fixtures", "probe");
/** Receiving end of --console-socket (see bundle-fixtures/console-recv.c). */
export const consoleRecvPath: string = join(repoRoot, "build", "fixtures", "console-recv");
/** The host's end of NOTIFY_SOCKET (see bundle-fixtures/notify-recv.c). */
export const notifyRecvPath: string = join(repoRoot, "build", "fixtures", "notify-recv");
export const busyboxHostPath = "/bin/busybox";
export const fixtureCacheDir = "/tmp/tsrun-fixtures";

/** Applets linked to /bin/busybox in the busybox rootfs. */
export const busyboxApplets: readonly string[] = [
  "sh", "echo", "cat", "ls", "sleep", "id", "hostname", "true", "false",
  "mkdir", "stat", "tty", "stty", "ps", "env", "grep", "head", "touch", "rm",
  "kill", "test", "[", "printf", "readlink", "mount", "wc", "ln",
  "chmod", "uname", "pwd", "dd", "tail", "cut", "tr", "sed", "seq",
  "whoami", "ip", "nproc", "date", "xargs",
];

function isFresh(bin: string, src: string): boolean {
  try {
    return statSync(bin).mtimeMs >= statSync(src).mtimeMs;
  } catch {
    return false;
  }
}

/** Build the fixtures (probe, console-recv, notify-recv) when missing or older than their sources. */
export function ensureProbe(): string {
  const fresh =
    isFresh(probePath, probeSource) &&
    isFresh(consoleRecvPath, join(repoRoot, "bundle-fixtures", "console-recv.c")) &&
    isFresh(notifyRecvPath, join(repoRoot, "bundle-fixtures", "notify-recv.c"));
  if (!fresh) {
    execFileSync("bash", [join(repoRoot, "bundle-fixtures", "build.sh")], {
      stdio: ["ignore", "ignore", "inherit"],
    });
  }
  return probePath;
}

function hasBusybox(): boolean {
  try {
    return statSync(busyboxHostPath).isFile();
  } catch {
    return false;
  }
}

export interface RootfsOptions {
  /** Copy /bin/busybox and its applet links. Default: when /bin/busybox exists. */
  busybox?: boolean;
}

const FIXTURE_VERSION = 1;

const passwd = [
  "root:x:0:0:root:/root:/bin/sh",
  "user:x:1000:1000:user:/home/user:/bin/sh",
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
  "",
].join("\n");

const group = [
  "root:x:0:",
  "tty:x:5:",
  "user:x:1000:",
  "extra:x:1001:user",
  "nogroup:x:65534:",
  "",
].join("\n");

/** Write a base rootfs into an empty (or absent) directory. */
function buildBase(dir: string, busybox: boolean): void {
  const probe = ensureProbe();
  mkdirSync(dir, { recursive: true });
  for (const d of ["proc", "sys", "dev", "etc", "root", "bin", "home", "mnt", "run", "var", "usr"]) {
    mkdirSync(join(dir, d), { recursive: true });
    chmodSync(join(dir, d), 0o755);
  }
  mkdirSync(join(dir, "tmp"));
  chmodSync(join(dir, "tmp"), 0o1777);
  chmodSync(join(dir, "root"), 0o700);
  mkdirSync(join(dir, "home", "user"));
  chownSync(join(dir, "home", "user"), 1000, 1000);
  copyFileSync(probe, join(dir, "probe"));
  chmodSync(join(dir, "probe"), 0o755);
  writeFileSync(join(dir, "etc", "passwd"), passwd, { mode: 0o644 });
  writeFileSync(join(dir, "etc", "group"), group, { mode: 0o644 });
  writeFileSync(join(dir, "etc", "hostname"), "tsrun-fixture\n", { mode: 0o644 });
  writeFileSync(join(dir, "etc", "hosts"), "127.0.0.1 localhost\n", { mode: 0o644 });
  if (busybox) {
    copyFileSync(busyboxHostPath, join(dir, "bin", "busybox"));
    chmodSync(join(dir, "bin", "busybox"), 0o755);
    for (const a of new Set(busyboxApplets)) symlinkSync("busybox", join(dir, "bin", a));
    symlinkSync("bin", join(dir, "sbin"));
  }
}

function fileKey(p: string): string {
  try {
    const st = statSync(p);
    return `${st.size}-${Math.floor(st.mtimeMs)}-${st.ino}`;
  } catch {
    return "none";
  }
}

/** Path of the cached base rootfs (built on first use). */
export function cachedBase(busybox: boolean): string {
  const probe = ensureProbe();
  const key = [
    `v${FIXTURE_VERSION}`,
    busybox ? "bb" : "probe",
    fileKey(probe),
    busybox ? fileKey(busyboxHostPath) : "",
  ].join("-");
  const base = join(fixtureCacheDir, `rootfs-${key}`);
  if (existsSync(join(base, ".complete"))) return base;
  mkdirSync(fixtureCacheDir, { recursive: true, mode: 0o755 });
  const tmp = mkdtempSync(join(fixtureCacheDir, ".build-"));
  chmodSync(tmp, 0o755);
  buildBase(tmp, busybox);
  writeFileSync(join(tmp, ".complete"), "");
  try {
    renameSync(tmp, base);
  } catch {
    // Another process won the race: use its copy.
    rmSync(tmp, { recursive: true, force: true });
  }
  pruneStaleBases(base);
  return base;
}

/** Remove cached bases of older probe/busybox builds (unused for 10 minutes). */
function pruneStaleBases(keep: string): void {
  const cutoff = Date.now() - 10 * 60 * 1000;
  for (const e of readdirSync(fixtureCacheDir)) {
    const p = join(fixtureCacheDir, e);
    if (p === keep || !(e.startsWith("rootfs-") || e.startsWith(".build-"))) continue;
    try {
      if (statSync(p).mtimeMs < cutoff) rmSync(p, { recursive: true, force: true });
    } catch {
      /* raced with another process */
    }
  }
}

/** Copy a tree: directories and small files copied, executables hard-linked. */
function copyTree(src: string, dst: string): void {
  const st = lstatSync(src);
  if (st.isDirectory()) {
    mkdirSync(dst, { recursive: true });
    chmodSync(dst, st.mode & 0o7777);
    for (const e of readdirSync(src)) {
      if (e === ".complete") continue;
      copyTree(join(src, e), join(dst, e));
    }
    chownSync(dst, st.uid, st.gid);
  } else if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(src), dst);
  } else if (st.isFile()) {
    let linked = false;
    if (st.mode & 0o111) {
      try {
        linkSync(src, dst);
        linked = true;
      } catch {
        linked = false;
      }
    }
    if (!linked) {
      copyFileSync(src, dst);
      chmodSync(dst, st.mode & 0o7777);
      chownSync(dst, st.uid, st.gid);
    }
  }
}

/** Create a minimal rootfs in dir (created when missing). */
export function makeRootfs(dir: string, opts: RootfsOptions = {}): string {
  const busybox = opts.busybox ?? hasBusybox();
  if (busybox && !hasBusybox()) throw new Error(`makeRootfs: ${busyboxHostPath} is not installed`);
  copyTree(cachedBase(busybox), dir);
  return dir;
}

// ---------------------------------------------------------------- config.json

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
  [k: string]: unknown;
}
export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}
export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}
export interface OciNamespace {
  type: string;
  path?: string;
}
export interface OciDevice {
  type: string;
  path: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}
export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: { uid: number; gid: number; umask?: number; additionalGids?: number[]; username?: string };
  args?: string[];
  env?: string[];
  cwd: string;
  capabilities?: {
    bounding?: string[];
    effective?: string[];
    inheritable?: string[];
    permitted?: string[];
    ambient?: string[];
  };
  rlimits?: { type: string; soft: number; hard: number }[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
  [k: string]: unknown;
}
export interface OciLinux {
  namespaces?: OciNamespace[];
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
  devices?: OciDevice[];
  cgroupsPath?: string;
  resources?: Record<string, unknown>;
  sysctl?: Record<string, string>;
  seccomp?: Record<string, unknown>;
  rootfsPropagation?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  personality?: { domain: string; flags?: string[] };
  [k: string]: unknown;
}
export interface OciConfig {
  ociVersion: string;
  process?: OciProcess;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: OciMount[];
  hooks?: {
    prestart?: OciHook[];
    createRuntime?: OciHook[];
    createContainer?: OciHook[];
    startContainer?: OciHook[];
    poststart?: OciHook[];
    poststop?: OciHook[];
  };
  annotations?: Record<string, string>;
  linux?: OciLinux;
  [k: string]: unknown;
}

export const defaultCaps: readonly string[] = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/** The config `runc spec` writes, with terminal false and the given args. */
export function defaultConfig(args: string[] = ["/probe"]): OciConfig {
  const caps = (): string[] => [...defaultCaps];
  return {
    ociVersion: "1.0.2-dev",
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
      cwd: "/",
      capabilities: {
        bounding: caps(),
        effective: caps(),
        permitted: caps(),
        ambient: caps(),
      },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "tsrun",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      {
        destination: "/dev",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
      },
      {
        destination: "/dev/pts",
        type: "devpts",
        source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
      },
      {
        destination: "/dev/shm",
        type: "tmpfs",
        source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
      },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      {
        destination: "/sys/fs/cgroup",
        type: "cgroup",
        source: "cgroup",
        options: ["nosuid", "noexec", "nodev", "relatime", "ro"],
      },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      maskedPaths: [
        "/proc/acpi",
        "/proc/asound",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/sched_debug",
        "/sys/firmware",
        "/proc/scsi",
      ],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

export interface BundleOptions {
  /** process.args. Default ["/probe"]. */
  args?: string[];
  /** Which base rootfs. Default "busybox" when /bin/busybox exists, else "probe". */
  rootfs?: "probe" | "busybox";
  /** Edit the config before it is written. */
  mutate?: (cfg: OciConfig) => void;
}

export interface Bundle {
  bundle: string;
  configPath: string;
  rootfs: string;
  config: OciConfig;
}

/** Create dir (if needed) with dir/rootfs and dir/config.json. */
export function makeBundle(dir: string, opts: BundleOptions = {}): Bundle {
  const bundle = resolve(dir);
  mkdirSync(bundle, { recursive: true });
  const kind = opts.rootfs ?? (hasBusybox() ? "busybox" : "probe");
  const rootfs = join(bundle, "rootfs");
  makeRootfs(rootfs, { busybox: kind === "busybox" });
  const config = defaultConfig(opts.args ?? ["/probe"]);
  if (opts.mutate) opts.mutate(config);
  const configPath = join(bundle, "config.json");
  writeFileSync(configPath, JSON.stringify(config, null, "\t") + "\n");
  return { bundle, configPath, rootfs, config };
}

/** Rewrite a bundle's config.json. */
export function writeConfig(b: Bundle, cfg: OciConfig = b.config): void {
  b.config = cfg;
  writeFileSync(b.configPath, JSON.stringify(cfg, null, "\t") + "\n");
}
