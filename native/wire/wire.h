/*
 * The init program wire format, shared by the TypeScript encoder (src/plan/wire.ts)
 * and tsrun-init. All integers are little-endian.
 *
 * program := header op*
 * header  := u32 magic, u32 version, u32 op_count, u32 body_len   (body_len = bytes after header)
 * op      := u16 code, u8 nints, u8 nstrs, u32 payload_len, u64 ints[nints], str[nstrs]
 * str     := u32 len, len bytes, one NUL byte  (so C can use the bytes in place)
 *
 * Messages from init to tsrun (SOCK_STREAM):
 * msg     := u32 type, i32 a, i32 b, u32 detail_len, detail bytes
 * tsrun answers WAIT_GO with one byte, a u32 length and that many bytes of state JSON, and
 * WAIT_ACK with one byte.
 *
 * A test (test/unit/wire.test.ts) checks the TypeScript copy of these numbers against this file.
 */
#ifndef TSRUN_WIRE_H
#define TSRUN_WIRE_H

#define WIRE_MAGIC 0x50525354u /* "TSRP" */
#define WIRE_VERSION 1u
#define WIRE_MAX_INTS 16
#define WIRE_MAX_STRS 8

enum wire_op {
  OP_SETNS = 1,          /* s0 path, i0 nstype */
  OP_UNSHARE = 2,        /* i0 flags */
  OP_WRITE_FILE = 3,     /* s0 path, s1 content; i0 WRITE_IN_PROC: s0 is under a procfs of the
                            init's own ("sys/net/...", "self/..."), opened through no symlink or mount */
  OP_CLONE = 4,          /* i0 flags: parent reports the child pid and exits */
  OP_WAIT_GO = 5,        /* wait for tsrun's go: one byte, u32 length, the container's state JSON */
  OP_MOUNT = 6,          /* s0 source, s1 target, s2 fstype, s3 data; i0 flags, i1 target mode,
                            i2 propagation flags after mount, i3 remount flags (bind ro),
                            i4/i5 MOUNT_ATTR_* to set/clear on the whole tree (mount_setattr),
                            i6 1 = tmpcopyup: copy what the target held into the new mount, before
                            the propagation and remount flags apply; i7 bit 0: the target may be
                            inside /proc (lxcfs-style files). Whatever path leads there, a mount
                            landing on the root's /proc (/sys) must leave a procfs (sysfs) there.
                            s4 (optional): where the kernel refuses the mount with EBUSY or EPERM
                            (cgroup2 over the host's cgroup2 that an rbind of /sys brought, or in
                            a cgroup namespace not ours), bind s4 there instead and remount it with
                            i0's ro/nosuid/nodev/noexec, as runc does */
  OP_MKNOD_IN_ROOT = 7,  /* s0 path; i0 mode (type|perm), i1 major, i2 minor, i3 uid, i4 gid */
  OP_SYMLINK_IN_ROOT = 8,/* s0 target, s1 link path */
  OP_OPEN_ROOT = 9,      /* s0 path: the directory later ops resolve in */
  OP_PIVOT_ROOT = 10,
  OP_MOVE_ROOT = 11,     /* --no-pivot: MS_MOVE + chroot */
  OP_MASK_PATH = 12,     /* s0 path */
  OP_READONLY_PATH = 13, /* s0 path */
  OP_SETHOSTNAME = 14,   /* s0 */
  OP_SETDOMAINNAME = 15, /* s0 */
  OP_SETRLIMIT = 16,     /* i0 resource, i1 soft, i2 hard */
  OP_CHDIR = 17,         /* s0 */
  OP_UMASK = 18,         /* i0 */
  OP_SETGROUPS = 19,     /* s0 = u32 gids */
  OP_SETRESGID = 20,     /* i0 */
  OP_SETRESUID = 21,     /* i0 */
  OP_CAPBSET = 22,       /* i0 low/i1 high: bounding set to keep */
  OP_KEEPCAPS = 23,      /* i0 0|1 */
  OP_CAPSET = 24,        /* i0 effective, i1 permitted, i2 inheritable (u64 masks) */
  OP_AMBIENT = 25,       /* i0 mask */
  OP_NO_NEW_PRIVS = 26,
  OP_SECCOMP = 27,       /* s0 sock_filter array, i0 flags; i1 nonzero: the filter returns a listener
                            fd (NOTIFY): send MSG_REPORT a=i1, then the fd (SCM_RIGHTS), wait for
                            the ack, close it */
  OP_OPEN_FIFO = 28,     /* s0 host path of exec.fifo */
  OP_READY = 29,         /* report ready; the sync socket stays open, close-on-exec: EOF = execve done,
                            an ERROR = a later op failed */
  OP_WAIT_FIFO = 30,     /* reopen the fifo write-only (blocks until start), write one byte; the
                            fifo then replaces the sync socket (EOF at execve, or an ERROR) */
  OP_FIND_EXEC = 31,     /* s0 name, s1 PATH */
  OP_EXEC = 32,          /* s0 argv (NUL separated), i0 argc, s1 env (NUL separated), i1 envc */
  OP_CLOSE_FDS = 33,     /* i0 first fd to mark close-on-exec */
  OP_SETSID = 34,
  OP_MKDIR_IN_ROOT = 35, /* s0 path, i0 mode; i1 1: best effort, a failure is left to a later op */
  OP_REPORT = 36,        /* send MSG_REPORT with a = i0: a step marker for tsrun */
  OP_WAIT_ACK = 37,      /* like WAIT_GO, between steps tsrun performs (hooks) */
  OP_SETNS_FD = 38,      /* i0 fd (a pidfd or namespace fd tsrun passed), i1 CLONE_NEW* flags */
  OP_CONSOLE = 39,       /* i0 socket fd to send the pty master on, i1 rows, i2 cols, i3 1 = clear
                            ONLCR (tsrun's own terminal translates newlines): make a pty in the
                            container's devpts, send its master, make the slave our stdio and ctty */
  OP_PERSONALITY = 40,   /* i0 persona */
  OP_HOOK = 41,          /* s0 path, s1 argv (NUL separated), i0 argc, s2 env, i1 envc, i2 timeout (s):
                            run it with the state JSON on stdin, fail unless it exits 0 */
  OP_SCHED_SETATTR = 42, /* i0 policy, i1 flags, i2 nice, i3 priority, i4 runtime, i5 deadline, i6 period */
  OP_IOPRIO = 43,        /* i0 ioprio value (class << 13 | level) */
  OP_SCHED_AFFINITY = 44,/* s0 cpu mask (bytes of a cpu_set_t, cpu 0 = bit 0 of byte 0) */
  OP_PROC_ATTR = 45,     /* s0 file under /proc/thread-self/attr ("apparmor/exec", "exec"), s1 content:
                            written only if /proc really is a procfs (an LSM label for the execve) */
  OP_MOUNT_FD = 46,      /* i0 fd of a detached mount tsrun made (an idmapped bind), i1 target mode
                            (DIR or FILE), s0 target: move it there, resolved in the root; i2 as
                            OP_MOUNT's i7 */
  OP_HOME = 47,          /* i0 uid: HOME=<uid's home in the root's /etc/passwd, or "/"> joins the
                            env of the next OP_EXEC (tsrun emits it only when the env has no HOME) */
  OP_STDIO_OWNER = 48,   /* i0 uid: fds 0-2 get this owner (group kept) unless they are /dev/null,
                            as runc: a non-root process can reopen its own terminal or pipes */
  OP_MAX = 49
};

/* target modes of OP_MOUNT */
enum wire_target {
  TARGET_HOST = 0,       /* s1 is a plain path */
  TARGET_DIR = 1,        /* s1 is inside the root: create directories, never follow a symlink out */
  TARGET_FILE = 2,       /* as DIR for the parents, then an empty file */
  TARGET_EXISTING = 3,   /* inside the root, must exist */
  TARGET_DIR_NOFOLLOW = 4 /* inside the root, a directory reached through no symlink (procfs, sysfs) */
};

/* i0 of OP_WRITE_FILE */
#define WRITE_IN_PROC 1

enum wire_msg {
  MSG_PID = 1,    /* a = pid of the container init */
  MSG_READY = 2,
  MSG_ERROR = 3,  /* a = op index, b = errno, detail = text */
  MSG_REPORT = 4  /* a = marker */
};

#endif
