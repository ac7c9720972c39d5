import type { CommandModule } from "yargs";
import { RuntimeError } from "../../lifecycle/errors.js";
import { exactArgs, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";
import { printOut } from "../output.js";

export const completionCommand: CommandModule<object, Args> = {
  command: "completion",
  describe: "print a shell completion script: completion bash|zsh|fish",
  handler: async (argv) => {
    setupGlobals(argv, { needsRoot: false });
    const [shell] = exactArgs(argv, "completion", 1);
    const { SHELLS, completion } = await import("../docs.js");
    if (!(SHELLS as readonly string[]).includes(shell)) throw new RuntimeError(`completion: unknown shell ${JSON.stringify(shell)} (one of ${SHELLS.join(", ")})`);
    printOut(completion(shell as (typeof SHELLS)[number]));
  },
};
