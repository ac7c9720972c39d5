import { validateConfig, parseJson } from "../src/spec/load.js";
import { readFileSync } from "node:fs";
const f = process.argv[2];
try {
  const doc = parseJson(readFileSync(f, "utf8"), f);
  for (const p of validateConfig(doc, f)) console.log(p.severity, p.pointer, p.message);
} catch (e) { console.log(String(e)); }
