// spec, check, features: commands about bundles and the runtime, not about a container.
import type { CommandModule } from "yargs";
import { RuntimeError } from "../../lifecycle/errors.js";
import { CAPABILITIES } from "../../plan/constants.js";
import { knownMountOptions } from "../../plan/mount-options.js";
import { SCMP_CMP, SECCOMP_ARCHES, SPEC_SECCOMP_FLAGS } from "../../plan/seccomp.js";
import { SECCOMP_ACTION_KERNEL_NAMES } from "../../spec/constants.js";
import { bool, exactArgs, str, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";
import { RUNC_COMPAT_VERSION, SPEC_VERSION, TSRUN_VERSION } from "../version.js";

const bundleOption = { bundle: { alias: "b", type: "string", default: ".", describe: "path to the root of the bundle directory" } } as const;

export const specCommand: CommandModule<object, Args> = {
  command: "spec",
  describe: "create a new specification file (config.json), the same runc writes",
  // the command line says --rootless; main.ts renames it (the global --rootless is another flag)
  builder: (y) =>
    y
      .usage("tsrun spec [--bundle|-b dir] [--rootless]")
      .epilog("--rootless (after spec): generate a configuration for a rootless container")
      .options({ ...bundleOption, "spec-rootless": { type: "boolean", hidden: true } }) as never,
  handler: async (argv) => {
    setupGlobals(argv, { needsRoot: false });
    exactArgs(argv, "spec", 0);
    const { SpecExistsError, writeDefaultSpec } = await import("../../spec/default.js");
    try {
      writeDefaultSpec(str(argv.bundle) ?? ".", bool(argv["spec-rootless"]));
    } catch (e) {
      if (e instanceof SpecExistsError) throw new RuntimeError(e.message);
      throw new RuntimeError((e as Error).message);
    }
  },
};

export const checkCommand: CommandModule<object, Args> = {
  command: "check",
  describe: "validate a bundle and check this host can run it, without running it",
  builder: (y) => y.options({ ...bundleOption, format: { alias: "f", type: "string", default: "text", describe: "text or json" } }) as never,
  handler: async (argv) => {
    setupGlobals(argv, { needsRoot: false });
    exactArgs(argv, "check", 0);
    const { runCheck } = await import("../../spec/check.js");
    const format = str(argv.format) ?? "text";
    if (format !== "text" && format !== "json") throw new RuntimeError("invalid format option");
    const result = runCheck(str(argv.bundle) ?? ".", format, { systemdCgroup: argv["systemd-cgroup"] });
    process.stdout.write(result.output);
    process.exitCode = result.exitCode;
  },
};

export const featuresCommand: CommandModule<object, Args> = {
  command: "features",
  describe: "show the enabled features (runtime-spec features.md)",
  handler: (argv) => {
    setupGlobals(argv, { needsRoot: false });
    exactArgs(argv, "features", 0);
    process.stdout.write(JSON.stringify(features(), null, 4) + "\n");
  },
};

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
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: true },
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
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: {
      "org.opencontainers.runc.version": RUNC_COMPAT_VERSION,
      "org.opencontainers.runc.checkpoint.enabled": "true",
      "io.github.tsrun.version": TSRUN_VERSION,
    },
    potentiallyUnsafeConfigAnnotations: ["bundle", "org.systemd.property.", "org.criu.config"],
  };
}
