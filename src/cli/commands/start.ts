import type { CommandModule } from "yargs";
import { exactArgs, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";

export const startCommand: CommandModule<object, Args> = {
  command: "start",
  describe: "executes the user defined process in a created container",
  handler: async (argv) => {
    setupGlobals(argv);
    const [id] = exactArgs(argv, "start", 1);
    const { startContainer } = await import("../../lifecycle/start.js");
    startContainer(argv.root, id);
  },
};
