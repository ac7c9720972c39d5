// The plan's side of issue 19's items 7, 9, 14 and 19: what the init is told about /proc, /sys,
// writes under /proc and mount propagation (the init's side is in test/integration/hardening-proc
// and propagation tests).
import t from "tap";
import { compile, type HostFacts, type PlanOptions } from "../../src/plan/compile.js";
import { MS, normalDestination } from "../../src/plan/constants.js";
import { MOUNT_IN_PROC_OK, MountTarget, WRITE_IN_PROC, type Op } from "../../src/plan/ops.js";
import type { Spec } from "../../src/spec/types.js";

const host: HostFacts = { statKind: (p) => (p.endsWith(".txt") ? "file" : "dir"), mountPointOf: () => "/b" };
const opts: PlanOptions = { bundle: "/b", rootfs: "/b/rootfs" };

function spec(edit: (s: Spec) => void = () => {}): Spec {
  const s: Spec = {
    ociVersion: "1.2.0",
    process: { cwd: "/", args: ["true"], user: { uid: 0, gid: 0 } },
    root: { path: "rootfs" },
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/sys", type: "sysfs", source: "sysfs" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs" },
    ],
    linux: { namespaces: [{ type: "pid" }, { type: "network" }, { type: "mount" }] },
  };
  edit(s);
  return s;
}
const mountsOf = (ops: Op[], origin: string) => ops.filter((o) => o.origin === origin);

t.test("destinations are judged by the path they spell", async (t) => {
  for (const d of ["/x/../proc", "//proc", "/proc/.", "/proc/", "proc", "/../proc"]) t.equal(normalDestination(d), "/proc", d);
  t.equal(normalDestination("/"), "/");
  t.equal(normalDestination("/proc/./cpuinfo"), "/proc/cpuinfo");
});

t.test("procfs and sysfs go on an ordinary directory; others may follow links inside the root", async (t) => {
  const p = compile(spec(), opts, host);
  t.equal(mountsOf(p.ops, "mounts[0]")[0].ints![1], MountTarget.DIR_NOFOLLOW, "proc");
  t.equal(mountsOf(p.ops, "mounts[1]")[0].ints![1], MountTarget.DIR_NOFOLLOW, "sysfs");
  t.equal(mountsOf(p.ops, "mounts[2]")[0].ints![1], MountTarget.DIR, "tmpfs");
  // rootless: sysfs becomes a bind of the host's /sys, still on an ordinary directory
  const rootless = compile(spec((s) => s.linux!.namespaces!.splice(1, 1, { type: "user" })), opts, host);
  const sys = mountsOf(rootless.ops, "mounts[1]")[0];
  t.match(sys.what, /^bind \/sys on \/sys/);
  t.equal(sys.ints![1], MountTarget.DIR_NOFOLLOW);
});

t.test("only lxcfs-style files may go inside /proc, whatever the spelling", async (t) => {
  const p = compile(spec((s) => {
    s.mounts!.push({ destination: "/proc/./uptime", type: "bind", source: "/lxcfs/uptime.txt", options: ["bind"] });
    s.mounts!.push({ destination: "/data", type: "bind", source: "/vol", options: ["rbind"] });
  }), opts, host);
  t.equal(mountsOf(p.ops, "mounts[3]")[0].ints![7], MOUNT_IN_PROC_OK, "/proc/uptime may be inside /proc");
  t.equal(mountsOf(p.ops, "mounts[4]")[0].ints![7], undefined, "a volume may not (the init refuses it if a symlink leads it there)");
});

t.test("sysctls, oom_score_adj and time offsets are written through the init's own procfs", async (t) => {
  const p = compile(spec((s) => {
    s.linux!.sysctl = { "net.ipv4.ip_default_ttl": "77" };
    s.process!.oomScoreAdj = 5;
  }), opts, host);
  const writes = p.ops.filter((o) => o.op === "WRITE_FILE");
  t.same(writes.map((o) => [o.strs![0], o.ints]), [["self/oom_score_adj", [WRITE_IN_PROC]], ["sys/net/ipv4/ip_default_ttl", [WRITE_IN_PROC]]]);
  t.ok(p.ops.indexOf(writes[0]) < p.ops.findIndex((o) => o.op === "CLONE"), "oom_score_adj before any namespace (the init inherits it)");
});

t.test("rshared keeps the host's peer groups; only the mount holding the rootfs turns private", async (t) => {
  const props = (ops: Op[]) => ops.filter((o) => o.origin === "linux.rootfsPropagation").map((o) => [o.strs![1], o.ints![0]]);
  const shared = compile(spec((s) => (s.linux!.rootfsPropagation = "rshared")), opts, { ...host, mountPointOf: () => "/var/lib" });
  t.same(props(shared.ops), [
    ["/", MS.REC | MS.SHARED],
    ["/var/lib", MS.PRIVATE],
    ["/", MS.PRIVATE],
    ["/", MS.REC | MS.SHARED],
  ], "/ stays shared, /var/lib goes private before the rootfs bind, / private only for pivot_root, then / (the rootfs) rshared");
  const names = shared.ops.map((o) => o.what);
  t.ok(names.indexOf("make /var/lib (holding the rootfs) private") < names.indexOf("bind /b/rootfs onto itself"));
  const onRoot = compile(spec((s) => (s.linux!.rootfsPropagation = "rshared")), opts, { ...host, mountPointOf: () => "/" });
  t.same(props(onRoot.ops), [["/", MS.REC | MS.SHARED], ["/", MS.PRIVATE], ["/", MS.REC | MS.SHARED]]);
  const slave = compile(spec((s) => (s.linux!.rootfsPropagation = "rslave")), opts, host);
  t.same(props(slave.ops), [["/", MS.REC | MS.SLAVE]], "rslave as before");
  const noPivot = compile(spec((s) => (s.linux!.rootfsPropagation = "rshared")), { ...opts, noPivot: true }, host);
  t.same(props(noPivot.ops), [["/", MS.REC | MS.PRIVATE], ["/", MS.REC | MS.SHARED]], "--no-pivot: private first, as before (the old root stays below)");
});
