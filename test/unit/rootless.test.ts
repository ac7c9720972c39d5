// Rootless policy without a user to run as: the --root default, --rootless, spec --rootless on the
// command line, who writes the id maps, and what the plan changes under a user namespace.
import t from "tap";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultRoot, parseRootless, type RootHost } from "../../src/cli/root.js";
import { main, specFlags } from "../../src/cli/main.js";
import { checkSetgroups, planIdMaps, prepareIdMaps, requireUserNamespace } from "../../src/lifecycle/idmap.js";
import { compile, type HostFacts } from "../../src/plan/compile.js";
import { MS } from "../../src/plan/constants.js";
import { defaultSpec } from "../../src/spec/default.js";
import type { Spec } from "../../src/spec/types.js";

const host = (over: Partial<RootHost>): RootHost => ({ env: {}, euid: 1000, inUserNamespace: false, dirOwner: () => undefined, ...over });

t.test("--root default", async (t) => {
  t.same(defaultRoot(host({ euid: 0, env: { XDG_RUNTIME_DIR: "/run/user/0" } })), { root: "/run/tsrun", xdg: false }, "real root ignores XDG_RUNTIME_DIR");
  t.same(defaultRoot(host({ env: { XDG_RUNTIME_DIR: "/run/user/1000/" } })), { root: "/run/user/1000/tsrun", xdg: true });
  t.same(defaultRoot(host({ euid: 0, inUserNamespace: true, env: { XDG_RUNTIME_DIR: "/x", USER: "alice" } })).root, "/x/tsrun", "root in a user namespace, as someone else");
  t.same(defaultRoot(host({ euid: 0, inUserNamespace: true, env: { XDG_RUNTIME_DIR: "/x", USER: "root" } })).root, "/run/tsrun");
  t.same(defaultRoot(host({ dirOwner: (p) => (p === "/run/user/1000" ? 1000 : undefined) })).root, "/run/user/1000/tsrun", "pam's directory without XDG_RUNTIME_DIR");
  const none = defaultRoot(host({ dirOwner: () => 0 }));
  t.equal(none.root, "", "someone else's /run/user/<uid> is not used");
  t.match(none.reason, /XDG_RUNTIME_DIR is not set .*pass --root/);
});

t.test("--rootless true|false|auto", async (t) => {
  const user = { euid: 1000, inUserNamespace: false };
  const root = { euid: 0, inUserNamespace: false };
  t.equal(parseRootless("auto", user), true);
  t.equal(parseRootless("auto", root), false);
  t.equal(parseRootless("auto", { euid: 0, inUserNamespace: true }), true, "root in a user namespace");
  t.equal(parseRootless(undefined, root), false);
  for (const v of ["true", "1", "t", "TRUE", "True"]) t.equal(parseRootless(v, root), true, v);
  for (const v of ["false", "0", "f", "FALSE", "False"]) t.equal(parseRootless(v, user), false, v);
  t.throws(() => parseRootless("yes", root), /invalid value for --rootless: "yes"/);
});

t.test("spec --rootless is spec's own flag, not the global one", async (t) => {
  t.same(specFlags(["spec", "--rootless"]), ["spec", "--spec-rootless"]);
  t.same(specFlags(["--rootless", "true", "spec", "-rootless=false", "-b", "x"]), ["--rootless", "true", "spec", "--spec-rootless=false", "-b", "x"]);
  t.same(specFlags(["--rootless=true", "run", "--rootless", "x"]), ["--rootless=true", "run", "--rootless", "x"], "other commands untouched");
  const d = mkdtempSync(join(tmpdir(), "tsrun-rl-unit-"));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  const read = (dir: string) => JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as Spec;
  const a = join(d, "a");
  const b = join(d, "b");
  for (const dir of [a, b]) mkdirSync(dir);
  t.equal(await main(["spec", "--rootless", "-b", a]), 0);
  t.ok(read(a).linux?.uidMappings, "spec --rootless writes the rootless config");
  t.equal(await main(["--rootless", "true", "spec", "--bundle", b]), 0);
  t.notOk(read(b).linux?.uidMappings, "the global --rootless does not");
});

const spec = (maps: { uid?: [number, number, number][]; gid?: [number, number, number][] }, extra: Partial<Spec["linux"]> = {}): Spec => {
  const s = defaultSpec({ rootless: true, uid: 1000, gid: 1000 });
  const m = (l: [number, number, number][]) => l.map(([containerID, hostID, size]) => ({ containerID, hostID, size }));
  if (maps.uid) s.linux!.uidMappings = m(maps.uid);
  if (maps.gid) s.linux!.gidMappings = m(maps.gid);
  Object.assign(s.linux!, extra);
  return s;
};

t.test("who writes the id maps", async (t) => {
  const user = { euid: 1000, egid: 1000 };
  t.same(planIdMaps(spec({}), user), { creds: user, uid: "direct", gid: "direct", denySetgroups: true }, "only our own ids: written directly, setgroups denied");
  t.same(planIdMaps(spec({}), { euid: 0, egid: 0 }), { creds: { euid: 0, egid: 0 }, uid: "direct", gid: "direct", denySetgroups: false }, "root writes anything");
  const ranges = spec({ uid: [[0, 1000, 1], [1, 100000, 65536]], gid: [[0, 1000, 1], [1, 100000, 65536]] });
  t.same(planIdMaps(ranges, user), { creds: user, uid: "helper", gid: "helper", denySetgroups: false }, "ranges: newuidmap and newgidmap");
  t.same(planIdMaps(spec({ gid: [[0, 1001, 1]] }), user).gid, "helper", "another gid than ours needs newgidmap");
  t.same(planIdMaps(spec({ uid: [[0, 1000, 2]] }), user).uid, "helper", "more than one id needs newuidmap");

  t.throws(() => checkSetgroups(planIdMaps(spec({}), user), [5], "process"), /process\.user\.additionalGids: supplementary groups cannot be set/);
  t.doesNotThrow(() => checkSetgroups(planIdMaps(ranges, user), [5], "process"));
  const rootful = defaultSpec({ rootless: false });
  t.throws(() => requireUserNamespace(rootful, user), /runs as uid 1000, not root, so the container needs a user namespace/);
  t.doesNotThrow(() => requireUserNamespace(rootful, { euid: 0, egid: 0 }));
  t.equal(prepareIdMaps(rootful, { euid: 0, egid: 0 }), undefined, "no user namespace, no maps");
  const joined = spec({}, { namespaces: [{ type: "user", path: "/proc/1/ns/user" }, { type: "mount" }] });
  t.equal(prepareIdMaps(joined, user), undefined, "a joined user namespace has its maps already");
});

t.test("plan under a user namespace", async (t) => {
  const facts: HostFacts = { statKind: () => "dir", cgroupPaths: {} };
  const opts = { bundle: "/b", rootfs: "/b/rootfs" };
  const withSysfs = (s: Spec) => {
    s.mounts = s.mounts!.map((m) => (m.destination === "/sys" ? { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] } : m));
    return s;
  };
  const sysOp = (s: Spec) => compile(s, opts, facts).ops.find((o) => o.op === "MOUNT" && o.strs?.[1] === "/sys");
  const bound = sysOp(withSysfs(spec({})))!;
  t.equal(bound.strs![0], "/sys", "user namespace without a network namespace: the host's /sys is bound");
  t.equal(Number(bound.ints![0]) & (MS.BIND | MS.REC), MS.BIND | MS.REC);
  t.equal(bound.origin, "mounts[5]");
  const netns = withSysfs(spec({}));
  netns.linux!.namespaces!.push({ type: "network" });
  t.equal(sysOp(netns)!.strs![2], "sysfs", "with its own network namespace sysfs is mounted");
  t.equal(sysOp(withSysfs(defaultSpec({ rootless: false })))!.strs![2], "sysfs", "no user namespace: mounted");

  const v2: HostFacts = { statKind: () => "dir", cgroupV2: true };
  const cgroupOp = (s: Spec) => compile(s, opts, v2).ops.find((o) => o.op === "MOUNT" && o.strs?.[1] === "/sys/fs/cgroup")!;
  t.same(cgroupOp(spec({})).strs!.slice(0, 2), ["/sys/fs/cgroup", "/sys/fs/cgroup"], "cgroup2 host, user namespace without a cgroup namespace: bound");
  const cgns = spec({});
  cgns.linux!.namespaces!.push({ type: "cgroup" });
  t.equal(cgroupOp(cgns).strs![2], "cgroup2", "with its own cgroup namespace: cgroup2 is mounted");
  t.equal(cgroupOp(defaultSpec({ rootless: false })).strs![2], "cgroup2", "a cgroup mount on a cgroup2 host is cgroup2");
  // spec --rootless binds /sys recursively: the host's cgroup2 is already at /sys/fs/cgroup and the
  // kernel refuses the same filesystem on the same mount point (EBUSY); the init binds instead
  const own = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/user.slice/tsrun-x.scope";
  t.equal(compile(cgns, opts, { ...v2, cgroup2Path: own }).ops.find((o) => o.op === "MOUNT" && o.strs?.[1] === "/sys/fs/cgroup")!.strs![4], own, "the fallback: the container's own cgroup directory, what its cgroup2 would show");
  t.equal(cgroupOp(cgns).strs![4], "/sys/fs/cgroup", "without a known directory: the host's whole cgroup2");
  t.equal(compile(defaultSpec({ rootless: false }), opts, { ...v2, cgroup2Path: own }).ops.find((o) => o.op === "MOUNT" && o.strs?.[1] === "/sys/fs/cgroup")!.strs![4], "/sys/fs/cgroup", "no cgroup namespace: the host's whole cgroup2, as runc");

  const s = spec({});
  t.ok(compile(s, opts, facts).ops.some((o) => o.op === "SETGROUPS"));
  t.notOk(compile(s, { ...opts, setgroupsDenied: true }, facts).ops.some((o) => o.op === "SETGROUPS"), "no setgroups where it is denied");
  const devices = compile(s, opts, facts).ops.filter((o) => o.origin === "default devices");
  t.notOk(devices.some((o) => o.op === "MKNOD_IN_ROOT"), "no mknod: devices are bound");
  t.ok(devices.some((o) => o.op === "MOUNT" && o.strs?.[0] === "/dev/null"));
  // tsrun itself in a user namespace (rootless Podman runs it as uid 0 of its own), no new one: mknod is refused there too
  const inside = compile(defaultSpec({ rootless: false }), opts, { ...facts, inUserNamespace: true }).ops.filter((o) => o.origin === "default devices");
  t.notOk(inside.some((o) => o.op === "MKNOD_IN_ROOT"), "inside a user namespace: no mknod either");
  t.ok(inside.some((o) => o.op === "MOUNT" && o.strs?.[0] === "/dev/null"), "the host's devices are bound");
});
