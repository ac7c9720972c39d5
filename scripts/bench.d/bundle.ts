// The benchmark's OCI bundles: one busybox rootfs (from the host's static /bin/busybox) shared by
// several bundle directories that differ only in process.args. The config is what `runc spec`
// writes (terminal off), kept here verbatim rather than imported from the test fixtures so that
// results stay comparable over time; its sha256 goes into the JSON document.
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const BUSYBOX = "/bin/busybox";
const APPLETS = ["sh", "true", "false", "sleep", "echo", "cat", "ls", "env"];

export function makeRootfs(dir: string): string {
  const elf = readFileSync(BUSYBOX).subarray(0, 4096);
  if (elf.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${BUSYBOX} is not an ELF binary`);
  // a dynamic busybox would need the host's libc inside the rootfs; insist on busybox-static
  if (elf.includes(Buffer.from("/lib64/ld-linux")) || elf.includes(Buffer.from("/lib/ld-linux"))) {
    throw new Error(`${BUSYBOX} is dynamically linked: apt-get install -y busybox-static`);
  }
  for (const d of ["bin", "dev", "etc", "proc", "sys", "tmp", "root", "run"]) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, "tmp"), 0o1777);
  copyFileSync(BUSYBOX, join(dir, "bin", "busybox"));
  chmodSync(join(dir, "bin", "busybox"), 0o755);
  for (const a of APPLETS) symlinkSync("busybox", join(dir, "bin", a));
  writeFileSync(join(dir, "etc", "passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  writeFileSync(join(dir, "etc", "group"), "root:x:0:\n");
  writeFileSync(join(dir, "etc", "hostname"), "bench\n");
  return dir;
}

/** `runc spec` (runc 1.1), terminal false, root.path absolute so bundles can share one rootfs. */
export function runcSpecConfig(args: string[], rootfs: string): Record<string, unknown> {
  const caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];
  return {
    ociVersion: "1.0.2-dev",
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
      cwd: "/",
      capabilities: { bounding: caps, effective: caps, permitted: caps, ambient: caps },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: true },
    hostname: "runc",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      {
        destination: "/dev/pts",
        type: "devpts",
        source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
      },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: "rwm" }] },
      namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      maskedPaths: [
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
      ],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

export interface Bundles {
  rootfs: string;
  /** process.args = ["true"] */
  trueB: string;
  /** process.args = ["sleep", "2147483647"]: the resident container for state and exec */
  sleepB: string;
  /** prints a marker and exits 7: proves a runtime really runs the process and reports its status */
  probeB: string;
  /** sha256 of the `true` bundle's config with the temp path replaced, for the JSON document */
  configSha256: string;
}

export const PROBE_MARKER = "tsrun-bench-probe";
export const PROBE_STATUS = 7;

export function makeBundles(tmp: string): Bundles {
  const rootfs = makeRootfs(join(tmp, "rootfs"));
  const write = (name: string, args: string[]): string => {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "config.json"), JSON.stringify(runcSpecConfig(args, rootfs), null, "\t") + "\n");
    return dir;
  };
  const hash = createHash("sha256")
    .update(JSON.stringify(runcSpecConfig(["true"], "<rootfs>")))
    .digest("hex");
  return {
    rootfs,
    trueB: write("bundle-true", ["true"]),
    sleepB: write("bundle-sleep", ["sleep", "2147483647"]),
    probeB: write("bundle-probe", ["sh", "-c", `echo ${PROBE_MARKER}; exit ${PROBE_STATUS}`]),
    configSha256: hash,
  };
}
