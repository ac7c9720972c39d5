// cgroup v2 driver: one directory in the unified hierarchy (key "").
import { dirname, join } from "node:path";
import type { DeviceRule, Resources } from "../spec/types.js";
import { native, type ErrnoError } from "../syscalls/index.js";
import { BaseManager } from "./base.js";
import { DEVICE_FILTER_LICENSE, DEVICE_FILTER_NAME, deviceFilter, type DeviceFilter } from "./device-bpf.js";
import { blkioWeightToIoWeight, cpuSharesToWeight, hugePageSizeBytes, memorySwapToV2, v2Limit } from "./convert.js";
import {
  CgroupError,
  dirExists,
  fileExists,
  isPermission,
  mkdirAll,
  readCgroupFile,
  readCgroupFileIfExists,
  writeCgroupFile,
} from "./fsutil.js";
import type { FreezerState } from "./types.js";
import { statsV2, type CgroupStats } from "./stats.js";
import { rdmaLine } from "./v1.js";

export class V2Manager extends BaseManager {
  readonly mode = "v2" as const;
  protected readonly driver = "v2" as const;

  constructor(dir: string, opts: { rootless?: boolean } = {}) {
    super({ "": dir }, opts.rootless ?? false);
    this.wanted = dir;
  }

  private readonly wanted: string;

  /** Our directory (still the one we wanted when rootless could not create it: reads find nothing). */
  get dir(): string {
    return this.paths[""] ?? this.wanted;
  }

  protected primaryDir(): string | undefined {
    return this.paths[""];
  }

  create(): void {
    const dir = this.dir;
    // Find the part of the path that already exists, then create the rest level by level,
    // enabling the parent's controllers for its children on the way down.
    const missing: string[] = [];
    let d = dir;
    while (!dirExists(d)) {
      missing.unshift(d);
      const p = dirname(d);
      if (p === d) break;
      d = p;
    }
    try {
      for (const m of missing) {
        enableSubtreeControllers(dirname(m));
        mkdirAll(m);
      }
      if (missing.length) this.made.add(dir);
    } catch (e) {
      if (this.dropUnwritable(dir, e)) return;
      throw e;
    }
    this.checkExisting();
  }

  /** Controllers available in this cgroup (cgroup.controllers). */
  controllers(): Set<string> {
    const s = readCgroupFileIfExists(this.dir, "cgroup.controllers") ?? "";
    return new Set(s.split(/\s+/).filter(Boolean));
  }

  // ---- freezer ----

  protected canFreeze(): boolean {
    return fileExists(join(this.dir, "cgroup.freeze"));
  }

  protected override cgroupKill(): boolean {
    if (!fileExists(join(this.dir, "cgroup.kill"))) return false;
    try {
      writeCgroupFile(this.dir, "cgroup.kill", "1");
    } catch (e) {
      // removed meanwhile (systemd removes a scope's cgroup once it is empty): nothing left to kill
      const code = (e as CgroupError).code;
      if (code !== "ENOENT" && code !== "ENODEV") throw e;
    }
    return true;
  }

  freezerState(): FreezerState {
    const want = readCgroupFileIfExists(this.dir, "cgroup.freeze");
    if (want === undefined || want === "0") return "THAWED";
    return frozenFromEvents(readCgroupFileIfExists(this.dir, "cgroup.events")) ? "FROZEN" : "FREEZING";
  }

  protected setFreezer(state: "FROZEN" | "THAWED"): void {
    const dir = this.dir;
    if (!fileExists(join(dir, "cgroup.freeze"))) {
      throw new CgroupError(`cannot ${state === "FROZEN" ? "freeze" : "thaw"}: ${dir} has no cgroup.freeze (kernel older than 5.2, or the root cgroup)`);
    }
    const frozen = state === "FROZEN";
    writeCgroupFile(dir, "cgroup.freeze", frozen ? "1" : "0");
    const ok = this.waitFor(() => frozenFromEvents(readCgroupFileIfExists(dir, "cgroup.events")) === frozen, 2000);
    if (!ok) {
      if (frozen) {
        try {
          writeCgroupFile(dir, "cgroup.freeze", "0");
        } catch {
          /* ignore */
        }
        throw new CgroupError(`unable to freeze cgroup ${dir}: cgroup.events did not report "frozen 1" within 2s`);
      }
      throw new CgroupError(`unable to thaw cgroup ${dir}: cgroup.events did not report "frozen 0" within 2s`);
    }
  }

  // ---- limits ----

  /** Write one file; a missing file becomes "controller X not available here". */
  private w(file: string, value: string, what: string): void {
    const dropped = this.droppedReason("");
    if (dropped) throw new CgroupError(`cannot set ${what}: ${dropped}`);
    try {
      writeCgroupFile(this.dir, file, value);
    } catch (e) {
      if ((e as CgroupError).code === "ENOENT") {
        const ctrl = file.split(".")[0]!;
        const avail = this.controllers();
        if (ctrl !== "cgroup" && !avail.has(ctrl)) {
          throw new CgroupError(
            `cannot set ${what}: the ${ctrl} controller is not available in ${this.dir} (cgroup.controllers: ${[...avail].join(" ") || "none"})`,
            "ENOENT",
          );
        }
      }
      throw new CgroupError(`cannot set ${what}: ${(e as Error).message}`, (e as CgroupError).code);
    }
  }

  set(r: Resources): string[] {
    const warnings: string[] = [];
    // rootless without a cgroup: device rules cannot apply (create warned); limits fail in w()
    if (this.droppedReason("")) r = { ...r, devices: undefined };

    if (r.pids?.limit !== undefined && r.pids.limit !== null && r.pids.limit !== 0) {
      this.w("pids.max", r.pids.limit > 0 ? String(r.pids.limit) : "max", "pids limit");
    }

    if (r.memory) this.setMemory(r.memory, warnings);

    if (r.blockIO) this.setIo(r.blockIO, warnings);

    if (r.cpu) this.setCpu(r.cpu, warnings);

    // v1 applies each rule on top of the cgroup's current list; here the list becomes the whole
    // filter, replacing the one set before. An empty list changes nothing, as on v1.
    if (r.devices && r.devices.length) this.setDevices(r.devices, warnings);

    if (r.cpu?.cpus) this.w("cpuset.cpus", r.cpu.cpus, "cpuset cpus");
    if (r.cpu?.mems) this.w("cpuset.mems", r.cpu.mems, "cpuset mems");

    for (const h of r.hugepageLimits ?? []) {
      if (hugePageSizeBytes(h.pageSize) === undefined) throw new CgroupError(`invalid huge page size ${JSON.stringify(h.pageSize)}`);
      this.w(`hugetlb.${h.pageSize}.max`, String(h.limit), `hugepage limit ${h.pageSize}`);
      if (fileExists(join(this.dir, `hugetlb.${h.pageSize}.rsvd.max`))) this.w(`hugetlb.${h.pageSize}.rsvd.max`, String(h.limit), `hugepage limit ${h.pageSize}`);
    }

    if (r.rdma) for (const [dev, l] of Object.entries(r.rdma)) this.w("rdma.max", rdmaLine(dev, l), `rdma limit for ${dev}`);

    if (r.network && ((r.network.classID ?? 0) !== 0 || (r.network.priorities ?? []).length > 0)) {
      // runc also ignores these on v2: net_cls/net_prio do not exist there.
      warnings.push("linux.resources.network (classID, priorities) is not supported on cgroup v2 and is ignored");
    }

    for (const [k, v] of Object.entries(r.unified ?? {})) {
      if (k.includes("/")) throw new CgroupError(`unified resource ${JSON.stringify(k)} must be a file name (no slashes)`);
      if (!k.includes(".")) throw new CgroupError(`unified resource ${JSON.stringify(k)} must be in the form CONTROLLER.PARAMETER`);
      // Multi-line values (e.g. io.max for several devices) are written one line per write.
      for (const line of v.split("\n")) if (line.trim() !== "") this.w(k, line, `unified resource ${JSON.stringify(k)}`);
    }
    return warnings;
  }

  /** The rule list as a BPF device program on this cgroup, replacing the one tsrun attached before. */
  private setDevices(rules: DeviceRule[], warnings: string[]): void {
    let filter: DeviceFilter;
    try {
      filter = deviceFilter(rules);
    } catch (e) {
      throw new CgroupError(`cannot set device rules: ${(e as Error).message}`);
    }
    try {
      // allowing everything is the same as having no program of our own: attach nothing, which
      // also spares privileged containers the need for bpf(2)
      native.bpfDeviceFilter(this.dir, filter.allowsAll ? null : filter.insns, DEVICE_FILTER_LICENSE, DEVICE_FILTER_NAME);
    } catch (e) {
      const code = (e as ErrnoError).code;
      if (isPermission(e)) {
        if (filter.allowsAll) return; // nothing to enforce, and nothing of ours can be attached
        if (this.rootless) {
          // as on v1: a rootless container cannot have device rules, and runc ignores that too
          warnings.push("device rules ignored: no permission to attach a BPF device filter (rootless)");
          return;
        }
      }
      const hint =
        code === "EPERM" ? " (a device filter needs CAP_SYS_ADMIN, or CAP_BPF and CAP_NET_ADMIN)" : code === "EBADF" ? " (not a cgroup v2 directory)" : "";
      const msg = (e as Error).message;
      const where = msg.includes(this.dir) ? "" : ` on ${this.dir}`;
      throw new CgroupError(`cannot set device rules${where}: ${msg}${code ? ` (${code})` : ""}${hint}`, code);
    }
  }

  private setMemory(m: NonNullable<Resources["memory"]>, warnings: string[]): void {
    if ((m.kernel ?? 0) !== 0) warnings.push("linux.resources.memory.kernel is not supported by the kernel any more and is ignored");
    if ((m.kernelTCP ?? 0) !== 0) warnings.push("linux.resources.memory.kernelTCP is not supported on cgroup v2 and is ignored");
    if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness !== -1) warnings.push("linux.resources.memory.swappiness is not supported on cgroup v2 and is ignored");
    if (m.disableOOMKiller) warnings.push("linux.resources.memory.disableOOMKiller is not supported on cgroup v2 and is ignored");
    const limit = m.limit ?? 0;
    let swapMax: number;
    try {
      swapMax = memorySwapToV2(m.swap ?? 0, limit);
    } catch (e) {
      throw new CgroupError(`invalid memory swap: ${(e as Error).message}`);
    }
    if (m.checkBeforeUpdate && (limit > 0 || (m.swap ?? 0) > 0)) {
      const usage = Number(readCgroupFileIfExists(this.dir, "memory.current") ?? "NaN");
      if (Number.isFinite(usage)) {
        if ((m.swap ?? 0) > 0 && m.swap! <= usage) throw new CgroupError(`rejecting memory+swap limit ${m.swap} <= usage ${usage}`);
        if (limit > 0 && limit <= usage) throw new CgroupError(`rejecting memory limit ${limit} <= usage ${usage}`);
      }
    }
    // swap first: lowering memory.max below usage triggers reclaim into swap. A swap equal to the
    // limit converts to 0, which here means "no swap" (written), not "unset" (swap absent or 0).
    if (swapMax !== 0 || (m.swap ?? 0) > 0) {
      if (fileExists(join(this.dir, "memory.swap.max")) || !this.controllers().has("memory")) this.w("memory.swap.max", v2Limit(swapMax), "memory swap limit");
      else if (swapMax !== -1) warnings.push("linux.resources.memory.swap ignored: swap accounting is not enabled in this kernel");
    }
    if (limit !== 0) this.w("memory.max", v2Limit(limit), "memory limit");
    if ((m.reservation ?? 0) !== 0) this.w("memory.low", v2Limit(m.reservation!), "memory reservation");
  }

  private setCpu(c: NonNullable<Resources["cpu"]>, warnings: string[]): void {
    if ((c.realtimeRuntime ?? 0) !== 0 || (c.realtimePeriod ?? 0) !== 0) {
      warnings.push("linux.resources.cpu realtimeRuntime/realtimePeriod are not supported on cgroup v2 and are ignored");
    }
    if (c.idle !== undefined && c.idle !== null && (c.idle !== 0 || fileExists(join(this.dir, "cpu.idle")))) {
      this.w("cpu.idle", String(c.idle), "cpu idle");
    }
    if ((c.shares ?? 0) !== 0) this.w("cpu.weight", String(cpuSharesToWeight(c.shares!)), "cpu weight (from shares)");
    const quota = c.quota ?? 0;
    const period = c.period ?? 0;
    if (quota !== 0 || period !== 0) {
      // cpu.max is "$QUOTA $PERIOD"; keep whichever half was not given (runc update semantics).
      const cur = (readCgroupFileIfExists(this.dir, "cpu.max") ?? "max 100000").split(/\s+/);
      const q = quota > 0 ? String(quota) : quota < 0 ? "max" : (cur[0] ?? "max");
      const value = period > 0 ? `${q} ${period}` : q;
      this.w("cpu.max", value, "cpu quota/period");
    }
    if (c.burst !== undefined && c.burst !== null) this.w("cpu.max.burst", String(c.burst), "cpu burst");
  }

  private setIo(b: NonNullable<Resources["blockIO"]>, warnings: string[]): void {
    const bfq = fileExists(join(this.dir, "io.bfq.weight"));
    if ((b.weight ?? 0) !== 0) {
      // BFQ takes the blkio range (1..1000) as is; io.weight wants the converted 1..10000 value.
      if (bfq) this.w("io.bfq.weight", String(b.weight), "blkio weight");
      else this.w("io.weight", String(blkioWeightToIoWeight(b.weight!)), "blkio weight");
    }
    if ((b.leafWeight ?? 0) !== 0) warnings.push("linux.resources.blockIO.leafWeight is not supported on cgroup v2 and is ignored");
    for (const d of b.weightDevice ?? []) {
      if ((d.weight ?? 0) !== 0) {
        if (bfq) this.w("io.bfq.weight", `${d.major}:${d.minor} ${d.weight}`, "blkio weightDevice");
        else this.w("io.weight", `${d.major}:${d.minor} ${blkioWeightToIoWeight(d.weight!)}`, "blkio weightDevice");
      }
      if ((d.leafWeight ?? 0) !== 0) warnings.push("linux.resources.blockIO.weightDevice[].leafWeight is not supported on cgroup v2 and is ignored");
    }
    const thr: Array<[keyof typeof b, string]> = [
      ["throttleReadBpsDevice", "rbps"],
      ["throttleWriteBpsDevice", "wbps"],
      ["throttleReadIOPSDevice", "riops"],
      ["throttleWriteIOPSDevice", "wiops"],
    ];
    for (const [key, name] of thr) {
      for (const d of (b[key] as Array<{ major: number; minor: number; rate: number }> | undefined) ?? []) {
        // 0 removes a v1 throttle; the v2 equivalent is "max".
        this.w("io.max", `${d.major}:${d.minor} ${name}=${d.rate === 0 ? "max" : d.rate}`, `blkio ${key}`);
      }
    }
  }

  stats(): CgroupStats {
    return statsV2(this.dir, () => this.pids().length);
  }

  oomKillCount(): number | undefined {
    const text = readCgroupFileIfExists(this.dir, "memory.events");
    if (text === undefined) return undefined;
    const m = /^oom_kill (\d+)$/m.exec(text);
    return m ? Number(m[1]) : undefined;
  }
}

export function frozenFromEvents(text: string | undefined): boolean {
  if (!text) return false;
  return /^frozen 1$/m.test(text);
}

/**
 * Make every controller available in `parent` available to its children as well
 * (cgroup.subtree_control). Failures are ignored: a controller that cannot be enabled (e.g. the
 * parent has processes of its own) shows up later as "controller not available" when a limit
 * needs it.
 */
export function enableSubtreeControllers(parent: string): void {
  const avail = readCgroupFileIfExists(parent, "cgroup.controllers");
  if (!avail) return;
  const want = avail.split(/\s+/).filter(Boolean);
  const have = new Set((readCgroupFileIfExists(parent, "cgroup.subtree_control") ?? "").split(/\s+/).filter(Boolean));
  const missing = want.filter((c) => !have.has(c));
  if (missing.length === 0) return;
  try {
    writeCgroupFile(parent, "cgroup.subtree_control", missing.map((c) => "+" + c).join(" "));
  } catch {
    for (const c of missing) {
      try {
        writeCgroupFile(parent, "cgroup.subtree_control", "+" + c);
      } catch {
        /* see above */
      }
    }
  }
}

export function readCpuMax(dir: string): { quota: number; period: number } {
  const [q, p] = readCgroupFile(dir, "cpu.max").split(/\s+/);
  return { quota: q === "max" ? -1 : Number(q), period: Number(p) };
}
