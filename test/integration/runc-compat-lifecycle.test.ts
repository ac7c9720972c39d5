// Lifecycle behaviour engines rely on (issue 19): whether the process started is judged by the
// init's close-on-exec channel, never by a look at a process that may be gone.
import t from "tap";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle, type OciConfig } from "../../bundle-fixtures/rootfs.js";
import { Runtime } from "../lib/tsrun.js";

const work = mkdtempSync(join(tmpdir(), "tsrun-compat-lc-"));
chmodSync(work, 0o755);
const rt = new Runtime();
t.teardown(() => {
  rt.cleanup();
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
function bundle(args: string[], mutate?: (c: OciConfig) => void) {
  return makeBundle(join(work, `b${++n}`), { args, rootfs: "busybox", mutate });
}

t.test("a failing startContainer hook: start and run name the hook and its status", async (t) => {
  const failing = (c: OciConfig) => (c.hooks = { startContainer: [{ path: "/bin/sh", args: ["sh", "-c", "exit 7"] }] });
  const b = bundle(["true"], failing).bundle;
  t.equal(rt.detached(["create", "--bundle", b, "sc-fail"]).code, 0);
  const started = rt.run(["start", "sc-fail"]);
  t.equal(started.code, 1);
  t.match(started.stderr, /hooks\.startContainer\[0\]: run \/bin\/sh: exit status 7/);
  rt.run(["delete", "-f", "sc-fail"]);
  const ran = rt.run(["run", "--bundle", b, "sc-fail-run"]);
  t.equal(ran.code, 1);
  t.match(ran.stderr, /hooks\.startContainer\[0\]: run \/bin\/sh: exit status 7/);
  t.same(rt.containers(), []);
});

t.test("exec: an execve that fails after the init was ready is exec's failure (255), with the reason", async (t) => {
  const b = bundle(["sleep", "30"]);
  writeFileSync(join(b.rootfs, "not-a-program"), "\x7fELF garbage");
  chmodSync(join(b.rootfs, "not-a-program"), 0o755);
  t.equal(rt.detached(["run", "-d", "--bundle", b.bundle, "bad-exec"]).code, 0);
  const r = rt.run(["exec", "bad-exec", "/not-a-program"]);
  t.equal(r.code, 255, r.stderr);
  t.match(r.stderr, /exec failed: process\.args: exec "\/not-a-program": exec format error/);
  rt.run(["delete", "-f", "bad-exec"]);
});
