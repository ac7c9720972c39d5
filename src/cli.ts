// Entry point of dist/tsrun and dist/cli.js.
import { main } from "./cli/main.js";

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(String(e?.stack ?? e) + "\n");
    process.exit(1);
  },
);
