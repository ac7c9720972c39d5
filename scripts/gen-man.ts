// Writes man/tsrun.1 from the parser's command table (src/cli/docs.ts). Run by the build (with Bun).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { manPage } from "../src/cli/docs.js";

const out = join(dirname(fileURLToPath(import.meta.url)), "../man/tsrun.1");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, manPage());
