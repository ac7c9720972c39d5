#!/usr/bin/env node
// Runs tap on the given paths, shows its TAP output, and ends with `N passed, N failed, N skipped`
// from tap's own count of every assertion (todo counts as skipped). Exit status is tap's.
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const tap = join(repo, "node_modules", ".bin", "tap");
const child = spawn(tap, ["--disable-coverage", "--allow-empty-coverage", "-R", "tap", "-t", "900", ...process.argv.slice(2)], {
  cwd: repo,
  stdio: ["ignore", "pipe", "inherit"],
});
let tail = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  tail = (tail + chunk.toString()).slice(-4096);
});
child.on("close", (code) => {
  // tap ends with a line like: # { total: 821, pass: 818, fail: 2, skip: 1 }
  const m = [...tail.matchAll(/^# \{ total: \d+(.*)\}$/gm)].at(-1);
  const count = (key) => Number(new RegExp(`\\b${key}: (\\d+)`).exec(m?.[1] ?? "")?.[1] ?? 0);
  const failed = m ? count("fail") : 1;
  process.stdout.write(`${count("pass")} passed, ${failed} failed, ${count("skip") + count("todo")} skipped\n`);
  process.exit(code ?? 1);
});
