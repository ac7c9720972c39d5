// D-Bus method calls and signals through systemd's sd-bus, for the systemd cgroup driver.
//
// libsystemd.so.0 is opened with dlopen at first use, as libseccomp is: building needs no
// libsystemd-dev, and a host without it only fails when --systemd-cgroup is given. The few
// sd_bus_* prototypes we need are declared here from sd-bus's documented, stable ABI.
//
// This file only marshals: every decision (which unit, which properties, what an error means)
// is made in src/cgroups/systemd.ts. Values cross as JS values walked along a D-Bus signature:
//   basic types  <-> number | bigint (x, t) | boolean | string
//   a...         <-> array (a{..}: array of [key, value] pairs)
//   (...)        <-> array of the members
//   v            <-> [signature, value] when sent; the value alone when received
//
//   sdbusCall(user, dest, path, iface, member, signature, args, timeoutUsec) -> reply values
//       throws Error with .dbusName (e.g. "org.freedesktop.systemd1.UnitExists") on a D-Bus error
//   sdbusAddMatch(user, rule)                    queue the signals matching rule
//   sdbusNextSignal(user, timeoutUsec) -> { member, path, args } | null (timeout)
#include <napi.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <deque>
#include <string>

#include "errors.h"

#include "dynlib.h"

namespace {

// ---- the parts of <systemd/sd-bus.h> we use

typedef struct sd_bus sd_bus;
typedef struct sd_bus_message sd_bus_message;
typedef struct sd_bus_slot sd_bus_slot;
struct sd_bus_error {
  const char *name;
  const char *message;
  int _need_free;
};
typedef int (*sd_bus_message_handler_t)(sd_bus_message *m, void *userdata, sd_bus_error *ret_error);

struct Lib {
  void *handle = nullptr;
  std::string error;
  int (*open_system)(sd_bus **);
  int (*open_user)(sd_bus **);
  sd_bus *(*flush_close_unref)(sd_bus *);
  int (*new_method_call)(sd_bus *, sd_bus_message **, const char *, const char *, const char *, const char *);
  int (*call)(sd_bus *, sd_bus_message *, uint64_t, sd_bus_error *, sd_bus_message **);
  sd_bus_message *(*message_ref)(sd_bus_message *);
  sd_bus_message *(*message_unref)(sd_bus_message *);
  int (*append_basic)(sd_bus_message *, char, const void *);
  int (*open_container)(sd_bus_message *, char, const char *);
  int (*close_container)(sd_bus_message *);
  int (*peek_type)(sd_bus_message *, char *, const char **);
  int (*read_basic)(sd_bus_message *, char, void *);
  int (*enter_container)(sd_bus_message *, char, const char *);
  int (*exit_container)(sd_bus_message *);
  int (*rewind)(sd_bus_message *, int);
  const char *(*get_member)(sd_bus_message *);
  const char *(*get_path)(sd_bus_message *);
  int (*add_match)(sd_bus *, sd_bus_slot **, const char *, sd_bus_message_handler_t, void *);
  int (*process)(sd_bus *, sd_bus_message **);
  int (*wait)(sd_bus *, uint64_t);
  void (*error_free)(sd_bus_error *);
};

Lib lib;

template <typename T>
bool Resolve(void *handle, const char *name, T *out, std::string *error) {
  return ResolveSymbol(handle, "libsystemd.so.0", name, out, error);
}

bool LoadLib() {
  if (lib.handle) return true;
  if (!lib.error.empty()) return false;
  void *h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *e = dlerror();
    lib.error = std::string("cannot load libsystemd.so.0 (systemd's library, present wherever systemd runs): ") + (e ? e : "unknown error");
    return false;
  }
  std::string err;
  bool ok = Resolve(h, "sd_bus_open_system", &lib.open_system, &err) &&
            Resolve(h, "sd_bus_open_user", &lib.open_user, &err) &&
            Resolve(h, "sd_bus_flush_close_unref", &lib.flush_close_unref, &err) &&
            Resolve(h, "sd_bus_message_new_method_call", &lib.new_method_call, &err) &&
            Resolve(h, "sd_bus_call", &lib.call, &err) &&
            Resolve(h, "sd_bus_message_ref", &lib.message_ref, &err) &&
            Resolve(h, "sd_bus_message_unref", &lib.message_unref, &err) &&
            Resolve(h, "sd_bus_message_append_basic", &lib.append_basic, &err) &&
            Resolve(h, "sd_bus_message_open_container", &lib.open_container, &err) &&
            Resolve(h, "sd_bus_message_close_container", &lib.close_container, &err) &&
            Resolve(h, "sd_bus_message_peek_type", &lib.peek_type, &err) &&
            Resolve(h, "sd_bus_message_read_basic", &lib.read_basic, &err) &&
            Resolve(h, "sd_bus_message_enter_container", &lib.enter_container, &err) &&
            Resolve(h, "sd_bus_message_exit_container", &lib.exit_container, &err) &&
            Resolve(h, "sd_bus_message_rewind", &lib.rewind, &err) &&
            Resolve(h, "sd_bus_message_get_member", &lib.get_member, &err) &&
            Resolve(h, "sd_bus_message_get_path", &lib.get_path, &err) &&
            Resolve(h, "sd_bus_add_match", &lib.add_match, &err) &&
            Resolve(h, "sd_bus_process", &lib.process, &err) &&
            Resolve(h, "sd_bus_wait", &lib.wait, &err) &&
            Resolve(h, "sd_bus_error_free", &lib.error_free, &err);
  if (!ok) {
    dlclose(h);
    lib.error = err;
    return false;
  }
  lib.handle = h;
  return true;
}

// One connection per bus (system, user), opened at first use and kept for the process's life.
struct Conn {
  sd_bus *bus = nullptr;
  std::deque<sd_bus_message *> signals;
};
Conn conns[2];

int OnSignal(sd_bus_message *m, void *userdata, sd_bus_error *) {
  static_cast<Conn *>(userdata)->signals.push_back(lib.message_ref(m));
  return 0;
}

Conn *Connect(Napi::Env env, bool user) {
  if (!LoadLib()) {
    Napi::Error::New(env, lib.error).ThrowAsJavaScriptException();
    return nullptr;
  }
  Conn *c = &conns[user ? 1 : 0];
  if (c->bus) return c;
  int r = user ? lib.open_user(&c->bus) : lib.open_system(&c->bus);
  if (r < 0) {
    c->bus = nullptr;
    ThrowErrno(env, -r, user ? "cannot connect to the user's D-Bus session bus" : "cannot connect to the D-Bus system bus");
    return nullptr;
  }
  return c;
}

// Length of the complete type at the start of sig (0 when sig is empty or malformed).
size_t CompleteType(const char *sig) {
  switch (sig[0]) {
    case 0:
      return 0;
    case 'a': {
      size_t n = CompleteType(sig + 1);
      return n ? n + 1 : 0;
    }
    case '(':
    case '{': {
      char close = sig[0] == '(' ? ')' : '}';
      size_t i = 1;
      while (sig[i] && sig[i] != close) {
        size_t n = CompleteType(sig + i);
        if (!n) return 0;
        i += n;
      }
      return sig[i] == close ? i + 1 : 0;
    }
    default:
      return strchr("ybnqiuxtdsoghv", sig[0]) ? 1 : 0;
  }
}

std::string Fail(const std::string &what, int r) { return what + ": " + strerror(r < 0 ? -r : r); }

// Appends value (of the single complete type `type`) to m; an error text on failure.
bool Append(sd_bus_message *m, const std::string &type, Napi::Value v, std::string *err) {
  char t = type[0];
  int r = 0;
  switch (t) {
    case 'a': {
      if (!v.IsArray()) return *err = "expected an array for " + type, false;
      std::string elem = type.substr(1);
      r = lib.open_container(m, 'a', elem.c_str());
      if (r < 0) return *err = Fail("open array " + type, r), false;
      Napi::Array a = v.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++)
        if (!Append(m, elem, a.Get(i), err)) return false;
      r = lib.close_container(m);
      break;
    }
    case '(':
    case '{': {
      if (!v.IsArray()) return *err = "expected an array for " + type, false;
      std::string inner = type.substr(1, type.size() - 2);
      r = lib.open_container(m, t == '(' ? 'r' : 'e', inner.c_str());
      if (r < 0) return *err = Fail("open " + type, r), false;
      Napi::Array a = v.As<Napi::Array>();
      uint32_t i = 0;
      for (size_t at = 0; at < inner.size(); i++) {
        size_t n = CompleteType(inner.c_str() + at);
        if (!n) return *err = "bad signature " + type, false;
        if (!Append(m, inner.substr(at, n), a.Get(i), err)) return false;
        at += n;
      }
      r = lib.close_container(m);
      break;
    }
    case 'v': {
      if (!v.IsArray() || v.As<Napi::Array>().Length() != 2) return *err = "expected [signature, value] for a variant", false;
      Napi::Array a = v.As<Napi::Array>();
      std::string sig = a.Get(0u).ToString().Utf8Value();
      if (CompleteType(sig.c_str()) != sig.size()) return *err = "bad variant signature " + sig, false;
      r = lib.open_container(m, 'v', sig.c_str());
      if (r < 0) return *err = Fail("open variant " + sig, r), false;
      if (!Append(m, sig, a.Get(1), err)) return false;
      r = lib.close_container(m);
      break;
    }
    case 's':
    case 'o':
    case 'g': {
      std::string s = v.ToString().Utf8Value();
      r = lib.append_basic(m, t, s.c_str());
      break;
    }
    case 'b': {
      int b = v.ToBoolean().Value() ? 1 : 0;
      r = lib.append_basic(m, t, &b);
      break;
    }
    case 'y': {
      uint8_t x = (uint8_t)v.ToNumber().Uint32Value();
      r = lib.append_basic(m, t, &x);
      break;
    }
    case 'n':
    case 'q': {
      uint16_t x = (uint16_t)v.ToNumber().Int32Value();
      r = lib.append_basic(m, t, &x);
      break;
    }
    case 'i':
    case 'u': {
      uint32_t x = t == 'i' ? (uint32_t)v.ToNumber().Int32Value() : v.ToNumber().Uint32Value();
      r = lib.append_basic(m, t, &x);
      break;
    }
    case 'x':
    case 't': {
      uint64_t x;
      bool lossless;
      if (v.IsBigInt()) x = t == 'x' ? (uint64_t)v.As<Napi::BigInt>().Int64Value(&lossless) : v.As<Napi::BigInt>().Uint64Value(&lossless);
      else x = (uint64_t)v.ToNumber().Int64Value();
      r = lib.append_basic(m, t, &x);
      break;
    }
    case 'd': {
      double x = v.ToNumber().DoubleValue();
      r = lib.append_basic(m, t, &x);
      break;
    }
    default:
      return *err = "unsupported D-Bus type " + type, false;
  }
  if (r < 0) return *err = Fail("append " + type, r), false;
  return true;
}

// Reads the next value of m (any type) as a JS value; undefined at the end of the container.
Napi::Value Read(Napi::Env env, sd_bus_message *m, std::string *err) {
  char t;
  const char *contents;
  int r = lib.peek_type(m, &t, &contents);
  if (r < 0) return *err = Fail("peek", r), env.Undefined();
  if (r == 0) return env.Undefined();
  if (t == 'a' || t == 'r' || t == 'e' || t == 'v') {
    std::string inner = contents ? contents : "";
    r = lib.enter_container(m, t, inner.c_str());
    if (r < 0) return *err = Fail("enter container", r), env.Undefined();
    Napi::Value out;
    if (t == 'v') {
      out = Read(env, m, err);
    } else {
      Napi::Array a = Napi::Array::New(env);
      for (uint32_t i = 0;; i++) {
        char nt;
        const char *nc;
        r = lib.peek_type(m, &nt, &nc);
        if (r < 0) return *err = Fail("peek", r), env.Undefined();
        if (r == 0) break;
        Napi::Value e = Read(env, m, err);
        if (!err->empty()) return env.Undefined();
        a.Set(i, e);
      }
      out = a;
    }
    if (!err->empty()) return env.Undefined();
    r = lib.exit_container(m);
    if (r < 0) return *err = Fail("exit container", r), env.Undefined();
    return out;
  }
  union {
    uint8_t y;
    int b;
    int16_t n;
    uint16_t q;
    int32_t i;
    uint32_t u;
    int64_t x;
    uint64_t tt;
    double d;
    const char *s;
  } v;
  r = lib.read_basic(m, t, &v);
  if (r < 0) return *err = Fail(std::string("read ") + t, r), env.Undefined();
  switch (t) {
    case 'y': return Napi::Number::New(env, v.y);
    case 'b': return Napi::Boolean::New(env, v.b != 0);
    case 'n': return Napi::Number::New(env, v.n);
    case 'q': return Napi::Number::New(env, v.q);
    case 'i': return Napi::Number::New(env, v.i);
    case 'u': return Napi::Number::New(env, v.u);
    case 'h': return Napi::Number::New(env, v.i);
    case 'x': return Napi::BigInt::New(env, v.x);
    case 't': return Napi::BigInt::New(env, v.tt);
    case 'd': return Napi::Number::New(env, v.d);
    case 's':
    case 'o':
    case 'g': return Napi::String::New(env, v.s ? v.s : "");
    default: return *err = std::string("unsupported D-Bus type ") + t, env.Undefined();
  }
}

Napi::Value ReadAll(Napi::Env env, sd_bus_message *m, std::string *err) {
  Napi::Array out = Napi::Array::New(env);
  for (uint32_t i = 0;; i++) {
    char t;
    const char *c;
    int r = lib.peek_type(m, &t, &c);
    if (r < 0) return *err = Fail("peek", r), env.Undefined();
    if (r == 0) break;
    Napi::Value v = Read(env, m, err);
    if (!err->empty()) return env.Undefined();
    out.Set(i, v);
  }
  return out;
}

Napi::Value SdbusCall(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Conn *c = Connect(env, info[0].ToBoolean().Value());
  if (!c) return env.Undefined();
  std::string dest = info[1].ToString(), path = info[2].ToString(), iface = info[3].ToString(), member = info[4].ToString();
  std::string sig = info[5].ToString();
  Napi::Array args = info[6].As<Napi::Array>();
  uint64_t timeout = (uint64_t)info[7].ToNumber().Int64Value();
  sd_bus_message *m = nullptr, *reply = nullptr;
  int r = lib.new_method_call(c->bus, &m, dest.c_str(), path.c_str(), iface.c_str(), member.c_str());
  if (r < 0) return ThrowErrno(env, -r, "sd_bus_message_new_method_call " + member);
  std::string err;
  uint32_t i = 0;
  for (size_t at = 0; at < sig.size(); i++) {
    size_t n = CompleteType(sig.c_str() + at);
    if (!n) {
      err = "bad signature " + sig;
      break;
    }
    if (!Append(m, sig.substr(at, n), args.Get(i), &err)) break;
    at += n;
  }
  if (!err.empty()) {
    lib.message_unref(m);
    Napi::Error::New(env, member + ": " + err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  sd_bus_error e = {nullptr, nullptr, 0};
  r = lib.call(c->bus, m, timeout, &e, &reply);
  lib.message_unref(m);
  if (r < 0) {
    std::string text = e.message ? e.message : strerror(-r);
    Napi::Error je = Napi::Error::New(env, text);
    if (e.name) je.Set("dbusName", Napi::String::New(env, e.name));
    je.Set("errno", Napi::Number::New(env, -r));
    lib.error_free(&e);
    je.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Value out = ReadAll(env, reply, &err);
  lib.message_unref(reply);
  if (!err.empty()) {
    Napi::Error::New(env, member + " reply: " + err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return out;
}

Napi::Value SdbusAddMatch(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Conn *c = Connect(env, info[0].ToBoolean().Value());
  if (!c) return env.Undefined();
  std::string rule = info[1].ToString();
  // the slot is floating (NULL): the match lives as long as the connection
  int r = lib.add_match(c->bus, nullptr, rule.c_str(), OnSignal, c);
  if (r < 0) return ThrowErrno(env, -r, "sd_bus_add_match " + rule);
  return env.Undefined();
}

Napi::Value SdbusNextSignal(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Conn *c = Connect(env, info[0].ToBoolean().Value());
  if (!c) return env.Undefined();
  int64_t timeout = info[1].ToNumber().Int64Value();
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t deadline = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000 + timeout;
  while (c->signals.empty()) {
    int r = lib.process(c->bus, nullptr);
    if (r < 0) return ThrowErrno(env, -r, "sd_bus_process");
    if (r > 0) continue;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t left = deadline - ((int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000);
    if (left <= 0) return env.Null();
    r = lib.wait(c->bus, (uint64_t)left);
    if (r < 0 && r != -EINTR) return ThrowErrno(env, -r, "sd_bus_wait");
  }
  sd_bus_message *m = c->signals.front();
  c->signals.pop_front();
  Napi::Object out = Napi::Object::New(env);
  const char *member = lib.get_member(m), *path = lib.get_path(m);
  out.Set("member", Napi::String::New(env, member ? member : ""));
  out.Set("path", Napi::String::New(env, path ? path : ""));
  std::string err;
  lib.rewind(m, 1);
  Napi::Value args = ReadAll(env, m, &err);
  lib.message_unref(m);
  if (!err.empty()) {
    Napi::Error::New(env, "signal " + std::string(member ? member : "") + ": " + err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  out.Set("args", args);
  return out;
}

}  // namespace

void RegisterSdbus(Napi::Env env, Napi::Object exports) {
  exports.Set("sdbusCall", Napi::Function::New(env, SdbusCall));
  exports.Set("sdbusAddMatch", Napi::Function::New(env, SdbusAddMatch));
  exports.Set("sdbusNextSignal", Napi::Function::New(env, SdbusNextSignal));
}
