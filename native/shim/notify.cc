// sd_notify relay (NOTIFY_SOCKET): the socket the container sends to, and the host's socket the
// runtime forwards READY to, as runc does:
//   notifyBind(path) -> fd of a unix datagram socket bound at path (mode 0777: any container user)
//   notifyRecvReady(fd, pidfd, timeoutMs) -> the READY= line | "" (timed out) | null (process gone)
//   notifySend(hostPath, message) -> one datagram to the host's socket ("@name": abstract)
//   notifyBarrier(hostPath, timeoutMs) -> true once the host has read BARRIER=1 (the fd it carries
//     is closed), false on timeout
#include <napi.h>

#include "errors.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <string>

namespace {

bool Address(const std::string &path, struct sockaddr_un *addr, socklen_t *len) {
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr->sun_path) return false;
  memcpy(addr->sun_path, path.data(), path.size());
  *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path.size() + (path[0] == '@' ? 0 : 1));
  if (path[0] == '@') addr->sun_path[0] = 0;
  return true;
}

Napi::Value NotifyBind(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  struct sockaddr_un addr;
  socklen_t len;
  if (!Address(path, &addr, &len) || path[0] == '@') return ThrowErrno(env, EINVAL, "notify socket " + path);
  unlink(path.c_str());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, errno, "socket");
  if (bind(fd, reinterpret_cast<struct sockaddr *>(&addr), len) < 0 || chmod(path.c_str(), 0777) < 0) {
    int e = errno;
    close(fd);
    return ThrowErrno(env, e, "bind " + path);
  }
  return Napi::Number::New(env, fd);
}

long ElapsedMs(const struct timespec &start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
}

Napi::Value NotifyRecvReady(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  int pidfd = info[1].As<Napi::Number>().Int32Value();
  int timeout = info[2].As<Napi::Number>().Int32Value();
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    long left = timeout - ElapsedMs(start);
    if (left <= 0) return Napi::String::New(env, "");
    struct pollfd p[2] = {{fd, POLLIN, 0}, {pidfd, POLLIN, 0}};
    int r = poll(p, 2, (int)left);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ThrowErrno(env, errno, "poll");
    }
    if (p[0].revents & POLLIN) {
      char buf[4096];
      ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);  // fds sent along are closed by the kernel
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) continue;
        return ThrowErrno(env, errno, "recv");
      }
      std::string msg(buf, (size_t)n);
      size_t pos = 0;
      while (pos <= msg.size()) {
        size_t end = msg.find('\n', pos);
        if (end == std::string::npos) end = msg.size();
        std::string line = msg.substr(pos, end - pos);
        if (line.compare(0, 6, "READY=") == 0) return Napi::String::New(env, line);
        pos = end + 1;
      }
      continue;
    }
    if (p[1].revents & (POLLIN | POLLHUP)) return env.Null();
  }
}

int SendTo(const std::string &path, const std::string &msg, int passFd) {
  struct sockaddr_un addr;
  socklen_t len;
  if (!Address(path, &addr, &len)) { errno = EINVAL; return -1; }
  int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct iovec iov = {const_cast<char *>(msg.data()), msg.size()};
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
  struct msghdr m;
  memset(&m, 0, sizeof m);
  memset(&control, 0, sizeof control);
  m.msg_name = &addr;
  m.msg_namelen = len;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  if (passFd >= 0) {
    m.msg_control = control.buf;
    m.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &passFd, sizeof(int));
  }
  ssize_t n;
  do { n = sendmsg(s, &m, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
  int e = errno;
  close(s);
  errno = e;
  return n < 0 ? -1 : 0;
}

Napi::Value NotifySend(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  std::string msg = info[1].As<Napi::String>();
  if (SendTo(path, msg, -1) < 0) return ThrowErrno(env, errno, "send to " + path);
  return env.Undefined();
}

Napi::Value NotifyBarrier(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  int timeout = info[1].As<Napi::Number>().Int32Value();
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return ThrowErrno(env, errno, "pipe");
  if (SendTo(path, "BARRIER=1", p[1]) < 0) {
    int e = errno;
    close(p[0]);
    close(p[1]);
    return ThrowErrno(env, e, "send to " + path);
  }
  close(p[1]);
  struct pollfd pfd = {p[0], POLLIN, 0};
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  bool done = false;
  for (;;) {
    long left = timeout - ElapsedMs(start);
    if (left <= 0) break;
    int r = poll(&pfd, 1, (int)left);
    if (r < 0 && errno == EINTR) continue;
    done = r > 0 && (pfd.revents & (POLLHUP | POLLIN));
    break;
  }
  close(p[0]);
  return Napi::Boolean::New(env, done);
}

}  // namespace

void RegisterNotify(Napi::Env env, Napi::Object exports) {
  exports.Set("notifyBind", Napi::Function::New(env, NotifyBind));
  exports.Set("notifyRecvReady", Napi::Function::New(env, NotifyRecvReady));
  exports.Set("notifySend", Napi::Function::New(env, NotifySend));
  exports.Set("notifyBarrier", Napi::Function::New(env, NotifyBarrier));
}
