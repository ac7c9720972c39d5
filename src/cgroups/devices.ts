// Device cgroup rules: runtime-spec linux.resources.devices -> v1 devices.allow/devices.deny lines.
// (cgroup v2 compiles the same ordered list to an eBPF program instead: device-bpf.ts.)
import type { Device, DeviceRule } from "../spec/types.js";

export interface NormalizedDeviceRule {
  allow: boolean;
  type: "a" | "b" | "c";
  /** -1 = wildcard */
  major: number;
  /** -1 = wildcard */
  minor: number;
  access: string;
}

/** Throws an Error whose message has no pointer prefix; callers add the pointer. */
export function normalizeDeviceRule(r: DeviceRule): NormalizedDeviceRule {
  const type = (r.type ?? "a") as string;
  if (type !== "a" && type !== "b" && type !== "c") throw new Error(`invalid cgroup device type ${JSON.stringify(type)} (must be "a", "b" or "c")`);
  const access = r.access ?? "rwm";
  if (access === "" || !/^[rwm]+$/.test(access) || new Set(access).size !== access.length) {
    throw new Error(`invalid cgroup device access ${JSON.stringify(access)} (a combination of "r", "w" and "m")`);
  }
  const major = r.major === undefined || r.major === null ? -1 : r.major;
  const minor = r.minor === undefined || r.minor === null ? -1 : r.minor;
  if (!Number.isInteger(major) || major < -1) throw new Error(`invalid major number ${major}`);
  if (!Number.isInteger(minor) || minor < -1) throw new Error(`invalid minor number ${minor}`);
  return { allow: !!r.allow, type, major, minor, access };
}

/** The line written to devices.allow / devices.deny ("c 1:3 rwm", "a" for everything). */
export function v1DeviceLine(r: NormalizedDeviceRule): string {
  if (r.type === "a" && r.major === -1 && r.minor === -1 && r.access.length === 3) return "a";
  const mj = r.major < 0 ? "*" : String(r.major);
  const mn = r.minor < 0 ? "*" : String(r.minor);
  return `${r.type} ${mj}:${mn} ${r.access}`;
}

/** The v1 writes for a rule list, in order: [file, line]. */
export function v1DeviceWrites(rules: DeviceRule[]): Array<["devices.allow" | "devices.deny", string]> {
  return rules.map((r) => {
    const n = normalizeDeviceRule(r);
    return [n.allow ? "devices.allow" : "devices.deny", v1DeviceLine(n)];
  });
}

/**
 * Device access every container gets on top of its config's rules, as runc grants it: mknod of
 * any device, the standard /dev nodes, ptys, and /dev/net/tun.
 */
export function defaultDeviceRules(): DeviceRule[] {
  const c = (major: number | undefined, minor: number | undefined, access: string): DeviceRule => {
    const r: DeviceRule = { allow: true, type: "c", access };
    if (major !== undefined) r.major = major;
    if (minor !== undefined) r.minor = minor;
    return r;
  };
  return [
    c(undefined, undefined, "m"),
    { allow: true, type: "b", access: "m" },
    c(1, 3, "rwm"), // /dev/null
    c(1, 8, "rwm"), // /dev/random
    c(1, 7, "rwm"), // /dev/full
    c(5, 0, "rwm"), // /dev/tty
    c(1, 5, "rwm"), // /dev/zero
    c(1, 9, "rwm"), // /dev/urandom
    c(136, undefined, "rwm"), // /dev/pts/*
    c(5, 2, "rwm"), // /dev/ptmx
    c(10, 200, "rwm"), // /dev/net/tun
  ];
}

/**
 * The full device rule list a container's cgroup gets, in order: the config's leading blanket
 * denies, an allow for each node listed in linux.devices (the spec makes them available), the rest
 * of the config's rules (so an explicit rule about a listed device still decides), then runc's
 * defaults. The kernel applies them in order: later rules win.
 */
export function containerDeviceRules(configRules: DeviceRule[] | undefined, linuxDevices: Device[] | undefined): DeviceRule[] {
  const rules = [...(configRules ?? [])];
  let lead = 0;
  while (lead < rules.length && !rules[lead].allow && (rules[lead].type === undefined || rules[lead].type === "a") && rules[lead].major === undefined && rules[lead].minor === undefined) lead++;
  const listed: DeviceRule[] = [];
  for (const d of linuxDevices ?? []) {
    if (d.type === "p") continue; // fifos are not subject to the devices cgroup
    if (d.major === undefined || d.minor === undefined) continue;
    listed.push({ allow: true, type: d.type === "b" ? "b" : "c", major: d.major, minor: d.minor, access: "rwm" });
  }
  return [...rules.slice(0, lead), ...listed, ...rules.slice(lead), ...defaultDeviceRules()];
}
