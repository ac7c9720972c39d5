// Entry point of the cgroups layer: pick the driver for this host and resolve the container's paths.
import type { CgroupManager, SavedCgroup } from "./types.js";
import { readHostCgroupInfo, type HostCgroupInfo } from "./host.js";
import { resolvePaths } from "./paths.js";
import { V1Manager } from "./v1.js";
import { V2Manager } from "./v2.js";
import { SystemdManager } from "./systemd.js";

export type { CgroupManager, SavedCgroup, FreezerState } from "./types.js";
export type { CgroupStats } from "./stats.js";
export { encodeEvent, encodeJSON, encodeStats } from "./stats.js";
export { CgroupError } from "./fsutil.js";
export { detectCgroupMode, hugePageSizes, readHostCgroupInfo, type CgroupMode, type HostCgroupInfo } from "./host.js";
export { cleanCgroupPath, defaultCgroupPath, resolveCgroupPath, resolvePaths } from "./paths.js";
export { blkioWeightToIoWeight, cpuSharesToWeight, cpuSharesToWeightLinear, memorySwapToV2, parseCpuList } from "./convert.js";
export { containerDeviceRules, defaultDeviceRules, normalizeDeviceRule, v1DeviceLine, v1DeviceWrites } from "./devices.js";
export { DEVICE_FILTER_NAME, decodeInsns, deviceFilter, type DeviceFilter } from "./device-bpf.js";
export { validateResources, type ValidateOptions } from "./validate.js";
export { V1Manager } from "./v1.js";
export { V2Manager } from "./v2.js";
export { SystemdManager, SystemdBus } from "./systemd.js";
export * from "./systemd-units.js";

export interface CgroupManagerOptions {
  id: string;
  cgroupsPath?: string;
  /** --systemd-cgroup: a transient systemd scope (cgroupsPath is slice:prefix:name) */
  systemd?: boolean;
  /** ignore permission errors on the cgroup filesystem (rootless runtimes) */
  rootless?: boolean;
  /** host facts (tests inject them; default: read from /proc and /sys) */
  host?: HostCgroupInfo;
  /** config.json's annotations: with systemd, org.systemd.property.* are unit properties */
  annotations?: Record<string, string>;
}

export function cgroupManagerFor(opts: CgroupManagerOptions): CgroupManager {
  if (opts.systemd) return SystemdManager.forNew(opts);
  const host = opts.host ?? readHostCgroupInfo();
  const r = resolvePaths(host, opts.cgroupsPath, opts.id);
  if (r.driver === "v2") return new V2Manager(r.paths[""]!, { rootless: !!opts.rootless });
  return new V1Manager(r.paths, { hybrid: host.mode === "hybrid", rootless: !!opts.rootless });
}

/** The manager of an existing container, from what state.json recorded. */
export function loadCgroupManager(saved: SavedCgroup): CgroupManager {
  if (saved.systemd) return SystemdManager.load(saved);
  if (saved.driver === "v2") {
    const dir = saved.paths[""];
    if (!dir) throw new Error("invalid saved cgroup state: v2 driver without a unified path");
    return new V2Manager(dir, { rootless: !!saved.rootless });
  }
  return new V1Manager(saved.paths, { hybrid: saved.mode === "hybrid" || "" in saved.paths, rootless: !!saved.rootless });
}
