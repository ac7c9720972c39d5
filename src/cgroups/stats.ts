// runc `events --stats` data (runc types.Stats) read from the cgroup files.
// Counters are uint64 in the kernel and in runc's JSON (limits are often 2^63 or 2^64-1), so they
// are bigints here; encodeStats()/encodeEvent() print them as plain JSON numbers the way Go does.
import { join } from "node:path";
import { fileExists, readCgroupFileIfExists } from "./fsutil.js";
import { hugePageSizes } from "./host.js";
import { parseCpuList } from "./convert.js";

export type U64 = bigint;

export interface PSIData {
  avg10: number;
  avg60: number;
  avg300: number;
  total: U64;
}
export interface PSIStats {
  some: PSIData;
  full: PSIData;
}

export interface CpuUsage {
  total?: U64;
  percpu?: U64[];
  percpu_kernel?: U64[];
  percpu_user?: U64[];
  kernel: U64;
  user: U64;
}
export interface Throttling {
  periods?: U64;
  throttledPeriods?: U64;
  throttledTime?: U64;
}
export interface CpuStats {
  usage: CpuUsage;
  throttling: Throttling;
  psi?: PSIStats;
}
export interface CpusetStats {
  cpus?: number[];
  cpu_exclusive: U64;
  mems?: number[];
  mem_hardwall: U64;
  mem_exclusive: U64;
  memory_migrate: U64;
  memory_spread_page: U64;
  memory_spread_slab: U64;
  memory_pressure: U64;
  sched_load_balance: U64;
  sched_relax_domain_level: U64;
}
export interface MemoryEntry {
  limit: U64;
  usage?: U64;
  max?: U64;
  failcnt: U64;
}
export interface MemoryStats {
  cache?: U64;
  usage: MemoryEntry;
  swap: MemoryEntry;
  kernel: MemoryEntry;
  kernelTCP: MemoryEntry;
  raw?: Record<string, U64>;
  psi?: PSIStats;
}
export interface PidsStats {
  current?: U64;
  limit?: U64;
}
export interface BlkioEntry {
  major?: U64;
  minor?: U64;
  op?: string;
  value?: U64;
}
export interface BlkioStats {
  ioServiceBytesRecursive?: BlkioEntry[];
  ioServicedRecursive?: BlkioEntry[];
  ioQueueRecursive?: BlkioEntry[];
  ioServiceTimeRecursive?: BlkioEntry[];
  ioWaitTimeRecursive?: BlkioEntry[];
  ioMergedRecursive?: BlkioEntry[];
  ioTimeRecursive?: BlkioEntry[];
  sectorsRecursive?: BlkioEntry[];
  psi?: PSIStats;
}
export interface HugetlbStats {
  usage?: U64;
  max?: U64;
  failcnt: U64;
}

export interface CgroupStats {
  cpu: CpuStats;
  cpuset: CpusetStats;
  memory: MemoryStats;
  pids: PidsStats;
  blkio: BlkioStats;
  hugetlb: Record<string, HugetlbStats>;
  intel_rdt: Record<string, never>;
  network_interfaces: null;
}

const U64_MAX = (1n << 64n) - 1n;

function u64(s: string | undefined): U64 | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t === "max") return U64_MAX;
  if (!/^-?\d+$/.test(t)) return undefined;
  const v = BigInt(t);
  return v < 0n ? 0n : v;
}

function rd(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  try {
    return readCgroupFileIfExists(dir, file);
  } catch {
    return undefined;
  }
}

/** "key value" lines -> map. */
export function parseFlatKeyed(text: string | undefined): Record<string, U64> {
  const out: Record<string, U64> = {};
  for (const line of (text ?? "").split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (!k || v === undefined) continue;
    const n = u64(v);
    if (n !== undefined) out[k] = n;
  }
  return out;
}

export function parsePSI(text: string | undefined): PSIStats | undefined {
  if (!text) return undefined;
  const zero = (): PSIData => ({ avg10: 0, avg60: 0, avg300: 0, total: 0n });
  const out: PSIStats = { some: zero(), full: zero() };
  let any = false;
  for (const line of text.split("\n")) {
    const parts = line.trim().split(/\s+/);
    const kind = parts.shift();
    if (kind !== "some" && kind !== "full") continue;
    any = true;
    for (const kv of parts) {
      const [k, v] = kv.split("=");
      if (k === "avg10" || k === "avg60" || k === "avg300") out[kind][k] = Number(v);
      else if (k === "total") out[kind].total = u64(v) ?? 0n;
    }
  }
  return any ? out : undefined;
}

function emptyMemEntry(): MemoryEntry {
  return { limit: 0n, failcnt: 0n };
}

function emptyStats(): CgroupStats {
  return {
    cpu: { usage: { kernel: 0n, user: 0n }, throttling: {} },
    cpuset: {
      cpu_exclusive: 0n,
      mem_hardwall: 0n,
      mem_exclusive: 0n,
      memory_migrate: 0n,
      memory_spread_page: 0n,
      memory_spread_slab: 0n,
      memory_pressure: 0n,
      sched_load_balance: 0n,
      sched_relax_domain_level: 0n,
    },
    memory: { usage: emptyMemEntry(), swap: emptyMemEntry(), kernel: emptyMemEntry(), kernelTCP: emptyMemEntry() },
    pids: {},
    blkio: {},
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

function nz(v: U64 | undefined): U64 | undefined {
  return v === undefined || v === 0n ? undefined : v;
}

function setIf<T extends object, K extends keyof T>(o: T, k: K, v: T[K] | undefined): void {
  if (v !== undefined) o[k] = v;
}

function listU64(text: string | undefined): U64[] | undefined {
  if (!text) return undefined;
  const out = text.trim().split(/\s+/).map((x) => u64(x) ?? 0n);
  return out.length ? out : undefined;
}

function cpuList(text: string | undefined): number[] | undefined {
  if (!text) return undefined;
  try {
    const l = parseCpuList(text);
    return l.length ? l : undefined;
  } catch {
    return undefined;
  }
}

/** blkio v1 "8:0 Read 123" lines (and "Total 456"). */
export function parseBlkioV1(text: string | undefined): BlkioEntry[] | undefined {
  if (!text) return undefined;
  const out: BlkioEntry[] = [];
  for (const line of text.split("\n")) {
    const p = line.trim().split(/\s+/);
    if (p.length === 3) {
      const [mm, op, v] = p as [string, string, string];
      const [ma, mi] = mm.split(":");
      const e: BlkioEntry = {};
      setIf(e, "major", nz(u64(ma)));
      setIf(e, "minor", nz(u64(mi)));
      e.op = op;
      setIf(e, "value", nz(u64(v)));
      out.push(e);
    } else if (p.length === 2 && /^\d+:\d+$/.test(p[0]!)) {
      const [ma, mi] = p[0]!.split(":");
      const e: BlkioEntry = {};
      setIf(e, "major", nz(u64(ma)));
      setIf(e, "minor", nz(u64(mi)));
      setIf(e, "value", nz(u64(p[1])));
      out.push(e);
    }
  }
  return out.length ? out : undefined;
}

function memEntryV1(dir: string, prefix: string): MemoryEntry {
  const e: MemoryEntry = { limit: u64(rd(dir, `${prefix}.limit_in_bytes`)) ?? 0n, failcnt: u64(rd(dir, `${prefix}.failcnt`)) ?? 0n };
  setIf(e, "usage", nz(u64(rd(dir, `${prefix}.usage_in_bytes`))));
  setIf(e, "max", nz(u64(rd(dir, `${prefix}.max_usage_in_bytes`))));
  return e;
}

/** Stats of a v1 container cgroup (paths: controller -> directory). */
export function statsV1(paths: Record<string, string>): CgroupStats {
  const st = emptyStats();
  const cpu = paths.cpu;
  const acct = paths.cpuacct;
  if (acct) {
    const u = st.cpu.usage;
    setIf(u, "total", nz(u64(rd(acct, "cpuacct.usage"))));
    setIf(u, "percpu", listU64(rd(acct, "cpuacct.usage_percpu")));
    setIf(u, "percpu_kernel", listU64(rd(acct, "cpuacct.usage_percpu_sys")));
    setIf(u, "percpu_user", listU64(rd(acct, "cpuacct.usage_percpu_user")));
    const sys = u64(rd(acct, "cpuacct.usage_sys"));
    const usr = u64(rd(acct, "cpuacct.usage_user"));
    if (sys !== undefined && usr !== undefined) {
      u.kernel = sys;
      u.user = usr;
    } else {
      // cpuacct.stat is in USER_HZ (100/s) ticks
      const s = parseFlatKeyed(rd(acct, "cpuacct.stat"));
      u.kernel = (s.system ?? 0n) * 10000000n;
      u.user = (s.user ?? 0n) * 10000000n;
    }
  }
  if (cpu) {
    const s = parseFlatKeyed(rd(cpu, "cpu.stat"));
    setIf(st.cpu.throttling, "periods", nz(s.nr_periods));
    setIf(st.cpu.throttling, "throttledPeriods", nz(s.nr_throttled));
    setIf(st.cpu.throttling, "throttledTime", nz(s.throttled_time));
  }
  const cs = paths.cpuset;
  if (cs) {
    const c = st.cpuset;
    setIf(c, "cpus", cpuList(rd(cs, "cpuset.cpus")));
    setIf(c, "mems", cpuList(rd(cs, "cpuset.mems")));
    const n = (f: string) => u64(rd(cs, f)) ?? 0n;
    c.cpu_exclusive = n("cpuset.cpu_exclusive");
    c.mem_hardwall = n("cpuset.mem_hardwall");
    c.mem_exclusive = n("cpuset.mem_exclusive");
    c.memory_migrate = n("cpuset.memory_migrate");
    c.memory_spread_page = n("cpuset.memory_spread_page");
    c.memory_spread_slab = n("cpuset.memory_spread_slab");
    c.memory_pressure = n("cpuset.memory_pressure");
    c.sched_load_balance = n("cpuset.sched_load_balance");
    c.sched_relax_domain_level = n("cpuset.sched_relax_domain_level");
  }
  const mem = paths.memory;
  if (mem) {
    const raw = parseFlatKeyed(rd(mem, "memory.stat"));
    if (Object.keys(raw).length) st.memory.raw = raw;
    setIf(st.memory, "cache", nz(raw.cache));
    st.memory.usage = memEntryV1(mem, "memory");
    if (fileExists(join(mem, "memory.memsw.usage_in_bytes"))) st.memory.swap = memEntryV1(mem, "memory.memsw");
    if (fileExists(join(mem, "memory.kmem.usage_in_bytes"))) st.memory.kernel = memEntryV1(mem, "memory.kmem");
    if (fileExists(join(mem, "memory.kmem.tcp.usage_in_bytes"))) st.memory.kernelTCP = memEntryV1(mem, "memory.kmem.tcp");
  }
  const pids = paths.pids;
  if (pids) {
    setIf(st.pids, "current", nz(u64(rd(pids, "pids.current"))));
    const max = rd(pids, "pids.max");
    if (max !== undefined && max !== "max") setIf(st.pids, "limit", nz(u64(max)));
  }
  const blk = paths.blkio;
  if (blk) {
    // Prefer the proportional-scheduler files (CFQ, then BFQ); fall back to the throttle ones.
    const pick = (...files: string[]) => {
      for (const f of files) {
        const t = rd(blk, f);
        if (t !== undefined) return parseBlkioV1(t);
      }
      return undefined;
    };
    const b = st.blkio;
    setIf(b, "ioServiceBytesRecursive", pick("blkio.io_service_bytes_recursive", "blkio.bfq.io_service_bytes_recursive", "blkio.throttle.io_service_bytes_recursive"));
    setIf(b, "ioServicedRecursive", pick("blkio.io_serviced_recursive", "blkio.bfq.io_serviced_recursive", "blkio.throttle.io_serviced_recursive"));
    setIf(b, "ioQueueRecursive", pick("blkio.io_queued_recursive"));
    setIf(b, "ioServiceTimeRecursive", pick("blkio.io_service_time_recursive"));
    setIf(b, "ioWaitTimeRecursive", pick("blkio.io_wait_time_recursive"));
    setIf(b, "ioMergedRecursive", pick("blkio.io_merged_recursive"));
    setIf(b, "ioTimeRecursive", pick("blkio.time_recursive"));
    setIf(b, "sectorsRecursive", pick("blkio.sectors_recursive"));
  }
  const huge = paths.hugetlb;
  if (huge) {
    for (const size of hugePageSizes()) {
      const h: HugetlbStats = { failcnt: u64(rd(huge, `hugetlb.${size}.failcnt`)) ?? 0n };
      setIf(h, "usage", nz(u64(rd(huge, `hugetlb.${size}.usage_in_bytes`))));
      setIf(h, "max", nz(u64(rd(huge, `hugetlb.${size}.max_usage_in_bytes`))));
      st.hugetlb[size] = h;
    }
  }
  return st;
}

/** io.stat "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6" -> runc's blkio entries. */
export function parseIoStat(text: string | undefined): Pick<BlkioStats, "ioServiceBytesRecursive" | "ioServicedRecursive"> {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (text ?? "").split("\n")) {
    const p = line.trim().split(/\s+/);
    if (p.length < 2 || !/^\d+:\d+$/.test(p[0]!)) continue;
    const [ma, mi] = p[0]!.split(":");
    const major = u64(ma);
    const minor = u64(mi);
    for (const kv of p.slice(1)) {
      const [k, v] = kv.split("=");
      const map: Record<string, [BlkioEntry[], string]> = {
        rbytes: [bytes, "Read"],
        wbytes: [bytes, "Write"],
        dbytes: [bytes, "Discard"],
        rios: [ios, "Read"],
        wios: [ios, "Write"],
        dios: [ios, "Discard"],
      };
      const dest = map[k!];
      if (!dest) continue;
      const e: BlkioEntry = {};
      setIf(e, "major", nz(major));
      setIf(e, "minor", nz(minor));
      e.op = dest[1];
      setIf(e, "value", nz(u64(v)));
      dest[0].push(e);
    }
  }
  const out: Pick<BlkioStats, "ioServiceBytesRecursive" | "ioServicedRecursive"> = {};
  if (bytes.length) out.ioServiceBytesRecursive = bytes;
  if (ios.length) out.ioServicedRecursive = ios;
  return out;
}

/** Stats of a v2 cgroup directory. `countPids` is used when pids.current is unavailable. */
export function statsV2(dir: string, countPids: () => number): CgroupStats {
  const st = emptyStats();
  const cpu = parseFlatKeyed(rd(dir, "cpu.stat"));
  setIf(st.cpu.usage, "total", nz(cpu.usage_usec !== undefined ? cpu.usage_usec * 1000n : undefined));
  st.cpu.usage.kernel = (cpu.system_usec ?? 0n) * 1000n;
  st.cpu.usage.user = (cpu.user_usec ?? 0n) * 1000n;
  setIf(st.cpu.throttling, "periods", nz(cpu.nr_periods));
  setIf(st.cpu.throttling, "throttledPeriods", nz(cpu.nr_throttled));
  setIf(st.cpu.throttling, "throttledTime", nz(cpu.throttled_usec !== undefined ? cpu.throttled_usec * 1000n : undefined));
  setIf(st.cpu, "psi", parsePSI(rd(dir, "cpu.pressure")));

  setIf(st.cpuset, "cpus", cpuList(rd(dir, "cpuset.cpus.effective")));
  setIf(st.cpuset, "mems", cpuList(rd(dir, "cpuset.mems.effective")));

  const raw = parseFlatKeyed(rd(dir, "memory.stat"));
  if (Object.keys(raw).length) st.memory.raw = raw;
  setIf(st.memory, "cache", nz(raw.file));
  const current = u64(rd(dir, "memory.current"));
  if (current !== undefined) {
    const events = parseFlatKeyed(rd(dir, "memory.events"));
    st.memory.usage = { limit: u64(rd(dir, "memory.max")) ?? U64_MAX, failcnt: events.max ?? 0n };
    setIf(st.memory.usage, "usage", nz(current));
    setIf(st.memory.usage, "max", nz(u64(rd(dir, "memory.peak"))));
    const swapCur = u64(rd(dir, "memory.swap.current"));
    if (swapCur !== undefined) {
      // runc reports v2 swap as memory+swap, like v1's memsw.
      const swapMax = u64(rd(dir, "memory.swap.max")) ?? U64_MAX;
      const memMax = st.memory.usage.limit;
      const limit = swapMax === U64_MAX || memMax === U64_MAX ? U64_MAX : swapMax + memMax;
      st.memory.swap = { limit, failcnt: parseFlatKeyed(rd(dir, "memory.swap.events")).max ?? 0n };
      setIf(st.memory.swap, "usage", nz(swapCur + current));
    }
  }
  setIf(st.memory, "psi", parsePSI(rd(dir, "memory.pressure")));

  const pc = u64(rd(dir, "pids.current"));
  if (pc !== undefined) setIf(st.pids, "current", nz(pc));
  else {
    const n = countPids();
    if (n > 0) st.pids.current = BigInt(n);
  }
  const pm = rd(dir, "pids.max");
  if (pm !== undefined && pm !== "max") setIf(st.pids, "limit", nz(u64(pm)));

  Object.assign(st.blkio, parseIoStat(rd(dir, "io.stat")));
  setIf(st.blkio, "psi", parsePSI(rd(dir, "io.pressure")));

  for (const size of hugePageSizes()) {
    const cur = rd(dir, `hugetlb.${size}.current`);
    if (cur === undefined) continue;
    const h: HugetlbStats = { failcnt: parseFlatKeyed(rd(dir, `hugetlb.${size}.events`)).max ?? 0n };
    setIf(h, "usage", nz(u64(cur)));
    st.hugetlb[size] = h;
  }
  return st;
}

/** JSON with bigints printed as bare integers (Go's encoding of uint64), compact like json.Marshal. */
export function encodeJSON(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Number.isFinite(v) ? JSON.stringify(v) : "null";
  if (typeof v === "string" || typeof v === "boolean") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map(encodeJSON).join(",") + "]";
  const parts: string[] = [];
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    parts.push(JSON.stringify(k) + ":" + encodeJSON(x));
  }
  return "{" + parts.join(",") + "}";
}

export function encodeStats(s: CgroupStats): string {
  return encodeJSON(s);
}

/** One `runc events` line (without the trailing newline): {"type":"stats","id":"x","data":{...}}. */
export function encodeEvent(type: "stats" | "oom" | string, id: string, data?: unknown): string {
  const ev: Record<string, unknown> = { type, id };
  if (data !== undefined) ev.data = data;
  return encodeJSON(ev);
}
