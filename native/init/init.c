/*
 * tsrun-init: executes an init program compiled by tsrun (see native/wire/wire.h).
 *
 * usage: tsrun-init SYNC_FD
 * Reads the program from SYNC_FD, runs the ops in order and reports the first failure as
 * {op index, errno, detail}. No policy lives here: every decision was made in TypeScript.
 * Static, single threaded, no heap allocation: all buffers are static.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../wire/wire.h"

#define PROC_SUPER_MAGIC 0x9fa0
#define SYSFS_MAGIC 0x62656572
#define PROC_ROOT_INO 1

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x4
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x40
#endif
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 1
#endif
#ifndef FSCONFIG_CMD_CREATE
#define FSCONFIG_CMD_CREATE 6
#endif
#ifndef FSMOUNT_CLOEXEC
#define FSMOUNT_CLOEXEC 1
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x1
#endif
#ifndef MOUNT_ATTR_NOSUID
#define MOUNT_ATTR_NOSUID 0x2
#endif
#ifndef MOUNT_ATTR_NODEV
#define MOUNT_ATTR_NODEV 0x4
#endif
#ifndef MOUNT_ATTR_NOEXEC
#define MOUNT_ATTR_NOEXEC 0x8
#endif
#ifndef RESOLVE_NO_SYMLINKS
#define RESOLVE_NO_SYMLINKS 0x04
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SYS_pivot_root
#define SYS_pivot_root 155
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef RESOLVE_NO_XDEV
#define RESOLVE_NO_XDEV 0x01
#endif
#ifndef RESOLVE_NO_MAGICLINKS
#define RESOLVE_NO_MAGICLINKS 0x02
#endif
#ifndef RESOLVE_BENEATH
#define RESOLVE_BENEATH 0x08
#endif
#ifndef RESOLVE_IN_ROOT
#define RESOLVE_IN_ROOT 0x10
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
#define LINUX_CAPABILITY_VERSION_3 0x20080522
#define SECCOMP_SET_MODE_FILTER 1

struct open_how_v0 { uint64_t flags, mode, resolve; };
struct mount_attr_v0 { uint64_t attr_set, attr_clr, propagation, userns_fd; };
struct clone_args_v0 {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};
struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };
struct sock_fprog_k { unsigned short len; void *filter; };

#define PROGRAM_MAX (8u << 20)
static unsigned char program[PROGRAM_MAX];
static int sync_fd = -1;
static int root_fd = AT_FDCWD;
static int fifo_fd = -1;
static char exec_path[4096];
static char *argv_buf[8192];
static char *envp_buf[8192];
static char pathbuf[4096];
static char state_json[65536];
static uint32_t state_len;
static char *hook_argv[1024];
static char *hook_envp[1024];
static char pathbuf2[4096];
/* why the current op failed, when errno alone would not say it (sent as the error's detail) */
static const char *why;

struct op {
  unsigned code, nints, nstrs;
  uint64_t i[WIRE_MAX_INTS];
  const char *s[WIRE_MAX_STRS];
  uint32_t sl[WIRE_MAX_STRS];
};

static size_t slen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

static int write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0) { if (errno == EINTR) continue; return -1; }
    p += n; len -= (size_t)n;
  }
  return 0;
}

static int read_all(int fd, void *buf, size_t len) {
  char *p = buf;
  while (len) {
    ssize_t n = read(fd, p, len);
    if (n < 0) { if (errno == EINTR) continue; return -1; }
    if (n == 0) { errno = EPIPE; return -1; }
    p += n; len -= (size_t)n;
  }
  return 0;
}

static void send_msg(uint32_t type, int32_t a, int32_t b, const char *detail) {
  if (sync_fd < 0) return;
  uint32_t dlen = detail ? (uint32_t)slen(detail) : 0;
  unsigned char hdr[16];
  memcpy(hdr, &type, 4); memcpy(hdr + 4, &a, 4); memcpy(hdr + 8, &b, 4); memcpy(hdr + 12, &dlen, 4);
  write_all(sync_fd, hdr, 16);
  if (dlen) write_all(sync_fd, detail, dlen);
}

static _Noreturn void fail(int index, int err, const char *detail) {
  /* after READY nobody may be listening any more (create returned): no SIGPIPE, just exit */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, NULL);
  send_msg(MSG_ERROR, index, err, detail);
  _exit(1);
}

static void fd_path(char *buf, int fd) {
  /* "/proc/self/fd/<fd>" without snprintf */
  static const char prefix[] = "/proc/self/fd/";
  char digits[16]; int n = 0;
  memcpy(buf, prefix, sizeof prefix - 1);
  unsigned v = (unsigned)fd;
  do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  char *p = buf + sizeof prefix - 1;
  while (n) *p++ = digits[--n];
  *p = 0;
}

/* Every open under /proc goes through this procfs: a fresh instance of our own, mounted detached
 * (nothing of the image can be on it, over it or in the way), kept for the process's life. Where
 * the kernel refuses one (no pid namespace of our own in a user namespace), the /proc of our root,
 * only if it is a procfs's root reached through no symlink, and not kept (the root changes). */
static int fresh_proc = -1;

static int proc_root(void) {
  if (fresh_proc >= 0) return fresh_proc;
  int fs = (int)syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC);
  if (fs >= 0) {
    if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
      fresh_proc = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    close(fs);
    if (fresh_proc >= 0) return fresh_proc;
  }
  struct open_how_v0 how = { O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_NO_SYMLINKS };
  int dir = (int)syscall(SYS_openat2, AT_FDCWD, "/proc", &how, sizeof how);
  if (dir < 0) { why = "/proc: not a directory reached through no symlink"; return -1; }
  struct statfs sfs;
  struct stat st;
  if (fstatfs(dir, &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC || fstat(dir, &st) < 0 || st.st_ino != PROC_ROOT_INO) {
    close(dir);
    why = "/proc is not the root of a proc filesystem";
    errno = EXDEV;
    return -1;
  }
  return dir;
}

static void proc_release(int dir) {
  if (dir != fresh_proc) close(dir);
}

static int starts_with(const char *s, const char *prefix) {
  while (*prefix) if (*s++ != *prefix++) return 0;
  return 1;
}

/* rel under the procfs, never through a symlink (but procfs's own self and thread-self links) nor
 * across a mount, and the file must be a proc file. */
static int proc_open(const char *rel, int flags) {
  int dir = proc_root();
  if (dir < 0) return -1;
  uint64_t resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS;
  if (!starts_with(rel, "self/") && !starts_with(rel, "thread-self/")) resolve |= RESOLVE_NO_SYMLINKS;
  struct open_how_v0 how = { (uint64_t)(flags | O_CLOEXEC), 0, resolve };
  int fd = (int)syscall(SYS_openat2, dir, rel, &how, sizeof how);
  int e = errno;
  proc_release(dir);
  if (fd < 0) {
    if (e == ELOOP || e == EXDEV) why = "a symlink or a mount point on the way under /proc";
    errno = e;
    return -1;
  }
  struct statfs fs;
  if (fstatfs(fd, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC) {
    close(fd);
    why = "not a file of a proc filesystem";
    errno = EXDEV;
    return -1;
  }
  return fd;
}

/* Opens what an O_PATH fd refers to, through our own procfs (never the image's /proc), and checks
 * the result is the same file. */
static int reopen_fd(int fd, int flags) {
  char p[64];
  fd_path(p, fd);
  int proc = proc_root();
  if (proc < 0) return -1;
  int out = openat(proc, p + 6 /* past "/proc/" */, flags | O_CLOEXEC);
  proc_release(proc);
  if (out < 0) return -1;
  struct stat a, b;
  if (fstat(fd, &a) < 0 || fstat(out, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
    close(out);
    errno = EXDEV;
    return -1;
  }
  return out;
}

/* RESOLVE_IN_ROOT fails with EAGAIN when any rename or mount happened on the host meanwhile
 * (other containers starting): the kernel asks callers to retry. */
static int openat2_retry(int dirfd, const char *path, struct open_how_v0 *how) {
  int fd, tries = 0;
  do { fd = (int)syscall(SYS_openat2, dirfd, path, how, sizeof *how); } while (fd < 0 && errno == EAGAIN && ++tries < 64);
  return fd;
}

static int openat2_in_root(const char *path, int flags) {
  struct open_how_v0 how = { (uint64_t)(flags | O_CLOEXEC), 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  while (*path == '/') path++;
  if (!*path) path = ".";
  return openat2_retry(root_fd, path, &how);
}

/* When a component of a mount target is a symlink to something missing, runc creates the missing
 * target (inside the root). We do the same: the path is rewritten through the link and walked again,
 * every step still resolved with RESOLVE_IN_ROOT, at most MAX_LINK_HOPS times. */
#define MAX_LINK_HOPS 40
static char walk_path[4096];
static char rewrite_buf[4096];
static char link_buf[4096];
static int link_rewritten;

/* Path = prefix (len plen) + component comp (a dangling symlink in dirfd) + rest: rewrite it. */
static int rewrite_through_link(int dirfd, const char *comp, const char *prefix, size_t plen, const char *rest) {
  ssize_t n = readlinkat(dirfd, comp, link_buf, sizeof link_buf - 1);
  if (n <= 0) { errno = ENOENT; return -1; }
  link_buf[n] = 0;
  size_t pos = 0, rl = slen(rest), need = (size_t)n + rl + plen + 3;
  if (need >= sizeof rewrite_buf) { errno = ENAMETOOLONG; return -1; }
  if (link_buf[0] != '/') { memcpy(rewrite_buf, prefix, plen); pos = plen; rewrite_buf[pos++] = '/'; }
  memcpy(rewrite_buf + pos, link_buf, (size_t)n); pos += (size_t)n;
  if (rl) { rewrite_buf[pos++] = '/'; memcpy(rewrite_buf + pos, rest, rl); pos += rl; }
  rewrite_buf[pos] = 0;
  link_rewritten = 1;
  errno = ENOENT;
  return -1;
}

/* Splits path into (parent fd resolved in root, final name). Creates missing parent directories. */
static int open_parent_in_root(const char *path, const char **name) {
  size_t n = slen(path);
  if (n >= sizeof pathbuf) { errno = ENAMETOOLONG; return -1; }
  memcpy(pathbuf, path, n + 1);
  while (n > 1 && pathbuf[n - 1] == '/') pathbuf[--n] = 0;
  char *slash = strrchr(pathbuf, '/');
  const char *base = slash ? slash + 1 : pathbuf;
  if (slash) *slash = 0;
  *name = path + (base - pathbuf);
  /* walk the parent, creating each missing component with mkdirat on its resolved parent */
  int dirfd = openat2_in_root("/", O_PATH | O_DIRECTORY);
  if (dirfd < 0) return -1;
  char *comp = pathbuf;
  while (*comp) {
    while (*comp == '/') comp++;
    if (!*comp) break;
    char *end = comp;
    while (*end && *end != '/') end++;
    char saved = *end; *end = 0;
    size_t plen = (size_t)(end - pathbuf);
    memcpy(pathbuf2, pathbuf, plen + 1);
    int next = openat2_in_root(pathbuf2, O_PATH | O_DIRECTORY);
    if (next < 0 && errno == ENOENT) {
      if (mkdirat(dirfd, comp, 0755) < 0) {
        if (errno != EEXIST) { close(dirfd); return -1; }
        /* it exists but does not resolve: a dangling symlink */
        const char *rest = path + (end - pathbuf) + (saved ? 1 : 0);
        int r = rewrite_through_link(dirfd, comp, path, (size_t)(comp - pathbuf), rest);
        close(dirfd);
        return r;
      }
      next = openat2_in_root(pathbuf2, O_PATH | O_DIRECTORY);
    }
    close(dirfd);
    if (next < 0) return -1;
    dirfd = next;
    *end = saved;
    comp = end;
  }
  if (slash) *slash = '/';
  return dirfd;
}

static int mkdir_p_once(const char *path, unsigned mode) {
  const char *name;
  int dirfd = open_parent_in_root(path, &name);
  if (dirfd < 0) return -1;
  if (*name && mkdirat(dirfd, name, mode) < 0 && errno != EEXIST) { close(dirfd); return -1; }
  int fd = openat2_in_root(path, O_PATH | O_DIRECTORY);
  if (fd < 0 && errno == ENOENT && *name) {
    int r = rewrite_through_link(dirfd, name, path, (size_t)(name - path), "");
    close(dirfd);
    return r;
  }
  close(dirfd);
  return fd;
}

static int create_file_once(const char *path) {
  const char *name;
  int dirfd = open_parent_in_root(path, &name);
  if (dirfd < 0) return -1;
  int fd = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd >= 0) close(fd);
  else if (errno != EEXIST) { close(dirfd); return -1; }
  fd = openat2_in_root(path, O_PATH);
  if (fd < 0 && errno == ENOENT) {
    int r = rewrite_through_link(dirfd, name, path, (size_t)(name - path), "");
    close(dirfd);
    return r;
  }
  close(dirfd);
  return fd;
}

/* Runs attempt(path), following dangling symlinks by rewriting the path (see above). */
static int with_link_hops(const char *path, int (*attempt)(const char *, unsigned), unsigned mode) {
  size_t n = slen(path);
  if (n >= sizeof walk_path) { errno = ENAMETOOLONG; return -1; }
  memcpy(walk_path, path, n + 1);
  for (int hop = 0; hop <= MAX_LINK_HOPS; hop++) {
    link_rewritten = 0;
    int fd = attempt(walk_path, mode);
    if (fd >= 0 || !link_rewritten) return fd;
    memcpy(walk_path, rewrite_buf, slen(rewrite_buf) + 1);
  }
  errno = ELOOP;
  return -1;
}

static int create_file_attempt(const char *path, unsigned mode) { (void)mode; return create_file_once(path); }

static int mkdir_p_in_root(const char *path, unsigned mode) { return with_link_hops(path, mkdir_p_once, mode); }
static int create_file_in_root(const char *path) { return with_link_hops(path, create_file_attempt, 0); }

static unsigned long locked_flags(const char *path) {
  struct statvfs st;
  unsigned long f = 0;
  if (statvfs(path, &st) < 0) return 0;
  if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) f |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) f |= MS_RELATIME;
  return f;
}

/* tmpcopyup: what the directory held before a tmpfs covered it is copied into the tmpfs. Entries are
 * opened relative to their parent with O_NOFOLLOW, so nothing outside the rootfs is ever read. */
#define COPY_MAX_DEPTH 32
static int copy_entry(int src_dir, int dst_dir, const char *name, int depth);

static int copy_tree(int src, int dst, int depth) {
  char buf[4096];
  for (;;) {
    long n = syscall(SYS_getdents64, src, buf, sizeof buf);
    if (n < 0) return -1;
    if (n == 0) return 0;
    for (long off = 0; off < n;) {
      struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *d = (void *)(buf + off);
      off += d->reclen;
      if (d->name[0] == '.' && (!d->name[1] || (d->name[1] == '.' && !d->name[2]))) continue;
      if (copy_entry(src, dst, d->name, depth) < 0) return -1;
    }
  }
}

static int copy_file(int src_dir, int dst_dir, const char *name, const struct stat *st) {
  int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) return -1;
  int out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st->st_mode & 07777);
  if (out < 0) { int e = errno; close(in); errno = e; return -1; }
  int r = 0;
  for (;;) {
    ssize_t n = syscall(SYS_copy_file_range, in, NULL, out, NULL, (size_t)1 << 30, 0);
    if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS)) n = syscall(SYS_sendfile, out, in, NULL, (size_t)1 << 30);
    if (n < 0) { if (errno == EINTR) continue; r = -1; break; }
    if (n == 0) break;
  }
  int e = errno;
  close(in);
  close(out);
  errno = e;
  return r;
}

static int copy_entry(int src_dir, int dst_dir, const char *name, int depth) {
  struct stat st;
  if (fstatat(src_dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0) return -1;
  switch (st.st_mode & S_IFMT) {
  case S_IFDIR: {
    if (depth >= COPY_MAX_DEPTH) { errno = ELOOP; return -1; }
    if (mkdirat(dst_dir, name, st.st_mode & 07777) < 0) return -1;
    int sub_src = openat(src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub_src < 0) return -1;
    int sub_dst = openat(dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub_dst < 0) { int e = errno; close(sub_src); errno = e; return -1; }
    int r = copy_tree(sub_src, sub_dst, depth + 1);
    int e = errno;
    close(sub_src);
    close(sub_dst);
    if (r < 0) { errno = e; return -1; }
    break;
  }
  case S_IFREG:
    if (copy_file(src_dir, dst_dir, name, &st) < 0) return -1;
    break;
  case S_IFLNK: {
    ssize_t n = readlinkat(src_dir, name, link_buf, sizeof link_buf - 1);
    if (n < 0) return -1;
    link_buf[n] = 0;
    if (symlinkat(link_buf, dst_dir, name) < 0) return -1;
    break;
  }
  default:
    if (mknodat(dst_dir, name, st.st_mode, st.st_rdev) < 0) return -1;
  }
  if (fchownat(dst_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) return -1;
  /* chown clears set-id bits: put the mode back (symlinks have none) */
  if ((st.st_mode & S_IFMT) != S_IFLNK && fchmodat(dst_dir, name, st.st_mode & 07777, 0) < 0) return -1;
  struct timespec times[2] = { st.st_atim, st.st_mtim };
  return utimensat(dst_dir, name, times, AT_SYMLINK_NOFOLLOW);
}

static int copy_up(int under, const char *target) {
  int top = openat2_in_root(target, O_RDONLY | O_DIRECTORY);
  if (top < 0) return -1;
  int r = copy_tree(under, top, 0);
  int e = errno;
  close(top);
  errno = e;
  return r;
}

/* Where a mount target is, seen from the root: its /proc or /sys directory itself (whatever path led
 * there: "/x/../proc", "//proc", a symlink), somewhere inside a procfs, or elsewhere. */
enum landing { LAND_ELSEWHERE, LAND_PROC, LAND_SYS, LAND_IN_PROC };

static int root_entry(const char *name) {
  struct open_how_v0 how = { O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS };
  return (int)syscall(SYS_openat2, root_fd, name, &how, sizeof how);
}

static int is_root_entry(const struct stat *t, const char *name) {
  int fd = root_entry(name);
  if (fd < 0) return 0;
  struct stat st;
  int same = fstat(fd, &st) == 0 && st.st_dev == t->st_dev && st.st_ino == t->st_ino;
  close(fd);
  return same;
}

static enum landing landing_of(int target) {
  struct stat t;
  if (fstat(target, &t) < 0) return LAND_ELSEWHERE;
  if (is_root_entry(&t, "proc")) return LAND_PROC;
  if (is_root_entry(&t, "sys")) return LAND_SYS;
  struct statfs fs;
  if (fstatfs(target, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC) return LAND_IN_PROC;
  return LAND_ELSEWHERE;
}

/* in_proc_ok: the mount may go inside /proc (the lxcfs-style files tsrun allows) */
static int check_landing(enum landing land, int in_proc_ok) {
  if (land != LAND_IN_PROC || in_proc_ok) return 0;
  why = "the destination is inside /proc, where nothing may be mounted but a few lxcfs-style files";
  errno = EPERM;
  return -1;
}

/* After a mount landed on the root's /proc (/sys): what is there now must be a procfs (sysfs). */
static int check_landed(enum landing land) {
  if (land != LAND_PROC && land != LAND_SYS) return 0;
  int fd = root_entry(land == LAND_PROC ? "proc" : "sys");
  struct statfs fs;
  int ok = fd >= 0 && fstatfs(fd, &fs) == 0 && fs.f_type == (land == LAND_PROC ? PROC_SUPER_MAGIC : SYSFS_MAGIC);
  if (fd >= 0) close(fd);
  if (ok) return 0;
  why = land == LAND_PROC ? "the destination is /proc, which only a proc filesystem may be mounted on (this is not of type proc)"
                          : "the destination is /sys, which only a sysfs may be mounted on (this is not of type sysfs)";
  errno = EPERM;
  return -1;
}

/* procfs and sysfs go only on an ordinary directory: no symlink anywhere on the way (created when
 * missing). */
static int dir_nofollow_in_root(const char *path) {
  while (*path == '/') path++;
  struct open_how_v0 how = { O_PATH | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS };
  int fd = (int)syscall(SYS_openat2, root_fd, *path ? path : ".", &how, sizeof how);
  if (fd < 0 && errno == ENOENT) {
    int made = mkdir_p_in_root(path, 0755);
    if (made < 0) return -1;
    close(made);
    fd = (int)syscall(SYS_openat2, root_fd, *path ? path : ".", &how, sizeof how);
  }
  if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) why = "must be mounted on an ordinary directory, and the destination is (or goes through) a symlink or a file";
  return fd;
}

static int do_mount(struct op *o) {
  const char *src = o->sl[0] ? o->s[0] : NULL;
  const char *fstype = o->sl[2] ? o->s[2] : NULL;
  const char *data = o->sl[3] ? o->s[3] : NULL;
  unsigned long flags = (unsigned long)o->i[0];
  unsigned mode = (unsigned)o->i[1];
  unsigned long prop = (unsigned long)o->i[2];
  unsigned long remount = (unsigned long)o->i[3];
  char target[64];
  const char *tpath = o->s[1];
  int fd = -1;
  if (src && (flags & MS_BIND) && (mode == TARGET_DIR || mode == TARGET_FILE)) {
    /* the source first: a missing one must not leave a new mountpoint behind in the rootfs */
    struct stat st;
    if (stat(src, &st) < 0) return -1;
  }
  if (mode != TARGET_HOST) {
    if (mode == TARGET_DIR) fd = mkdir_p_in_root(o->s[1], 0755);
    else if (mode == TARGET_FILE) fd = create_file_in_root(o->s[1]);
    else if (mode == TARGET_DIR_NOFOLLOW) fd = dir_nofollow_in_root(o->s[1]);
    else fd = openat2_in_root(o->s[1], O_PATH);
    if (fd < 0) return -1;
    fd_path(target, fd);
    tpath = target;
  }
  int remount_only = flags == 0 && !src && !fstype;
  enum landing land = fd >= 0 && !remount_only ? landing_of(fd) : LAND_ELSEWHERE;
  if (check_landing(land, (int)(o->i[7] & 1)) < 0) { close(fd); return -1; }
  int under = -1;
  if (o->nints > 6 && o->i[6] && mode == TARGET_DIR) {
    /* still the directory, not the tmpfs about to cover it */
    under = openat2_in_root(o->s[1], O_RDONLY | O_DIRECTORY);
    if (under < 0) { int e = errno; close(fd); errno = e; return -1; }
  }
  if (!remount_only && mount(src, tpath, fstype, flags, data) < 0) {
    int e = errno;
    const char *alt = o->nstrs > 4 && o->sl[4] ? o->s[4] : NULL;
    /* refused (the same filesystem is mounted there already, or not ours to mount): a bind of
     * alt stands in; it has its source's flags, the mount's own come by a remount below */
    int bound = alt && (e == EBUSY || e == EPERM) && mount(alt, tpath, NULL, MS_BIND, NULL) == 0;
    if (!bound) {
      if (alt && (e == EBUSY || e == EPERM)) {
        e = errno;
        why = "the kernel refused the mount, and binding the fallback source in its place failed too";
      }
      if (fd >= 0) close(fd);
      if (under >= 0) close(under);
      errno = e;
      return -1;
    }
    remount |= flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  }
  if (check_landed(land) < 0) { int e = errno; if (fd >= 0) close(fd); if (under >= 0) close(under); errno = e; return -1; }
  if (under >= 0) {
    int r = copy_up(under, o->s[1]);
    int e = errno;
    close(under);
    if (r < 0) { close(fd); errno = e; return -1; }
  }
  if (prop || remount) {
    /* the new mount now covers the target: resolve it again to reach the mount itself */
    if (fd >= 0 && !remount_only) {
      close(fd);
      fd = openat2_in_root(o->s[1], O_PATH);
      if (fd < 0) return -1;
      fd_path(target, fd);
    }
    if (remount && mount(NULL, tpath, NULL, MS_REMOUNT | MS_BIND | remount | locked_flags(tpath), NULL) < 0) {
      int e = errno; if (fd >= 0) close(fd); errno = e; return -1;
    }
    if (prop && mount(NULL, tpath, NULL, prop, NULL) < 0) { int e = errno; if (fd >= 0) close(fd); errno = e; return -1; }
  }
  if (o->i[4] || o->i[5]) {
    /* recursive attributes (rro, rnosuid...) on the mount and everything under it */
    int mfd = mode == TARGET_HOST ? open(o->s[1], O_PATH | O_CLOEXEC) : openat2_in_root(o->s[1], O_PATH);
    if (mfd < 0) { int e = errno; if (fd >= 0) close(fd); errno = e; return -1; }
    struct mount_attr_v0 attr = { o->i[4], o->i[5], 0, 0 };
    long r = syscall(SYS_mount_setattr, mfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
    int e = errno;
    close(mfd);
    if (r < 0) { if (fd >= 0) close(fd); errno = e; return -1; }
  }
  if (fd >= 0) close(fd);
  return 0;
}

static int do_mknod(struct op *o) {
  const char *name;
  int dirfd = open_parent_in_root(o->s[0], &name);
  if (dirfd < 0) return -1;
  dev_t dev = makedev((unsigned)o->i[1], (unsigned)o->i[2]);
  if (mknodat(dirfd, name, (mode_t)o->i[0], dev) < 0) {
    int e = errno;
    struct stat st;
    /* an existing node is fine only if it is this very device */
    if (e == EEXIST && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        (st.st_mode & S_IFMT) == ((mode_t)o->i[0] & S_IFMT) && st.st_rdev == dev) {
      close(dirfd);
      return 0;
    }
    close(dirfd);
    errno = e;
    return -1;
  } else if (fchownat(dirfd, name, (uid_t)o->i[3], (gid_t)o->i[4], AT_SYMLINK_NOFOLLOW) < 0 ||
             fchmodat(dirfd, name, (mode_t)(o->i[0] & 07777), 0) < 0) {
    int e = errno; close(dirfd); errno = e; return -1;
  }
  close(dirfd);
  return 0;
}

static int do_symlink(struct op *o) {
  const char *name;
  int dirfd = open_parent_in_root(o->s[1], &name);
  if (dirfd < 0) return -1;
  int r = symlinkat(o->s[0], dirfd, name);
  int e = errno;
  close(dirfd);
  if (r < 0 && e != EEXIST) { errno = e; return -1; }
  return 0;
}

/* Masks and read-only paths work on fds from start to end (open_tree, fsmount, move_mount): after
 * pivot_root, /proc/self/fd paths would be resolved through the container's own /proc, which an
 * image can fake. */
static int move_onto(int tree, int target) {
  long r = syscall(SYS_move_mount, tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  int e = errno;
  close(tree);
  errno = e;
  return r < 0 ? -1 : 0;
}

/* The container's /dev/null, only if it really is the null device (no symlink, char 1:3). */
static int open_dev_null(void) {
  struct open_how_v0 how = { O_PATH | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS };
  int fd = (int)syscall(SYS_openat2, root_fd, "dev/null", &how, sizeof how);
  if (fd < 0) return -1;
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
    close(fd);
    errno = EPERM;
    return -1;
  }
  return fd;
}

static int do_mask(struct op *o) {
  int fd = openat2_in_root(o->s[0], O_PATH);
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  struct stat st;
  int tree = -1;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    int fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
    if (fs >= 0 && syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
      tree = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (fs >= 0) close(fs);
  } else {
    int null_fd = open_dev_null();
    if (null_fd >= 0) {
      tree = (int)syscall(SYS_open_tree, null_fd, "", OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH);
      close(null_fd);
    }
  }
  int r = tree < 0 ? -1 : move_onto(tree, fd);
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

static int do_readonly(struct op *o) {
  int fd = openat2_in_root(o->s[0], O_PATH);
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  int tree = (int)syscall(SYS_open_tree, fd, "", OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
  int r = -1;
  if (tree >= 0) {
    struct mount_attr_v0 attr = { MOUNT_ATTR_RDONLY, 0, 0, 0 };
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) == 0) r = move_onto(tree, fd);
    else { int e = errno; close(tree); errno = e; }
  }
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

static int do_pivot_root(void) {
  int old_root = open("/", O_DIRECTORY | O_PATH | O_CLOEXEC);
  if (old_root < 0) return -1;
  if (fchdir(root_fd) < 0 || syscall(SYS_pivot_root, ".", ".") < 0) { int e = errno; close(old_root); errno = e; return -1; }
  /* The old root is stacked on the new one. From inside it (not from the new root, whose
   * shared mounts must stay shared), cut it from the host's propagation, then detach it. */
  int r = fchdir(old_root);
  int e = errno;
  close(old_root);
  if (r < 0) { errno = e; return -1; }
  if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) return -1;
  if (umount2(".", MNT_DETACH) < 0) return -1;
  if (chdir("/") < 0) return -1;
  close(root_fd);
  root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  return root_fd < 0 ? -1 : 0;
}

/* --no-pivot leaves the old root under the new one, in our mount namespace. A procfs or sysfs mount
 * there (the host's /proc, whole and unmasked) would let a process of the container mount a fresh,
 * unmasked proc even from a user namespace of its own (the kernel allows a new instance only where
 * one is fully visible already): every proc and sysfs mount outside the rootfs is detached, or,
 * where a user namespace locks it in place, covered with an empty tmpfs (as runc does). The
 * propagation of / is a slave or private by now, so nothing of this reaches the host. */
static char mountinfo[1 << 20];
static char *mount_lines[1 << 15];
static char root_path[4096];

static void unescape_octal(char *s) {
  char *out = s;
  while (*s) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
      *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 4;
    } else {
      *out++ = *s++;
    }
  }
  *out = 0;
}

static int detach_proc_mounts_outside_root(void) {
  int fd = proc_open("self/mountinfo", O_RDONLY);
  if (fd < 0) return -1;
  size_t len = 0;
  ssize_t n;
  while ((n = read(fd, mountinfo + len, sizeof mountinfo - 1 - len)) > 0) len += (size_t)n;
  int e = errno;
  close(fd);
  if (n < 0) { errno = e; return -1; }
  if (len >= sizeof mountinfo - 1) { errno = E2BIG; why = "/proc/self/mountinfo is too large"; return -1; }
  mountinfo[len] = 0;
  size_t count = 0;
  for (char *p = mountinfo; *p && count < sizeof mount_lines / sizeof mount_lines[0];) {
    mount_lines[count++] = p;
    char *nl = strchr(p, '\n');
    if (!nl) break;
    *nl = 0;
    p = nl + 1;
  }
  size_t rl = slen(root_path);
  while (count--) { /* children come after their parents: last first */
    char *f = mount_lines[count], *mp = NULL, *sep = strstr(f, " - ");
    for (int k = 0; k < 4 && f; k++) { f = strchr(f, ' '); if (f) f++; }
    if (!f || !sep) continue;
    mp = f;
    char *mp_end = strchr(mp, ' ');
    if (!mp_end) continue;
    *mp_end = 0;
    char *type = sep + 3, *type_end = strchr(type, ' ');
    if (type_end) *type_end = 0;
    if (strcmp(type, "proc") && strcmp(type, "sysfs")) continue;
    unescape_octal(mp);
    if (!strncmp(mp, root_path, rl) && (mp[rl] == 0 || mp[rl] == '/' || (rl == 1))) continue;
    if (umount2(mp, MNT_DETACH) == 0 || errno == ENOENT) continue;
    if (mount("tmpfs", mp, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=000") < 0) {
      why = "a proc or sysfs mount outside the rootfs can be neither detached nor covered";
      return -1;
    }
  }
  return 0;
}

static int detach_proc_outside_root(void) {
  int proc = proc_root();
  if (proc < 0) return -1;
  char link[32];
  fd_path(link, root_fd);
  ssize_t n = readlinkat(proc, link + 6, root_path, sizeof root_path - 1);
  proc_release(proc);
  if (n <= 0) return -1;
  root_path[n] = 0;
  return detach_proc_mounts_outside_root();
}

static int do_move_root(void) {
  if (detach_proc_outside_root() < 0) return -1;
  if (fchdir(root_fd) < 0) return -1;
  if (mount(".", "/", NULL, MS_MOVE, NULL) < 0) return -1;
  if (chroot(".") < 0) return -1;
  if (chdir("/") < 0) return -1;
  close(root_fd);
  root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  return root_fd < 0 ? -1 : 0;
}

static int do_write_file(struct op *o) {
  int fd = o->i[0] == WRITE_IN_PROC ? proc_open(o->s[0], O_WRONLY) : open(o->s[0], O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int r = write_all(fd, o->s[1], o->sl[1]);
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

static int do_clone(struct op *o) {
  struct clone_args_v0 args;
  memset(&args, 0, sizeof args);
  args.flags = o->i[0];
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) return -1;
  if (pid == 0) {
    /* the container init's procfs is one of its own pid namespace */
    if (fresh_proc >= 0) close(fresh_proc);
    fresh_proc = -1;
    return 0;
  }
  send_msg(MSG_PID, (int32_t)pid, 0, NULL);
  _exit(0);
}

static int wait_byte(void) {
  char b;
  for (;;) {
    ssize_t n = read(sync_fd, &b, 1);
    if (n == 1) return 0;
    if (n < 0 && errno == EINTR) continue;
    _exit(1); /* tsrun went away: nothing left to report to */
  }
}

static int do_capset(struct op *o) {
  struct cap_header h = { LINUX_CAPABILITY_VERSION_3, 0 };
  struct cap_data d[2];
  for (int k = 0; k < 2; k++) {
    d[k].effective = (uint32_t)(o->i[0] >> (32 * k));
    d[k].permitted = (uint32_t)(o->i[1] >> (32 * k));
    d[k].inheritable = (uint32_t)(o->i[2] >> (32 * k));
  }
  return (int)syscall(SYS_capset, &h, d);
}

static int do_capbset(struct op *o) {
  uint64_t keep = o->i[0];
  for (int cap = 0; cap < 64; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) break; /* past the last cap the kernel knows */
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return -1;
  }
  return 0;
}

static int do_ambient(struct op *o) {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return -1;
  for (int cap = 0; cap < 64; cap++)
    if ((o->i[0] & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) return -1;
  return 0;
}

static int split_blob(const char *blob, uint32_t len, uint64_t count, char **out, size_t max) {
  if (count >= max) { errno = E2BIG; return -1; }
  const char *p = blob, *end = blob + len;
  for (uint64_t k = 0; k < count; k++) {
    if (p > end) { errno = EINVAL; return -1; }
    out[k] = (char *)p;
    p += slen(p) + 1;
  }
  out[count] = NULL;
  return 0;
}

static int is_executable(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static void find_exec(int index, struct op *o) {
  const char *name = o->s[0];
  static char detail[4400];
  size_t nlen = slen(name);
  if (nlen + 1 > sizeof exec_path) fail(index, ENAMETOOLONG, "");
  if (strchr(name, '/')) {
    memcpy(exec_path, name, nlen + 1);
    struct stat st;
    if (stat(name, &st) < 0) fail(index, errno, "");
    return;
  }
  const char *p = o->s[1];
  while (1) {
    const char *end = p;
    while (*end && *end != ':') end++;
    size_t dlen = (size_t)(end - p);
    if (dlen == 0) { dlen = 1; p = "."; }
    if (dlen + 1 + nlen + 1 <= sizeof exec_path) {
      memcpy(exec_path, p, dlen);
      exec_path[dlen] = '/';
      memcpy(exec_path + dlen + 1, name, nlen + 1);
      if (is_executable(exec_path)) return;
    }
    if (!*end) break;
    p = end + 1;
  }
  detail[0] = 0;
  fail(index, ENOENT, detail);
}

/* One message carrying fd (SCM_RIGHTS) and a payload of at least one byte. */
static int send_fd(int sock, int fd, const void *payload, size_t len) {
  struct iovec iov = { (void *)payload, len };
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do { n = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
  return n < 0 ? -1 : 0;
}

static int do_seccomp(struct op *o) {
  struct sock_fprog_k prog = { (unsigned short)(o->sl[0] / 8), (void *)o->s[0] };
  int r = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)o->i[0], &prog);
  if (r < 0 || !o->i[1]) return r < 0 ? -1 : 0;
  /* the listener goes to tsrun, which hands it to the seccomp agent before we go on */
  send_msg(MSG_REPORT, (int32_t)o->i[1], 0, NULL);
  if (send_fd(sync_fd, r, "S", 1) < 0) return -1;
  close(r);
  return wait_byte();
}

/* An LSM label for the next execve. The container's /proc could be a plain directory of the image
 * when no proc is mounted: then the label would land in a file and the process run unconfined. */
static int do_proc_attr(struct op *o) {
  static const char prefix[] = "thread-self/attr/";
  if (sizeof prefix + o->sl[0] > sizeof pathbuf) { errno = ENAMETOOLONG; return -1; }
  memcpy(pathbuf, prefix, sizeof prefix - 1);
  memcpy(pathbuf + sizeof prefix - 1, o->s[0], o->sl[0] + 1);
  int fd = proc_open(pathbuf, O_WRONLY);
  if (fd < 0) return -1;
  int r = write_all(fd, o->s[1], o->sl[1]);
  close(fd);
  return r < 0 ? -1 : 0;
}

struct sched_attr_v0 {
  uint32_t size, policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime, deadline, period;
};

static int do_sched_setattr(struct op *o) {
  struct sched_attr_v0 a;
  memset(&a, 0, sizeof a);
  a.size = sizeof a;
  a.policy = (uint32_t)o->i[0];
  a.flags = o->i[1];
  a.nice = (int32_t)o->i[2];
  a.priority = (uint32_t)o->i[3];
  a.runtime = o->i[4];
  a.deadline = o->i[5];
  a.period = o->i[6];
  return (int)syscall(SYS_sched_setattr, 0, &a, 0);
}

/* A pty from the container's devpts; its master goes to whoever listens on sock_fd (runc's protocol:
 * one message, one SCM_RIGHTS fd, the master's path as payload). The slave becomes our stdio. */
static int do_console(struct op *o) {
  int sock = (int)o->i[0];
  int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return -1;
  int unlock = 0, ptn = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &ptn) < 0) return -1;
  char slave_path[32] = "/dev/pts/";
  char digits[12]; int n = 0;
  unsigned v = (unsigned)ptn;
  do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  char *p = slave_path + 9;
  while (n) *p++ = digits[--n];
  *p = 0;
  int slave = open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) return -1;
  if (o->i[1] && o->i[2]) {
    struct winsize ws = { (unsigned short)o->i[1], (unsigned short)o->i[2], 0, 0 };
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0) return -1;
  }
  if (o->i[3]) {
    struct termios t;
    if (tcgetattr(slave, &t) < 0) return -1;
    t.c_oflag &= ~(tcflag_t)ONLCR;
    if (tcsetattr(slave, TCSANOW, &t) < 0) return -1;
  }
  static const char name[] = "/dev/pts/ptmx";
  if (send_fd(sock, master, name, sizeof name - 1) < 0) return -1;
  close(master);
  close(sock);
  /* the slave is the container's /dev/console too */
  int console = open("/dev/console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (console >= 0) close(console);
  if (mount(slave_path, "/dev/console", NULL, MS_BIND, NULL) < 0) return -1;
  for (int fd = 0; fd < 3; fd++)
    if (dup2(slave, fd) < 0) return -1;
  close(slave);
  return ioctl(0, TIOCSCTTY, 0);
}

static int split_blob(const char *blob, uint32_t len, uint64_t count, char **out, size_t max);

/* HOME for a process whose env has none (runc's rule): the home directory of the first entry of
 * the container's /etc/passwd (name:password:uid:gid:gecos:home:shell) with this uid, else "/". */
static char passwd_buf[8192];
static char home_env[sizeof passwd_buf + 6];

static int passwd_home(const char *line, size_t len, uint64_t uid, const char **home, size_t *hlen) {
  while (len && (*line == ' ' || *line == '\t')) { line++; len--; }
  while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r')) len--;
  size_t start[7] = { 0 }, stop[7] = { 0 };
  int fields = 0;
  for (size_t k = 0; k <= len && fields < 7; k++) {
    if (k < len && line[k] != ':') continue;
    stop[fields++] = k;
    if (fields < 7) start[fields] = k + 1;
  }
  if (fields < 6 || stop[2] == start[2]) return 0;
  uint64_t v = 0;
  for (size_t k = start[2]; k < stop[2]; k++) {
    if (line[k] < '0' || line[k] > '9') return 0;
    v = v * 10 + (uint64_t)(line[k] - '0');
    if (v > 0xffffffffULL) return 0;
  }
  if (v != uid) return 0;
  *home = line + start[5];
  *hlen = stop[5] - start[5];
  return 1;
}

static void home_from_passwd(uint64_t uid) {
  const char *home = "/";
  size_t hlen = 1;
  struct open_how_v0 how = { O_RDONLY | O_CLOEXEC, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int fd = root < 0 ? -1 : openat2_retry(root, "etc/passwd", &how);
  if (root >= 0) close(root);
  size_t have = 0;
  int found = 0, eof = fd < 0, overlong = 0;
  while (!found && !eof) {
    ssize_t n;
    do { n = read(fd, passwd_buf + have, sizeof passwd_buf - have); } while (n < 0 && errno == EINTR);
    if (n <= 0) { eof = 1; n = 0; }
    have += (size_t)n;
    size_t pos = 0;
    while (pos < have) {
      char *nl = memchr(passwd_buf + pos, '\n', have - pos);
      if (!nl && !eof) break;
      size_t len = nl ? (size_t)(nl - (passwd_buf + pos)) : have - pos;
      if (!overlong && passwd_home(passwd_buf + pos, len, uid, &home, &hlen)) { found = 1; break; }
      overlong = 0;
      pos += len + (nl ? 1 : 0);
    }
    if (found) break;
    memmove(passwd_buf, passwd_buf + pos, have - pos);
    have -= pos;
    /* a line longer than the buffer cannot be an entry we could use: skip to its end */
    if (have == sizeof passwd_buf) { overlong = 1; have = 0; }
  }
  if (fd >= 0) close(fd);
  memcpy(home_env, "HOME=", 5);
  memcpy(home_env + 5, home, hlen);
  home_env[5 + hlen] = 0;
}

/* runc's rule for stdio: owned by the process's uid (the group is the terminal's or the pipe's),
 * except /dev/null; EINVAL/EPERM mean an owner the user namespace cannot map, and are ignored. */
static int stdio_owner(uid_t uid) {
  struct stat null_st, st;
  int have_null = stat("/dev/null", &null_st) == 0 && S_ISCHR(null_st.st_mode);
  for (int fd = 0; fd < 3; fd++) {
    if (fstat(fd, &st) < 0) { if (errno == EBADF) continue; return -1; }
    if (st.st_uid == uid || (have_null && S_ISCHR(st.st_mode) && st.st_rdev == null_st.st_rdev)) continue;
    if (fchown(fd, uid, (gid_t)-1) < 0 && errno != EINVAL && errno != EPERM) return -1;
  }
  return 0;
}

/* A startContainer hook: runs in the container (after pivot_root), state JSON on stdin. */
static int do_hook(int index, struct op *o) {
  if (split_blob(o->s[1], o->sl[1], o->i[0], hook_argv, sizeof hook_argv / sizeof hook_argv[0]) < 0) return -1;
  if (split_blob(o->s[2], o->sl[2], o->i[1], hook_envp, sizeof hook_envp / sizeof hook_envp[0]) < 0) return -1;
  if (o->i[0] == 0) { hook_argv[0] = (char *)o->s[0]; hook_argv[1] = NULL; }
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (dup2(p[0], 0) < 0) _exit(126);
    execve(o->s[0], hook_argv, hook_envp);
    _exit(127);
  }
  close(p[0]);
  write_all(p[1], state_json, state_len);
  close(p[1]);
  uint64_t waited_ms = 0, limit_ms = o->i[2] ? o->i[2] * 1000 : 0;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return -1;
    if (limit_ms && waited_ms >= limit_ms) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      fail(index, ETIMEDOUT, "timed out");
    }
    struct timespec ts = { 0, 2000000 };
    nanosleep(&ts, NULL);
    waited_ms += 2;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  static char detail[64];
  static const char exited[] = "exit status ";
  static const char signaled[] = "killed by signal ";
  const char *prefix = WIFEXITED(status) ? exited : signaled;
  unsigned v = WIFEXITED(status) ? (unsigned)WEXITSTATUS(status) : (unsigned)WTERMSIG(status);
  size_t n = slen(prefix);
  memcpy(detail, prefix, n);
  char digits[12]; int k = 0;
  do { digits[k++] = (char)('0' + v % 10); v /= 10; } while (v);
  while (k) detail[n++] = digits[--k];
  detail[n] = 0;
  fail(index, 0, detail);
}

static void reset_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_DFL;
  for (int sig = 1; sig < 65; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &sa, NULL);
  }
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
}

static int parse_op(unsigned char **cursor, unsigned char *end, struct op *o) {
  unsigned char *p = *cursor;
  if (end - p < 8) return -1;
  uint16_t code; uint32_t plen;
  memcpy(&code, p, 2);
  o->code = code; o->nints = p[2]; o->nstrs = p[3];
  memcpy(&plen, p + 4, 4);
  p += 8;
  if ((size_t)(end - p) < plen || o->nints > WIRE_MAX_INTS || o->nstrs > WIRE_MAX_STRS) return -1;
  unsigned char *opend = p + plen;
  for (unsigned k = 0; k < o->nints; k++) {
    if (opend - p < 8) return -1;
    memcpy(&o->i[k], p, 8); p += 8;
  }
  for (unsigned k = o->nints; k < WIRE_MAX_INTS; k++) o->i[k] = 0;
  for (unsigned k = 0; k < o->nstrs; k++) {
    uint32_t l;
    if (opend - p < 4) return -1;
    memcpy(&l, p, 4); p += 4;
    if ((size_t)(opend - p) < (size_t)l + 1 || p[l] != 0) return -1;
    o->s[k] = (const char *)p; o->sl[k] = l;
    p += l + 1;
  }
  for (unsigned k = o->nstrs; k < WIRE_MAX_STRS; k++) { o->s[k] = ""; o->sl[k] = 0; }
  *cursor = opend;
  return 0;
}

static int run_op(int index, struct op *o) {
  switch (o->code) {
  case OP_SETNS: {
    int fd = open(o->s[0], O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int r = setns(fd, (int)o->i[0]);
    int e = errno; close(fd); errno = e;
    return r;
  }
  case OP_UNSHARE: return unshare((int)o->i[0]);
  case OP_WRITE_FILE: return do_write_file(o);
  case OP_CLONE: return do_clone(o);
  case OP_WAIT_GO:
    wait_byte();
    if (read_all(sync_fd, &state_len, 4) < 0) return -1;
    if (state_len > sizeof state_json - 1) { errno = E2BIG; return -1; }
    if (read_all(sync_fd, state_json, state_len) < 0) return -1;
    return 0;
  case OP_WAIT_ACK: return wait_byte();
  case OP_HOOK: return do_hook(index, o);
  case OP_MOUNT: return do_mount(o);
  case OP_MKNOD_IN_ROOT: return do_mknod(o);
  case OP_SYMLINK_IN_ROOT: return do_symlink(o);
  case OP_MKDIR_IN_ROOT: {
    int fd = mkdir_p_in_root(o->s[0], (unsigned)o->i[0]);
    if (fd < 0) return o->i[1] ? 0 : -1;
    close(fd);
    return 0;
  }
  case OP_OPEN_ROOT:
    if (root_fd >= 0) close(root_fd);
    root_fd = open(o->s[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
    return root_fd < 0 ? -1 : 0;
  case OP_PIVOT_ROOT: return do_pivot_root();
  case OP_MOVE_ROOT: return do_move_root();
  case OP_MASK_PATH: return do_mask(o);
  case OP_READONLY_PATH: return do_readonly(o);
  case OP_SETHOSTNAME: return sethostname(o->s[0], o->sl[0]);
  case OP_SETDOMAINNAME: return setdomainname(o->s[0], o->sl[0]);
  case OP_SETRLIMIT: {
    struct rlimit rl = { (rlim_t)o->i[1], (rlim_t)o->i[2] };
    return setrlimit((int)o->i[0], &rl);
  }
  case OP_CHDIR: return chdir(o->s[0]);
  case OP_UMASK: umask((mode_t)o->i[0]); return 0;
  case OP_SETGROUPS: return (int)syscall(SYS_setgroups, (size_t)(o->sl[0] / 4), (const gid_t *)o->s[0]);
  case OP_SETRESGID: return (int)syscall(SYS_setresgid, (gid_t)o->i[0], (gid_t)o->i[0], (gid_t)o->i[0]);
  case OP_SETRESUID: return (int)syscall(SYS_setresuid, (uid_t)o->i[0], (uid_t)o->i[0], (uid_t)o->i[0]);
  case OP_CAPBSET: return do_capbset(o);
  case OP_KEEPCAPS: return prctl(PR_SET_KEEPCAPS, (unsigned long)o->i[0], 0, 0, 0);
  case OP_CAPSET: return do_capset(o);
  case OP_AMBIENT: return do_ambient(o);
  case OP_NO_NEW_PRIVS: return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  case OP_SECCOMP: return do_seccomp(o);
  case OP_OPEN_FIFO:
    fifo_fd = open(o->s[0], O_PATH | O_CLOEXEC);
    return fifo_fd < 0 ? -1 : 0;
  case OP_READY:
    /* the socket stays open until execve closes it: EOF tells tsrun the process was started, an
     * ERROR that a later op failed, whether or not the process is still there to look at */
    send_msg(MSG_READY, 0, 0, NULL);
    return fcntl(sync_fd, F_SETFD, FD_CLOEXEC);
  case OP_REPORT:
    send_msg(MSG_REPORT, (int32_t)o->i[0], 0, NULL);
    return 0;
  case OP_WAIT_FIFO: {
    int fd = reopen_fd(fifo_fd, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    if (write_all(fd, "0", 1) < 0) { int e = errno; close(fd); errno = e; return -1; }
    close(fifo_fd);
    fifo_fd = -1;
    /* create is gone: `start` holds the fifo open and learns from it whether the process started */
    close(sync_fd);
    sync_fd = fd;
    return 0;
  }
  case OP_FIND_EXEC: find_exec(index, o); return 0;
  case OP_EXEC:
    if (split_blob(o->s[0], o->sl[0], o->i[0], argv_buf, sizeof argv_buf / sizeof argv_buf[0]) < 0) return -1;
    if (split_blob(o->s[1], o->sl[1], o->i[1], envp_buf, sizeof envp_buf / sizeof envp_buf[0] - 1) < 0) return -1;
    if (home_env[0]) { envp_buf[o->i[1]] = home_env; envp_buf[o->i[1] + 1] = NULL; }
    if (root_fd >= 0) close(root_fd);
    if (fresh_proc >= 0) close(fresh_proc);
    execve(exec_path[0] ? exec_path : argv_buf[0], argv_buf, envp_buf);
    {
      /* on the process's own stderr too, as runc's init does: nobody may be listening any more
       * (create returned), and this is what container logs show ("exec /x: exec format error") */
      int e = errno;
      const char *path = exec_path[0] ? exec_path : argv_buf[0], *why = strerror(e);
      write_all(2, "exec ", 5);
      write_all(2, path, slen(path));
      write_all(2, ": ", 2);
      /* Go's wording is lower case ("exec format error"); musl's starts with a capital */
      char first = why[0] >= 'A' && why[0] <= 'Z' ? (char)(why[0] + 32) : why[0];
      if (first) { write_all(2, &first, 1); write_all(2, why + 1, slen(why + 1)); }
      write_all(2, "\n", 1);
      errno = e;
    }
    return -1;
  case OP_CLOSE_FDS: return (int)syscall(SYS_close_range, (unsigned)o->i[0], ~0U, CLOSE_RANGE_CLOEXEC);
  case OP_SETSID: return setsid() < 0 ? -1 : 0;
  case OP_SETNS_FD: return setns((int)o->i[0], (int)o->i[1]);
  case OP_CONSOLE: return do_console(o);
  case OP_PERSONALITY: return syscall(SYS_personality, (unsigned long)o->i[0]) < 0 ? -1 : 0;
  case OP_SCHED_SETATTR: return do_sched_setattr(o);
  case OP_PROC_ATTR: return do_proc_attr(o);
  case OP_MOUNT_FD: {
    int target = o->i[1] == TARGET_FILE ? create_file_in_root(o->s[0]) : mkdir_p_in_root(o->s[0], 0755);
    if (target < 0) return -1;
    enum landing land = landing_of(target);
    int r = check_landing(land, (int)(o->i[2] & 1));
    if (r == 0) r = move_onto((int)o->i[0], target);
    if (r == 0) r = check_landed(land);
    int e = errno;
    close(target);
    errno = e;
    return r;
  }
  case OP_IOPRIO: return (int)syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (int)o->i[0]);
  case OP_SCHED_AFFINITY: return (int)syscall(SYS_sched_setaffinity, 0, (size_t)o->sl[0], o->s[0]);
  case OP_HOME: home_from_passwd(o->i[0]); return 0;
  case OP_STDIO_OWNER: return stdio_owner((uid_t)o->i[0]);
  default: errno = ENOSYS; return -1;
  }
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  int fd = 0;
  for (const char *p = argv[1]; *p; p++) {
    if (*p < '0' || *p > '9') return 2;
    fd = fd * 10 + (*p - '0');
  }
  sync_fd = fd;
  reset_signals();
  uint32_t hdr[4];
  if (read_all(sync_fd, hdr, sizeof hdr) < 0) return 3;
  if (hdr[0] != WIRE_MAGIC) fail(-1, EPROTO, "bad program magic");
  if (hdr[1] != WIRE_VERSION) fail(-1, EPROTO, "unsupported program version");
  if (hdr[3] > PROGRAM_MAX) fail(-1, E2BIG, "program too large");
  if (read_all(sync_fd, program, hdr[3]) < 0) fail(-1, errno, "reading program");
  unsigned char *cursor = program, *end = program + hdr[3];
  struct op o;
  for (int index = 0; index < (int)hdr[2]; index++) {
    if (parse_op(&cursor, end, &o) < 0) fail(index, EPROTO, "malformed op");
    why = NULL;
    if (run_op(index, &o) < 0) fail(index, errno, why ? why : "");
  }
  return 0;
}
