import type { CommandModule } from "yargs";
import { exactArgs, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";
import { printOut } from "../output.js";

export const stateCommand: CommandModule<object, Args> = {
  command: "state",
  describe: "output the state of a container",
  handler: async (argv) => {
    setupGlobals(argv);
    const [id] = exactArgs(argv, "state", 1);
    const { loadContainer, specState } = await import("../../lifecycle/container.js");
    // runc prints two-space indented JSON without a trailing newline
    printOut(JSON.stringify(specState(loadContainer(argv.root, id)), null, 2));
  },
};
