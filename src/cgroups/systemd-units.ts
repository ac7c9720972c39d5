// Pure parts of the systemd cgroup driver: cgroupsPath "slice:prefix:name" -> unit and slice
// names, slice expansion, and runtime-spec resources -> systemd unit properties, the way runc
// computes them (libcontainer/cgroups/systemd), so engines find the units where they expect them.
import type { DeviceRule, Resources } from "../spec/types.js";
import { blkioWeightToIoWeight, cpuSharesToWeight, memorySwapToV2 } from "./convert.js";
import { normalizeDeviceRule } from "./devices.js";
import { parseCpuList } from "../spec/cpu-list.js";
import { UINT64_MAX, type Variant } from "../spec/gvariant.js";

export type { Variant };
/** One entry of a{sv} / a(sv): [property name, variant]. */
export type UnitProperty = [string, Variant];

/** The prefix of the unit name when cgroupsPath is empty (runc uses its own name, "runc"). */
export const DEFAULT_SCOPE_PREFIX = "tsrun";

export interface SystemdCgroupName {
  /** the parent slice ("system.slice"...; runc's default when the path gave none) */
  slice: string;
  prefix: string;
  name: string;
  /** the unit systemd knows the container's cgroup by ("docker-abc.scope") */
  unit: string;
}

/** systemd's USEC_INFINITY / the "infinity" of every uint64 limit property. */
export { UINT64_MAX };

/**
 * cgroupsPath in systemd's form. Empty: the default slice, prefix "tsrun", name = the id (runc:
 * "runc"). Otherwise exactly three colon-separated parts; an empty slice means the default one.
 * The default slice is system.slice, or user.slice for the user's own systemd instance.
 */
export function parseSystemdCgroupsPath(cgroupsPath: string | undefined, id: string, user: boolean): SystemdCgroupName {
  const defaultSlice = user ? "user.slice" : "system.slice";
  let slice = "";
  let prefix = DEFAULT_SCOPE_PREFIX;
  let name = id;
  if (cgroupsPath !== undefined && cgroupsPath !== "") {
    const parts = cgroupsPath.split(":");
    if (parts.length !== 3) throw new Error(`expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got ${JSON.stringify(cgroupsPath)} instead`);
    [slice, prefix, name] = parts as [string, string, string];
    if (name === "") throw new Error(`cgroupsPath ${JSON.stringify(cgroupsPath)}: the name (third part) is empty`);
    for (const p of parts) if (p.includes("/")) throw new Error(`cgroupsPath ${JSON.stringify(cgroupsPath)}: systemd unit names cannot contain "/"`);
  }
  if (slice === "") slice = defaultSlice;
  expandSlice(slice); // validates
  return { slice, prefix, name, unit: unitName(prefix, name) };
}

/** The unit of a container: "<prefix>-<name>.scope", or the name itself when it is a slice (runc's rule). */
export function unitName(prefix: string, name: string): string {
  if (name.endsWith(".slice")) return name;
  return `${prefix}-${name}.scope`;
}

/**
 * The cgroup path (under the manager's own cgroup) of a slice: "a-b.slice" is
 * "/a.slice/a-b.slice"; "-.slice" is the root.
 */
export function expandSlice(slice: string): string {
  const suffix = ".slice";
  if (slice.length <= suffix.length || !slice.endsWith(suffix) || slice.includes("/")) throw new Error(`invalid slice name ${JSON.stringify(slice)}: it must end in ".slice" and contain no "/"`);
  const base = slice.slice(0, -suffix.length);
  if (base === "-") return "/";
  let path = "";
  let prefix = "";
  for (const part of base.split("-")) {
    if (part === "") throw new Error(`invalid slice name ${JSON.stringify(slice)}: empty component between "-"`);
    path += `/${prefix}${part}${suffix}`;
    prefix += `${part}-`;
  }
  return path;
}

/** The container's cgroup path given the systemd manager's own cgroup ("/" for the system instance). */
export function unitCgroupPath(managerCgroup: string, slice: string, unit: string): string {
  const base = managerCgroup === "" || managerCgroup === "/" ? "" : managerCgroup.replace(/\/+$/, "");
  const s = expandSlice(slice);
  return `${base}${s === "/" ? "" : s}/${unit}`;
}

/** What StartTransientUnit gets besides the resources (runc sets the same); v1: systemd on cgroup v1 controllers. */
export function baseUnitProperties(pid: number, slice: string, description: string, v1 = false): UnitProperty[] {
  return [
    ["Description", ["s", description]],
    ["Slice", ["s", slice]],
    ["Delegate", ["b", true]],
    ["PIDs", ["au", [pid]]],
    ["DefaultDependencies", ["b", false]],
    ["MemoryAccounting", ["b", true]],
    ["CPUAccounting", ["b", true]],
    [v1 ? "BlockIOAccounting" : "IOAccounting", ["b", true]],
    ["TasksAccounting", ["b", true]],
  ];
}

function u64(n: number): bigint {
  return n < 0 ? UINT64_MAX : BigInt(n);
}

/** "0-2,4" -> the byte array systemd takes for AllowedCPUs/AllowedMemoryNodes (bit i = cpu i). */
export function cpuListMask(list: string): number[] {
  const cpus = parseCpuList(list);
  const bytes: number[] = [];
  for (const c of cpus) {
    const i = c >> 3;
    while (bytes.length <= i) bytes.push(0);
    bytes[i]! |= 1 << (c & 7);
  }
  return bytes;
}

/**
 * CPUQuotaPerSecUSec for a quota/period: systemd keeps it as a percentage, so a value that is not
 * a whole 10 ms per second is rounded up (the cgroup file still gets the exact quota). -1: no limit.
 */
export function cpuQuotaPerSecUSec(quota: number, period: number): bigint {
  if (quota <= 0) return UINT64_MAX;
  const p = period > 0 ? period : 100000;
  let v = (BigInt(quota) * 1000000n) / BigInt(p);
  if (v % 10000n !== 0n) v = (v / 10000n + 1n) * 10000n;
  return v;
}

export interface PropertyOptions {
  /** systemd's version (CPUQuotaPeriodUSec needs 242, AllowedCPUs/AllowedMemoryNodes 244) */
  systemdVersion: number;
  /** systemd runs on the cgroup v1 controllers: their property names (MemoryLimit, CPUShares, BlockIOWeight) */
  v1?: boolean;
  /** /proc/devices lookup for wildcard-minor device rules: major -> driver name */
  deviceName?: (type: "c" | "b", major: number) => string | undefined;
}

/**
 * The unit properties systemd manages for these resources. What systemd does not know (cpu.max.burst,
 * io.max, hugetlb, rdma, unified...) is written to the delegated cgroup's files by the v2 driver.
 * Returns the properties and the warnings of what was left to the files alone.
 */
export function resourceProperties(r: Resources, opts: PropertyOptions): { props: UnitProperty[]; warnings: string[] } {
  const props: UnitProperty[] = [];
  const warnings: string[] = [];
  const m = r.memory;
  if (m && opts.v1) {
    if ((m.limit ?? 0) !== 0) props.push(["MemoryLimit", ["t", u64(m.limit!)]]);
  } else if (m) {
    const limit = m.limit ?? 0;
    if (limit !== 0) props.push(["MemoryMax", ["t", u64(limit)]]);
    if ((m.reservation ?? 0) !== 0) props.push(["MemoryLow", ["t", u64(m.reservation!)]]);
    const swap = memorySwapToV2(m.swap ?? 0, limit);
    // swap given equal to the limit is MemorySwapMax=0: systemd writes its own value (infinity)
    // to memory.swap.max whenever it realizes the unit's cgroup again, undoing the file's 0
    if (swap !== 0 || (m.swap ?? 0) !== 0) props.push(["MemorySwapMax", ["t", u64(swap)]]);
  }
  const pids = r.pids?.limit;
  if (pids !== undefined && pids !== null && (pids > 0 || pids === -1)) props.push(["TasksMax", ["t", u64(pids)]]);
  const c = r.cpu;
  if (c) {
    if ((c.shares ?? 0) !== 0) props.push(opts.v1 ? ["CPUShares", ["t", BigInt(c.shares!)]] : ["CPUWeight", ["t", BigInt(cpuSharesToWeight(c.shares!))]]);
    const quota = c.quota ?? 0;
    const period = c.period ?? 0;
    if (period !== 0) {
      if (opts.systemdVersion >= 242) props.push(["CPUQuotaPeriodUSec", ["t", BigInt(period)]]);
      else warnings.push(`systemd ${opts.systemdVersion} has no CPUQuotaPeriodUSec (needs 242): the cpu period is set in the cgroup only`);
    }
    if (quota !== 0 || period !== 0) props.push(["CPUQuotaPerSecUSec", ["t", cpuQuotaPerSecUSec(quota, period)]]);
    for (const [key, prop] of [["cpus", "AllowedCPUs"], ["mems", "AllowedMemoryNodes"]] as const) {
      const v = c[key];
      if (!v) continue;
      if (opts.systemdVersion >= 244) props.push([prop, ["ay", cpuListMask(v)]]);
      else warnings.push(`systemd ${opts.systemdVersion} has no ${prop} (needs 244): cpuset ${key} is set in the cgroup only`);
    }
  }
  const weight = r.blockIO?.weight ?? 0;
  if (weight !== 0) props.push(opts.v1 ? ["BlockIOWeight", ["t", BigInt(weight)]] : ["IOWeight", ["t", BigInt(blkioWeightToIoWeight(weight))]]);
  if (r.unified && !opts.v1) {
    const u = unifiedProperties(r.unified, opts);
    props.push(...u.props);
    warnings.push(...u.warnings);
  }
  if (r.devices && r.devices.length) {
    const d = deviceProperties(r.devices, opts.deviceName);
    props.push(...d.props);
    warnings.push(...d.warnings);
  }
  return { props, warnings };
}

/**
 * DevicePolicy/DeviceAllow for a rule list. systemd only knows allow lists: the rules are replayed
 * (later rules win) into the set of allowed devices; a list that ends up allowing by default
 * (a deny list) gives DevicePolicy=auto without entries, and tsrun's own BPF device filter on the
 * cgroup enforces the denies, as it enforces everything in either case.
 */
export function deviceProperties(rules: DeviceRule[], deviceName?: PropertyOptions["deviceName"]): { props: UnitProperty[]; warnings: string[] } {
  let allowAll = false;
  const allowed = new Map<string, { type: "c" | "b"; major: number; minor: number; access: Set<string> }>();
  for (const raw of rules) {
    const r = normalizeDeviceRule(raw);
    const types: Array<"c" | "b"> = r.type === "a" ? ["c", "b"] : [r.type];
    if (r.type === "a" && r.major === -1 && r.minor === -1) {
      allowAll = r.allow;
      allowed.clear();
      continue;
    }
    if (allowAll) continue; // a deny on top of allow-all: the BPF filter enforces it
    for (const type of types) {
      const key = `${type} ${r.major}:${r.minor}`;
      const cur = allowed.get(key) ?? { type, major: r.major, minor: r.minor, access: new Set<string>() };
      for (const a of r.access) {
        if (r.allow) cur.access.add(a);
        else cur.access.delete(a);
      }
      if (cur.access.size) allowed.set(key, cur);
      else allowed.delete(key);
    }
  }
  if (allowAll) return { props: [["DevicePolicy", ["s", "auto"]], ["DeviceAllow", ["a(ss)", []]]], warnings: [] };
  const entries: Array<[string, string]> = [];
  const warnings: string[] = [];
  for (const e of allowed.values()) {
    const access = ["r", "w", "m"].filter((a) => e.access.has(a)).join("");
    const kind = e.type === "c" ? "char" : "block";
    let path: string | undefined;
    if (e.major === -1) {
      if (e.minor === -1) path = `${kind}-*`;
      else warnings.push(`systemd cannot express the device rule ${e.type} *:${e.minor}: left to tsrun's device filter`);
    } else if (e.minor === -1) {
      const name = deviceName?.(e.type, e.major);
      if (name) path = `${kind}-${name}`;
      else warnings.push(`no ${kind} driver with major ${e.major} in /proc/devices: the device rule ${e.type} ${e.major}:* is left to tsrun's device filter`);
    } else path = `/dev/${kind}/${e.major}:${e.minor}`;
    if (path) entries.push([path, access]);
  }
  return { props: [["DevicePolicy", ["s", "strict"]], ["DeviceAllow", ["a(ss)", entries]]], warnings };
}

/** /proc/devices text -> lookup of driver names by type and major. */
export function parseProcDevices(text: string): (type: "c" | "b", major: number) => string | undefined {
  const map = new Map<string, string>();
  let section: "c" | "b" | undefined;
  for (const line of text.split("\n")) {
    if (/^Character devices:/.test(line)) section = "c";
    else if (/^Block devices:/.test(line)) section = "b";
    else {
      const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(line);
      if (m && section && !map.has(`${section}${m[1]}`)) map.set(`${section}${m[1]}`, m[2]!);
    }
  }
  return (type, major) => map.get(`${type}${major}`);
}

/** "252.36-1~deb12u1" -> 252 (0 when unknown). */
export function parseSystemdVersion(v: string): number {
  const m = /^v?(\d+)/.exec(v.trim().replace(/^"|"$/g, ""));
  return m ? Number(m[1]) : 0;
}

/** "max" or a byte count in a unified cgroup file value -> the uint64 systemd takes. */
function maxOrNumber(key: string, v: string): bigint {
  const t = v.trim();
  if (t === "max") return UINT64_MAX;
  if (!/^\d+$/.test(t)) throw new Error(`unified.${key}: ${JSON.stringify(v)} is neither "max" nor a number`);
  return BigInt(t);
}

const UNIFIED_LIMITS: Record<string, string> = {
  "memory.high": "MemoryHigh",
  "memory.low": "MemoryLow",
  "memory.min": "MemoryMin",
  "memory.max": "MemoryMax",
  "memory.swap.max": "MemorySwapMax",
  "pids.max": "TasksMax",
};

/**
 * The unit properties for linux.resources.unified keys systemd also manages (as runc maps them), so
 * that `systemctl show` and systemd's own view agree with the files; given after the others, they
 * win over the same limit given elsewhere, as the unified file writes do.
 */
export function unifiedProperties(unified: Record<string, string>, opts: PropertyOptions): { props: UnitProperty[]; warnings: string[] } {
  const props: UnitProperty[] = [];
  const warnings: string[] = [];
  for (const [key, value] of Object.entries(unified)) {
    const limit = UNIFIED_LIMITS[key];
    if (limit) props.push([limit, ["t", maxOrNumber(key, value)]]);
    else if (key === "cpu.weight") {
      if (!/^\d+$/.test(value.trim())) throw new Error(`unified.cpu.weight: ${JSON.stringify(value)} is not a number`);
      props.push(["CPUWeight", ["t", BigInt(value.trim())]]);
    } else if (key === "cpu.max") {
      const [quota, period] = value.trim().split(/\s+/);
      if (period !== undefined && !/^\d+$/.test(period)) throw new Error(`unified.cpu.max: the period in ${JSON.stringify(value)} is not a number`);
      const p = period === undefined ? 100000 : Number(period);
      if (period !== undefined) {
        if (opts.systemdVersion >= 242) props.push(["CPUQuotaPeriodUSec", ["t", BigInt(p)]]);
        else warnings.push(`systemd ${opts.systemdVersion} has no CPUQuotaPeriodUSec (needs 242): the cpu period is set in the cgroup only`);
      }
      if (quota === "max") props.push(["CPUQuotaPerSecUSec", ["t", UINT64_MAX]]);
      else if (quota !== undefined && /^\d+$/.test(quota)) props.push(["CPUQuotaPerSecUSec", ["t", cpuQuotaPerSecUSec(Number(quota), p)]]);
      else throw new Error(`unified.cpu.max: ${JSON.stringify(value)} is not "QUOTA [PERIOD]" or "max [PERIOD]"`);
    } else if (key === "cpuset.cpus" || key === "cpuset.mems") {
      const prop = key === "cpuset.cpus" ? "AllowedCPUs" : "AllowedMemoryNodes";
      if (opts.systemdVersion >= 244) props.push([prop, ["ay", cpuListMask(value.trim())]]);
      else warnings.push(`systemd ${opts.systemdVersion} has no ${prop} (needs 244): unified.${key} is set in the cgroup only`);
    }
  }
  return { props, warnings };
}

/**
 * The uid whose systemd instance runs in this cgroup ("/user.slice/user-1000.slice/user@1000.service"
 * -> 1000), undefined when it is no user's instance. runc reads the same from the user bus's owner.
 */
export function userInstanceOwner(managerCgroup: string): number | undefined {
  const m = /(?:^|\/)user-(\d+)\.slice\/user@(\d+)\.service\/?$/.exec(managerCgroup);
  return m && m[1] === m[2] ? Number(m[1]) : undefined;
}
