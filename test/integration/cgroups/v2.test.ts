// The v2 driver on the real kernel: run ./fixtures/v2-driver.ts in a private mount namespace
// with cgroup2 mounted at /sys/fs/cgroup. On the development host that cgroup2 has no controllers,
// so limits cannot be enforced or even written there; the file contents the v2 driver writes are
// checked against fake cgroup directories in test/unit/cgroups/drivers-fake.test.ts instead.
import t from "tap";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { randomBytes } from "node:crypto";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { makeBundle } from "../../../bundle-fixtures/rootfs.js";
import { TSRUN } from "../../lib/tsrun.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixture = join(here, "fixtures", "v2-driver.ts");
const isRoot = process.getuid?.() === 0;
const hasUnshare = spawnSync("sh", ["-c", "command -v unshare"]).status === 0;

if (!isRoot || !hasUnshare) t.plan(0, "needs root and unshare(1)");
else run();

function run() {
  const id = `tsrun-it-v2-${process.pid}-${randomBytes(3).toString("hex")}`;
  // a second cgroup for the device filter checks
  const devId = `bpf-it-v2-${process.pid}-${randomBytes(3).toString("hex")}`;
  // cgroup2 is one hierarchy per machine: on a hybrid host the namespace's /sys/fs/cgroup/tsrun/<id>
  // is /sys/fs/cgroup/unified/tsrun/<id> here.
  const hybrid = existsSync("/sys/fs/cgroup/unified/cgroup.procs");
  const hostSide = hybrid ? `/sys/fs/cgroup/unified/tsrun/${id}` : undefined;
  const devHostSide = hybrid ? `/sys/fs/cgroup/unified/tsrun/${devId}` : undefined;
  const ctrId = `bpf-ctr-${process.pid}-${randomBytes(3).toString("hex")}`;
  const ctrHostSide = hybrid ? `/sys/fs/cgroup/unified/tsrun/${ctrId}` : undefined;
  const work = mkdtempSync(join(tmpdir(), "bpf-v2-"));
  let report: Record<string, any> = {};

  t.teardown(() => {
    if (report.pid) {
      try {
        process.kill(report.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    for (const dir of [ctrHostSide, devHostSide, hostSide]) {
      if (!dir || !existsSync(dir)) continue;
      for (const p of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean)) {
        try {
          process.kill(Number(p), "SIGKILL");
        } catch {
          /* gone */
        }
      }
      try {
        rmdirSync(dir);
      } catch {
        /* reported below */
      }
    }
    rmSync(work, { recursive: true, force: true });
  });

  t.test("v2 driver in a private cgroup2 mount", async (t) => {
    const loader = process.execArgv.filter((a) => a.includes("@tapjs/typescript") || a.includes("tsx") || a.includes("ts-node"));
    const nodeCmd = [process.execPath, ...loader, fixture, id, devId].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
    const r = spawnSync("unshare", ["-m", "--propagation", "private", "sh", "-c", `mount -t cgroup2 none /sys/fs/cgroup && exec ${nodeCmd}`], {
      encoding: "utf8",
      timeout: 60000,
    });
    t.equal(r.status, 0, "fixture ran", { stderr: r.stderr });
    const line = r.stdout.trim().split("\n").pop() ?? "{}";
    report = JSON.parse(line);
    t.notOk(report.fatal, "no exception", { fatal: report.fatal });

    t.equal(report.mode, "v2", "statfs sees cgroup2 at /sys/fs/cgroup");
    t.same(report.saved, { driver: "v2", paths: { "": `/sys/fs/cgroup/tsrun/${id}` }, mode: "v2" });
    t.ok(report.createdDir, "created");
    t.same(report.procs, [report.pid], "joined: cgroup.procs holds the child");
    t.match(report.procCgroup, new RegExp(`^0::/tsrun/${id}$`, "m"), "/proc/<pid>/cgroup agrees");
    t.same(report.pids, [report.pid]);
    t.equal(report.secondCreate, "container's cgroup is not empty: 1 process(es) found");

    const available = String(report.controllers).split(/\s+/);
    if (!available.includes("memory") && !available.includes("pids") && !available.includes("cpu")) {
      // What a cgroup2 without these controllers cannot show: that memory.max/pids.max/cpu.weight
      // hold the limits, and that the kernel enforces them. We can only check the driver says so
      // clearly. (On a hybrid host the v1 hierarchies own them; hugetlb may still be here.)
      t.match(report.set_memory, { ok: false, error: /the memory controller is not available in .*cgroup.controllers: / }, "memory limit: clear error (no memory controller here)");
      t.match(report.set_pids, { ok: false, error: /the pids controller is not available/ }, "pids limit: clear error (no pids controller here)");
      t.match(report.set_cpu, { ok: false, error: /the cpu controller is not available/ }, "cpu weight: clear error (no cpu controller here)");
      t.pass("memory.max / pids.max / cpu.weight hold the limits, and the kernel enforces them", {
        skip: "this host's cgroup2 has no controllers (the v2 file contents are checked in test/unit/cgroups/drivers-fake.test.ts)",
      });
    } else {
      t.match(report.set_memory, { ok: true }, "memory limit written");
      t.match(report.set_pids, { ok: true }, "pids limit written");
    }
    t.same(report.setDevicesWarnings, [], "v2 device rules: no warning any more");
    t.match(report.filtersAfterSetDevices, [{ name: "tsrun_devices" }], "they are a BPF program attached to the cgroup");

    t.equal(report.frozenState, "FROZEN", "freeze: cgroup.freeze + cgroup.events frozen 1");
    t.equal(report.createWhileFrozen, `container's cgroup unexpectedly frozen: /sys/fs/cgroup/tsrun/${id} (thaw it, or choose another linux.cgroupsPath)`, "a frozen cgroup is refused");
    t.equal(report.cgroupEventsFrozen, "1");
    t.equal(report.ticksWhileFrozen, 0, "a busy loop makes no progress while frozen");
    t.equal(report.thawedState, "THAWED");
    t.ok(report.ticksAfterThaw > 0, "and runs again after thaw");
    t.equal(report.statsPidsCurrent, "1", "stats: pids counted from cgroup.procs without the pids controller");
    t.ok(report.statsCpuTotalPositive, "stats: cpu.stat usage (core file, no controller needed)");
    t.equal(report.killedBy, "SIGKILL", "killAll(SIGKILL) on a frozen cgroup (cgroup.kill)");
    t.equal(report.stateAfterKill, "THAWED", "SIGKILL leaves the cgroup thawed");
    t.same(report.pidsAfterKill, []);
    t.equal(report.existsAfterDestroy, false);
    t.equal(report.dirAfterDestroy, false, "removed");
    if (hostSide) t.notOk(existsSync(hostSide), "nothing left in the host's view of the hierarchy either");
  });

  t.test("v2 device rules: a BPF program enforced by the kernel, replaced on update", async (t) => {
    const d = report.devices;
    if (!d) return t.fail("the fixture did not get to the device checks", { fatal: report.fatal });
    t.same(d.saved, { driver: "v2", paths: { "": `/sys/fs/cgroup/tsrun/${devId}` }, mode: "v2" }, "the v2 driver is in use");
    t.same(d.before, { "r:/dev/null": "ok", "r:/dev/kmsg": "ok" }, "without rules: everything opens");

    t.same(d.denyNullReadWarnings, []);
    t.same(
      d.denyNullRead,
      { "r:/dev/null": "EPERM", "w:/dev/null": "ok", "r:/dev/zero": "ok", "r:/dev/kmsg": "ok" },
      "allow all, deny c 1:3 r: reading /dev/null is EPERM, writing it and the others are not",
    );
    t.match(d.first, [{ name: "tsrun_devices" }], "one program of ours attached");
    t.equal(d.first.length, 1);

    t.same(d.updateWarnings, []);
    t.same(
      d.afterUpdate,
      { "r:/dev/null": "ok", "w:/dev/null": "ok", "r:/dev/zero": "ok", "r:/dev/kmsg": "EPERM", "w:/dev/full": "ok", "m:c:1:3": "ok", "m:b:7:0": "ok" },
      "update to the container defaults: /dev/null opens again, /dev/kmsg (not listed) is EPERM, mknod is allowed",
    );
    t.equal(d.second.length, 1, "still exactly one program attached: replaced, not stacked");
    t.equal(d.second[0]?.name, "tsrun_devices");
    t.not(d.second[0]?.id, d.first[0]?.id, "a new program");
    t.equal(d.firstFreed, true, "the old program is detached and freed");

    t.same(d.withOther, ["bpf_it_other", "tsrun_devices"], "a program attached by someone else stays when ours is replaced");
    t.same(d.withOtherProbe, { "w:/dev/full": "EPERM", "r:/dev/null": "ok" }, "and both are enforced (BPF_F_ALLOW_MULTI: every program must allow)");
    t.equal(d.otherFreed, true);

    t.equal(d.badRule, 'CgroupError: cannot set device rules: devices[1]: invalid cgroup device type "x" (must be "a", "b" or "c")', "a bad rule: one clear error");
    t.match(d.rejected, /^BPF_PROG_LOAD of the device filter \(1 instructions\), verifier: .+: Invalid argument$/, "a program the verifier rejects: its reason");
    t.equal(d.unchangedAfterBad, true, "after bad input the attached programs are unchanged");
    t.same(d.afterBad, { "r:/dev/null": "ok", "r:/dev/kmsg": "EPERM" }, "and still enforced");

    t.same(d.allowAllWarnings, []);
    t.equal(d.oursAfterAllowAll, 0, "allow all: our program detached, nothing attached");
    t.same(d.afterAllowAll, { "r:/dev/kmsg": "ok" });

    t.equal(d.lastAttached, 1);
    t.equal(d.dirAfterDestroy, false, "cgroup removed");
    t.equal(d.lastFreed, true, "and the program attached to it freed by the kernel");
    if (devHostSide) t.notOk(existsSync(devHostSide), "nothing left in the host's view of the hierarchy");
  });

  t.test("a container under the v2 driver: its device rules are enforced", { skip: !existsSync(TSRUN) && `${TSRUN} not built` }, async (t) => {
    // deny all (then runc's defaults), /dev/kmsg listed in linux.devices so the init makes it, and
    // a rule after the listing that denies reading it
    const { bundle } = makeBundle(join(work, "bundle"), {
      args: ["sh", "-c", "cat /dev/null && echo null:ok; head -c1 /dev/kmsg >/dev/null && echo kmsg:ok; cat /proc/self/cgroup"],
      rootfs: "busybox",
      mutate: (c) => {
        // a cgroup mount inside this nested namespace is not what is tested here
        c.mounts = (c.mounts ?? []).filter((m) => m.destination !== "/sys/fs/cgroup");
        c.linux!.resources = { devices: [{ allow: false, access: "rwm" }, { allow: false, type: "c", major: 1, minor: 11, access: "r" }] } as never;
        c.linux!.devices = [{ path: "/dev/kmsg", type: "c", major: 1, minor: 11, fileMode: 0o644, uid: 0, gid: 0 }] as never;
      },
    });
    const root = join(work, "root");
    const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const r = spawnSync(
      "unshare",
      ["-m", "--propagation", "private", "sh", "-c", `mount -t cgroup2 none /sys/fs/cgroup && cd ${q(bundle)} && exec ${q(TSRUN)} --root ${q(root)} run ${q(ctrId)}`],
      { encoding: "utf8", timeout: 60000 },
    );
    t.equal(r.status, 0, "tsrun run exits 0", { stderr: r.stderr });
    t.match(r.stdout, /^null:ok$/m, "/dev/null opens (a default rule)");
    t.notMatch(r.stdout, /kmsg:ok/, "/dev/kmsg does not open for reading");
    t.match(r.stderr, /\/dev\/kmsg: Operation not permitted/, "EPERM from the device filter");
    t.match(r.stdout, new RegExp(`^0::/tsrun/${ctrId}$`, "m"), "in its own cgroup2 cgroup");
    t.same(existsSync(root) ? readdirSync(root) : [], [], "run removed its state");
    if (ctrHostSide) t.notOk(existsSync(ctrHostSide), "and its cgroup");
  });
}
