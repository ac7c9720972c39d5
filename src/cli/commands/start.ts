import type { CommandModule } from "yargs";
import { startContainer } from "../../lifecycle/start.js";
import { exactArgs, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";

export const startCommand: CommandModule<object, Args> = {
  command: "start",
  describe: "executes the user defined process in a created container",
  handler: (argv) => {
    setupGlobals(argv);
    const [id] = exactArgs(argv, "start", 1);
    startContainer(argv.root, id);
  },
};
