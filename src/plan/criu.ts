// The criu command lines of `checkpoint` and `restore`, built from the container's config, its
// recorded state and the command's flags. Pure: host facts come in through CriuHostFacts.
//
// tsrun drives criu through its command line, not its RPC (`criu swrk` + protobuf). Every option
// runc sets over RPC that tsrun supports has a CLI twin with the same meaning: external mounts and
// namespaces (--external, --inherit-fd), the cgroup root on restore (--cgroup-root), the freezer
// (--freeze-cgroup), the container's stdio pipes (--inherit-fd), and a restored init that is our
// child (--restore-detached --restore-sibling, its pid from --pidfile). What only RPC offers are
// notifications: orphan-pts-master (the pty master of a terminal container, refused with a clear
// error) and the setup-namespaces callback where runc runs prestart/createRuntime hooks on restore
// (warned about). In exchange no protobuf codec or socket protocol is needed.
import type { Spec } from "../spec/types.js";
import { parseMountOptions } from "./mount-options.js";

export const DUMP_LOG = "dump.log";
export const RESTORE_LOG = "restore.log";
/** Paths of the init's stdio at checkpoint time (runc's file name and format). */
export const DESCRIPTORS_FILE = "descriptors.json";

export const MANAGE_CGROUPS_MODES = ["soft", "full", "strict", "ignore"] as const;

/** The flags runc's checkpoint and restore share. */
export interface CriuCommonOptions {
  imagePath: string;
  workPath: string;
  tcpEstablished?: boolean;
  extUnixSk?: boolean;
  shellJob?: boolean;
  fileLocks?: boolean;
  manageCgroupsMode?: string;
  emptyNs?: string[];
  autoDedup?: boolean;
  lazyPages?: boolean;
}

export interface CheckpointOptions extends CriuCommonOptions {
  /** Relative to imagePath, as runc requires. */
  parentPath?: string;
  leaveRunning?: boolean;
  tcpSkipInFlight?: boolean;
  linkRemap?: boolean;
  preDump?: boolean;
  pageServer?: string;
  statusFd?: number;
}

export interface RestoreOptions extends CriuCommonOptions {
  lsmProfile?: string;
  lsmMountContext?: string;
}

export interface CriuHostFacts {
  /**
   * What a path is inside the running container's root (/proc/<pid>/root), on dump. Absent on
   * restore: the bundle's rootfs cannot say (a masked /proc file does not exist there, /proc is
   * not mounted), and the image already records which mounts were external.
   */
  kindInRoot?(path: string): "dir" | "file" | "missing";
  /** Host path of a bundle-relative or absolute bind source. */
  bindSource(source: string): string;
  /** Container cgroup directory per hierarchy name ("" = cgroup2), as state.json records it. */
  cgroupPaths: Record<string, string>;
  cgroupV2: boolean;
  /** The inode of a namespace file the container joined (net, pid), for criu's external keys. */
  namespaceInode(path: string): number;
}

export interface ExternalMount {
  /** The mount point inside the container: criu's key in the image. */
  key: string;
  /** What is bound there on restore. */
  source: string;
}

/** A flag value tsrun refuses: runc's wording where runc has one. */
export class CriuOptionError extends Error {}

const DEVICES_BOUND_IN_USERNS = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"];

function cleanPath(p: string): string {
  return ("/" + p).replace(/\/+/g, "/").replace(/(.)\/$/, "$1");
}

function isBind(m: { type?: string; options?: string[] }): boolean {
  return m.type === "bind" || parseMountOptions(m.options).bind;
}

/**
 * Mounts criu cannot dump from inside the container, because what they show lives on the host:
 * bind mounts, the container's cgroup directories bound by a "cgroup" mount, masked files (bound
 * /dev/null) and devices bound from the host in a user namespace. Masked directories are tmpfs,
 * which criu dumps itself. On dump a masked path is external only where it is a file in the
 * container; on restore (no kindInRoot) every masked path is named: criu looks up only the keys its
 * image holds, and without the mapping of one it fails with "No mapping for <id>:(null) mountpoint".
 */
export function externalMounts(spec: Spec, host: CriuHostFacts): ExternalMount[] {
  const out: ExternalMount[] = [];
  const seen = new Set<string>();
  const add = (key: string, source: string) => {
    key = cleanPath(key);
    if (seen.has(key)) return;
    if (key.includes("]") || key.includes("\n"))
      throw new CriuOptionError(`mount point ${JSON.stringify(key)} cannot be named to criu (contains "]")`);
    seen.add(key);
    out.push({ key, source });
  };
  let devBound = false;
  for (const m of spec.mounts ?? []) {
    const dest = cleanPath(m.destination);
    if (isBind(m)) {
      if (dest === "/dev") devBound = true;
      add(dest, host.bindSource(m.source ?? ""));
    } else if (m.type === "cgroup") {
      if (host.cgroupV2) {
        if (host.cgroupPaths[""]) add(dest, host.cgroupPaths[""]);
      } else {
        for (const [name, dir] of Object.entries(host.cgroupPaths)) if (name) add(`${dest}/${name}`, dir);
      }
    }
  }
  const newUser = (spec.linux?.namespaces ?? []).some((n) => n.type === "user" && !n.path);
  if (newUser && !devBound) {
    for (const d of [...DEVICES_BOUND_IN_USERNS, ...(spec.linux?.devices ?? []).map((d) => d.path)]) add(d, d);
  }
  for (const p of spec.linux?.maskedPaths ?? []) {
    if (!host.kindInRoot || host.kindInRoot(cleanPath(p)) === "file") add(p, "/dev/null");
  }
  return out;
}

/** Namespaces the container joined by path that criu must treat as external: [type, criu key]. */
const EXTERNAL_NAMESPACES = [
  ["network", "net", "extRootNetNS"],
  ["pid", "pid", "extRootPidNS"],
] as const;

export function externalNamespaces(spec: Spec): { type: string; criuType: string; key: string; path: string }[] {
  const out = [];
  for (const [type, criuType, key] of EXTERNAL_NAMESPACES) {
    const ns = (spec.linux?.namespaces ?? []).find((n) => n.type === type);
    if (ns?.path) out.push({ type, criuType, key, path: ns.path });
  }
  return out;
}

function emptyNsArgs(values: string[] = []): string[] {
  const out: string[] = [];
  for (const ns of values) {
    // runc accepts only the network namespace here; criu calls it "net"
    if (ns !== "network") throw new CriuOptionError(`namespace ${JSON.stringify(ns)} is not supported`);
    if (!out.length) out.push("--empty-ns", "net");
  }
  return out;
}

function manageCgroupsArg(mode: string | undefined): string {
  if (mode === undefined || mode === "") return "--manage-cgroups";
  if (!(MANAGE_CGROUPS_MODES as readonly string[]).includes(mode)) throw new CriuOptionError("Invalid manage cgroups mode");
  // criu's optional argument must be attached with "="
  return `--manage-cgroups=${mode}`;
}

function commonArgs(o: CriuCommonOptions, log: string): string[] {
  if (o.lazyPages) throw new CriuOptionError("--lazy-pages is not supported by tsrun yet");
  const args = ["--images-dir", o.imagePath, "--work-dir", o.workPath, "--log-file", log, "-v4"];
  if (o.tcpEstablished) args.push("--tcp-established");
  if (o.extUnixSk) args.push("--ext-unix-sk");
  if (o.shellJob) args.push("--shell-job");
  if (o.fileLocks) args.push("--file-locks");
  if (o.autoDedup) args.push("--auto-dedup");
  args.push(manageCgroupsArg(o.manageCgroupsMode));
  args.push(...emptyNsArgs(o.emptyNs));
  return args;
}

/** runc's rule for --parent-path: relative to the image path, and not the image path itself. */
export function checkParentPath(parentPath: string | undefined): void {
  if (parentPath === undefined || parentPath === "") return;
  if (parentPath.startsWith("/")) throw new CriuOptionError("--parent-path must be relative (to --image-path)");
  const clean = parentPath.split("/").filter((c) => c !== "" && c !== ".");
  if (clean.length === 0) throw new CriuOptionError("--parent-path must not be the same as --image-path");
}

function pageServerArgs(value: string | undefined): string[] {
  if (!value) return [];
  const colon = value.lastIndexOf(":");
  const address = value.slice(0, colon);
  const port = value.slice(colon + 1);
  if (colon <= 0 || !/^[0-9]+$/.test(port) || Number(port) > 65535)
    throw new CriuOptionError("Use --page-server ADDRESS:PORT to specify page server");
  return ["--page-server", "--address", address.replace(/^\[(.*)\]$/, "$1"), "--port", port];
}

export interface DumpInput {
  pid: number;
  rootfs: string;
  spec: Spec;
  /** The directory criu freezes the container with (v1 freezer or the cgroup2 directory). */
  freezerPath?: string;
  options: CheckpointOptions;
  host: CriuHostFacts;
}

/** `criu dump` (or `pre-dump`) of a running container's process tree. */
export function dumpArgs(input: DumpInput): string[] {
  const o = input.options;
  checkParentPath(o.parentPath);
  const args = [o.preDump ? "pre-dump" : "dump", "--tree", String(input.pid), ...commonArgs(o, DUMP_LOG), "--root", input.rootfs];
  if (input.freezerPath) args.push("--freeze-cgroup", input.freezerPath);
  for (const m of externalMounts(input.spec, input.host)) args.push("--external", `mnt[${m.key}]:${m.key}`);
  for (const ns of externalNamespaces(input.spec))
    args.push("--external", `${ns.criuType}[${input.host.namespaceInode(ns.path)}]:${ns.key}`);
  if (o.preDump || o.parentPath) args.push("--track-mem");
  if (o.parentPath) args.push("--prev-images-dir", o.parentPath);
  // criu pre-dump never stops the tasks; --leave-running is for dump only
  if (o.leaveRunning && !o.preDump) args.push("--leave-running");
  if (o.tcpSkipInFlight) args.push("--skip-in-flight");
  if (o.linkRemap) args.push("--link-remap");
  args.push(...pageServerArgs(o.pageServer));
  if (o.statusFd !== undefined && o.statusFd >= 0) args.push("--status-fd", String(o.statusFd));
  return args;
}

export interface RestoreInput {
  /** The rootfs as criu sees it: a bind mount of the bundle's rootfs. */
  root: string;
  spec: Spec;
  /** Where criu writes the restored init's pid. */
  pidFile: string;
  options: RestoreOptions;
  host: CriuHostFacts;
  /** Controller name ("" = cgroup2) -> the new container's cgroup path inside that hierarchy. */
  cgroupRoots: Record<string, string>;
  /** The checkpointed init's stdio (descriptors.json): pipes are replaced by criu's own fds 0-2. */
  descriptors: string[];
  /** fd (in criu) of each joined namespace file, by criu key (extRootNetNS...). */
  namespaceFds: Record<string, number>;
}

/** `criu restore` of a checkpoint into a new container. */
export function restoreArgs(input: RestoreInput): string[] {
  const o = input.options;
  const args = ["restore", ...commonArgs(o, RESTORE_LOG), "--root", input.root, "--restore-detached", "--restore-sibling", "--pidfile", input.pidFile];
  for (const [name, path] of Object.entries(input.cgroupRoots).sort(([a], [b]) => a.localeCompare(b)))
    args.push("--cgroup-root", name ? `${name}:${path}` : path);
  for (const m of externalMounts(input.spec, input.host)) args.push("--external", `mnt[${m.key}]:${m.source}`);
  for (const ns of externalNamespaces(input.spec)) {
    const fd = input.namespaceFds[ns.key];
    if (fd === undefined) throw new CriuOptionError(`no file descriptor for the ${ns.type} namespace ${ns.path}`);
    args.push("--inherit-fd", `fd[${fd}]:${ns.key}`);
  }
  args.push(...stdioInheritArgs(input.descriptors));
  if (o.lsmProfile) args.push("--lsm-profile", o.lsmProfile);
  if (o.lsmMountContext) args.push("--lsm-mount-context", o.lsmMountContext);
  return args;
}

/** The init's stdio pipes at checkpoint time become the restoring criu's fds 0-2 (the caller's). */
export function stdioInheritArgs(descriptors: string[]): string[] {
  const out: string[] = [];
  descriptors.slice(0, 3).forEach((d, fd) => {
    if (/^pipe:\[[0-9]+\]$/.test(d)) out.push("--inherit-fd", `fd[${fd}]:${d}`);
  });
  return out;
}

/** The cgroup path of each hierarchy criu should restore into (--cgroup-root), one per controller. */
export function cgroupRoots(cgroupPaths: Record<string, string>, v2: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, path] of Object.entries(cgroupPaths)) {
    // on a hybrid host the v1 driver also records the controller-less cgroup2 hierarchy under ""
    if (v2 ? name === "" : name !== "") out[name] = path;
  }
  return out;
}

/** The last `max` error lines of a criu log, without their timestamps. */
export function criuErrorLines(log: string, max = 5): string[] {
  const lines = log.split("\n").filter((l) => /\bError \(/.test(l)).map((l) => l.replace(/^\([ 0-9.]+\)\s*/, ""));
  return lines.slice(-max);
}

/** Mount points a restore needs in the rootfs: top-level bind destinations (nested ones live in a restored mount). */
export function restoreMountpoints(spec: Spec, bindKind: (source: string) => "dir" | "file" | "missing", bindSource: (s: string) => string): { path: string; dir: boolean }[] {
  const mounts = spec.mounts ?? [];
  const dests = mounts.map((m) => cleanPath(m.destination));
  const out: { path: string; dir: boolean }[] = [];
  mounts.forEach((m, i) => {
    if (!isBind(m)) return;
    const dest = dests[i];
    if (dest === "/") return;
    if (dests.some((d, j) => j !== i && d !== "/" && dest.startsWith(d + "/"))) return;
    out.push({ path: dest, dir: bindKind(bindSource(m.source ?? "")) !== "file" });
  });
  return out;
}
