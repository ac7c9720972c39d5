// Seccomp profiles compiled to classic BPF by libseccomp, for tsrun-init to load as bytes.
//
// libseccomp.so.2 is opened with dlopen at first use: building needs no libseccomp-dev, and
// a host without the library only fails when a config actually asks for seccomp. The few
// types and constants of <seccomp.h> we need are declared here from its documented ABI
// (stable across the whole 2.x series).
//
// All policy (spec names -> action values, flags, which rules to skip) lives in
// src/plan/seccomp.ts; this file takes its normalized description:
//
//   {
//     defaultAction: number,          // uint32 SCMP_ACT_* value, errno/trace data included
//     badArchAction?: number,         // SCMP_FLTATR_ACT_BADARCH (libseccomp's default: KILL)
//     optimize?: 1 | 2,               // SCMP_FLTATR_CTL_OPTIMIZE (2: binary tree of syscalls)
//     arches: string[],               // libseccomp names ("x86_64", "x86"...)
//     removeNative?: boolean,         // drop the native arch (kept by default, as runc does)
//     rules: [{ origin: string, action: number, names: string[],
//               args: [{ index: number, op: number, value: string, valueTwo: string }] }]
//   }                                  // value/valueTwo: decimal uint64, conditions ANDed
//
// and returns { bpf: Buffer, unknownSyscalls: string[], unknownArches: string[] }.
#include <napi.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dynlib.h"

namespace {

// ---- the parts of <seccomp.h> we use

typedef void *scmp_filter_ctx;
typedef uint64_t scmp_datum_t;

enum scmp_compare {
  SCMP_CMP_NE = 1,
  SCMP_CMP_LT = 2,
  SCMP_CMP_LE = 3,
  SCMP_CMP_EQ = 4,
  SCMP_CMP_GE = 5,
  SCMP_CMP_GT = 6,
  SCMP_CMP_MASKED_EQ = 7,
};

struct scmp_arg_cmp {
  unsigned int arg;
  enum scmp_compare op;
  scmp_datum_t datum_a;
  scmp_datum_t datum_b;
};

struct scmp_version {
  unsigned int major;
  unsigned int minor;
  unsigned int micro;
};

enum scmp_filter_attr {
  SCMP_FLTATR_ACT_DEFAULT = 1,
  SCMP_FLTATR_ACT_BADARCH = 2,
  SCMP_FLTATR_CTL_NNP = 3,
  SCMP_FLTATR_CTL_TSYNC = 4,
  SCMP_FLTATR_API_TSKIP = 5,
  SCMP_FLTATR_CTL_LOG = 6,
  SCMP_FLTATR_CTL_SSB = 7,
  SCMP_FLTATR_CTL_OPTIMIZE = 8,
};

// Action values (the kernel's SECCOMP_RET_* with libseccomp's names).
const uint32_t SCMP_ACT_KILL_PROCESS = 0x80000000U;
const uint32_t SCMP_ACT_KILL_THREAD = 0x00000000U;
const uint32_t SCMP_ACT_TRAP = 0x00030000U;
const uint32_t SCMP_ACT_ERRNO_BASE = 0x00050000U;  // | errno
const uint32_t SCMP_ACT_NOTIFY = 0x7fc00000U;
const uint32_t SCMP_ACT_TRACE_BASE = 0x7ff00000U;  // | message
const uint32_t SCMP_ACT_LOG = 0x7ffc0000U;
const uint32_t SCMP_ACT_ALLOW = 0x7fff0000U;

// Architecture tokens (AUDIT_ARCH_* values); 0 means "native" to libseccomp, and is also what
// seccomp_arch_resolve_name returns for a name it does not know.
const uint32_t SCMP_ARCH_NATIVE = 0;
const uint32_t SCMP_ARCH_X86 = 0x40000003U;
const uint32_t SCMP_ARCH_X86_64 = 0xc000003eU;
const uint32_t SCMP_ARCH_X32 = 0x4000003eU;
const uint32_t SCMP_ARCH_ARM = 0x40000028U;
const uint32_t SCMP_ARCH_AARCH64 = 0xc00000b7U;

// seccomp_syscall_resolve_name's answer for a name it does not know.
const int NR_SCMP_ERROR = -1;

// ---- libseccomp, resolved once

struct Lib {
  void *handle = nullptr;
  std::string error;  // why loading failed, once it has
  scmp_filter_ctx (*init)(uint32_t def_action);
  void (*release)(scmp_filter_ctx ctx);
  int (*rule_add_array)(scmp_filter_ctx ctx, uint32_t action, int syscall, unsigned int arg_cnt,
                        const struct scmp_arg_cmp *arg_array);
  int (*arch_add)(scmp_filter_ctx ctx, uint32_t arch_token);
  int (*arch_remove)(scmp_filter_ctx ctx, uint32_t arch_token);
  uint32_t (*arch_native)(void);
  uint32_t (*arch_resolve_name)(const char *arch_name);
  int (*syscall_resolve_name)(const char *name);
  int (*syscall_resolve_name_arch)(uint32_t arch_token, const char *name);
  int (*attr_set)(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value);
  int (*export_bpf)(scmp_filter_ctx ctx, int fd);
  const struct scmp_version *(*version)(void);
};

Lib lib;

template <typename T>
bool Resolve(void *handle, const char *name, T *out, std::string *error) {
  return ResolveSymbol(handle, "libseccomp.so.2", name, out, error);
}

// Loads libseccomp.so.2 and resolves every function; false with lib.error set when it cannot.
bool LoadLib() {
  if (lib.handle) return true;
  if (!lib.error.empty()) return false;
  void *h = dlopen("libseccomp.so.2", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *e = dlerror();
    lib.error = std::string("cannot load libseccomp.so.2 (install libseccomp2, the library every "
                            "distribution ships for seccomp): ") + (e ? e : "unknown error");
    return false;
  }
  std::string err;
  bool ok = Resolve(h, "seccomp_init", &lib.init, &err) &&
            Resolve(h, "seccomp_release", &lib.release, &err) &&
            Resolve(h, "seccomp_rule_add_array", &lib.rule_add_array, &err) &&
            Resolve(h, "seccomp_arch_add", &lib.arch_add, &err) &&
            Resolve(h, "seccomp_arch_remove", &lib.arch_remove, &err) &&
            Resolve(h, "seccomp_arch_native", &lib.arch_native, &err) &&
            Resolve(h, "seccomp_arch_resolve_name", &lib.arch_resolve_name, &err) &&
            Resolve(h, "seccomp_syscall_resolve_name", &lib.syscall_resolve_name, &err) &&
            Resolve(h, "seccomp_syscall_resolve_name_arch", &lib.syscall_resolve_name_arch, &err) &&
            Resolve(h, "seccomp_attr_set", &lib.attr_set, &err) &&
            Resolve(h, "seccomp_export_bpf", &lib.export_bpf, &err) &&
            Resolve(h, "seccomp_version", &lib.version, &err);
  if (!ok) {
    dlclose(h);
    lib.error = err;
    return false;
  }
  lib.handle = h;
  return true;
}

std::string VersionString() {
  const struct scmp_version *v = lib.version();
  if (!v) return "unknown";
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->micro);
}

// ---- helpers

Napi::Value Throw(Napi::Env env, const std::string &msg, int err = 0) {
  Napi::Error e = Napi::Error::New(env, err ? msg + ": " + strerror(err) : msg);
  if (err) e.Set("errno", Napi::Number::New(env, err));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// Releases the filter context on every path out of SeccompCompile.
struct Ctx {
  scmp_filter_ctx ctx = nullptr;
  ~Ctx() {
    if (ctx) lib.release(ctx);
  }
};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

bool IsKnownAction(uint32_t a) {
  switch (a & 0xffff0000U) {
    case SCMP_ACT_KILL_PROCESS:
    case SCMP_ACT_KILL_THREAD:
    case SCMP_ACT_TRAP:
    case SCMP_ACT_NOTIFY:
    case SCMP_ACT_LOG:
    case SCMP_ACT_ALLOW:
      return (a & 0xffffU) == 0;
    case SCMP_ACT_ERRNO_BASE:
    case SCMP_ACT_TRACE_BASE:
      return true;
    default:
      return false;
  }
}

// A uint64 given as a decimal string (JSON numbers lose precision above 2^53), or a number.
bool ToDatum(const Napi::Value &v, scmp_datum_t *out) {
  if (v.IsUndefined() || v.IsNull()) {
    *out = 0;
    return true;
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 0) || d > 18446744073709551615.0 || d != (double)(uint64_t)d) return false;
    *out = (uint64_t)d;
    return true;
  }
  if (v.IsBigInt()) {
    bool lossless = false;
    *out = v.As<Napi::BigInt>().Uint64Value(&lossless);
    return lossless;
  }
  if (!v.IsString()) return false;
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  errno = 0;
  char *end = nullptr;
  unsigned long long x = strtoull(s.c_str(), &end, 10);
  if (errno || *end) return false;
  *out = (scmp_datum_t)x;
  return true;
}

bool GetUint32(const Napi::Object &o, const char *key, uint32_t *out) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > 4294967295.0 || d != (double)(uint32_t)d) return false;
  *out = (uint32_t)d;
  return true;
}

// The filter as libseccomp exports it: read back from a memfd.
bool ExportBpf(scmp_filter_ctx ctx, std::vector<uint8_t> *out, std::string *what, int *err) {
  Fd f;
  f.fd = (int)syscall(SYS_memfd_create, "tsrun-seccomp", MFD_CLOEXEC);
  if (f.fd < 0) { *what = "memfd_create"; *err = errno; return false; }
  int rc = lib.export_bpf(ctx, f.fd);
  if (rc < 0) { *what = "seccomp_export_bpf"; *err = -rc; return false; }
  off_t size = lseek(f.fd, 0, SEEK_END);
  if (size < 0) { *what = "lseek"; *err = errno; return false; }
  out->resize((size_t)size);
  size_t done = 0;
  while (done < (size_t)size) {
    ssize_t n = pread(f.fd, out->data() + done, (size_t)size - done, (off_t)done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { *what = "read exported filter"; *err = n < 0 ? errno : EIO; return false; }
    done += (size_t)n;
  }
  return true;
}

// ---- exported functions

// seccompVersion() -> "2.5.4"; throws when libseccomp.so.2 cannot be loaded.
Napi::Value SeccompVersion(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!LoadLib()) return Throw(env, lib.error);
  return Napi::String::New(env, VersionString());
}

// seccompResolveSyscall(name, arch?) -> number: the syscall number libseccomp gives the name on
// the native arch (or on arch, a libseccomp arch name); negative for a pseudo-syscall (a name
// this arch lacks but another has), -1 for a name libseccomp does not know at all.
Napi::Value SeccompResolveSyscall(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!LoadLib()) return Throw(env, lib.error);
  if (info.Length() < 1 || !info[0].IsString()) return Throw(env, "seccompResolveSyscall: name must be a string");
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (info.Length() > 1 && info[1].IsString()) {
    std::string arch = info[1].As<Napi::String>().Utf8Value();
    uint32_t token = lib.arch_resolve_name(arch.c_str());
    if (token == 0) return Throw(env, "libseccomp " + VersionString() + " does not know the architecture \"" + arch + "\"");
    return Napi::Number::New(env, lib.syscall_resolve_name_arch(token, name.c_str()));
  }
  return Napi::Number::New(env, lib.syscall_resolve_name(name.c_str()));
}

// seccompCompile(description: string | object) -> { bpf, unknownSyscalls, unknownArches }
Napi::Value SeccompCompile(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!LoadLib()) return Throw(env, lib.error);
  if (info.Length() < 1) return Throw(env, "seccompCompile: missing description");

  Napi::Object desc;
  if (info[0].IsString()) {
    Napi::Object json = env.Global().Get("JSON").As<Napi::Object>();
    Napi::Value parsed = json.Get("parse").As<Napi::Function>().Call(json, {info[0]});
    if (env.IsExceptionPending()) return env.Undefined();
    if (!parsed.IsObject()) return Throw(env, "seccompCompile: the description is not an object");
    desc = parsed.As<Napi::Object>();
  } else if (info[0].IsObject()) {
    desc = info[0].As<Napi::Object>();
  } else {
    return Throw(env, "seccompCompile: the description must be a JSON string or an object");
  }

  uint32_t def_action;
  if (!GetUint32(desc, "defaultAction", &def_action) || !IsKnownAction(def_action))
    return Throw(env, "seccompCompile: defaultAction is not a seccomp action value");

  Ctx c;
  c.ctx = lib.init(def_action);
  if (!c.ctx) return Throw(env, "seccomp_init failed (libseccomp " + VersionString() + " rejects the default action, or is out of memory)");

  int rc;
  if (desc.Has("badArchAction")) {
    uint32_t bad;
    if (!GetUint32(desc, "badArchAction", &bad) || !IsKnownAction(bad)) return Throw(env, "seccompCompile: badArchAction is not a seccomp action value");
    if ((rc = lib.attr_set(c.ctx, SCMP_FLTATR_ACT_BADARCH, bad)) < 0) return Throw(env, "seccomp_attr_set(ACT_BADARCH)", -rc);
  }
  if (desc.Has("optimize")) {
    uint32_t level;
    if (!GetUint32(desc, "optimize", &level) || level < 1 || level > 2) return Throw(env, "seccompCompile: optimize must be 1 or 2");
    if ((rc = lib.attr_set(c.ctx, SCMP_FLTATR_CTL_OPTIMIZE, level)) < 0)
      return Throw(env, "seccomp_attr_set(CTL_OPTIMIZE) (libseccomp " + VersionString() + ")", -rc);
  }

  // Architectures first: libseccomp adds each rule to the arches the filter has at that time.
  Napi::Array unknown_arches = Napi::Array::New(env);
  std::vector<uint32_t> arches;
  Napi::Value arches_v = desc.Get("arches");
  if (arches_v.IsArray()) {
    Napi::Array arr = arches_v.As<Napi::Array>();
    for (uint32_t k = 0; k < arr.Length(); k++) {
      Napi::Value v = arr.Get(k);
      if (!v.IsString()) return Throw(env, "seccompCompile: arches must be strings");
      std::string name = v.As<Napi::String>().Utf8Value();
      uint32_t token = lib.arch_resolve_name(name.c_str());
      if (token == 0) {
        unknown_arches.Set(unknown_arches.Length(), Napi::String::New(env, name));
        continue;
      }
      rc = lib.arch_add(c.ctx, token);
      if (rc < 0 && rc != -EEXIST) return Throw(env, "seccomp_arch_add(" + name + ")", -rc);
      arches.push_back(token);
    }
  }

  // Dropping the native arch is only allowed once another one is in (a filter needs one).
  Napi::Value remove_native = desc.Get("removeNative");
  if (remove_native.IsBoolean() && remove_native.As<Napi::Boolean>().Value()) {
    uint32_t native = lib.arch_native();
    bool other = false;
    for (uint32_t token : arches) other = other || token != native;
    if (!other) return Throw(env, "seccompCompile: removeNative needs another architecture in arches");
    if ((rc = lib.arch_remove(c.ctx, SCMP_ARCH_NATIVE)) < 0) return Throw(env, "seccomp_arch_remove(native)", -rc);
    arches.erase(std::remove(arches.begin(), arches.end(), native), arches.end());
  }

  Napi::Array unknown_syscalls = Napi::Array::New(env);
  Napi::Value rules_v = desc.Get("rules");
  if (!rules_v.IsUndefined() && !rules_v.IsArray()) return Throw(env, "seccompCompile: rules must be an array");
  Napi::Array rules = rules_v.IsArray() ? rules_v.As<Napi::Array>() : Napi::Array::New(env);
  for (uint32_t r = 0; r < rules.Length(); r++) {
    Napi::Value rule_v = rules.Get(r);
    if (!rule_v.IsObject()) return Throw(env, "seccompCompile: rules[" + std::to_string(r) + "] is not an object");
    Napi::Object rule = rule_v.As<Napi::Object>();
    Napi::Value origin_v = rule.Get("origin");
    std::string origin = origin_v.IsString() ? origin_v.As<Napi::String>().Utf8Value() : "rules[" + std::to_string(r) + "]";

    uint32_t action;
    if (!GetUint32(rule, "action", &action) || !IsKnownAction(action)) return Throw(env, origin + ": action is not a seccomp action value");

    std::vector<struct scmp_arg_cmp> cmps;
    Napi::Value args_v = rule.Get("args");
    if (args_v.IsArray()) {
      Napi::Array args = args_v.As<Napi::Array>();
      for (uint32_t k = 0; k < args.Length(); k++) {
        std::string where = origin + ": args[" + std::to_string(k) + "]";
        Napi::Value a_v = args.Get(k);
        if (!a_v.IsObject()) return Throw(env, where + " is not an object");
        Napi::Object a = a_v.As<Napi::Object>();
        uint32_t index, op;
        if (!GetUint32(a, "index", &index) || index > 5) return Throw(env, where + ": index must be 0 to 5");
        if (!GetUint32(a, "op", &op) || op < SCMP_CMP_NE || op > SCMP_CMP_MASKED_EQ) return Throw(env, where + ": op is not a comparison operator");
        struct scmp_arg_cmp cmp;
        memset(&cmp, 0, sizeof cmp);
        cmp.arg = index;
        cmp.op = (enum scmp_compare)op;
        if (!ToDatum(a.Get("value"), &cmp.datum_a)) return Throw(env, where + ": value is not a uint64");
        if (!ToDatum(a.Get("valueTwo"), &cmp.datum_b)) return Throw(env, where + ": valueTwo is not a uint64");
        cmps.push_back(cmp);
      }
    }

    Napi::Value names_v = rule.Get("names");
    if (!names_v.IsArray()) return Throw(env, origin + ": names must be an array");
    Napi::Array names = names_v.As<Napi::Array>();
    for (uint32_t k = 0; k < names.Length(); k++) {
      Napi::Value n_v = names.Get(k);
      if (!n_v.IsString()) return Throw(env, origin + ": names must be strings");
      std::string name = n_v.As<Napi::String>().Utf8Value();
      // A name the native arch lacks but another has resolves to a negative pseudo-syscall
      // number, which libseccomp translates for each arch of the filter (and skips where none).
      int nr = name.empty() ? NR_SCMP_ERROR : lib.syscall_resolve_name(name.c_str());
      if (nr == NR_SCMP_ERROR) {
        unknown_syscalls.Set(unknown_syscalls.Length(), Napi::String::New(env, name));
        continue;
      }
      rc = lib.rule_add_array(c.ctx, action, nr, (unsigned int)cmps.size(), cmps.empty() ? nullptr : cmps.data());
      if (rc < 0) return Throw(env, origin + ": seccomp_rule_add(" + name + ") (libseccomp " + VersionString() + ")", -rc);
    }
  }

  std::vector<uint8_t> bpf;
  std::string what;
  int err = 0;
  if (!ExportBpf(c.ctx, &bpf, &what, &err)) return Throw(env, what, err);

  Napi::Object out = Napi::Object::New(env);
  out.Set("bpf", Napi::Buffer<uint8_t>::Copy(env, bpf.data(), bpf.size()));
  out.Set("unknownSyscalls", unknown_syscalls);
  out.Set("unknownArches", unknown_arches);
  return out;
}

// seccompNativeArch() -> "x86_64": libseccomp's name of the arch it runs on (hex token when
// it is not one of the common ones).
Napi::Value SeccompNativeArch(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (!LoadLib()) return Throw(env, lib.error);
  uint32_t token = lib.arch_native();
  static const struct { uint32_t token; const char *name; } known[] = {
    {SCMP_ARCH_X86_64, "x86_64"}, {SCMP_ARCH_X86, "x86"}, {SCMP_ARCH_X32, "x32"},
    {SCMP_ARCH_AARCH64, "aarch64"}, {SCMP_ARCH_ARM, "arm"},
  };
  for (const auto &k : known)
    if (k.token == token) return Napi::String::New(env, k.name);
  char hex[16];
  snprintf(hex, sizeof hex, "0x%08x", token);
  return Napi::String::New(env, hex);
}

}  // namespace

void RegisterSeccomp(Napi::Env env, Napi::Object exports) {
  exports.Set("seccompCompile", Napi::Function::New(env, SeccompCompile));
  exports.Set("seccompVersion", Napi::Function::New(env, SeccompVersion));
  exports.Set("seccompResolveSyscall", Napi::Function::New(env, SeccompResolveSyscall));
  exports.Set("seccompNativeArch", Napi::Function::New(env, SeccompNativeArch));
}
