import type { CommandModule } from "yargs";
import { bool, exactArgs, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";
import { createArgs, createOptions } from "./create.js";

export const runCommand: CommandModule<object, Args> = {
  command: "run",
  describe: "create and run a container",
  builder: (y) =>
    y.options({
      ...createOptions,
      detach: { alias: "d", type: "boolean", describe: "detach from the container's process" },
      keep: { type: "boolean", describe: "do not delete the container after it exits" },
      "no-subreaper": { type: "boolean", describe: "disable the use of the subreaper used to reap reparented processes" },
    }) as never,
  handler: async (argv) => {
    setupGlobals(argv);
    const [id] = exactArgs(argv, "run", 1);
    const { runContainer } = await import("../../lifecycle/run.js");
    process.exitCode = await runContainer({ ...createArgs(argv), id, detach: bool(argv.detach), keep: bool(argv.keep) });
  },
};
