#!/usr/bin/env node
// Runs tap on the given paths, shows its TAP output, and ends with `N passed, N failed, N skipped`
// counting every assertion (subtests flattened). Exit status is tap's.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Parser } from "tap-parser";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const tap = join(repo, "node_modules", ".bin", "tap");
const child = spawn(tap, ["--disable-coverage", "--allow-empty-coverage", "-R", "tap", "-t", "600", ...process.argv.slice(2)], {
  cwd: repo,
  stdio: ["ignore", "pipe", "inherit"],
});
const parser = new Parser({ flat: true });
let results;
parser.on("complete", (r) => (results = r));
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  parser.write(chunk);
});
child.on("close", (code) => {
  parser.end();
  const r = results ?? { pass: 0, fail: 1, skip: 0, todo: 0 };
  process.stdout.write(`${r.pass} passed, ${r.fail} failed, ${(r.skip ?? 0) + (r.todo ?? 0)} skipped\n`);
  process.exit(code ?? 1);
});
