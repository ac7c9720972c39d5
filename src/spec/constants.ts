// Names the runtime-spec refers to and the Linux values behind them. Facts from the
// kernel uapi headers and the runtime-spec text; shared by validation and the planner.

import type { NamespaceType } from "./types.js";

/** Runtime-spec versions this tsrun implements (config.json `ociVersion`). */
export const SUPPORTED_SPEC_MAJOR = 1;
/** Newest minor version whose fields tsrun knows; newer 1.x configs get a warning. */
export const NEWEST_KNOWN_SPEC_MINOR = 3;
/** The runtime-spec version tsrun reports (state, features). */
export const SPEC_VERSION = "1.2.1";

/** Linux capabilities by name, with their numbers (linux/capability.h), up to CAP_CHECKPOINT_RESTORE. */
export const CAPABILITIES: Readonly<Record<string, number>> = Object.freeze({
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
});

export const CAPABILITY_SETS = ["bounding", "effective", "inheritable", "permitted", "ambient"] as const;

/** setrlimit(2) resources by name, with their numbers on Linux (asm-generic/resource.h). */
export const RLIMITS: Readonly<Record<string, number>> = Object.freeze({
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
});

export const NAMESPACE_TYPES: readonly NamespaceType[] = ["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"];

/** The file name under /proc/<pid>/ns/ for each namespace type. */
export const NAMESPACE_PROC_NAMES: Readonly<Record<NamespaceType, string>> = Object.freeze({
  pid: "pid",
  network: "net",
  mount: "mnt",
  ipc: "ipc",
  uts: "uts",
  user: "user",
  cgroup: "cgroup",
  time: "time",
});

/** clone(2) flag of each namespace type. */
export const NAMESPACE_CLONE_FLAGS: Readonly<Record<NamespaceType, number>> = Object.freeze({
  mount: 0x00020000,
  cgroup: 0x02000000,
  uts: 0x04000000,
  ipc: 0x08000000,
  user: 0x10000000,
  pid: 0x20000000,
  network: 0x40000000,
  time: 0x00000080,
});

/** IPC-namespaced sysctls (besides the fs.mqueue.* prefix). */
export const IPC_SYSCTLS: ReadonlySet<string> = new Set([
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
]);

export const TIME_NAMESPACE_CLOCKS: ReadonlySet<string> = new Set(["boottime", "monotonic"]);

export const SCHED_POLICIES_WITH_PRIORITY: ReadonlySet<string> = new Set(["SCHED_FIFO", "SCHED_RR"]);

/** The seccomp action names whose rules may carry errnoRet. */
export const SECCOMP_ERRNO_ACTIONS: ReadonlySet<string> = new Set(["SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"]);

/**
 * Each seccomp action, mapped to the name /proc/sys/kernel/seccomp/actions_avail uses for the
 * kernel action it needs.
 */
export const SECCOMP_ACTION_KERNEL_NAMES: Readonly<Record<string, string>> = Object.freeze({
  SCMP_ACT_KILL: "kill_thread",
  SCMP_ACT_KILL_THREAD: "kill_thread",
  SCMP_ACT_KILL_PROCESS: "kill_process",
  SCMP_ACT_TRAP: "trap",
  SCMP_ACT_ERRNO: "errno",
  SCMP_ACT_TRACE: "trace",
  SCMP_ACT_ALLOW: "allow",
  SCMP_ACT_LOG: "log",
  SCMP_ACT_NOTIFY: "user_notif",
});

/** Largest number of lines a uid_map/gid_map may have (Linux >= 4.15). */
export const MAX_ID_MAPPINGS = 340;

/** The highest uid or gid a process may get. (uid_t)-1 tells setresuid/setresgid "leave unchanged",
 * so 4294967295 would keep root; runc refuses everything above 2^31-1, and so does tsrun. */
export const MAX_PROCESS_ID = 2147483647;

/** dev_t holds a 12-bit major and a 20-bit minor (MINORBITS): larger numbers cannot name a node. */
export const MAX_DEVICE_MAJOR = 4095;
export const MAX_DEVICE_MINOR = 1048575;
