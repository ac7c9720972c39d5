// Idmapped mounts, made in tsrun's own (host) namespaces where the kernel allows it, and handed to
// the container's init as detached mount fds:
//   userNamespace(uidMap, gidMap) -> fd of a new user namespace with those maps
//   idmappedTree(source, usernsFd, recursiveClone, recursiveIdmap, attrSet, attrClr) -> mount fd
#include <napi.h>

#include "errors.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#define ATTR_IDMAP 0x00100000ULL

namespace {

struct MountAttr { uint64_t attr_set, attr_clr, propagation, userns_fd; };

bool WriteWhole(const std::string &path, const std::string &text) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = write(fd, text.data(), text.size());
  int e = errno;
  close(fd);
  errno = e;
  return n == (ssize_t)text.size();
}

// A child in a new user namespace holds it while the maps are written and its ns file is opened;
// the fd keeps the namespace alive after the child is gone.
Napi::Value UserNamespace(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string uidMap = info[0].As<Napi::String>();
  std::string gidMap = info[1].As<Napi::String>();
  int ready[2], go[2];
  if (pipe2(ready, O_CLOEXEC) < 0) return ThrowErrno(env, errno, "pipe");
  if (pipe2(go, O_CLOEXEC) < 0) { int e = errno; close(ready[0]); close(ready[1]); return ThrowErrno(env, e, "pipe"); }
  pid_t pid = fork();
  if (pid < 0) { int e = errno; close(ready[0]); close(ready[1]); close(go[0]); close(go[1]); return ThrowErrno(env, e, "fork"); }
  if (pid == 0) {
    // only async-signal-safe calls: the parent has threads
    close(ready[0]);
    close(go[1]);
    char c = unshare(CLONE_NEWUSER) == 0 ? 'U' : 'E';
    if (write(ready[1], &c, 1) != 1) _exit(1);
    ssize_t n;
    do { n = read(go[0], &c, 1); } while (n < 0 && errno == EINTR);
    _exit(0);
  }
  close(ready[1]);
  close(go[0]);
  char c = 0;
  ssize_t n;
  do { n = read(ready[0], &c, 1); } while (n < 0 && errno == EINTR);
  close(ready[0]);
  int err = 0;
  std::string what;
  std::string proc = "/proc/" + std::to_string(pid);
  int fd = -1;
  if (c != 'U') { err = EPERM; what = "unshare(CLONE_NEWUSER)"; }
  else if (!WriteWhole(proc + "/uid_map", uidMap)) { err = errno; what = "write uid_map"; }
  else if (!WriteWhole(proc + "/gid_map", gidMap)) { err = errno; what = "write gid_map"; }
  else if ((fd = open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC)) < 0) { err = errno; what = "open the user namespace"; }
  close(go[1]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  if (err) return ThrowErrno(env, err, what);
  return Napi::Number::New(env, fd);
}

Napi::Value IdmappedTree(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string source = info[0].As<Napi::String>();
  int userns = info[1].As<Napi::Number>().Int32Value();
  bool recursiveClone = info[2].As<Napi::Boolean>();
  bool recursiveIdmap = info[3].As<Napi::Boolean>();
  uint64_t set = (uint64_t)info[4].As<Napi::Number>().Int64Value();
  uint64_t clr = (uint64_t)info[5].As<Napi::Number>().Int64Value();
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | O_CLOEXEC | (recursiveClone ? AT_RECURSIVE : 0));
  if (tree < 0) return ThrowErrno(env, errno, "open_tree " + source);
  struct MountAttr idmap = { ATTR_IDMAP, 0, 0, (uint64_t)userns };
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (recursiveIdmap ? AT_RECURSIVE : 0), &idmap, sizeof idmap) < 0) {
    int e = errno;
    close(tree);
    return ThrowErrno(env, e, "idmap " + source);
  }
  if (set || clr) {
    struct MountAttr attr = { set, clr, 0, 0 };
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | (recursiveClone ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0) {
      int e = errno;
      close(tree);
      return ThrowErrno(env, e, "mount_setattr " + source);
    }
  }
  return Napi::Number::New(env, tree);
}

}  // namespace

void RegisterIdmap(Napi::Env env, Napi::Object exports) {
  exports.Set("userNamespace", Napi::Function::New(env, UserNamespace));
  exports.Set("idmappedTree", Napi::Function::New(env, IdmappedTree));
}
