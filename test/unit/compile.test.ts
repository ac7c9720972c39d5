import t from "tap";
import { compile, Step, type HostFacts, type PlanOptions } from "../../src/plan/compile.js";
import { CLONE, MS } from "../../src/plan/constants.js";
import { formatProgram } from "../../src/plan/format.js";
import { MOUNT_ATTR } from "../../src/plan/mount-options.js";
import { MountTarget, type Op } from "../../src/plan/ops.js";
import type { Spec } from "../../src/spec/types.js";

const host: HostFacts = {
  statKind: (p) => (p.endsWith(".txt") ? "file" : p.includes("missing") ? "missing" : "dir"),
  cgroupPaths: { memory: "/sys/fs/cgroup/memory/tsrun/x", pids: "/sys/fs/cgroup/pids/tsrun/x" },
};
const opts: PlanOptions = { bundle: "/b", rootfs: "/b/rootfs", fifoPath: "/run/tsrun/x/exec.fifo" };

function baseSpec(): Spec {
  return {
    ociVersion: "1.2.0",
    process: {
      cwd: "/",
      args: ["sh", "-c", "true"],
      env: ["PATH=/bin:/usr/bin", "TERM=xterm"],
      user: { uid: 0, gid: 0 },
      capabilities: { bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"], ambient: ["CAP_KILL"] },
      rlimits: [{ type: "RLIMIT_NOFILE", soft: 1024, hard: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "box",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
      { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
    ],
    linux: {
      namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }],
      maskedPaths: ["/proc/kcore"],
      readonlyPaths: ["/proc/sys"],
    },
  };
}

const names = (ops: Op[]) => ops.map((o) => o.op);
const find = (ops: Op[], op: string) => ops.filter((o) => o.op === op);

t.test("runc's default config compiles to the expected program", async (t) => {
  const p = compile(baseSpec(), opts, host);
  t.matchSnapshot(formatProgram(p), "plan listing");
  const n = names(p.ops);
  t.equal(n[0], "OPEN_FIFO", "the fifo is opened in tsrun's mount namespace");
  t.equal(n.at(-1), "EXEC");
  t.ok(n.indexOf("CLONE") < n.indexOf("WAIT_GO"));
  t.ok(n.indexOf("PIVOT_ROOT") > n.lastIndexOf("MKNOD_IN_ROOT"), "devices are made before pivot_root");
  t.ok(n.indexOf("MASK_PATH") > n.indexOf("PIVOT_ROOT"), "masks apply inside the new root");
  t.ok(n.indexOf("READY") < n.indexOf("WAIT_FIFO") && n.indexOf("WAIT_FIFO") < n.indexOf("EXEC"));
  const clone = find(p.ops, "CLONE")[0];
  t.equal(clone.ints![0], CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWIPC | CLONE.NEWUTS | CLONE.NEWNS);
  t.same(find(p.ops, "MKNOD_IN_ROOT").map((o) => o.strs![0]), ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"]);
  t.equal(find(p.ops, "SYMLINK_IN_ROOT").find((o) => o.strs![1] === "/dev/ptmx")?.strs![0], "pts/ptmx");
  const devpts = p.ops.find((o) => o.origin === "mounts[2]")!;
  t.equal(devpts.strs![3], "newinstance,ptmxmode=0666,mode=0620,gid=5", "fs options become mount data");
  t.equal(devpts.ints![0], MS.NOSUID | MS.NOEXEC);
  const last = find(p.ops, "MOUNT").at(-1)!;
  t.equal(last.origin, "root.readonly");
  t.equal(last.ints![3], MS.RDONLY);
});

t.test("cgroup v1 mount binds the container's own hierarchies read-only", async (t) => {
  const p = compile(baseSpec(), opts, host);
  const cg = p.ops.filter((o) => o.origin === "mounts[3]");
  t.same(cg.map((o) => o.what), [
    "mount tmpfs on /sys/fs/cgroup",
    "bind cgroup memory on /sys/fs/cgroup/memory",
    "bind cgroup pids on /sys/fs/cgroup/pids",
    "remount /sys/fs/cgroup read-only",
  ]);
  t.equal(cg[1].strs![0], "/sys/fs/cgroup/memory/tsrun/x");
  t.ok((cg[1].ints![3] as number) & MS.RDONLY);
});

t.test("process settings", async (t) => {
  const p = compile(baseSpec(), opts, host);
  t.same(find(p.ops, "SETRLIMIT")[0].ints, [7, 1024n, 1024n]);
  t.same(find(p.ops, "CAPSET")[0].ints, [1n << 5n, 1n << 5n, 0n], "CAP_KILL is bit 5");
  t.same(find(p.ops, "CAPBSET")[0].ints, [1n << 5n]);
  t.equal(find(p.ops, "AMBIENT").length, 0, "ambient caps that are not inheritable are not raised");
  t.equal(find(p.ops, "NO_NEW_PRIVS").length, 1);
  t.same(find(p.ops, "FIND_EXEC")[0].strs, ["sh", "/bin:/usr/bin"], "executable looked up on the process's PATH");
  t.equal(find(p.ops, "UMASK").length, 0, "no umask set: the caller's stays");
  const exec = find(p.ops, "EXEC")[0];
  t.same(exec.ints, [3, 2]);
  t.equal(exec.strs![0].toString(), "sh\0-c\0true\0");

  const s = baseSpec();
  s.process!.rlimits = [{ type: "RLIMIT_CORE", soft: 18446744073709551615, hard: 18446744073709551615 }];
  s.process!.capabilities!.inheritable = ["CAP_KILL"];
  s.process!.user = { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o077 };
  const q = compile(s, { ...opts, preservedFds: 2, extraEnv: ["LISTEN_FDS=2", "LISTEN_PID=1"] }, host);
  t.same(find(q.ops, "SETRLIMIT")[0].ints, [4, (1n << 64n) - 1n, (1n << 64n) - 1n], "unlimited is RLIM_INFINITY");
  t.same(find(q.ops, "AMBIENT")[0].ints, [1n << 5n]);
  t.same(find(q.ops, "CLOSE_FDS")[0].ints, [5], "stdio + 2 preserved fds stay open");
  t.match(find(q.ops, "EXEC")[0].strs![1].toString(), /LISTEN_FDS=2\0LISTEN_PID=1\0$/);
  const groups = find(q.ops, "SETGROUPS")[0].strs![0] as Buffer;
  t.same([groups.readUInt32LE(0), groups.readUInt32LE(4)], [10, 20]);
  t.same(find(q.ops, "UMASK")[0].ints, [0o077]);
  const n = names(q.ops);
  t.ok(n.indexOf("KEEPCAPS") < n.indexOf("SETRESUID") && n.indexOf("SETRESUID") < n.indexOf("CAPSET"), "caps survive the uid change");
});

t.test("namespaces", async (t) => {
  const s = baseSpec();
  s.linux!.namespaces = [
    { type: "pid" }, { type: "mount" }, { type: "cgroup" }, { type: "time" },
    { type: "network", path: "/proc/1/ns/net" }, { type: "user", path: "/proc/1/ns/user" },
  ];
  s.linux!.timeOffsets = { monotonic: { secs: 100, nanosecs: 5 } };
  const p = compile(s, opts, host);
  const n = names(p.ops);
  const setns = find(p.ops, "SETNS");
  t.same(setns.map((o) => o.strs![0]), ["/proc/1/ns/user", "/proc/1/ns/net"], "the user namespace is joined first");
  t.ok(n.indexOf("SETNS") > n.indexOf("OPEN_FIFO"), "the fifo is opened before joining a mount namespace");
  t.ok(n.lastIndexOf("SETNS") < n.indexOf("CLONE"));
  const unshares = find(p.ops, "UNSHARE");
  t.equal(unshares[0].ints![0], CLONE.NEWTIME);
  t.ok(n.indexOf("UNSHARE") < n.indexOf("CLONE"), "time namespace: children of stage 0");
  t.same(find(p.ops, "WRITE_FILE")[0].strs, ["self/timens_offsets", "monotonic 100 5\n"], "through the init's own procfs");
  t.equal(unshares[1].ints![0], CLONE.NEWCGROUP);
  t.ok(p.ops.indexOf(unshares[1]) > n.indexOf("WAIT_GO"), "cgroup namespace after the init joined its cgroup");
  t.equal(find(p.ops, "CLONE")[0].ints![0], CLONE.NEWPID | CLONE.NEWNS);
});

t.test("user namespace: root in the namespace, devices bound from the host", async (t) => {
  const s = baseSpec();
  s.linux!.namespaces!.push({ type: "user" });
  s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const p = compile(s, opts, host);
  const n = names(p.ops);
  t.same(n.slice(n.indexOf("WAIT_GO") + 1, n.indexOf("WAIT_GO") + 3), ["SETRESGID", "SETRESUID"]);
  t.equal(find(p.ops, "MKNOD_IN_ROOT").length, 0, "no mknod in a user namespace");
  const null_ = p.ops.find((o) => o.what === "bind host /dev/null")!;
  t.same(null_.ints!.slice(0, 2), [MS.BIND, MountTarget.FILE]);
});

t.test("mounts", async (t) => {
  const s = baseSpec();
  s.mounts = [
    { destination: "/data", source: "data", options: ["rbind", "ro", "rprivate"] },
    { destination: "/etc/x.txt", source: "/host/x.txt", type: "bind", options: ["nosuid"] },
    { destination: "/dev", source: "/dev", options: ["rbind"] },
  ];
  const p = compile(s, { ...opts, noPivot: true }, host);
  const [data, file] = p.ops.filter((o) => o.origin.startsWith("mounts["));
  t.same(data.strs!.slice(0, 2), ["/b/data", "/data"], "relative sources are relative to the bundle");
  t.same(data.ints, [MS.BIND | MS.REC, MountTarget.DIR, MS.PRIVATE | MS.REC, MS.RDONLY, 0, 0]);
  t.same(file.ints, [MS.BIND, MountTarget.FILE, 0, MS.NOSUID, 0, 0], "a file source gets a file target");
  t.equal(find(p.ops, "MKNOD_IN_ROOT").length, 0, "a bound /dev gets no default devices");
  t.ok(names(p.ops).includes("MOVE_ROOT") && !names(p.ops).includes("PIVOT_ROOT"), "--no-pivot");
});

t.test("recursive mount attributes and rootfs propagation", async (t) => {
  const s = baseSpec();
  s.mounts = [{ destination: "/data", source: "/srv", options: ["rbind", "rro", "rnosuid"] }];
  s.linux!.rootfsPropagation = "shared";
  const p = compile(s, opts, host);
  const data = p.ops.find((o) => o.origin === "mounts[0]")!;
  t.same(data.ints!.slice(4), [MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID, 0], "rro, rnosuid: mount_setattr on the whole tree");
  const props = p.ops.filter((o) => o.origin === "linux.rootfsPropagation");
  t.same(props[0].ints!.slice(0, 1), [MS.REC | MS.PRIVATE], "/ is private, never shared with the host, before pivot_root");
  t.same(props[1].ints!.slice(0, 1), [MS.SHARED], "shared only after pivot_root");
  t.ok(p.ops.indexOf(props[1]) > p.ops.findIndex((o) => o.op === "PIVOT_ROOT"));
});

t.test("hooks: a sync point before pivot_root, startContainer hooks in the init after the fifo", async (t) => {
  const s = baseSpec();
  s.hooks = { createRuntime: [{ path: "/bin/a" }], startContainer: [{ path: "/bin/b", args: ["b", "x"], timeout: 5 }] };
  const p = compile(s, opts, host);
  const n = names(p.ops);
  const hooksPoint = p.ops.findIndex((o) => o.op === "REPORT" && o.ints![0] === Step.CREATE_HOOKS);
  t.ok(hooksPoint > 0 && hooksPoint < n.indexOf("PIVOT_ROOT") && n[hooksPoint + 1] === "WAIT_ACK");
  const hook = find(p.ops, "HOOK")[0];
  t.equal(hook.origin, "hooks.startContainer[0]");
  t.same(hook.ints, [2, 0, 5]);
  t.ok(p.ops.indexOf(hook) > n.indexOf("WAIT_FIFO") && p.ops.indexOf(hook) < n.indexOf("EXEC"));
  const none = compile(baseSpec(), opts, host);
  t.notOk(none.ops.some((o) => o.op === "REPORT" && o.ints![0] === Step.CREATE_HOOKS), "no hooks, no sync point");
  const devices = none.ops.findIndex((o) => o.op === "REPORT" && o.ints![0] === Step.DEVICE_RULES);
  t.ok(devices > names(none.ops).lastIndexOf("MKNOD_IN_ROOT") && devices < names(none.ops).indexOf("PIVOT_ROOT"), "device rules once the nodes exist");
});

t.test("no mount namespace: no rootfs setup", async (t) => {
  const s = baseSpec();
  s.linux!.namespaces = [{ type: "pid" }];
  const p = compile(s, opts, host);
  t.notOk(names(p.ops).some((n) => n === "PIVOT_ROOT" || n === "MOUNT" || n === "MKNOD_IN_ROOT"));
});

t.test("scheduler and ioPriority: applied before capabilities drop", async (t) => {
  const s = baseSpec();
  s.process!.scheduler = { policy: "SCHED_RR", priority: 10, flags: ["SCHED_FLAG_RESET_ON_FORK"] };
  s.process!.ioPriority = { class: "IOPRIO_CLASS_IDLE", priority: 3 };
  const p = compile(s, opts, host);
  const sched = find(p.ops, "SCHED_SETATTR")[0];
  t.same(sched.ints, [2, 1, 0, 10, 0n, 0n, 0n], "policy 2 (RR), flags, nice, priority, runtime, deadline, period");
  t.equal(sched.origin, "process.scheduler");
  t.same(find(p.ops, "IOPRIO")[0].ints, [(3 << 13) | 3]);
  const n = names(p.ops);
  t.ok(n.indexOf("SCHED_SETATTR") < n.indexOf("CAPSET") && n.indexOf("IOPRIO") < n.indexOf("CAPSET"));
  s.process!.scheduler = { policy: "SCHED_OTHER", nice: -5 };
  t.same(find(compile(s, opts, host).ops, "SCHED_SETATTR")[0].ints!.slice(0, 3), [0, 0, -5], "negative nice survives");
  t.equal(find(compile(baseSpec(), opts, host).ops, "SCHED_SETATTR").length, 0, "nothing asked, nothing set");
});

t.test("seccomp placement: early without no_new_privs, last with it, before READY with a listener", async (t) => {
  const bpf = Buffer.alloc(16);
  const order = (nnp: boolean, listener: boolean) => {
    const s = baseSpec();
    s.process!.noNewPrivileges = nnp;
    const ops = compile(s, { ...opts, seccomp: { bpf, flags: listener ? 8 : 0, listener } }, host).ops;
    const n = names(ops);
    return { n, at: n.indexOf("SECCOMP"), seccomp: find(ops, "SECCOMP")[0] };
  };
  const early = order(false, false);
  t.ok(early.at < early.n.indexOf("CAPSET"), "without no_new_privs: while capabilities are still held");
  const late = order(true, false);
  t.equal(late.at, late.n.indexOf("EXEC") - 1, "with no_new_privs: right before execve");
  t.same(late.seccomp.ints, [0, 0], "no listener to pass on");
  const notify = order(true, true);
  t.ok(notify.at > notify.n.indexOf("NO_NEW_PRIVS") && notify.at < notify.n.indexOf("READY"), "a listener is passed while tsrun listens");
  t.same(notify.seccomp.ints, [8, Step.SECCOMP_LISTENER]);
  const notifyEarly = order(false, true);
  t.ok(notifyEarly.at < notifyEarly.n.indexOf("CAPSET"));
});

t.test("LSM labels: written for the next execve only where the host runs the LSM", async (t) => {
  const s = baseSpec();
  s.process!.apparmorProfile = "docker-default";
  s.process!.selinuxLabel = "system_u:system_r:container_t:s0";
  t.equal(find(compile(s, opts, host).ops, "PROC_ATTR").length, 0, "lifecycle refuses before compile when the LSM is off");
  const ops = compile(s, { ...opts, lsm: { apparmorAttr: "apparmor/exec", selinux: true } }, host).ops;
  t.same(find(ops, "PROC_ATTR").map((o) => o.strs), [["apparmor/exec", "exec docker-default"], ["exec", "system_u:system_r:container_t:s0"]]);
  const n = names(ops);
  t.ok(n.indexOf("PROC_ATTR") > n.indexOf("PIVOT_ROOT") && n.indexOf("PROC_ATTR") < n.indexOf("CAPSET"), "inside the container's /proc, with privileges");
});

t.test("tmpcopyup: only a tmpfs copies what its target held", async (t) => {
  const s = baseSpec();
  s.mounts = [
    { destination: "/data", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "ro"] },
    { destination: "/plain", type: "tmpfs", source: "tmpfs", options: ["mode=755"] },
    { destination: "/other", type: "bind", source: "/srv", options: ["rbind", "tmpcopyup"] },
  ];
  const ops = compile(s, opts, host).ops;
  const data = ops.find((o) => o.origin === "mounts[0]")!;
  t.same(data.ints!.slice(6), [1]);
  t.equal(data.strs![3], "", "tmpcopyup is not passed to the filesystem");
  t.notOk((data.ints![0] as number) & MS.RDONLY, "the tmpfs is mounted writable for the copy");
  t.equal(data.ints![3], MS.RDONLY, "ro stays asked for: a remount after the copy");
  t.equal(ops.find((o) => o.origin === "mounts[1]")!.ints!.length, 6, "no copy without the option");
  t.equal(ops.find((o) => o.origin === "mounts[2]")!.ints!.length, 6, "a bind has nothing to copy into");
});

t.test("idmapped binds: the init moves the mount tsrun made into place", async (t) => {
  const s = baseSpec();
  const map = [{ containerID: 0, hostID: 1000, size: 1 }];
  s.mounts = [{ destination: "/data", type: "bind", source: "/srv", options: ["rbind", "idmap", "rshared"], uidMappings: map, gidMappings: map }];
  const ops = compile(s, { ...opts, idmappedMountFds: { 0: 7 } }, host).ops.filter((o) => o.origin === "mounts[0]");
  t.same(ops.map((o) => o.op), ["MOUNT_FD", "MOUNT"]);
  t.same(ops[0].ints, [7, MountTarget.DIR]);
  t.equal(ops[0].strs![0], "/data");
  t.equal(ops[1].ints![2], MS.SHARED | MS.REC, "propagation still applies after the move");
});

t.test("mountAttrOf: a bind's per-mount flags as mount_setattr bits", async (t) => {
  const { mountAttrOf } = await import("../../src/plan/mount-options.js");
  t.equal(mountAttrOf(MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC), MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV | MOUNT_ATTR.NOEXEC);
  t.equal(mountAttrOf(MS.NOATIME), MOUNT_ATTR.NOATIME);
  t.equal(mountAttrOf(MS.BIND | MS.REC), 0);
});
