// Semantic checks of linux.resources, usable by the spec checks (config.json) and by `update`
// (--resources). Each problem names the JSON pointer of the offending value.
//
// What is an error follows what runc (and the kernel behind it) rejects:
//  - a device rule with a bad type or access string (runc: `invalid cgroup device type "x"`);
//  - weights out of range (blkio 10..1000; the kernel rejects the write);
//  - cpu.idle other than 0/1, period outside the kernel's 1ms..1s;
//  - swap below the memory limit, swap without a limit on v2 (runc's conversion errors);
//  - unified on a v1/hybrid host (runc: "cannot use unified on cgroup v1");
//  - malformed cpuset lists, unknown huge page sizes.
// A cpu quota without a period is NOT an error (runc writes the quota and the kernel keeps its
// current period, 100ms by default); it is reported as nothing at all.
import type { Resources } from "../spec/types.js";
import type { Problem } from "../spec/problems.js";
import type { CgroupMode } from "./host.js";
import { CPU_SHARES_MAX, CPU_SHARES_MIN, hugePageSizeBytes, memorySwapToV2, parseCpuList } from "./convert.js";
import { normalizeDeviceRule } from "./devices.js";

export interface ValidateOptions {
  /** host mode; when unknown, mode-specific checks are skipped */
  mode?: CgroupMode;
  /** JSON pointer of the resources object (default "/linux/resources"; "" for an `update --resources` document) */
  pointer?: string;
  /** file name reported in problems (default "config.json") */
  file?: string;
  /** supported huge page sizes ("2MB", "1GB"); when given, unknown sizes are errors */
  hugePageSizes?: string[];
}

function isInt(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n);
}

export function validateResources(r: Resources | undefined, opts: ValidateOptions = {}): Problem[] {
  const problems: Problem[] = [];
  if (!r) return problems;
  const base = opts.pointer ?? "/linux/resources";
  const file = opts.file ?? "config.json";
  const err = (ptr: string, message: string) => problems.push({ file, pointer: base + ptr, message, severity: "error" });
  const warn = (ptr: string, message: string) => problems.push({ file, pointer: base + ptr, message, severity: "warning" });
  const v2 = opts.mode === "v2";

  (r.devices ?? []).forEach((d, i) => {
    try {
      normalizeDeviceRule(d);
    } catch (e) {
      const msg = (e as Error).message;
      const field = msg.includes("type") ? "/type" : msg.includes("access") ? "/access" : msg.includes("major") ? "/major" : msg.includes("minor") ? "/minor" : "";
      err(`/devices/${i}${field}`, msg);
    }
  });

  const m = r.memory;
  if (m) {
    if (m.swappiness !== undefined && m.swappiness !== null) {
      // runtime-spec types it uint64; -1 is tolerated by runc as "unset"
      if (!isInt(m.swappiness) || m.swappiness < -1 || m.swappiness > 100) err("/memory/swappiness", `invalid memory swappiness ${m.swappiness}: valid range is 0-100`);
    }
    for (const k of ["limit", "reservation", "swap", "kernel", "kernelTCP"] as const) {
      const v = m[k];
      if (v !== undefined && v !== null && (!isInt(v) || v < -1)) err(`/memory/${k}`, `invalid value ${v}: must be a byte count or -1 for unlimited`);
    }
    const limit = m.limit ?? 0;
    const swap = m.swap ?? 0;
    if (limit > 0 && swap > 0 && swap < limit) err("/memory/swap", `memory+swap limit (${swap}) should be >= memory limit (${limit})`);
    else if (v2) {
      try {
        memorySwapToV2(swap, limit);
      } catch (e) {
        err("/memory/swap", (e as Error).message);
      }
    }
    if (m.kernel !== undefined && m.kernel !== null && m.kernel !== 0) warn("/memory/kernel", "kernel memory limit is not supported by the kernel any more and is ignored");
    if (v2 && m.kernelTCP !== undefined && m.kernelTCP !== null && m.kernelTCP !== 0) warn("/memory/kernelTCP", "kernel TCP memory limit is not supported on cgroup v2 and is ignored");
    if (v2 && m.swappiness !== undefined && m.swappiness !== null && m.swappiness !== -1) warn("/memory/swappiness", "memory swappiness is not supported on cgroup v2 and is ignored");
    if (v2 && m.disableOOMKiller) warn("/memory/disableOOMKiller", "disabling the OOM killer is not supported on cgroup v2 and is ignored");
  }

  const c = r.cpu;
  if (c) {
    if (c.shares !== undefined && c.shares !== null && c.shares !== 0) {
      if (!isInt(c.shares) || c.shares < 0) err("/cpu/shares", `invalid cpu shares ${c.shares}`);
      else if (opts.mode !== undefined && !v2 && (c.shares < CPU_SHARES_MIN || c.shares > CPU_SHARES_MAX)) {
        err("/cpu/shares", `cpu shares ${c.shares} out of range: the kernel allows ${CPU_SHARES_MIN}-${CPU_SHARES_MAX}`);
      }
    }
    if (c.period !== undefined && c.period !== null && c.period !== 0) {
      if (!isInt(c.period) || c.period < 1000 || c.period > 1000000) err("/cpu/period", `cpu period ${c.period} out of range: the kernel allows 1000-1000000 (microseconds)`);
    }
    if (c.quota !== undefined && c.quota !== null && c.quota !== 0) {
      if (!isInt(c.quota) || (c.quota < 1000 && c.quota !== -1)) err("/cpu/quota", `cpu quota ${c.quota} invalid: must be -1 (unlimited) or at least 1000 (microseconds)`);
    }
    if (c.burst !== undefined && c.burst !== null) {
      if (!isInt(c.burst) || c.burst < 0) err("/cpu/burst", `invalid cpu burst ${c.burst}`);
      else if (c.burst > 0 && isInt(c.quota) && c.quota > 0 && c.burst > c.quota) err("/cpu/burst", `cpu burst ${c.burst} must not exceed the quota ${c.quota}`);
    }
    if (c.idle !== undefined && c.idle !== null && c.idle !== 0 && c.idle !== 1) err("/cpu/idle", `invalid cpu idle ${c.idle}: must be 0 or 1`);
    if (v2 && ((c.realtimeRuntime ?? 0) !== 0 || (c.realtimePeriod ?? 0) !== 0)) {
      warn((c.realtimeRuntime ?? 0) !== 0 ? "/cpu/realtimeRuntime" : "/cpu/realtimePeriod", "realtime cpu scheduling limits are not supported on cgroup v2 and are ignored");
    }
    for (const k of ["cpus", "mems"] as const) {
      const v = c[k];
      if (v === undefined || v === null || v === "") continue;
      try {
        parseCpuList(v);
      } catch (e) {
        err(`/cpu/${k}`, `invalid ${k === "cpus" ? "cpu" : "memory node"} list ${JSON.stringify(v)}: ${(e as Error).message}`);
      }
    }
  }

  const b = r.blockIO;
  if (b) {
    const w = (ptr: string, v: number | undefined) => {
      if (v === undefined || v === null || v === 0) return;
      if (!isInt(v) || v < 10 || v > 1000) err(ptr, `weight ${v} out of range: must be 10-1000`);
    };
    w("/blockIO/weight", b.weight);
    w("/blockIO/leafWeight", b.leafWeight);
    (b.weightDevice ?? []).forEach((d, i) => {
      w(`/blockIO/weightDevice/${i}/weight`, d.weight);
      w(`/blockIO/weightDevice/${i}/leafWeight`, d.leafWeight);
    });
    for (const k of ["throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice", "throttleWriteIOPSDevice"] as const) {
      (b[k] ?? []).forEach((d, i) => {
        if (!isInt(d.rate) || d.rate < 0) err(`/blockIO/${k}/${i}/rate`, `invalid rate ${d.rate}`);
      });
    }
  }

  (r.hugepageLimits ?? []).forEach((h, i) => {
    if (hugePageSizeBytes(h.pageSize) === undefined) err(`/hugepageLimits/${i}/pageSize`, `invalid huge page size ${JSON.stringify(h.pageSize)} (expected e.g. "2MB", "1GB")`);
    else if (opts.hugePageSizes && !opts.hugePageSizes.includes(h.pageSize)) {
      err(`/hugepageLimits/${i}/pageSize`, `huge page size ${h.pageSize} is not supported by this host (supported: ${opts.hugePageSizes.join(", ") || "none"})`);
    }
  });

  if (r.network) {
    const cid = r.network.classID;
    if (cid !== undefined && cid !== null && (!isInt(cid) || cid < 0 || cid > 0xffffffff)) err("/network/classID", `invalid classID ${cid}`);
    (r.network.priorities ?? []).forEach((p, i) => {
      if (!p.name || /[\s/]/.test(p.name)) err(`/network/priorities/${i}/name`, `invalid interface name ${JSON.stringify(p.name)}`);
      if (!isInt(p.priority) || p.priority < 0) err(`/network/priorities/${i}/priority`, `invalid priority ${p.priority}`);
    });
  }

  for (const [dev, lim] of Object.entries(r.rdma ?? {})) {
    const ptr = `/rdma/${dev.replace(/~/g, "~0").replace(/\//g, "~1")}`;
    if (!dev || /\s/.test(dev)) err(ptr, `invalid rdma device name ${JSON.stringify(dev)}`);
    for (const k of ["hcaHandles", "hcaObjects"] as const) {
      const v = lim?.[k];
      if (v !== undefined && v !== null && (!isInt(v) || v < 0)) err(`${ptr}/${k}`, `invalid ${k} ${v}`);
    }
  }

  if (r.unified && Object.keys(r.unified).length > 0) {
    if (opts.mode === "v1" || opts.mode === "hybrid") err("/unified", "cannot use unified resources on cgroup v1 (this host is not in cgroup v2 unified mode)");
    for (const k of Object.keys(r.unified)) {
      const ptr = `/unified/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      if (k.includes("/") || k === "." || k === "..") err(ptr, `unified resource ${JSON.stringify(k)} must be a file name (no slashes)`);
      else if (!/^[a-z_0-9]+\.[A-Za-z_0-9.]+$/.test(k)) err(ptr, `unified resource ${JSON.stringify(k)} must be in the form CONTROLLER.PARAMETER`);
      else if (k === "cgroup.procs" || k === "cgroup.threads" || k === "cgroup.subtree_control" || k === "cgroup.kill" || k === "cgroup.freeze") {
        err(ptr, `unified resource ${JSON.stringify(k)} is managed by the runtime and cannot be set`);
      }
    }
  }
  return problems;
}
