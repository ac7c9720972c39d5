import type { CommandModule } from "yargs";
import { parseSignal } from "../../lifecycle/signals.js";
import { bool, rangeArgs, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";

export const killCommand: CommandModule<object, Args> = {
  command: "kill",
  describe: "kill sends the specified signal (default: SIGTERM) to the container's init process",
  builder: (y) => y.options({ all: { alias: "a", type: "boolean", describe: "send the specified signal to all processes inside the container" } }) as never,
  handler: async (argv) => {
    setupGlobals(argv);
    const [id, sig] = rangeArgs(argv, "kill", 1, 2);
    const { killContainer } = await import("../../lifecycle/kill.js");
    killContainer(argv.root, id, parseSignal(sig ?? "SIGTERM"), bool(argv.all));
  },
};
