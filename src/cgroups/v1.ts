// cgroup v1 driver: one directory per mounted hierarchy. On hybrid hosts it also creates and
// joins the (controller-less) cgroup2 directory recorded under the "" key.
import { dirname, join } from "node:path";
import type { Resources } from "../spec/types.js";
import { BaseManager } from "./base.js";
import { hugePageSizeBytes } from "./convert.js";
import { v1DeviceWrites } from "./devices.js";
import {
  CgroupError,
  dirExists,
  fileExists,
  isPermission,
  mkdirAll,
  readCgroupFile,
  readCgroupFileIfExists,
  sleepMs,
  writeCgroupFile,
} from "./fsutil.js";
import type { FreezerState } from "./types.js";
import { statsV1, type CgroupStats } from "./stats.js";

/** Order of preference for "the" directory listing the container's processes. */
const PRIMARY_ORDER = ["freezer", "pids", "memory", "devices", "cpu", "cpuacct", "cpuset", "blkio", "name=systemd", ""];

export class V1Manager extends BaseManager {
  readonly mode: "v1" | "hybrid";
  protected readonly driver = "v1" as const;

  constructor(paths: Record<string, string>, opts: { hybrid?: boolean; rootless?: boolean } = {}) {
    super(paths, opts.rootless ?? false);
    this.mode = opts.hybrid || "" in paths ? "hybrid" : "v1";
  }

  protected primaryDir(): string | undefined {
    for (const k of PRIMARY_ORDER) if (this.paths[k]) return this.paths[k];
    return Object.values(this.paths)[0];
  }

  create(): void {
    for (const dir of this.dirs()) {
      try {
        const existed = dirExists(dir);
        if (dir === this.paths.cpuset) ensureCpusetDir(dir);
        else mkdirAll(dir);
        if (!existed) this.made.add(dir);
      } catch (e) {
        if (this.dropUnwritable(dir, e)) continue;
        throw e;
      }
    }
    this.checkExisting();
  }

  // ---- freezer ----

  protected override freezerDir(): string | undefined {
    return this.paths.freezer;
  }

  protected canFreeze(): boolean {
    return this.paths.freezer !== undefined && dirExists(this.paths.freezer);
  }

  freezerState(): FreezerState {
    const dir = this.paths.freezer;
    if (!dir) return "THAWED";
    const s = readCgroupFileIfExists(dir, "freezer.state");
    if (s === "FROZEN" || s === "FREEZING") return s;
    return "THAWED";
  }

  protected setFreezer(state: "FROZEN" | "THAWED"): void {
    const dir = this.paths.freezer;
    if (!dir) throw new CgroupError("cannot freeze or thaw: the freezer cgroup controller is not mounted on this host");
    writeCgroupFile(dir, "freezer.state", state);
    const ok = this.waitFor(
      () => readCgroupFile(dir, "freezer.state") === state,
      state === "FROZEN" ? 2000 : 1000,
      (i) => {
        // A freeze can stall while tasks are in uninterruptible sleep or forking; re-issuing the
        // request (briefly thawing every so often) nudges the kernel along.
        if (state === "FROZEN" && i % 25 === 0) {
          writeCgroupFile(dir, "freezer.state", "THAWED");
          sleepMs(1);
        }
        if (i % 5 === 0) writeCgroupFile(dir, "freezer.state", state);
      },
    );
    if (!ok) {
      if (state === "FROZEN") {
        try {
          writeCgroupFile(dir, "freezer.state", "THAWED");
        } catch {
          /* ignore */
        }
        throw new CgroupError(`unable to freeze cgroup ${dir}: still ${readCgroupFileIfExists(dir, "freezer.state") ?? "unknown"} after 2s`);
      }
      throw new CgroupError(`unable to thaw cgroup ${dir}: still ${readCgroupFileIfExists(dir, "freezer.state") ?? "unknown"}`);
    }
  }

  // ---- limits ----

  set(r: Resources): string[] {
    const warnings: string[] = [];
    const need = (ctrl: string, what: string): string => {
      const dir = this.paths[ctrl];
      if (!dir) throw new CgroupError(`cannot set ${what}: ${this.droppedReason(ctrl) ?? `the ${ctrl} cgroup controller is not mounted on this host`}`);
      return dir;
    };

    // cpuset first: other controllers do not depend on it, but tasks need cpus/mems to run.
    if (r.cpu?.cpus || r.cpu?.mems) {
      const dir = need("cpuset", "cpuset");
      if (r.cpu.cpus) writeCgroupFile(dir, "cpuset.cpus", r.cpu.cpus);
      if (r.cpu.mems) writeCgroupFile(dir, "cpuset.mems", r.cpu.mems);
    }

    if (r.memory) this.setMemory(r.memory, need, warnings);
    if (r.cpu) this.setCpu(r.cpu, need, warnings);

    if (r.pids?.limit !== undefined && r.pids.limit !== null && r.pids.limit !== 0) {
      const dir = need("pids", "pids limit");
      writeCgroupFile(dir, "pids.max", r.pids.limit > 0 ? String(r.pids.limit) : "max");
    }

    if (r.blockIO) this.setBlkio(r.blockIO, need, warnings);

    for (const h of r.hugepageLimits ?? []) {
      const dir = need("hugetlb", "hugepage limits");
      if (hugePageSizeBytes(h.pageSize) === undefined) throw new CgroupError(`invalid huge page size ${JSON.stringify(h.pageSize)}`);
      const file = `hugetlb.${h.pageSize}.limit_in_bytes`;
      if (!fileExists(join(dir, file))) throw new CgroupError(`cannot set hugepage limit: huge page size ${h.pageSize} is not supported by this host`);
      writeCgroupFile(dir, file, String(h.limit));
      const rsvd = `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`;
      if (fileExists(join(dir, rsvd))) writeCgroupFile(dir, rsvd, String(h.limit));
    }

    if (r.network) {
      if (r.network.classID !== undefined && r.network.classID !== null && r.network.classID !== 0) {
        writeCgroupFile(need("net_cls", "network classID"), "net_cls.classid", String(r.network.classID));
      }
      for (const p of r.network.priorities ?? []) {
        writeCgroupFile(need("net_prio", "network priorities"), "net_prio.ifpriomap", `${p.name} ${p.priority}`);
      }
    }

    if (r.rdma && Object.keys(r.rdma).length) {
      const dir = need("rdma", "rdma limits");
      for (const [dev, l] of Object.entries(r.rdma)) writeCgroupFile(dir, "rdma.max", rdmaLine(dev, l));
    }

    if (r.devices && r.devices.length) {
      const dir = this.paths.devices;
      if (!dir) {
        if (!this.rootless) throw new CgroupError("cannot set device rules: the devices cgroup controller is not mounted on this host");
      } else {
        try {
          for (const [file, line] of v1DeviceWrites(r.devices)) writeCgroupFile(dir, file, line);
        } catch (e) {
          // Rootless containers cannot change device rules; runc ignores that too.
          if (!(this.rootless && isPermission(e))) throw e;
          warnings.push("device rules ignored: no permission to write the devices cgroup (rootless)");
        }
      }
    }

    if (r.unified && Object.keys(r.unified).length) {
      throw new CgroupError("cannot use unified resources on cgroup v1 (this host is not in cgroup v2 unified mode)");
    }
    return warnings;
  }

  private setMemory(m: NonNullable<Resources["memory"]>, need: (c: string, w: string) => string, warnings: string[]): void {
    const wants =
      (m.limit ?? 0) !== 0 ||
      (m.swap ?? 0) !== 0 ||
      (m.reservation ?? 0) !== 0 ||
      (m.swappiness !== undefined && m.swappiness !== null && m.swappiness !== -1) ||
      m.disableOOMKiller !== undefined ||
      (m.kernelTCP ?? 0) !== 0;
    if ((m.kernel ?? 0) !== 0) warnings.push("linux.resources.memory.kernel is not supported by the kernel any more and is ignored");
    if (!wants) return;
    const dir = need("memory", "memory limits");
    const limit = m.limit ?? 0;
    let swap = m.swap ?? 0;
    const hasSwapFile = fileExists(join(dir, "memory.memsw.limit_in_bytes"));
    // Unlimited memory with no swap given means unlimited swap too.
    if (limit === -1 && swap === 0 && hasSwapFile) swap = -1;
    if (swap !== 0 && !hasSwapFile) {
      warnings.push("linux.resources.memory.swap ignored: swap accounting is not enabled in this kernel");
      swap = 0;
    }
    const writeLimit = (file: string, v: number, what: string) => {
      try {
        writeCgroupFile(dir, file, String(v));
      } catch (e) {
        if ((e as CgroupError).code === "EBUSY") {
          const usage = readCgroupFileIfExists(dir, "memory.usage_in_bytes");
          const peak = readCgroupFileIfExists(dir, "memory.max_usage_in_bytes");
          throw new CgroupError(`unable to set ${what} to ${v} (current usage: ${usage}, peak usage: ${peak})`, "EBUSY");
        }
        if ((e as CgroupError).code === "EINVAL" && file === "memory.limit_in_bytes" && hasSwapFile && swap === 0) {
          const memsw = readCgroupFileIfExists(dir, "memory.memsw.limit_in_bytes");
          throw new CgroupError(`unable to set memory limit to ${v}: it exceeds the current memory+swap limit ${memsw}; set linux.resources.memory.swap as well`, "EINVAL");
        }
        throw e;
      }
    };
    if (limit !== 0 && swap !== 0) {
      // The kernel requires memsw >= limit at every step, so order the writes by direction.
      const cur = Number(readCgroupFile(dir, "memory.limit_in_bytes"));
      if (swap === -1 || cur < swap) {
        writeLimit("memory.memsw.limit_in_bytes", swap, "memory+swap limit");
        writeLimit("memory.limit_in_bytes", limit, "memory limit");
      } else {
        writeLimit("memory.limit_in_bytes", limit, "memory limit");
        writeLimit("memory.memsw.limit_in_bytes", swap, "memory+swap limit");
      }
    } else {
      if (limit !== 0) writeLimit("memory.limit_in_bytes", limit, "memory limit");
      if (swap !== 0) writeLimit("memory.memsw.limit_in_bytes", swap, "memory+swap limit");
    }
    if ((m.reservation ?? 0) !== 0) writeCgroupFile(dir, "memory.soft_limit_in_bytes", String(m.reservation));
    if ((m.kernelTCP ?? 0) !== 0) {
      if (fileExists(join(dir, "memory.kmem.tcp.limit_in_bytes"))) writeCgroupFile(dir, "memory.kmem.tcp.limit_in_bytes", String(m.kernelTCP));
      else warnings.push("linux.resources.memory.kernelTCP is not supported by this kernel and is ignored");
    }
    if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness !== -1) {
      if (m.swappiness < 0 || m.swappiness > 100) throw new CgroupError(`invalid memory swappiness ${m.swappiness}: valid range is 0-100`);
      writeCgroupFile(dir, "memory.swappiness", String(m.swappiness));
    }
    if (m.disableOOMKiller) writeCgroupFile(dir, "memory.oom_control", "1");
    if (m.useHierarchy === false) warnings.push("linux.resources.memory.useHierarchy=false is ignored (the kernel always uses the hierarchy)");
  }

  private setCpu(c: NonNullable<Resources["cpu"]>, need: (ctl: string, w: string) => string, warnings: string[]): void {
    const wants =
      (c.shares ?? 0) !== 0 ||
      (c.quota ?? 0) !== 0 ||
      (c.period ?? 0) !== 0 ||
      (c.burst !== undefined && c.burst !== null) ||
      (c.realtimeRuntime ?? 0) !== 0 ||
      (c.realtimePeriod ?? 0) !== 0 ||
      (c.idle !== undefined && c.idle !== null);
    if (!wants) return;
    const dir = need("cpu", "cpu limits");
    // Realtime: the period first, so a runtime that fits the new period is accepted.
    if ((c.realtimePeriod ?? 0) !== 0) writeCgroupFile(dir, "cpu.rt_period_us", String(c.realtimePeriod));
    if ((c.realtimeRuntime ?? 0) !== 0) writeCgroupFile(dir, "cpu.rt_runtime_us", String(c.realtimeRuntime));
    if ((c.shares ?? 0) !== 0) {
      writeCgroupFile(dir, "cpu.shares", String(c.shares));
      const got = Number(readCgroupFile(dir, "cpu.shares"));
      if (got < c.shares!) throw new CgroupError(`the maximum allowed cpu-shares is ${got}`);
      if (got > c.shares!) throw new CgroupError(`the minimum allowed cpu-shares is ${got}`);
    }
    const period = c.period ?? 0;
    const quota = c.quota ?? 0;
    if (period !== 0 || quota !== 0) {
      // The kernel checks quota/period against the parent at each write; if writing the period
      // first is refused, write the quota first and the period again.
      try {
        if (period !== 0) writeCgroupFile(dir, "cpu.cfs_period_us", String(period));
      } catch (e) {
        if ((e as CgroupError).code !== "EINVAL" || quota === 0) throw e;
        writeCgroupFile(dir, "cpu.cfs_quota_us", String(quota));
        writeCgroupFile(dir, "cpu.cfs_period_us", String(period));
      }
      if (quota !== 0) writeCgroupFile(dir, "cpu.cfs_quota_us", String(quota));
    }
    if (c.burst !== undefined && c.burst !== null) {
      if (fileExists(join(dir, "cpu.cfs_burst_us"))) writeCgroupFile(dir, "cpu.cfs_burst_us", String(c.burst));
      else if (c.burst !== 0) throw new CgroupError("cannot set cpu burst: the kernel does not support cpu.cfs_burst_us");
    }
    if (c.idle !== undefined && c.idle !== null) {
      if (fileExists(join(dir, "cpu.idle"))) writeCgroupFile(dir, "cpu.idle", String(c.idle));
      else if (c.idle !== 0) throw new CgroupError("cannot set cpu idle: the kernel does not support cpu.idle");
    }
    void warnings;
  }

  private setBlkio(b: NonNullable<Resources["blockIO"]>, need: (c: string, w: string) => string, warnings: string[]): void {
    const any =
      (b.weight ?? 0) !== 0 ||
      (b.leafWeight ?? 0) !== 0 ||
      (b.weightDevice ?? []).length > 0 ||
      (b.throttleReadBpsDevice ?? []).length > 0 ||
      (b.throttleWriteBpsDevice ?? []).length > 0 ||
      (b.throttleReadIOPSDevice ?? []).length > 0 ||
      (b.throttleWriteIOPSDevice ?? []).length > 0;
    if (!any) return;
    const dir = need("blkio", "block I/O limits");
    // CFQ is gone from current kernels; BFQ exposes blkio.bfq.weight instead of blkio.weight.
    const cfq = fileExists(join(dir, "blkio.weight"));
    const bfq = !cfq && fileExists(join(dir, "blkio.bfq.weight"));
    const weightFile = cfq ? "blkio.weight" : bfq ? "blkio.bfq.weight" : undefined;
    const weightDevFile = cfq ? "blkio.weight_device" : bfq ? "blkio.bfq.weight_device" : undefined;
    if ((b.weight ?? 0) !== 0) {
      if (!weightFile) throw new CgroupError("cannot set blkio weight: no proportional I/O scheduler (CFQ or BFQ) is available on this host");
      writeCgroupFile(dir, weightFile, String(b.weight));
    }
    if ((b.leafWeight ?? 0) !== 0) {
      if (fileExists(join(dir, "blkio.leaf_weight"))) writeCgroupFile(dir, "blkio.leaf_weight", String(b.leafWeight));
      else warnings.push("linux.resources.blockIO.leafWeight is not supported by this kernel and is ignored");
    }
    for (const d of b.weightDevice ?? []) {
      if ((d.weight ?? 0) !== 0) {
        if (!weightDevFile) throw new CgroupError("cannot set blkio weightDevice: no proportional I/O scheduler (CFQ or BFQ) is available on this host");
        writeCgroupFile(dir, weightDevFile, `${d.major}:${d.minor} ${d.weight}`);
      }
      if ((d.leafWeight ?? 0) !== 0) {
        if (fileExists(join(dir, "blkio.leaf_weight_device"))) writeCgroupFile(dir, "blkio.leaf_weight_device", `${d.major}:${d.minor} ${d.leafWeight}`);
        else warnings.push("linux.resources.blockIO.weightDevice[].leafWeight is not supported by this kernel and is ignored");
      }
    }
    const thr: Array<[keyof typeof b, string]> = [
      ["throttleReadBpsDevice", "blkio.throttle.read_bps_device"],
      ["throttleWriteBpsDevice", "blkio.throttle.write_bps_device"],
      ["throttleReadIOPSDevice", "blkio.throttle.read_iops_device"],
      ["throttleWriteIOPSDevice", "blkio.throttle.write_iops_device"],
    ];
    for (const [key, file] of thr) {
      for (const d of (b[key] as Array<{ major: number; minor: number; rate: number }> | undefined) ?? []) {
        writeCgroupFile(dir, file, `${d.major}:${d.minor} ${d.rate}`);
      }
    }
  }

  stats(): CgroupStats {
    return statsV1(this.paths);
  }

  oomKillCount(): number | undefined {
    const dir = this.paths.memory;
    if (!dir) return undefined;
    const text = readCgroupFileIfExists(dir, "memory.oom_control");
    if (text === undefined) return undefined;
    const m = /^oom_kill (\d+)$/m.exec(text);
    return m ? Number(m[1]) : undefined;
  }
}

export function rdmaLine(dev: string, l: { hcaHandles?: number; hcaObjects?: number }): string {
  const parts = [dev];
  if (l.hcaHandles !== undefined && l.hcaHandles !== null) parts.push(`hca_handle=${l.hcaHandles}`);
  if (l.hcaObjects !== undefined && l.hcaObjects !== null) parts.push(`hca_object=${l.hcaObjects}`);
  return parts.join(" ");
}

/**
 * mkdir a cpuset cgroup so that it is usable: a new cpuset cgroup starts with empty cpuset.cpus and
 * cpuset.mems, and no task can join it until they are set, so copy them down from the parent.
 */
export function ensureCpusetDir(dir: string): void {
  const missing: string[] = [];
  let d = dir;
  while (!dirExists(d)) {
    missing.unshift(d);
    const p = dirname(d);
    if (p === d) break;
    d = p;
  }
  fillCpuset(d);
  for (const m of missing) {
    mkdirAll(m);
    fillCpuset(m);
  }
}

function fillCpuset(dir: string): void {
  for (const f of ["cpuset.cpus", "cpuset.mems"]) {
    const cur = readCgroupFileIfExists(dir, f);
    if (cur === undefined || cur !== "") continue;
    const parent = dirname(dir);
    if (parent === dir) continue;
    fillCpuset(parent);
    const v = readCgroupFileIfExists(parent, f);
    if (v) writeCgroupFile(dir, f, v);
  }
}
