// A cgroupsPath that names a cgroup which already exists, as runc treats it (engines reuse pod
// cgroups; a left-over cgroup may be frozen): a frozen one is refused at create, with nothing of the
// container left; one with processes in it gets a warning ("container's cgroup is not empty") and
// the container runs. cgroup v1 here (the v2 driver's check is in test/integration/cgroups/v2).
import t from "tap";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cgroupMounts, cgroupV1Controller, Env, host, waitFor, type OciConfig } from "./lib.js";

const env = new Env("cgexist");
t.teardown(() => env.cleanup());
const freezer = cgroupV1Controller("freezer");

/** A cgroup at path in every hierarchy, holding a sleeping host process. */
function occupiedCgroup(t: { teardown(fn: () => void): void }, path: string): number {
  const sleeper = spawn("sleep", ["300"], { stdio: "ignore" });
  t.teardown(() => void sleeper.kill("SIGKILL"));
  for (const mount of cgroupMounts()) {
    const dir = join(mount, path);
    mkdirSync(dir, { recursive: true });
    try {
      writeFileSync(join(dir, "cgroup.procs"), String(sleeper.pid));
    } catch {
      // cpuset without cpus/mems copied, or a controller-less cgroup2: the process stays outside
    }
  }
  return sleeper.pid!;
}

function bundleIn(cgroupsPath: string) {
  return env.bundle({ rootfs: host.busybox ? "busybox" : "probe", args: host.busybox ? ["sleep", "100"] : ["/probe", "-n", "pause"],
    mutate: (c: OciConfig) => ((c.process!.terminal = false), (c.linux!.cgroupsPath = cgroupsPath)) });
}

t.test("a frozen cgroup: create fails with a clear error and leaves no container", { skip: !freezer && "no v1 freezer hierarchy on this host" }, async (t) => {
  const path = env.cgroupPath("frozen");
  occupiedCgroup(t, path);
  writeFileSync(join(freezer!, path, "freezer.state"), "FROZEN");
  t.teardown(() => writeFileSync(join(freezer!, path, "freezer.state"), "THAWED"));
  waitFor(() => readFileSync(join(freezer!, path, "freezer.state"), "utf8").trim() === "FROZEN", 3000);
  const id = env.id("frozen");
  const t0 = Date.now();
  const r = env.create(bundleIn(path), id);
  t.equal(r.status, 1, "create fails");
  t.ok(Date.now() - t0 < 20_000, "at once, without waiting on the frozen init");
  t.match(r.stderr, /container's cgroup unexpectedly frozen/);
  t.equal(env.state(id), null, "no container is left");
});

t.test("a cgroup with processes in it: a warning, and the container runs", { skip: !host.cgroupV1 && "cgroup v1 only here" }, async (t) => {
  const path = env.cgroupPath("busy");
  occupiedCgroup(t, path);
  const id = env.id("busy");
  const r = env.create(bundleIn(path), id);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stderr, /level=warning msg="container's cgroup is not empty: 1 process\(es\) found"/);
  t.equal(env.start(id).status, 0);
  t.equal(env.state(id)?.status, "running");
  env.delete(id, true);
});
