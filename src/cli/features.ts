// `tsrun features`: what tsrun supports, in the runtime-spec's features.md shape. Loaded only by
// that command: its tables would cost every other call start-up time.
import { CAPABILITIES } from "../plan/constants.js";
import { knownMountOptions } from "../plan/mount-options.js";
import { SCMP_CMP, SECCOMP_ARCHES, SPEC_SECCOMP_FLAGS } from "../plan/seccomp.js";
import { SECCOMP_ACTION_KERNEL_NAMES } from "../spec/constants.js";
import { RUNC_COMPAT_VERSION, SPEC_VERSION, TSRUN_VERSION } from "./version.js";

/** What tsrun supports, in the runtime-spec's features.md shape (honest: only what works). */
export function features() {
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: SPEC_VERSION,
    hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
    mountOptions: knownMountOptions(),
    linux: {
      namespaces: ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
      capabilities: [...CAPABILITIES],
      cgroup: { v1: true, v2: true, systemd: true, systemdUser: true, rdma: true }, // systemdUser: proven by test/vm/systemd-user.test.sh
      seccomp: {
        enabled: true,
        actions: Object.keys(SECCOMP_ACTION_KERNEL_NAMES).sort(),
        operators: Object.keys(SCMP_CMP).sort(),
        archs: Object.keys(SECCOMP_ARCHES).sort(),
        knownFlags: Object.keys(SPEC_SECCOMP_FLAGS),
        supportedFlags: Object.keys(SPEC_SECCOMP_FLAGS),
      },
      apparmor: { enabled: true },
      selinux: { enabled: true },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: true } },
    },
    annotations: {
      "org.opencontainers.runc.version": RUNC_COMPAT_VERSION,
      "org.opencontainers.runc.checkpoint.enabled": "true",
      "io.github.tsrun.version": TSRUN_VERSION,
    },
    potentiallyUnsafeConfigAnnotations: ["bundle", "org.systemd.property.", "org.criu.config"],
  };
}
