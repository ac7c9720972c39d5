// Resource limits through the CLI on this (cgroup v1 hybrid) host: config limits, fork bomb, OOM
// event, pause/resume, update, ps, events, cleanup; as root.
import t from "tap";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle, type OciConfig } from "../../bundle-fixtures/rootfs.js";
import { cgroupDirsOf, Runtime, sleep, TSRUN } from "../lib/tsrun.js";

const work = mkdtempSync(join(tmpdir(), "tsrun-cg-"));
chmodSync(work, 0o755);
const rt = new Runtime();
t.teardown(() => {
  rt.cleanup();
  rmSync(work, { recursive: true, force: true });
});
let n = 0;
const bundle = (args: string[], mutate?: (c: OciConfig) => void) =>
  makeBundle(join(work, `b${++n}`), { args, rootfs: "busybox", mutate }).bundle;
const v1 = existsSync("/sys/fs/cgroup/memory/cgroup.procs") && existsSync("/sys/fs/cgroup/pids");
const cg = (ctrl: string, id: string, file: string) => readFileSync(`/sys/fs/cgroup/${ctrl}/tsrun/${id}/${file}`, "utf8").trim();

t.test("limits from config.json, a fork bomb stops at pids.max", { skip: !v1 && "needs cgroup v1 memory and pids hierarchies" }, async (t) => {
  const b = bundle(["sleep", "1000"], (c) => {
    c.linux!.resources = { memory: { limit: 64 * 1024 * 1024 }, pids: { limit: 20 } } as never;
  });
  t.equal(rt.detached(["run", "-d", "--bundle", b, "lim"]).code, 0);
  t.equal(cg("memory", "lim", "memory.limit_in_bytes"), String(64 * 1024 * 1024));
  t.equal(cg("pids", "lim", "pids.max"), "20");
  // the background sleeps must not hold the exec's stdout, or run() waits for them; a failed fork
  // ends the loop's subshell, and the count uses only shell builtins (no fork left to spare)
  const bomb = rt.run(["exec", "lim", "sh", "-c", "(for i in $(seq 1 60); do sleep 30 >/dev/null 2>&1 & done) 2>/dev/null; set -- /proc/[0-9]*; echo $#"], { timeout: 60_000 });
  t.ok(Number(cg("pids", "lim", "pids.current")) <= 20, "never more than 20 processes");
  t.ok(Number(bomb.stdout.trim()) >= 15 && Number(bomb.stdout.trim()) <= 20, `the container sees at most 20 pids (${bomb.stdout.trim()} ${bomb.stderr} ${bomb.code})`);
  t.equal(Number(cg("pids", "lim", "pids.max")), 20);

  const ps = JSON.parse(rt.run(["ps", "--format", "json", "lim"]).stdout) as number[];
  t.ok(ps.includes(rt.state("lim").pid), "ps lists the init's host pid");
  t.ok(ps.length > 1 && ps.length <= 20);
  const table = rt.run(["ps", "lim"]).stdout.split("\n");
  t.match(table[0], /\bPID\b/);
  t.ok(table.slice(1).some((l) => l.includes("sleep 1000")));

  t.equal(rt.run(["update", "--memory", "128m", "--pids-limit", "30", "lim"]).code, 0);
  t.equal(cg("memory", "lim", "memory.limit_in_bytes"), String(128 * 1024 * 1024), "update changes a live limit");
  t.equal(cg("pids", "lim", "pids.max"), "30");
  const viaStdin = rt.run(["update", "--resources", "-", "lim"], { input: JSON.stringify({ pids: { limit: 25 } }) });
  t.equal(viaStdin.code, 0, viaStdin.stderr);
  t.equal(cg("pids", "lim", "pids.max"), "25");
  const bad = rt.run(["update", "--resources", "-", "lim"], { input: JSON.stringify({ cpu: { shares: 1 } }) });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /\/cpu\/shares/);

  const stats = JSON.parse(rt.run(["events", "--stats", "lim"]).stdout);
  t.equal(stats.type, "stats");
  t.equal(stats.id, "lim");
  t.ok(stats.data.memory.usage.usage > 0, "memory usage reported");
  t.equal(stats.data.pids.limit, 25);
  rt.run(["delete", "--force", "lim"]);
  t.same(cgroupDirsOf("lim"), [], "delete --force removes every hierarchy's cgroup");
});

t.test("pause stops progress, resume restarts it", async (t) => {
  const b = bundle(["sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done"], (c) => (c.root!.readonly = false));
  t.equal(rt.detached(["run", "-d", "--bundle", b, "pz"]).code, 0);
  sleep(300);
  t.equal(rt.run(["pause", "pz"]).code, 0);
  t.equal(rt.state("pz").status, "paused");
  const pid = rt.state("pz").pid;
  const count = () => Number(readFileSync(`/proc/${pid}/root/tmp/count`, "utf8"));
  const a = count();
  sleep(400);
  t.equal(count(), a, "no progress while paused");
  t.match(rt.run(["pause", "pz"]).stderr, /container not running/);
  t.equal(rt.run(["resume", "pz"]).code, 0);
  t.equal(rt.state("pz").status, "running");
  sleep(400);
  t.ok(count() > a, "progress again after resume");
  t.match(rt.run(["resume", "pz"]).stderr, /container not paused/);
  t.equal(rt.run(["pause", "pz"]).code, 0);
  t.equal(rt.run(["kill", "pz", "KILL"]).code, 0, "SIGKILL reaches a paused container");
  for (let i = 0; i < 100 && rt.state("pz").status !== "stopped"; i++) sleep(20);
  t.equal(rt.state("pz").status, "stopped");
  rt.run(["delete", "pz"]);
  t.same(cgroupDirsOf("pz"), []);
});

t.test("an OOM kill is reported by events", { skip: !v1 && "needs the cgroup v1 memory hierarchy" }, async (t) => {
  const b = bundle(["sleep", "1000"], (c) => {
    c.linux!.resources = { memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 } } as never;
  });
  t.equal(rt.detached(["run", "-d", "--bundle", b, "oomer"]).code, 0);
  const events = spawn(TSRUN, ["--root", rt.root, "events", "--interval", "1s", "oomer"], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  events.stdout.on("data", (d) => (out += d));
  // the baseline OOM count is taken when events starts: wait for its first line
  for (let i = 0; i < 100 && !out.includes('"stats"'); i++) await new Promise((r) => setTimeout(r, 100));
  // 200 MiB through dd's buffer: the kernel kills it in a 32 MiB cgroup
  const dd = rt.run(["exec", "oomer", "dd", "if=/dev/zero", "of=/dev/null", "bs=200M", "count=1"], { timeout: 60_000 });
  t.equal(dd.code, 137, `dd is OOM-killed (${dd.stderr.trim()})`);
  for (let i = 0; i < 40 && !out.includes('"type":"oom"'); i++) await new Promise((r) => setTimeout(r, 100));
  events.kill();
  const lines = out.trim().split("\n").map((l) => JSON.parse(l));
  t.ok(lines.some((l) => l.type === "oom" && l.id === "oomer"), `an oom event for the container (${lines.map((l) => l.type).join(",")})`);
  t.ok(lines.some((l) => l.type === "stats"), "stats events as well");
  rt.run(["delete", "--force", "oomer"]);
});

t.test("bad resources: clear error, nothing left", async (t) => {
  const cases: [string, (c: OciConfig) => void, RegExp][] = [
    ["blkio weight out of range", (c) => (c.linux!.resources = { blockIO: { weight: 5 } } as never), /\/linux\/resources\/blockIO\/weight/],
    ["cpu shares out of range", (c) => (c.linux!.resources = { cpu: { shares: 1 } } as never), /\/linux\/resources\/cpu\/shares/],
    ["bad device rule type", (c) => (c.linux!.resources = { devices: [{ allow: true, type: "x", access: "rwm" }] } as never), /\/linux\/resources\/devices\/0\/type/],
  ];
  for (const [name, mutate, pattern] of cases) {
    const r = rt.detached(["create", "--bundle", bundle(["true"], mutate), "badres"]);
    t.equal(r.code, 1, name);
    t.match(r.stderr, pattern, `${name}: ${r.stderr.trim()}`);
    t.same(rt.containers(), [], `${name}: nothing in --root`);
    t.same(cgroupDirsOf("badres"), [], `${name}: no cgroup`);
  }
});
