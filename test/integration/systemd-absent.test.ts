// --systemd-cgroup on a host without systemd on the bus (this development host): every command that
// would make a cgroup fails with one clear error naming the reason, and leaves nothing behind.
// (Where systemd runs, test/vm/systemd.test.sh proves the driver itself.) As root.
import t from "tap";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle } from "../../bundle-fixtures/rootfs.js";
import { cgroupDirsOf, processesMentioning, Runtime } from "../lib/tsrun.js";

const systemdHere = existsSync("/run/systemd/system") || existsSync("/run/dbus/system_bus_socket");
const work = mkdtempSync(join(tmpdir(), "tsrun-sd-"));
chmodSync(work, 0o755);
const rt = new Runtime();
t.teardown(() => {
  rt.cleanup();
  rmSync(work, { recursive: true, force: true });
});

t.test("no systemd: --systemd-cgroup fails with the reason, nothing left", { skip: systemdHere && "this host runs systemd: the guest test covers it" }, async (t) => {
  let n = 0;
  for (const [cmd, cgroupsPath] of [["run", "system.slice:tsrun:sdabsent"], ["create", "machine-app.slice:libpod:sdabsent"], ["run", undefined]] as const) {
    const id = `sdabsent${++n}`;
    const { bundle } = makeBundle(join(work, id), {
      args: ["true"],
      rootfs: "busybox",
      mutate: (c) => {
        if (cgroupsPath) c.linux!.cgroupsPath = cgroupsPath;
        else delete c.linux!.cgroupsPath;
      },
    });
    const r = rt.detached(["--systemd-cgroup", cmd, "--bundle", bundle, id]);
    t.equal(r.code, 1, `${cmd} ${cgroupsPath ?? "(no cgroupsPath)"} exits 1`);
    t.equal(r.stderr.split("\n").length, 1, "one line");
    t.match(r.stderr, /systemd cgroup driver \(--systemd-cgroup\): cannot reach systemd \(system bus\): cannot connect to the D-Bus system bus: .*is systemd running/, "naming the reason");
    t.same(rt.containers(), [], "no container state left");
    t.same(cgroupDirsOf(id), [], "no cgroup left");
    t.same(processesMentioning(bundle), [], "no process left");
  }
});

t.test("check and features accept the flag", async (t) => {
  const { bundle } = makeBundle(join(work, "chk"), { args: ["true"], rootfs: "busybox", mutate: (c) => (c.linux!.cgroupsPath = "system.slice:docker:abc") });
  const r = rt.run(["--systemd-cgroup", "check", "--bundle", bundle]);
  t.equal(r.code, 0, r.stdout + r.stderr);
  const bad = rt.run(["--systemd-cgroup", "check", "--bundle", makeBundle(join(work, "chk2"), { args: ["true"], rootfs: "busybox", mutate: (c) => (c.linux!.cgroupsPath = "a--b.slice:x:y") }).bundle]);
  t.equal(bad.code, 1);
  t.match(bad.stdout + bad.stderr, /is not a valid systemd slice name/);
  const f = JSON.parse(rt.run(["features"]).stdout);
  t.equal(f.linux.cgroup.systemd, true);
});
