// Errors of the addon: a JS Error with the errno number and name, thrown from a N-API call.
#ifndef TSRUN_SHIM_ERRORS_H
#define TSRUN_SHIM_ERRORS_H

#include <napi.h>
#include <string.h>

#include <string>

inline Napi::Value ThrowErrno(Napi::Env env, int err, const std::string &what) {
  Napi::Error e = Napi::Error::New(env, what + ": " + strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  const char *name = strerrorname_np(err);
  e.Set("code", Napi::String::New(env, name ? name : "EUNKNOWN"));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

#endif
