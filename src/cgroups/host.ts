// Host facts about cgroups: which mode the host runs (v1, v2 unified, hybrid), where each
// hierarchy is mounted, and which cgroup the current process is in. Parsers are pure (they take
// the text of /proc/self/mountinfo and /proc/self/cgroup) so they can be unit-tested.
import * as fs from "node:fs";

export type CgroupMode = "v1" | "v2" | "hybrid";

export const CGROUP_ROOT = "/sys/fs/cgroup";
const CGROUP2_SUPER_MAGIC = 0x63677270;
const CGROUP_SUPER_MAGIC = 0x27e0eb;
const TMPFS_MAGIC = 0x01021994;

/** Every v1 controller tsrun knows how to handle (plus named hierarchies like name=systemd). */
export const V1_CONTROLLERS = [
  "cpu",
  "cpuacct",
  "cpuset",
  "memory",
  "pids",
  "blkio",
  "devices",
  "freezer",
  "net_cls",
  "net_prio",
  "hugetlb",
  "perf_event",
  "rdma",
  "misc",
] as const;

export interface MountInfoEntry {
  mountId: number;
  parentId: number;
  /** root of the mount inside its filesystem (for cgroupfs: the cgroup path that is mounted) */
  root: string;
  mountPoint: string;
  fsType: string;
  source: string;
  superOptions: string[];
}

function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountInfo(text: string): MountInfoEntry[] {
  const out: MountInfoEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const right = line.slice(sep + 3).split(" ");
    if (left.length < 6 || right.length < 3) continue;
    out.push({
      mountId: Number(left[0]),
      parentId: Number(left[1]),
      root: unescapeMountPath(left[3]!),
      mountPoint: unescapeMountPath(left[4]!),
      fsType: right[0]!,
      source: right[1]!,
      superOptions: right[2]!.split(","),
    });
  }
  return out;
}

/** One mounted v1 hierarchy. `controllers` holds controller names and named hierarchies ("name=systemd"). */
export interface V1Hierarchy {
  controllers: string[];
  mountPoint: string;
  root: string;
}

/**
 * v1 hierarchies from mountinfo. When a hierarchy is mounted several times, the mount under
 * /sys/fs/cgroup wins, then the first one listed.
 */
export function v1HierarchiesFromMountInfo(entries: MountInfoEntry[]): V1Hierarchy[] {
  const byKey = new Map<string, V1Hierarchy>();
  const known = new Set<string>(V1_CONTROLLERS);
  for (const m of entries) {
    if (m.fsType !== "cgroup") continue;
    const controllers = m.superOptions.filter((o) => known.has(o) || o.startsWith("name="));
    if (controllers.length === 0) continue;
    const key = [...controllers].sort().join(",");
    const prev = byKey.get(key);
    const candidate = { controllers, mountPoint: m.mountPoint, root: m.root };
    if (!prev) byKey.set(key, candidate);
    else if (!prev.mountPoint.startsWith(CGROUP_ROOT + "/") && m.mountPoint.startsWith(CGROUP_ROOT + "/")) byKey.set(key, candidate);
  }
  return [...byKey.values()];
}

/** The cgroup2 mount, preferring the one at `preferredMountPoint`; the last one listed wins among equals (it is on top). */
export function cgroup2MountFromMountInfo(entries: MountInfoEntry[], preferredMountPoint?: string): { mountPoint: string; root: string } | undefined {
  let found: MountInfoEntry | undefined;
  for (const m of entries) {
    if (m.fsType !== "cgroup2") continue;
    if (preferredMountPoint !== undefined) {
      if (m.mountPoint === preferredMountPoint) found = m;
    } else if (!found) found = m;
  }
  if (!found && preferredMountPoint !== undefined) return cgroup2MountFromMountInfo(entries);
  return found ? { mountPoint: found.mountPoint, root: found.root } : undefined;
}

/** /proc/<pid>/cgroup: controller key ("memory", "name=systemd", "" for cgroup2) -> cgroup path. */
export function parseProcCgroup(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (controllers === "") out.set("", path);
    else for (const c of controllers.split(",")) out.set(c, path);
  }
  return out;
}

function statfsType(path: string): number | undefined {
  try {
    return Number(fs.statfsSync(path).type);
  } catch {
    return undefined;
  }
}

/** Decide the host's cgroup mode from the filesystem types at /sys/fs/cgroup (and its unified subdirectory). */
export function modeFromFsTypes(rootType: number | undefined, unifiedType: number | undefined, entries?: MountInfoEntry[]): CgroupMode {
  if (rootType === CGROUP2_SUPER_MAGIC) return "v2";
  if (rootType === TMPFS_MAGIC || rootType === CGROUP_SUPER_MAGIC || rootType !== undefined) {
    return unifiedType === CGROUP2_SUPER_MAGIC ? "hybrid" : "v1";
  }
  // statfs unavailable: fall back to mountinfo.
  if (entries) {
    const top = entries.filter((m) => m.mountPoint === CGROUP_ROOT).pop();
    if (top?.fsType === "cgroup2") return "v2";
    if (entries.some((m) => m.fsType === "cgroup2" && m.mountPoint === `${CGROUP_ROOT}/unified`)) return "hybrid";
  }
  return "v1";
}

export interface HostCgroupInfo {
  mode: CgroupMode;
  /** v1 hierarchies mounted (v1 and hybrid modes; empty in v2 mode) */
  v1: V1Hierarchy[];
  /** the cgroup2 mount used (v2: /sys/fs/cgroup; hybrid: /sys/fs/cgroup/unified), if any */
  unified?: { mountPoint: string; root: string };
  /** the runtime's own cgroup per controller key ("" = cgroup2) */
  own: Map<string, string>;
}

export interface HostReadOptions {
  mountInfoText?: string;
  procCgroupText?: string;
  mode?: CgroupMode;
}

export function readHostCgroupInfo(opts: HostReadOptions = {}): HostCgroupInfo {
  const mountInfoText = opts.mountInfoText ?? fs.readFileSync("/proc/self/mountinfo", "utf8");
  const procCgroupText = opts.procCgroupText ?? fs.readFileSync("/proc/self/cgroup", "utf8");
  const entries = parseMountInfo(mountInfoText);
  const mode = opts.mode ?? modeFromFsTypes(statfsType(CGROUP_ROOT), statfsType(`${CGROUP_ROOT}/unified`), entries);
  const own = parseProcCgroup(procCgroupText);
  if (mode === "v2") {
    return { mode, v1: [], unified: cgroup2MountFromMountInfo(entries, CGROUP_ROOT) ?? { mountPoint: CGROUP_ROOT, root: "/" }, own };
  }
  const v1 = v1HierarchiesFromMountInfo(entries);
  const info: HostCgroupInfo = { mode, v1, own };
  if (mode === "hybrid") info.unified = cgroup2MountFromMountInfo(entries, `${CGROUP_ROOT}/unified`) ?? { mountPoint: `${CGROUP_ROOT}/unified`, root: "/" };
  return info;
}

let cachedMode: CgroupMode | undefined;
/** The host's cgroup mode (cached for the life of the process). */
export function detectCgroupMode(): CgroupMode {
  if (cachedMode === undefined) {
    let entries: MountInfoEntry[] | undefined;
    try {
      entries = parseMountInfo(fs.readFileSync("/proc/self/mountinfo", "utf8"));
    } catch {
      entries = undefined;
    }
    cachedMode = modeFromFsTypes(statfsType(CGROUP_ROOT), statfsType(`${CGROUP_ROOT}/unified`), entries);
  }
  return cachedMode;
}

/** Huge page sizes the kernel supports, in the cgroup file naming ("2MB", "1GB"). */
export function hugePageSizes(dir = "/sys/kernel/mm/hugepages"): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return hugePageSizesFromNames(names);
}

export function hugePageSizesFromNames(names: string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    const m = /^hugepages-(\d+)kB$/.exec(n);
    if (!m) continue;
    const kb = Number(m[1]);
    if (kb >= 1 << 20) out.push(`${Math.floor(kb / (1 << 20))}GB`);
    else if (kb >= 1 << 10) out.push(`${Math.floor(kb / (1 << 10))}MB`);
    else out.push(`${kb}KB`);
  }
  return out;
}
