// Lifecycle behaviour engines rely on (issue 19): whether the process started is judged by the
// init's close-on-exec channel, never by a look at a process that may be gone.
import t from "tap";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { consoleRecvPath, ensureProbe, makeBundle, type OciConfig } from "../../bundle-fixtures/rootfs.js";
import { cgroupDirsOf, Runtime, sleep, TSRUN } from "../lib/tsrun.js";

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
  // as the container's process: exit 1 and runc's words on its stderr (what container logs show)
  const bad = bundle(["/not-a-program"]);
  writeFileSync(join(bad.rootfs, "not-a-program"), "\x7fELF garbage");
  chmodSync(join(bad.rootfs, "not-a-program"), 0o755);
  const ran = rt.run(["run", "--bundle", bad.bundle, "bad-run"]);
  t.equal(ran.code, 1);
  t.match(ran.stderr, /^exec \/not-a-program: exec format error$/m);
});

/** The process is there (not a zombie) and is the one started at startTime. */
function alive(pid: number, startTime: string): boolean {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /, "").split(" ");
    return fields[0] !== "Z" && fields[0] !== "X" && fields[19] === startTime;
  } catch {
    return false;
  }
}

const hasStrace = spawnSync("strace", ["-V"]).status === 0;

t.test("tsrun create killed after the init is ready: the state names the init, delete -f removes it all", { skip: !hasStrace && "strace is not installed" }, async (t) => {
  // The kernel kills tsrun at a syscall it makes only after READY: pidfd_open for --pidfd-socket,
  // the second pidfd_open of create (the first one waits for stage 0 to exit).
  ensureProbe();
  const id = `killed-create-${process.pid}`;
  const b = bundle(["sleep", "100"]).bundle;
  const sock = join(work, "pidfd.sock");
  const recv = spawn(consoleRecvPath, [sock, join(work, "pidfd.out")], { stdio: "ignore" });
  t.teardown(() => void recv.kill("SIGKILL"));
  for (let i = 0; i < 100 && !existsSync(sock); i++) sleep(10);
  const r = spawnSync("strace", ["-o", "/dev/null", "-e", "trace=pidfd_open", "-e", "inject=pidfd_open:signal=SIGKILL:when=2",
    TSRUN, "--root", rt.root, "create", "--bundle", b, "--pidfd-socket", sock, id], { stdio: "ignore", timeout: 30_000 });
  t.ok(r.signal === "SIGKILL" || r.status === 128 + 9, "tsrun create was killed by SIGKILL");
  const saved = JSON.parse(readFileSync(join(rt.root, id, "state.json"), "utf8"));
  t.ok(saved.initPid > 0, "the partial state records the init's pid");
  t.ok(saved.initStartTime, "and its start time");
  t.ok(alive(saved.initPid, saved.initStartTime), "the init is alive, blocked on exec.fifo");
  const del = rt.run(["delete", "-f", id], { timeout: 20_000 });
  t.equal(del.code, 0, del.stderr);
  for (let i = 0; i < 200 && alive(saved.initPid, saved.initStartTime); i++) sleep(10);
  t.notOk(alive(saved.initPid, saved.initStartTime), "the init is gone");
  t.same(cgroupDirsOf(id), [], "no cgroup left");
  t.notOk(existsSync(join(rt.root, id)), "no state directory left");
});

t.test("delete -f kills whatever is left in the container's cgroup", async (t) => {
  const id = `stray-in-cgroup-${process.pid}`;
  t.equal(rt.detached(["run", "-d", "--bundle", bundle(["sleep", "100"]).bundle, id]).code, 0);
  const saved = JSON.parse(readFileSync(join(rt.root, id, "state.json"), "utf8"));
  // a process of the host in the container's cgroup (outside its pid namespace, so the init's death spares it)
  const stray = spawn("sleep", ["100"], { stdio: "ignore", detached: true });
  t.teardown(() => void stray.kill("SIGKILL"));
  for (const dir of Object.values(saved.cgroup.paths) as string[]) writeFileSync(join(dir, "cgroup.procs"), String(stray.pid));
  t.equal(rt.run(["kill", id, "KILL"]).code, 0);
  for (let i = 0; i < 200 && rt.state(id).status !== "stopped"; i++) sleep(10);
  const exited = new Promise((r) => stray.once("exit", r));
  const del = rt.run(["delete", "-f", id], { timeout: 20_000 });
  t.equal(del.code, 0, del.stderr);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  t.not(stray.exitCode ?? stray.signalCode, null, "the stray process was killed");
  t.same(cgroupDirsOf(id), [], "no cgroup left");
});

const noFreezer = !existsSync("/sys/fs/cgroup/freezer") && "no v1 freezer hierarchy";

t.test("an empty pre-existing frozen cgroup: create refuses at once and removes only what it made", { skip: noFreezer }, async (t) => {
  const name = `tsrun-compat-frozen-${process.pid}`;
  const freezerDir = `/sys/fs/cgroup/freezer/${name}`;
  mkdirSync(freezerDir);
  writeFileSync(join(freezerDir, "freezer.state"), "FROZEN");
  t.teardown(() => {
    writeFileSync(join(freezerDir, "freezer.state"), "THAWED");
    rmdirSync(freezerDir);
  });
  const b = bundle(["true"], (c) => (c.linux!.cgroupsPath = `/${name}`)).bundle;
  const t0 = Date.now();
  const r = rt.detached(["create", "--bundle", b, "frozen-cg"]);
  t.equal(r.code, 1);
  t.ok(Date.now() - t0 < 10_000, "no wait on an init that would never report");
  t.match(r.stderr, `container's cgroup unexpectedly frozen: ${freezerDir} (thaw it, or choose another linux.cgroupsPath)`);
  t.same(readdirSync("/sys/fs/cgroup").filter((h) => h !== "freezer" && existsSync(`/sys/fs/cgroup/${h}/${name}`)), [], "the cgroups create made are gone");
  t.ok(existsSync(freezerDir), "the frozen cgroup, which was not ours, is left as it was");
  t.same(rt.containers(), [], "no state directory");
});

t.test("a createContainer hook that cannot run: a quick error naming the hook, no init left", async (t) => {
  const id = `cc-hook-${process.pid}`;
  const b = bundle(["true"], (c) => (c.hooks = { createContainer: [{ path: "/no-such-hook" }] })).bundle;
  const t0 = Date.now();
  const r = rt.detached(["create", "--bundle", b, id]);
  const ms = Date.now() - t0;
  t.equal(r.code, 1);
  t.match(r.stderr, /^hooks\.createContainer\[0\] \(\/no-such-hook\): exec: "\/no-such-hook": stat \/no-such-hook: no such file or directory$/m);
  t.ok(ms < 1500, `no wait on the killed init (${ms} ms)`);
  t.same(cgroupDirsOf(id), [], "the cgroup is gone, so is the init that was in it");
  t.same(rt.containers(), []);
  // one that exists but cannot be executed: the execve's error, with the hook's name
  const garbage = join(work, "not-a-hook");
  writeFileSync(garbage, "\x7fELF garbage");
  chmodSync(garbage, 0o755);
  const bad = bundle(["true"], (c) => (c.hooks = { createContainer: [{ path: garbage }] })).bundle;
  const r2 = rt.detached(["create", "--bundle", bad, `${id}-2`]);
  t.equal(r2.code, 1);
  t.match(r2.stderr, `hooks.createContainer[0] (${garbage}): run ${garbage}: exec format error (ENOEXEC)`);
  t.same(rt.containers(), []);
});

t.test("a bind mount whose source is missing leaves no mountpoint in the rootfs", async (t) => {
  const { bundle: b, rootfs } = bundle(["true"], (c) => c.mounts!.push(
    { destination: "/new-file", type: "bind", source: "/no/such/source", options: ["bind"] },
  ));
  const r = rt.detached(["create", "--bundle", b, "missing-src"]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^mounts\[\d+\]: bind \/no\/such\/source on \/new-file: no such file or directory/m);
  t.notOk(existsSync(join(rootfs, "new-file")), "no file made for the mountpoint");
  const nested = bundle(["true"], (c) => c.mounts!.push({ destination: "/new-dir/sub", type: "bind", source: "/no/such/dir", options: ["rbind"] }));
  t.equal(rt.detached(["create", "--bundle", nested.bundle, "missing-src2"]).code, 1);
  t.notOk(existsSync(join(nested.rootfs, "new-dir")), "no directory made either");
  t.same(rt.containers(), []);
});

t.test("concurrent delete -f of one container runs its poststop hooks once", async (t) => {
  const log = join(work, "poststop.log");
  const hook = join(work, "poststop.sh");
  writeFileSync(hook, `#!/bin/sh\ncat > /dev/null\necho ran >> ${log}\n`);
  chmodSync(hook, 0o755);
  const b = bundle(["sleep", "100"], (c) => (c.hooks = { poststop: [{ path: hook }] })).bundle;
  const rounds = 10;
  for (let i = 0; i < rounds; i++) {
    const id = `del-race-${i}`;
    t.equal(rt.detached(["run", "-d", "--bundle", b, id]).code, 0);
    const deletes = Array.from({ length: 4 }, () => new Promise<number>((resolve) => {
      spawn(TSRUN, ["--root", rt.root, "delete", "-f", id], { stdio: "ignore" }).on("exit", (code) => resolve(code ?? 1));
    }));
    t.same(await Promise.all(deletes), [0, 0, 0, 0], `round ${i}: every delete -f succeeds`);
  }
  t.equal(readFileSync(log, "utf8").split("\n").filter(Boolean).length, rounds, "poststop ran once per container");
});

t.test("an init program over tsrun-init's limit, and a memory limit too small to start: say what and which setting", async (t) => {
  const big = bundle(["true"], (c) => c.process!.env!.push(`BIG=${"x".repeat(9 << 20)}`)).bundle;
  const r = rt.detached(["create", "--bundle", big, "too-big"]);
  t.equal(r.code, 1);
  t.match(r.stderr, /^process\.env: too large: the init program would be 9\.\d MiB, over tsrun-init's limit of 8\.0 MiB/m);
  const id = `mem-1-${process.pid}`;
  const tiny = bundle(["true"], (c) => (c.linux!.resources = { memory: { limit: 1 } })).bundle;
  const m = rt.detached(["create", "--bundle", tiny, id]);
  t.equal(m.code, 1);
  t.match(m.stderr, /^config\.json: \/linux\/resources\/memory\/limit: the container's init was killed by the OOM killer while starting: a memory limit of 1 bytes is too small/m);
  t.same(cgroupDirsOf(id), []);
  t.same(rt.containers(), []);
});
