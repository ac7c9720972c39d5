// --systemd-cgroup on a host without systemd on the bus (this development host): every command that
// would make a cgroup fails with one clear error naming the reason, and leaves nothing behind.
// (Where systemd runs, test/vm/systemd.test.sh and systemd-user.test.sh prove the driver itself.)
// As root; the rootless cases as nobody, who has no user bus here either.
import t from "tap";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { makeBundle } from "../../bundle-fixtures/rootfs.js";
import { cgroupDirsOf, message, processesMentioning, Runtime, TSRUN } from "../lib/tsrun.js";

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
  t.equal(f.linux.cgroup.systemdUser, true, "rootless through the user's instance too");
});

const NOBODY = 65534;
t.test("rootless, no user bus: --systemd-cgroup fails naming what is missing, nothing left", {
  skip: (systemdHere && "this host runs systemd: the guest test covers it") || (process.geteuid?.() !== 0 && "needs root (to run as nobody)") || (!existsSync("/usr/bin/setpriv") && "setpriv is missing"),
}, async (t) => {
  const root = join(work, "nobody-root");
  mkdirSync(root, { mode: 0o700 });
  chownSync(root, NOBODY, NOBODY);
  for (const [id, env, want] of [
    ["sdnoenv", {}, /cannot reach the user's systemd instance \(user bus\): .*neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set/],
    ["sdnobus", { XDG_RUNTIME_DIR: join(work, "no-such-runtime-dir") }, /cannot reach the user's systemd instance \(user bus\): .*is the user's systemd instance running \(user@65534\.service/],
  ] as const) {
    const { bundle } = makeBundle(join(work, id), {
      args: ["true"],
      rootfs: "busybox",
      mutate: (c) => {
        c.linux!.cgroupsPath = `user.slice:tsrun:${id}`;
        c.linux!.namespaces = [...(c.linux!.namespaces ?? []).filter((n) => n.type !== "network"), { type: "user" }];
        c.linux!.uidMappings = [{ containerID: 0, hostID: NOBODY, size: 1 }];
        c.linux!.gidMappings = [{ containerID: 0, hostID: NOBODY, size: 1 }];
      },
    });
    const r = spawnSync("/usr/bin/setpriv", [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", TSRUN, "--systemd-cgroup", "--root", root, "run", "--bundle", bundle, id], {
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...env },
      encoding: "utf8",
      timeout: 30_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const err = message(r.stderr);
    t.equal(r.status, 1, `${id}: exits 1`);
    t.equal(err.split("\n").length, 1, "one line");
    t.match(err, want, "naming the reason");
    t.notOk(existsSync(join(root, id)), "no container state left");
    t.same(processesMentioning(bundle), [], "no process left");
  }
});
