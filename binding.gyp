{
  "targets": [
    {
      "target_name": "tsrun",
      "sources": ["native/shim/shim.cc", "native/shim/seccomp.cc", "native/shim/bpf.cc", "native/shim/idmap.cc", "native/shim/notify.cc", "native/shim/sdbus.cc"],
      "include_dirs": ["<!@(node -p \"require('node-addon-api').include\")"],
      "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS", "NAPI_VERSION=8", "_GNU_SOURCE"],
      "cflags_cc": ["-O2", "-Wa,-I<(module_root_dir)/native/out"],
      "cflags_cc!": ["-fno-exceptions"]
    }
  ]
}
