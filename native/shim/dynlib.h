// A function of a library the addon loads at run time with dlopen (libseccomp, libsystemd): building
// needs no -dev package, and a host without the library fails only the calls that need it.
#pragma once

#include <dlfcn.h>

#include <string>

// Resolves `name` in `handle` into *out; false with *error naming the library and the symbol.
template <typename T>
bool ResolveSymbol(void *handle, const char *library, const char *name, T *out, std::string *error) {
  dlerror();
  void *sym = dlsym(handle, name);
  if (!sym) {
    const char *e = dlerror();
    *error = std::string(library) + " lacks " + name + (e ? std::string(": ") + e : "");
    return false;
  }
  *out = reinterpret_cast<T>(sym);
  return true;
}
