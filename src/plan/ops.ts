// The init program: syscall-sized operations, each carrying where in config.json it came from.
// Codes mirror native/wire/wire.h (checked by test/unit/wire.test.ts).

export const OpCode = {
  SETNS: 1,
  UNSHARE: 2,
  WRITE_FILE: 3,
  CLONE: 4,
  WAIT_GO: 5,
  MOUNT: 6,
  MKNOD_IN_ROOT: 7,
  SYMLINK_IN_ROOT: 8,
  OPEN_ROOT: 9,
  PIVOT_ROOT: 10,
  MOVE_ROOT: 11,
  MASK_PATH: 12,
  READONLY_PATH: 13,
  SETHOSTNAME: 14,
  SETDOMAINNAME: 15,
  SETRLIMIT: 16,
  CHDIR: 17,
  UMASK: 18,
  SETGROUPS: 19,
  SETRESGID: 20,
  SETRESUID: 21,
  CAPBSET: 22,
  KEEPCAPS: 23,
  CAPSET: 24,
  AMBIENT: 25,
  NO_NEW_PRIVS: 26,
  SECCOMP: 27,
  OPEN_FIFO: 28,
  READY: 29,
  WAIT_FIFO: 30,
  FIND_EXEC: 31,
  EXEC: 32,
  CLOSE_FDS: 33,
  SETSID: 34,
  MKDIR_IN_ROOT: 35,
  REPORT: 36,
  WAIT_ACK: 37,
  SETNS_FD: 38,
  CONSOLE: 39,
  PERSONALITY: 40,
  HOOK: 41,
  SCHED_SETATTR: 42,
  IOPRIO: 43,
  SCHED_AFFINITY: 44,
  PROC_ATTR: 45,
  MOUNT_FD: 46,
  HOME: 47,
  STDIO_OWNER: 48,
} as const;
export type OpName = keyof typeof OpCode;

export const MountTarget = { HOST: 0, DIR: 1, FILE: 2, EXISTING: 3, DIR_NOFOLLOW: 4 } as const;
/** i0 of WRITE_FILE: the path is under a procfs of the init's own (wire.h WRITE_IN_PROC). */
export const WRITE_IN_PROC = 1;
/** bit of MOUNT's i7 and MOUNT_FD's i2: the target may be inside /proc. */
export const MOUNT_IN_PROC_OK = 1;
export const MsgType = { PID: 1, READY: 2, ERROR: 3, REPORT: 4 } as const;

export interface Op {
  op: OpName;
  ints?: (number | bigint)[];
  strs?: (string | Buffer)[];
  /** Where it comes from: "mounts[3]", "process.rlimits[0]", "default devices"... */
  origin: string;
  /** What it does, for people: "mount tmpfs on /dev/shm". */
  what: string;
}

export interface Program {
  ops: Op[];
  /** Settings the program cannot honour exactly, for the log. */
  warnings?: string[];
}
