import type { CommandModule } from "yargs";
import { bool, exactArgs, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";

export const deleteCommand: CommandModule<object, Args> = {
  command: "delete",
  describe: "delete any resources held by the container often used with detached container",
  builder: (y) => y.options({ force: { alias: "f", type: "boolean", describe: "forcibly deletes the container if it is still running (uses SIGKILL)" } }) as never,
  handler: async (argv) => {
    setupGlobals(argv);
    const [id] = exactArgs(argv, "delete", 1);
    const { deleteContainer } = await import("../../lifecycle/delete.js");
    deleteContainer(argv.root, id, bool(argv.force));
  },
};
