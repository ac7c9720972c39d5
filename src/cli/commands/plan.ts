import { isAbsolute, resolve } from "node:path";
import type { CommandModule } from "yargs";
import { exactArgs, str, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";

export const planCommand: CommandModule<object, Args> = {
  command: "plan",
  describe: "print the init program a bundle compiles to, one op a line with its origin (changes nothing)",
  builder: (y) => y.options({ bundle: { alias: "b", type: "string", default: ".", describe: "path to the root of the bundle directory" } }) as never,
  handler: async (argv) => {
    setupGlobals(argv, { needsRoot: false });
    exactArgs(argv, "plan", 0);
    const { statKind } = await import("../../lifecycle/create.js");
    const { compile, createsNamespace } = await import("../../plan/compile.js");
    const { currentCredentials, planIdMaps } = await import("../../lifecycle/idmap.js");
    const { formatProgram } = await import("../../plan/format.js");
    const { loadBundleConfig } = await import("../../spec/load.js");
    const bundle = resolve(str(argv.bundle) ?? ".");
    const { spec } = loadBundleConfig(bundle);
    const rootPath = spec.root?.path ?? "rootfs";
    const rootfs = isAbsolute(rootPath) ? rootPath : resolve(bundle, rootPath);
    const setgroupsDenied = createsNamespace(spec, "user") && planIdMaps(spec, currentCredentials()).denySetgroups;
    const program = compile(spec, { bundle, rootfs, fifoPath: "<root>/<id>/exec.fifo", setgroupsDenied }, { statKind });
    process.stdout.write(formatProgram(program));
  },
};
