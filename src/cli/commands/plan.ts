import { isAbsolute, resolve } from "node:path";
import type { CommandModule } from "yargs";
import type { Program } from "../../plan/ops.js";
import { exactArgs, str, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";
import { printOut } from "../output.js";

/** The init program a bundle compiles to, changing nothing (`tsrun plan`, and the library's plan). */
export async function planBundle(bundleDir: string): Promise<Program> {
  const { statKind } = await import("../../lifecycle/create.js");
  const { compile, createsNamespace } = await import("../../plan/compile.js");
  const { currentCredentials, planIdMaps } = await import("../../lifecycle/idmap.js");
  const { loadBundleConfig } = await import("../../spec/load.js");
  const bundle = resolve(bundleDir);
  const { spec } = loadBundleConfig(bundle);
  const rootPath = spec.root?.path ?? "rootfs";
  const rootfs = isAbsolute(rootPath) ? rootPath : resolve(bundle, rootPath);
  const setgroupsDenied = createsNamespace(spec, "user") && planIdMaps(spec, currentCredentials()).denySetgroups;
  return compile(spec, { bundle, rootfs, fifoPath: "<root>/<id>/exec.fifo", setgroupsDenied }, { statKind });
}

export const planCommand: CommandModule<object, Args> = {
  command: "plan",
  describe: "print the init program a bundle compiles to, one op a line with its origin (changes nothing)",
  builder: (y) => y.options({ bundle: { alias: "b", type: "string", default: ".", describe: "path to the root of the bundle directory" } }) as never,
  handler: async (argv) => {
    setupGlobals(argv, { needsRoot: false });
    exactArgs(argv, "plan", 0);
    const { formatProgram } = await import("../../plan/format.js");
    printOut(formatProgram(await planBundle(str(argv.bundle) ?? ".")));
  },
};
