// tsrun's N-API addon: the syscalls Node and Bun do not offer, nothing more.
// src/syscalls is its only importer.
#include <napi.h>

#include "errors.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

// tsrun-init, embedded at build time (the assembler finds it through -Wa,-I native/out).
__asm__(".section .rodata\n.balign 16\n.global tsrun_init_blob\ntsrun_init_blob:\n.incbin \"tsrun-init\"\n"
        ".global tsrun_init_blob_end\ntsrun_init_blob_end:\n.previous\n");
extern "C" const unsigned char tsrun_init_blob[];
extern "C" const unsigned char tsrun_init_blob_end[];

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_execveat
#define SYS_execveat 322
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef F_SEAL_EXEC
#define F_SEAL_EXEC 0x0020
#endif

void RegisterSeccomp(Napi::Env env, Napi::Object exports);  // native/shim/seccomp.cc
void RegisterBpf(Napi::Env env, Napi::Object exports);      // native/shim/bpf.cc
void RegisterIdmap(Napi::Env env, Napi::Object exports);    // native/shim/idmap.cc
void RegisterNotify(Napi::Env env, Napi::Object exports);   // native/shim/notify.cc
void RegisterSdbus(Napi::Env env, Napi::Object exports);    // native/shim/sdbus.cc

namespace {

int init_memfd = -1;

// A sealed memfd holding tsrun-init: executed with execveat, never writable from a container.
int InitMemfd(int *err) {
  if (init_memfd >= 0) return init_memfd;
  int fd = (int)syscall(SYS_memfd_create, "tsrun-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL) fd = (int)syscall(SYS_memfd_create, "tsrun-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) { *err = errno; return -1; }
  const unsigned char *p = tsrun_init_blob;
  size_t left = (size_t)(tsrun_init_blob_end - tsrun_init_blob);
  while (left) {
    ssize_t n = write(fd, p, left);
    if (n < 0) { if (errno == EINTR) continue; *err = errno; close(fd); return -1; }
    p += n; left -= (size_t)n;
  }
  int seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
  if (fcntl(fd, F_ADD_SEALS, seals | F_SEAL_EXEC) < 0 && fcntl(fd, F_ADD_SEALS, seals) < 0) {
    *err = errno; close(fd); return -1;
  }
  init_memfd = fd;
  return fd;
}

struct SpawnArgs {
  int memfd;
  int sock;
  int first_free;  // 3 + preserved fds: the sync socket goes here
  int nextra;
  int extra[8];    // placed at first_free+1...
  int stdio[3];    // -1: inherit ours
  char fdarg[16];
};

char spawn_stack[64 * 1024] __attribute__((aligned(16)));

// Runs in a CLONE_VM|CLONE_VFORK child: raw syscalls only, the parent is suspended.
int SpawnChild(void *arg) {
  SpawnArgs *a = static_cast<SpawnArgs *>(arg);
  for (int k = 0; k < 3; k++)
    if (a->stdio[k] >= 0 && syscall(SYS_dup3, a->stdio[k], k, 0) < 0) syscall(SYS_exit, 126);
  if (syscall(SYS_dup3, a->sock, a->first_free, 0) < 0) syscall(SYS_exit, 126);
  for (int k = 0; k < a->nextra; k++)
    if (syscall(SYS_dup3, a->extra[k], a->first_free + 1 + k, 0) < 0) syscall(SYS_exit, 126);
  for (int fd = 3; fd < a->first_free; fd++) syscall(SYS_fcntl, fd, F_SETFD, 0);
  syscall(SYS_close_range, a->first_free + 1 + a->nextra, ~0U, CLOSE_RANGE_CLOEXEC);
  char name[] = "tsrun-init";
  char *argv[] = {name, a->fdarg, nullptr};
  char *envp[] = {nullptr};
  syscall(SYS_execveat, a->memfd, "", argv, envp, AT_EMPTY_PATH);
  syscall(SYS_exit, 127);
  return 127;
}

// spawnInit(preservedFds, extraFds) -> { pid, sock }: starts tsrun-init with our stdio, fds
// 3..3+n-1, the init end of a socketpair at fd 3+n, and extraFds at 3+n+1... (tsrun's end returned).
Napi::Value SpawnInit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int preserved = info[0].As<Napi::Number>().Int32Value();
  std::vector<int> extra_in;
  if (info.Length() > 1 && info[1].IsArray()) {
    Napi::Array arr = info[1].As<Napi::Array>();
    for (uint32_t k = 0; k < arr.Length() && k < 8; k++) extra_in.push_back(arr.Get(k).As<Napi::Number>().Int32Value());
  }
  int err = 0;
  int memfd = InitMemfd(&err);
  if (memfd < 0) return ThrowErrno(env, err, "memfd for tsrun-init");
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return ThrowErrno(env, errno, "socketpair");
  SpawnArgs a;
  a.first_free = 3 + preserved;
  for (int k = 0; k < 3; k++) a.stdio[k] = -1;
  if (info.Length() > 2 && info[2].IsArray()) {
    Napi::Array arr = info[2].As<Napi::Array>();
    for (uint32_t k = 0; k < arr.Length() && k < 3; k++) a.stdio[k] = arr.Get(k).As<Napi::Number>().Int32Value();
  }
  a.nextra = (int)extra_in.size();
  // keep our helper fds clear of the numbers the child must own
  int high = a.first_free + 1 + a.nextra;
  a.sock = fcntl(sv[1], F_DUPFD_CLOEXEC, high);
  a.memfd = fcntl(memfd, F_DUPFD_CLOEXEC, high);
  bool dup_failed = false;
  for (int k = 0; k < a.nextra; k++) {
    a.extra[k] = fcntl(extra_in[k], F_DUPFD_CLOEXEC, high);
    if (a.extra[k] < 0) dup_failed = true;
  }
  close(sv[1]);
  if (a.sock < 0 || a.memfd < 0 || dup_failed) {
    int e = errno;
    close(sv[0]);
    if (a.sock >= 0) close(a.sock);
    if (a.memfd >= 0) close(a.memfd);
    for (int k = 0; k < a.nextra; k++) if (a.extra[k] >= 0) close(a.extra[k]);
    return ThrowErrno(env, e, "dup");
  }
  int n = 0, v = a.first_free;
  char digits[12];
  do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  for (int k = 0; k < n; k++) a.fdarg[k] = digits[n - 1 - k];
  a.fdarg[n] = 0;

  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int pid = clone(SpawnChild, spawn_stack + sizeof spawn_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
  int e = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(a.sock);
  close(a.memfd);
  for (int k = 0; k < a.nextra; k++) close(a.extra[k]);
  if (pid < 0) { close(sv[0]); return ThrowErrno(env, e, "clone tsrun-init"); }
  Napi::Object r = Napi::Object::New(env);
  r.Set("pid", pid);
  r.Set("sock", sv[0]);
  return r;
}

Napi::Value WriteAll(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<uint8_t> buf = info[1].As<Napi::Buffer<uint8_t>>();
  const uint8_t *p = buf.Data();
  size_t left = buf.Length();
  while (left) {
    ssize_t n = write(fd, p, left);
    if (n < 0) { if (errno == EINTR) continue; return ThrowErrno(env, errno, "write"); }
    p += n; left -= (size_t)n;
  }
  return env.Undefined();
}

// Reads exactly len bytes, waiting at most timeout_ms overall. Returns bytes read (short on EOF).
ssize_t ReadFull(int fd, uint8_t *p, size_t len, int timeout_ms, int *err) {
  size_t got = 0;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  while (got < len) {
    int wait = -1;
    if (timeout_ms >= 0) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
      wait = timeout_ms - (int)elapsed;
      if (wait <= 0) { *err = ETIMEDOUT; return -1; }
    }
    struct pollfd pfd = {fd, POLLIN, 0};
    int r = poll(&pfd, 1, wait);
    if (r < 0) { if (errno == EINTR) continue; *err = errno; return -1; }
    if (r == 0) continue;
    ssize_t n = read(fd, p + got, len - got);
    if (n < 0) { if (errno == EINTR || errno == EAGAIN) continue; *err = errno; return -1; }
    if (n == 0) break;
    got += (size_t)n;
  }
  return (ssize_t)got;
}

// readMsg(fd, timeoutMs) -> {type, a, b, detail} | null on EOF
Napi::Value ReadMsg(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int timeout = info[1].As<Napi::Number>().Int32Value();
  uint8_t hdr[16];
  int err = 0;
  ssize_t n = ReadFull(fd, hdr, 16, timeout, &err);
  if (n < 0) return ThrowErrno(env, err, "reading from tsrun-init");
  if (n < 16) return env.Null();
  uint32_t type, dlen;
  int32_t a, b;
  memcpy(&type, hdr, 4); memcpy(&a, hdr + 4, 4); memcpy(&b, hdr + 8, 4); memcpy(&dlen, hdr + 12, 4);
  std::string detail;
  if (dlen) {
    if (dlen > (1u << 20)) return ThrowErrno(env, EPROTO, "message from tsrun-init");
    detail.resize(dlen);
    n = ReadFull(fd, reinterpret_cast<uint8_t *>(&detail[0]), dlen, timeout, &err);
    if (n < 0) return ThrowErrno(env, err, "reading from tsrun-init");
    detail.resize((size_t)n);
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("type", type);
  r.Set("a", a);
  r.Set("b", b);
  r.Set("detail", detail);
  return r;
}

Napi::Value Close(const Napi::CallbackInfo &info) {
  close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Object StatusObject(Napi::Env env, int pid, int status) {
  Napi::Object r = Napi::Object::New(env);
  r.Set("pid", pid);
  if (pid > 0) {
    if (WIFEXITED(status)) r.Set("code", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) r.Set("signal", WTERMSIG(status));
  }
  return r;
}

// waitpid(pid, noHang) -> {pid, code?, signal?}; pid 0 when noHang and still running
Napi::Value Waitpid(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int pid = info[0].As<Napi::Number>().Int32Value();
  bool nohang = info.Length() > 1 && info[1].ToBoolean();
  int status = 0;
  int r;
  do { r = waitpid(pid, &status, nohang ? WNOHANG : 0); } while (r < 0 && errno == EINTR);
  if (r < 0) return ThrowErrno(env, errno, "waitpid");
  return StatusObject(env, r, status);
}

class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, int pid) : Napi::AsyncWorker(env), pid_(pid), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    do { result_ = waitpid(pid_, &status_, 0); } while (result_ < 0 && errno == EINTR);
    err_ = result_ < 0 ? errno : 0;
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (result_ < 0) {
      Napi::Error e = Napi::Error::New(env, std::string("waitpid: ") + strerror(err_));
      e.Set("errno", Napi::Number::New(env, err_));
      deferred_.Reject(e.Value());
      return;
    }
    deferred_.Resolve(StatusObject(env, result_, status_));
  }

 private:
  int pid_;
  int status_ = 0;
  int result_ = 0;
  int err_ = 0;
  Napi::Promise::Deferred deferred_;
};

Napi::Value WaitpidAsync(const Napi::CallbackInfo &info) {
  WaitWorker *w = new WaitWorker(info.Env(), info[0].As<Napi::Number>().Int32Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value PidfdOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = (int)syscall(SYS_pidfd_open, info[0].As<Napi::Number>().Int32Value(), 0);
  if (fd < 0) return ThrowErrno(env, errno, "pidfd_open");
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  return Napi::Number::New(env, fd);
}

// pidfdWait(pidfd, timeoutMs) -> true once the process has exited (a zombie counts), false when
// timeoutMs passed first (-1: no limit). The kernel wakes us: no polling loop in TypeScript.
Napi::Value PidfdWait(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int timeout = info[1].As<Napi::Number>().Int32Value();
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    int wait = timeout;
    if (timeout >= 0) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
      wait = elapsed >= timeout ? 0 : timeout - (int)elapsed;
    }
    struct pollfd pfd = {fd, POLLIN, 0};
    int r = poll(&pfd, 1, wait);
    if (r > 0) return Napi::Boolean::New(env, true);
    if (r == 0) return Napi::Boolean::New(env, false);
    if (errno != EINTR) return ThrowErrno(env, errno, "poll on a pidfd");
  }
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  if (syscall(SYS_pidfd_send_signal, fd, sig, nullptr, 0) < 0) return ThrowErrno(env, errno, "pidfd_send_signal");
  return env.Undefined();
}

Napi::Value SetSubreaper(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (prctl(PR_SET_CHILD_SUBREAPER, info[0].ToBoolean() ? 1 : 0, 0, 0, 0) < 0) return ThrowErrno(env, errno, "prctl");
  return env.Undefined();
}

// flock(fd, exclusive, wait) -> true when taken, false when busy (wait=false)
Napi::Value Flock(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int op = info[1].ToBoolean() ? LOCK_EX : LOCK_SH;
  if (!info[2].ToBoolean()) op |= LOCK_NB;
  int r;
  do { r = flock(fd, op); } while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    return ThrowErrno(env, errno, "flock");
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value Mkfifo(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  int mode = info[1].As<Napi::Number>().Int32Value();
  if (mkfifo(path.c_str(), (mode_t)mode) < 0) return ThrowErrno(env, errno, "mkfifo " + path);
  if (chmod(path.c_str(), (mode_t)mode) < 0) return ThrowErrno(env, errno, "chmod " + path);
  return env.Undefined();
}

// fifoStart(path, pidfd, timeoutMs) -> { result: "started" | "dead" | "empty" | "timeout", fd }
// Opens exec.fifo for reading, which releases the init blocked on it, and reads its byte. When
// started, fd is the fifo, still open: it reaches EOF when the init execs (or carries its error).
Napi::Value FifoStart(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  int pidfd = info[1].As<Napi::Number>().Int32Value();
  int timeout = info[2].As<Napi::Number>().Int32Value();
  int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return ThrowErrno(env, errno, "open " + path);
  const char *result = "timeout";
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    struct pollfd p[2] = {{fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (elapsed >= timeout) break;
    int r = poll(p, 2, (int)(timeout - elapsed));
    if (r < 0) { if (errno == EINTR) continue; int e = errno; close(fd); return ThrowErrno(env, e, "poll"); }
    if (p[0].revents & (POLLIN | POLLHUP)) {
      char b;
      ssize_t n = read(fd, &b, 1);
      if (n == 1) { result = "started"; break; }
      if (n == 0) { result = "empty"; break; }
      if (errno != EAGAIN && errno != EINTR) { result = "empty"; break; }
    }
    if (p[1].revents & POLLIN) {
      char b;
      result = read(fd, &b, 1) == 1 ? "started" : "dead";
      break;
    }
  }
  Napi::Object r = Napi::Object::New(env);
  r.Set("result", result);
  if (strcmp(result, "started") == 0) {
    r.Set("fd", fd);
  } else {
    close(fd);
    r.Set("fd", -1);
  }
  return r;
}

// unixConnect(path) -> fd: a connected AF_UNIX stream socket (console and pidfd sockets)
Napi::Value UnixConnect(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return ThrowErrno(env, ENAMETOOLONG, "connect " + path);
  memcpy(addr.sun_path, path.c_str(), path.size());
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, errno, "socket");
  if (connect(fd, reinterpret_cast<struct sockaddr *>(&addr), sizeof addr) < 0) {
    int e = errno;
    close(fd);
    return ThrowErrno(env, e, "connect " + path);
  }
  return Napi::Number::New(env, fd);
}

// One sendmsg/recvmsg message: a data buffer and room for one SCM_RIGHTS fd.
struct FdMessage {
  struct iovec iov;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  struct msghdr msg;
  FdMessage(void *data, size_t len) : iov{data, len} {
    memset(control, 0, sizeof control);
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
};

// recvFd(sock) -> fd received with SCM_RIGHTS (tests and the foreground terminal use it)
Napi::Value RecvFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = info[0].As<Napi::Number>().Int32Value();
  char data[4096];
  FdMessage m(data, sizeof data);
  struct msghdr &msg = m.msg;
  ssize_t n;
  do { n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
  if (n < 0) return ThrowErrno(env, errno, "recvmsg");
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return ThrowErrno(env, EPROTO, "recvmsg: no fd");
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return Napi::Number::New(env, fd);
}

// sendFd(sock, fd, payload) -> undefined: one message carrying payload and fd (SCM_RIGHTS)
Napi::Value SendFd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sock = info[0].As<Napi::Number>().Int32Value();
  int fd = info[1].As<Napi::Number>().Int32Value();
  Napi::Buffer<uint8_t> payload = info[2].As<Napi::Buffer<uint8_t>>();
  if (payload.Length() == 0) return ThrowErrno(env, EINVAL, "sendmsg: empty payload");
  FdMessage m(payload.Data(), payload.Length());
  struct msghdr &msg = m.msg;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  ssize_t n;
  do { n = sendmsg(sock, &msg, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
  if (n < 0) return ThrowErrno(env, errno, "sendmsg");
  if ((size_t)n != payload.Length()) return ThrowErrno(env, EMSGSIZE, "sendmsg: short write");
  return env.Undefined();
}

// mount(source, target, flags) -> undefined: a bind or propagation change in tsrun's own namespace
Napi::Value Mount(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string source = info[0].As<Napi::String>();
  std::string target = info[1].As<Napi::String>();
  unsigned long flags = (unsigned long)info[2].As<Napi::Number>().Int64Value();
  if (mount(source.empty() ? nullptr : source.c_str(), target.c_str(), nullptr, flags, nullptr) < 0)
    return ThrowErrno(env, errno, "mount " + target);
  return env.Undefined();
}

// umount2(target, flags) -> undefined
Napi::Value Umount2(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string target = info[0].As<Napi::String>();
  int flags = info[1].As<Napi::Number>().Int32Value();
  if (umount2(target.c_str(), flags) < 0) return ThrowErrno(env, errno, "umount " + target);
  return env.Undefined();
}

// pipe() -> [readFd, writeFd], both close-on-exec
Napi::Value Pipe(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return ThrowErrno(env, errno, "pipe");
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(0u, p[0]);
  r.Set(1u, p[1]);
  return r;
}

// socketpair() -> [a, b]: AF_UNIX stream, close-on-exec (the foreground terminal's channel)
Napi::Value Socketpair(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return ThrowErrno(env, errno, "socketpair");
  Napi::Array r = Napi::Array::New(env, 2);
  r.Set(0u, sv[0]);
  r.Set(1u, sv[1]);
  return r;
}

// setWinsize(fd, rows, cols)
Napi::Value SetWinsize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  struct winsize ws;
  memset(&ws, 0, sizeof ws);
  ws.ws_row = (unsigned short)info[1].As<Napi::Number>().Uint32Value();
  ws.ws_col = (unsigned short)info[2].As<Napi::Number>().Uint32Value();
  if (ioctl(info[0].As<Napi::Number>().Int32Value(), TIOCSWINSZ, &ws) < 0) return ThrowErrno(env, errno, "TIOCSWINSZ");
  return env.Undefined();
}

Napi::Value InitSize(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), (double)(tsrun_init_blob_end - tsrun_init_blob));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnInit", Napi::Function::New(env, SpawnInit));
  exports.Set("writeAll", Napi::Function::New(env, WriteAll));
  exports.Set("readMsg", Napi::Function::New(env, ReadMsg));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("waitpid", Napi::Function::New(env, Waitpid));
  exports.Set("waitpidAsync", Napi::Function::New(env, WaitpidAsync));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen));
  exports.Set("pidfdWait", Napi::Function::New(env, PidfdWait));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal));
  exports.Set("setSubreaper", Napi::Function::New(env, SetSubreaper));
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("fifoStart", Napi::Function::New(env, FifoStart));
  exports.Set("initSize", Napi::Function::New(env, InitSize));
  exports.Set("unixConnect", Napi::Function::New(env, UnixConnect));
  exports.Set("recvFd", Napi::Function::New(env, RecvFd));
  exports.Set("sendFd", Napi::Function::New(env, SendFd));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount2", Napi::Function::New(env, Umount2));
  exports.Set("pipe", Napi::Function::New(env, Pipe));
  exports.Set("socketpair", Napi::Function::New(env, Socketpair));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  RegisterSeccomp(env, exports);
  RegisterBpf(env, exports);
  RegisterIdmap(env, exports);
  RegisterNotify(env, exports);
  RegisterSdbus(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(tsrun, Init)
