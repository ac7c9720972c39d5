// `tsrun spec`: the example config.json runc's `spec` writes, field for field and in the
// same order (runc 1.1's example spec, and its --rootless variant), written the same way
// (tab-indented, no trailing newline), refusing to overwrite an existing file.
import { constants, openSync, writeSync, closeSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Spec } from "./types.js";

/** The ociVersion runc 1.1 writes in its example spec. */
export const DEFAULT_SPEC_OCI_VERSION = "1.0.2-dev";

export interface DefaultSpecOptions {
  rootless: boolean;
  /** Host uid mapped to root in the rootless spec (default: the effective uid). */
  uid?: number;
  /** Host gid mapped to root in the rootless spec (default: the effective gid). */
  gid?: number;
}

export function defaultSpec({ rootless, uid, gid }: DefaultSpecOptions): Spec {
  const caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
  const devptsOptions = ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"];
  if (!rootless) devptsOptions.push("gid=5");
  const sysMount = rootless
    ? { destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"] }
    : { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] };
  const namespaces = rootless
    ? [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "user" }]
    : [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }];
  const hostUid = uid ?? process.geteuid?.() ?? 0;
  const hostGid = gid ?? process.getegid?.() ?? 0;
  const linux: Record<string, unknown> = rootless
    ? {
        uidMappings: [{ containerID: 0, hostID: hostUid, size: 1 }],
        gidMappings: [{ containerID: 0, hostID: hostGid, size: 1 }],
      }
    : { resources: { devices: [{ allow: false, access: "rwm" }] } };
  linux.namespaces = namespaces;
  linux.maskedPaths = [
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
  ];
  linux.readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

  return {
    ociVersion: DEFAULT_SPEC_OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ["sh"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
      cwd: "/",
      capabilities: { bounding: [...caps], effective: [...caps], permitted: [...caps], ambient: [...caps] },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "runc",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: devptsOptions },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      sysMount,
      { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
    ],
    linux: linux as Spec["linux"],
  } as Spec;
}

/** A spec as runc writes it: tab-indented JSON, no trailing newline. */
export function formatSpec(spec: Spec): string {
  return JSON.stringify(spec, null, "\t");
}

export class SpecExistsError extends Error {
  constructor() {
    super("File config.json exists. Remove it first");
    this.name = "SpecExistsError";
  }
}

/**
 * Writes the default config.json into `bundleDir` (created with O_EXCL, mode 0666 before
 * umask, like runc). Throws SpecExistsError if it exists, or the fs error if the bundle
 * directory is missing. Returns the path written.
 */
export function writeDefaultSpec(bundleDir: string, rootless: boolean): string {
  const path = join(bundleDir, "config.json");
  const st = statSync(bundleDir, { throwIfNoEntry: false });
  if (!st) throw new Error(`chdir ${bundleDir}: no such file or directory`);
  if (!st.isDirectory()) throw new Error(`chdir ${bundleDir}: not a directory`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o666);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new SpecExistsError();
    throw e;
  }
  try {
    writeSync(fd, formatSpec(defaultSpec({ rootless })));
  } finally {
    closeSync(fd);
  }
  return path;
}
