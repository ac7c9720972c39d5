// cgroup v2 device filters: load a BPF_PROG_TYPE_CGROUP_DEVICE program and attach it to a cgroup.
//
// The instructions come ready-made from src/cgroups/device-bpf.ts; this file only talks to
// bpf(2) (raw syscall, uapi structs, no libbpf):
//
//   bpfDeviceFilter(cgroupDir, insns | null, license, name) -> { id, detached: number[] }
//     loads insns (when given) as a program called `name`, attaches it to cgroupDir with
//     BPF_F_ALLOW_MULTI, then detaches every other program called `name` that was attached to
//     that cgroup before. insns null: only the detaching. id is 0 when nothing was attached.
//     The new program goes on before the old ones come off: in between both run and both must
//     allow, so there is never a moment without a filter.
//   bpfDeviceFilters(cgroupDir) -> [{ id, name }]: the device programs attached to that cgroup
//   bpfProgName(id) -> string | null: null once the kernel has freed the program
#include <napi.h>

#include "errors.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

long Bpf(int cmd, union bpf_attr *attr) {
  long r;
  do { r = syscall(SYS_bpf, cmd, attr, sizeof *attr); } while (r < 0 && errno == EINTR);
  return r;
}

struct Fd {
  int fd = -1;
  ~Fd() { if (fd >= 0) close(fd); }
};

int ProgInfo(int prog_fd, struct bpf_prog_info *info) {
  memset(info, 0, sizeof *info);
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.info.bpf_fd = (__u32)prog_fd;
  a.info.info_len = sizeof *info;
  a.info.info = (__u64)(uintptr_t)info;
  return Bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0 ? -1 : 0;
}

int ProgFdById(__u32 id) {
  union bpf_attr a;
  memset(&a, 0, sizeof a);
  a.prog_id = id;
  return (int)Bpf(BPF_PROG_GET_FD_BY_ID, &a);
}

// Ids of the device programs attached directly to the cgroup (not inherited ones).
int QueryDevicePrograms(int cg_fd, std::vector<__u32> *ids) {
  std::vector<__u32> buf(8);
  for (;;) {
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.query.target_fd = (__u32)cg_fd;
    a.query.attach_type = BPF_CGROUP_DEVICE;
    a.query.prog_ids = (__u64)(uintptr_t)buf.data();
    a.query.prog_cnt = (__u32)buf.size();
    if (Bpf(BPF_PROG_QUERY, &a) == 0) {
      ids->assign(buf.begin(), buf.begin() + a.query.prog_cnt);
      return 0;
    }
    // ENOSPC: more programs than room; prog_cnt now holds how many there are
    if (errno != ENOSPC || a.query.prog_cnt <= buf.size()) return -1;
    buf.resize(a.query.prog_cnt + 8);
  }
}

int OpenCgroup(Napi::Env env, const std::string &dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) ThrowErrno(env, errno, "open cgroup " + dir);
  return fd;
}

// The verifier's last lines: where it gave up and why.
std::string LogTail(const std::vector<char> &log) {
  std::string s(log.data(), strnlen(log.data(), log.size()));
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    std::string line = s.substr(pos, nl - pos);
    // statistics, not reasons
    if (!line.empty() && line.rfind("processed ", 0) != 0 && line.rfind("verification time", 0) != 0 && line.rfind("stack depth", 0) != 0)
      lines.push_back(line);
    pos = nl + 1;
  }
  std::string tail;
  for (size_t k = lines.size() > 3 ? lines.size() - 3 : 0; k < lines.size(); k++) tail += (tail.empty() ? "" : "; ") + lines[k];
  return tail;
}

Napi::Value BpfDeviceFilter(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>();
  bool load = info[1].IsBuffer();
  std::string license = info[2].As<Napi::String>();
  std::string name = info[3].As<Napi::String>();
  if (name.size() >= BPF_OBJ_NAME_LEN) return ThrowErrno(env, EINVAL, "BPF program name " + name);

  Fd cg;
  cg.fd = OpenCgroup(env, dir);
  if (cg.fd < 0) return env.Undefined();

  std::vector<__u32> before;
  if (QueryDevicePrograms(cg.fd, &before) < 0) return ThrowErrno(env, errno, "BPF_PROG_QUERY of the device programs attached to " + dir);

  Fd prog;
  __u32 new_id = 0;
  if (load) {
    Napi::Buffer<uint8_t> insns = info[1].As<Napi::Buffer<uint8_t>>();
    if (insns.Length() == 0 || insns.Length() % sizeof(struct bpf_insn) != 0) {
      return ThrowErrno(env, EINVAL, "device filter of " + std::to_string(insns.Length()) + " bytes (not a whole number of 8-byte instructions)");
    }
    __u32 count = (__u32)(insns.Length() / sizeof(struct bpf_insn));
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.insn_cnt = count;
    a.insns = (__u64)(uintptr_t)insns.Data();
    a.license = (__u64)(uintptr_t)license.c_str();
    memcpy(a.prog_name, name.c_str(), name.size());
    prog.fd = (int)Bpf(BPF_PROG_LOAD, &a);
    if (prog.fd < 0) {
      int err = errno;
      std::string what = "BPF_PROG_LOAD of the device filter (" + std::to_string(count) + " instructions)";
      if (err == EPERM) return ThrowErrno(env, err, what);
      // Load again with the verifier's log so a rejection says why. Only on failure: logging
      // slows every successful load down.
      std::vector<char> log(64 * 1024, 0);
      a.log_level = 1;
      a.log_size = (__u32)log.size();
      a.log_buf = (__u64)(uintptr_t)log.data();
      int again = (int)Bpf(BPF_PROG_LOAD, &a);
      if (again >= 0) close(again);
      std::string tail = LogTail(log);
      return ThrowErrno(env, err, tail.empty() ? what : what + ", verifier: " + tail);
    }
    struct bpf_prog_info pi;
    if (ProgInfo(prog.fd, &pi) < 0) return ThrowErrno(env, errno, "BPF_OBJ_GET_INFO_BY_FD of the new device filter");
    new_id = pi.id;

    memset(&a, 0, sizeof a);
    a.target_fd = (__u32)cg.fd;
    a.attach_bpf_fd = (__u32)prog.fd;
    a.attach_type = BPF_CGROUP_DEVICE;
    a.attach_flags = BPF_F_ALLOW_MULTI;
    if (Bpf(BPF_PROG_ATTACH, &a) < 0) return ThrowErrno(env, errno, "BPF_PROG_ATTACH of the device filter to " + dir);
  }

  Napi::Array detached = Napi::Array::New(env);
  for (__u32 id : before) {
    if (id == new_id) continue;
    Fd old;
    old.fd = ProgFdById(id);
    if (old.fd < 0) {
      if (errno == ENOENT) continue;  // went away meanwhile
      return ThrowErrno(env, errno, "BPF_PROG_GET_FD_BY_ID " + std::to_string(id) + " (a device program attached to " + dir + ")");
    }
    struct bpf_prog_info pi;
    if (ProgInfo(old.fd, &pi) < 0) return ThrowErrno(env, errno, "BPF_OBJ_GET_INFO_BY_FD of device program " + std::to_string(id));
    if (strncmp(pi.name, name.c_str(), BPF_OBJ_NAME_LEN) != 0) continue;  // someone else's
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.target_fd = (__u32)cg.fd;
    a.attach_bpf_fd = (__u32)old.fd;
    a.attach_type = BPF_CGROUP_DEVICE;
    if (Bpf(BPF_PROG_DETACH, &a) < 0) {
      if (errno == ENOENT) continue;
      return ThrowErrno(env, errno, "BPF_PROG_DETACH of the previous device filter " + std::to_string(id) + " from " + dir);
    }
    detached.Set(detached.Length(), Napi::Number::New(env, id));
  }

  Napi::Object r = Napi::Object::New(env);
  r.Set("id", Napi::Number::New(env, new_id));
  r.Set("detached", detached);
  return r;
}

Napi::Value BpfDeviceFilters(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>();
  Fd cg;
  cg.fd = OpenCgroup(env, dir);
  if (cg.fd < 0) return env.Undefined();
  std::vector<__u32> ids;
  if (QueryDevicePrograms(cg.fd, &ids) < 0) return ThrowErrno(env, errno, "BPF_PROG_QUERY of the device programs attached to " + dir);
  Napi::Array out = Napi::Array::New(env);
  for (__u32 id : ids) {
    Napi::Object p = Napi::Object::New(env);
    p.Set("id", Napi::Number::New(env, id));
    Fd f;
    f.fd = ProgFdById(id);
    struct bpf_prog_info pi;
    if (f.fd >= 0 && ProgInfo(f.fd, &pi) == 0) p.Set("name", Napi::String::New(env, std::string(pi.name, strnlen(pi.name, BPF_OBJ_NAME_LEN))));
    else p.Set("name", Napi::String::New(env, ""));
    out.Set(out.Length(), p);
  }
  return out;
}

Napi::Value BpfProgName(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  __u32 id = info[0].As<Napi::Number>().Uint32Value();
  Fd f;
  f.fd = ProgFdById(id);
  if (f.fd < 0) {
    if (errno == ENOENT) return env.Null();
    return ThrowErrno(env, errno, "BPF_PROG_GET_FD_BY_ID " + std::to_string(id));
  }
  struct bpf_prog_info pi;
  if (ProgInfo(f.fd, &pi) < 0) return ThrowErrno(env, errno, "BPF_OBJ_GET_INFO_BY_FD of program " + std::to_string(id));
  return Napi::String::New(env, std::string(pi.name, strnlen(pi.name, BPF_OBJ_NAME_LEN)));
}

}  // namespace

void RegisterBpf(Napi::Env env, Napi::Object exports) {
  exports.Set("bpfDeviceFilter", Napi::Function::New(env, BpfDeviceFilter));
  exports.Set("bpfDeviceFilters", Napi::Function::New(env, BpfDeviceFilters));
  exports.Set("bpfProgName", Napi::Function::New(env, BpfProgName));
}
