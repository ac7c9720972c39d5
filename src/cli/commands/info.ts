// spec, check, features: commands about bundles and the runtime, not about a container.
import type { CommandModule } from "yargs";
import { RuntimeError } from "../../lifecycle/errors.js";
import { bool, exactArgs, str, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";
import { printOut } from "../output.js";

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
    printOut(result.output);
    process.exitCode = result.exitCode;
  },
};

export const featuresCommand: CommandModule<object, Args> = {
  command: "features",
  describe: "show the enabled features (runtime-spec features.md)",
  handler: async (argv) => {
    setupGlobals(argv, { needsRoot: false });
    exactArgs(argv, "features", 0);
    const { features } = await import("../features.js");
    printOut(JSON.stringify(features(), null, 4) + "\n");
  },
};
