// Real cgroup v1 (hybrid host) integration test. Needs root on a v1 or hybrid host.
import t from "tap";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { cgroupManagerFor, detectCgroupMode, type CgroupManager } from "../../../src/cgroups/index.js";

const mode = detectCgroupMode();
const isRoot = process.getuid?.() === 0;
if (!isRoot) t.plan(0, "needs root");
else if (mode === "v2") t.plan(0, "host is cgroup v2 only (see v2.test.ts)");
else run();

function procState(pid: number): string {
  const m = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? m[1]! : "?";
}

/** Every directory named `id` under any hierarchy's tsrun parent (or anywhere two levels down). */
function leftovers(id: string): string[] {
  const out: string[] = [];
  for (const h of readdirSync("/sys/fs/cgroup")) {
    const base = join("/sys/fs/cgroup", h);
    for (const sub of ["", "tsrun", "tsrun-it"]) if (existsSync(join(base, sub, id))) out.push(join(base, sub, id));
  }
  return out;
}

function run() {
  const id = `tsrun-it-${process.pid}-${randomBytes(3).toString("hex")}`;
  const children: ChildProcess[] = [];
  let mgr: CgroupManager | undefined;

  const spawnChild = (cmd: string, args: string[], stdin: "ignore" | "pipe" = "ignore"): ChildProcess => {
    const c = spawn(cmd, args, { stdio: [stdin, "ignore", "ignore"] });
    children.push(c);
    return c;
  };

  t.teardown(() => {
    for (const c of children) if (c.pid && c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(c.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    if (mgr) {
      try {
        mgr.killAll(9);
      } catch {
        /* ignore */
      }
      try {
        mgr.destroy();
      } catch {
        /* reported by the test below */
      }
    }
  });

  t.test("create, apply, limits, freeze, kill, destroy", async (t) => {
    const m = (mgr = cgroupManagerFor({ id }));
    t.equal(m.mode, mode);
    t.equal(m.saved.driver, "v1");
    t.equal(m.path("memory"), `/sys/fs/cgroup/memory/tsrun/${id}`, "absent cgroupsPath: /tsrun/<id>");
    if (mode === "hybrid") t.equal(m.path(""), `/sys/fs/cgroup/unified/tsrun/${id}`, "hybrid: cgroup2 directory too");
    t.ok(m.path("name=systemd"), "named systemd hierarchy included");
    m.create();
    t.ok(m.exists());
    for (const dir of new Set(Object.values(m.saved.paths))) t.ok(existsSync(dir), `created ${dir}`);
    const cpuset = m.path("cpuset");
    if (cpuset) {
      t.not(readFileSync(join(cpuset, "cpuset.cpus"), "utf8").trim(), "", "cpuset.cpus copied from the parent");
      t.not(readFileSync(join(cpuset, "cpuset.mems"), "utf8").trim(), "", "cpuset.mems copied from the parent");
    }

    const child = spawnChild("sleep", ["300"]);
    const pid = child.pid!;
    m.apply(pid);
    for (const [key, dir] of Object.entries(m.saved.paths)) {
      const procs = readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").map(Number);
      t.ok(procs.includes(pid), `pid in ${key || "cgroup2"} cgroup.procs`);
    }
    const own = readFileSync(`/proc/${pid}/cgroup`, "utf8");
    t.match(own, new RegExp(`:memory:/tsrun/${id}$`, "m"), "/proc/<pid>/cgroup agrees");
    t.same(m.pids(), [pid]);

    // create() again on a populated cgroup warns the way runc does, and goes on
    const again = cgroupManagerFor({ id });
    again.create();
    t.same(again.takeWarnings(), ["container's cgroup is not empty: 1 process(es) found"]);

    // limits
    const warnings = m.set({
      memory: { limit: 64 * 1024 * 1024, swap: 64 * 1024 * 1024, kernel: 1 << 20 },
      pids: { limit: 20 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0", mems: "0" },
      devices: [
        { allow: false, access: "rwm" },
        { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
        { allow: true, type: "c", major: 136, access: "rw" },
      ],
    });
    t.match(warnings, [/memory\.kernel .*ignored/], "kernel memory ignored with a warning");
    const r = (k: string, f: string) => readFileSync(join(m.path(k)!, f), "utf8").trim();
    t.equal(r("memory", "memory.limit_in_bytes"), String(64 * 1024 * 1024), "memory 64MiB");
    t.equal(r("memory", "memory.memsw.limit_in_bytes"), String(64 * 1024 * 1024), "memory+swap 64MiB");
    t.equal(r("pids", "pids.max"), "20", "pids 20");
    t.equal(r("cpu", "cpu.shares"), "512");
    t.equal(r("cpu", "cpu.cfs_quota_us"), "50000");
    t.equal(r("cpu", "cpu.cfs_period_us"), "100000");
    t.equal(r("cpuset", "cpuset.cpus"), "0");
    t.equal(r("devices", "devices.list"), "c 1:3 rwm\nc 136:* rw", "device whitelist");

    // update: quota only keeps the period; memory can grow (memsw first)
    m.set({ cpu: { quota: 20000 } });
    t.equal(r("cpu", "cpu.cfs_period_us"), "100000", "period kept when only the quota changes");
    t.equal(r("cpu", "cpu.cfs_quota_us"), "20000");
    m.set({ memory: { limit: 128 * 1024 * 1024, swap: 256 * 1024 * 1024 } });
    t.equal(r("memory", "memory.limit_in_bytes"), String(128 * 1024 * 1024), "memory raised");
    t.equal(r("memory", "memory.memsw.limit_in_bytes"), String(256 * 1024 * 1024));
    m.set({ memory: { limit: 64 * 1024 * 1024, swap: 64 * 1024 * 1024 } });
    t.equal(r("memory", "memory.memsw.limit_in_bytes"), String(64 * 1024 * 1024), "and lowered again (limit first)");
    t.throws(() => m.set({ cpu: { shares: 1 } }), /the minimum allowed cpu-shares is 2/, "kernel clamping is reported");
    if (!m.path("hugetlb")) t.throws(() => m.set({ hugepageLimits: [{ pageSize: "2MB", limit: 1 << 21 }] }), /hugetlb cgroup controller is not mounted/, "hugetlb not mounted here: clear error");
    t.throws(() => m.set({ unified: { "memory.max": "1" } }), /cannot use unified resources on cgroup v1/);

    // stats
    const s = m.stats();
    t.equal(s.memory.usage.limit, BigInt(64 * 1024 * 1024), "stats: memory limit");
    t.equal(s.pids.current, 1n, "stats: one process");
    t.equal(s.pids.limit, 20n, "stats: pids limit");
    t.ok(s.cpu.usage.total === undefined || s.cpu.usage.total > 0n);
    t.equal(m.oomKillCount(), 0, "no OOM kill yet");

    // freeze / thaw
    t.equal(m.freezerState(), "THAWED");
    m.freeze();
    t.ok(m.isFrozen(), "frozen");
    t.equal(r("freezer", "freezer.state"), "FROZEN");
    t.equal(procState(pid), "D", "a v1-frozen task shows as D (in the refrigerator)");
    // a signal other than SIGKILL leaves a paused container paused
    m.killAll(0);
    t.ok(m.isFrozen(), "still frozen after signalling (signal 0)");
    // a frozen cgroup is refused, as runc does: an init joining it would never report
    t.throws(() => cgroupManagerFor({ id }).create(), { message: /^container's cgroup unexpectedly frozen: \/sys\/fs\/cgroup\/freezer\// });
    m.thaw();
    t.notOk(m.isFrozen(), "thawed");
    t.equal(procState(pid), "S", "sleeping again");

    // killAll on a frozen container: SIGKILL thaws so the tasks can die
    m.freeze();
    const exited = once(child, "exit");
    m.killAll(9);
    const [code, sig] = await exited;
    t.equal(code, null);
    t.equal(sig, "SIGKILL", "child killed");
    t.equal(m.freezerState(), "THAWED", "SIGKILL thawed the cgroup");
    t.same(m.pids(), []);

    m.destroy();
    t.notOk(m.exists());
    t.same(leftovers(id), [], "no directory of the container remains in any hierarchy");
    m.destroy(); // idempotent
  });

  t.test("pids limit stops a fork bomb at 20", async (t) => {
    const m = cgroupManagerFor({ id: id + "-fork" });
    t.teardown(() => {
      m.killAll(9);
      m.destroy();
    });
    m.create();
    m.set({ pids: { limit: 20 } });
    // The shell waits for a line on stdin, so it is in the cgroup before it forks.
    const sh = spawnChild("sh", ["-c", "read x; i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done; wait"], "pipe");
    m.apply(sh.pid!);
    sh.stdin!.end("go\n");
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && m.pids().length < 20) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    const n = m.pids().length;
    t.ok(n <= 20 && n >= 15, `the fork bomb is held at the limit (${n} processes)`);
    const pidsDir = m.path("pids")!;
    if (existsSync(join(pidsDir, "pids.peak"))) t.equal(readFileSync(join(pidsDir, "pids.peak"), "utf8").trim(), "20", "pids.peak is exactly 20");
    const events = readFileSync(join(pidsDir, "pids.events"), "utf8");
    t.match(events, /^max [1-9]\d*$/m, "pids.events counts refused forks");
    m.killAll(9);
    t.ok((m as unknown as { waitEmpty(ms: number): boolean }).waitEmpty(3000), "all gone after killAll");
    m.destroy();
    t.same(leftovers(id + "-fork"), []);
  });

  t.test("OOM kill is counted", async (t) => {
    const m = cgroupManagerFor({ id: id + "-oom" });
    t.teardown(() => {
      m.killAll(9);
      m.destroy();
    });
    m.create();
    m.set({ memory: { limit: 64 * 1024 * 1024, swap: 64 * 1024 * 1024 } });
    const before = m.oomKillCount();
    t.equal(before, 0);
    // dd allocates a 200 MiB buffer and fills it from /dev/zero
    const dd = spawnChild("sh", ["-c", "read x; exec dd if=/dev/zero of=/dev/null bs=200M count=1"], "pipe");
    m.apply(dd.pid!);
    const exited = once(dd, "exit");
    dd.stdin!.end("go\n");
    const [, sig] = await exited;
    t.equal(sig, "SIGKILL", "the allocation was OOM-killed");
    t.equal(m.oomKillCount(), 1, "oom_kill counter went up");
    const s = m.stats();
    t.ok(s.memory.usage.failcnt > 0n || (s.memory.usage.max ?? 0n) >= BigInt(60 * 1024 * 1024), "stats show the cgroup hit its limit", { usage: String(s.memory.usage.usage), max: String(s.memory.usage.max), failcnt: String(s.memory.usage.failcnt) });
    m.destroy();
    t.same(leftovers(id + "-oom"), []);
  });

  t.test("relative and absolute cgroupsPath", async (t) => {
    const abs = cgroupManagerFor({ id, cgroupsPath: `/tsrun-it/${id}` });
    t.equal(abs.path("pids"), `/sys/fs/cgroup/pids/tsrun-it/${id}`);
    abs.create();
    t.ok(existsSync(`/sys/fs/cgroup/pids/tsrun-it/${id}`));
    abs.destroy();
    t.same(leftovers(id), []);
    try {
      // the parent we made for this test only
      for (const h of readdirSync("/sys/fs/cgroup")) {
        const p = join("/sys/fs/cgroup", h, "tsrun-it");
        if (existsSync(p) && readdirSync(p, { withFileTypes: true }).every((e) => !e.isDirectory())) (await import("node:fs")).rmdirSync(p);
      }
    } catch {
      /* another run may be using it */
    }
  });
}
