// Entry point of dist/tsrun and dist/cli.js. `--version` is answered here, before the command
// modules are loaded (engines ask for it on every start-up); everything else goes to main.
import { wantsVersion } from "./cli/fast.js";
import { printOut } from "./cli/output.js";
import { VERSION_TEXT } from "./cli/version.js";

const args = process.argv.slice(2);
if (args.length > 0 && wantsVersion(args)) {
  printOut(VERSION_TEXT);
  process.exit(0);
}
import("./cli/main.js")
  .then(({ main }) => main(args))
  .then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(String(e?.stack ?? e) + "\n");
      process.exit(1);
    },
  );
