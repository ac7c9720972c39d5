import { existsSync } from "node:fs";
import type { CommandModule } from "yargs";
import { RuntimeError } from "../../lifecycle/errors.js";
import { bool, exactArgs, str, type Args } from "../args.js";
import { logError } from "../log.js";
import { setupGlobals } from "../globals.js";
import { printOut } from "../output.js";

export const listCommand: CommandModule<object, Args> = {
  command: "list",
  describe: "lists containers started by tsrun with the given root",
  builder: (y) =>
    y.options({
      format: { alias: "f", type: "string", default: "table", describe: "select one of: table or json" },
      quiet: { alias: "q", type: "boolean", describe: "display only container IDs" },
    }) as never,
  handler: async (argv) => {
    setupGlobals(argv);
    exactArgs(argv, "list", 0);
    const { listContainers, tabulate } = await import("../../lifecycle/list.js");
    const format = str(argv.format) ?? "table";
    if (format !== "table" && format !== "json") throw new RuntimeError(`invalid format option`);
    const explicitRoot = process.argv.some((a) => /^--?root(=|$)/.test(a));
    if (explicitRoot && !existsSync(argv.root)) throw new RuntimeError(`stat ${argv.root}: no such file or directory`);
    const states = listContainers(argv.root, (id, e) => logError(`${id}: ${e.message}`));
    if (bool(argv.quiet)) {
      printOut(states.map((s) => s.id + "\n").join(""));
    } else if (format === "json") {
      printOut((states.length ? JSON.stringify(states) : "null") + "\n");
    } else {
      const rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]];
      for (const s of states) rows.push([s.id, String(s.pid), s.status, s.bundle, s.created, s.owner]);
      printOut(tabulate(rows));
    }
  },
};
