import type { CommandModule } from "yargs";
import { loadContainer, specState } from "../../lifecycle/container.js";
import { exactArgs, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";

export const stateCommand: CommandModule<object, Args> = {
  command: "state",
  describe: "output the state of a container",
  handler: (argv) => {
    setupGlobals(argv);
    const [id] = exactArgs(argv, "state", 1);
    // runc prints two-space indented JSON without a trailing newline
    process.stdout.write(JSON.stringify(specState(loadContainer(argv.root, id)), null, 2));
  },
};
