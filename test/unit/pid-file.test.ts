// --pid-file: runc's form (no newline, written through a temp file) for every path form callers use.
import t from "tap";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writePidFile } from "../../src/state/store.js";

t.test("absolute, relative with a directory, and a bare name in the current directory", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tsrun-pidfile-"));
  const cwd = process.cwd();
  t.teardown(() => { process.chdir(cwd); rmSync(dir, { recursive: true, force: true }); });
  writePidFile(join(dir, "abs.pid"), 42);
  t.equal(readFileSync(join(dir, "abs.pid"), "utf8"), "42");
  process.chdir(dir);
  writePidFile("pid.txt", 7); // runc's exec.bats: `runc exec --pid-file pid.txt`
  t.equal(readFileSync(join(dir, "pid.txt"), "utf8"), "7");
  writePidFile("./rel.pid", 8);
  t.equal(readFileSync(join(dir, "rel.pid"), "utf8"), "8");
  t.same(readdirSync(dir).filter((f) => f.startsWith(".")), [], "no temp file left");
});
