// config-linux.md (and runtime-linux.md): default filesystems, namespaces,
// id mappings, devices, default devices, /dev symlinks, cgroups, sysctl,
// seccomp, rootfsPropagation, masked and readonly paths, mount label,
// personality.
import t from "tap";
import { spawn } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  Env,
  cgroupV1Controller,
  dev,
  device,
  fileText,
  host,
  mountAt,
  nsLink,
  waitFor,
  type OciConfig,
  type ProbeReport,
} from "./lib.js";

const env = new Env("linux");
t.teardown(() => env.cleanup());

function action(r: ProbeReport | null, op: string, path: string) {
  return r?.actions.find((a) => a.op === op && a.path === path);
}

function withNamespaces(c: OciConfig, f: (ns: { type: string; path?: string }[]) => { type: string; path?: string }[]): void {
  c.linux!.namespaces = f(c.linux!.namespaces ?? []);
}

/** A long-running container whose namespaces others can join. */
function holder(mutate?: (c: OciConfig) => void): { id: string; pid: number } {
  const b = env.bundle({ args: ["/probe", "-n", "pause"], mutate });
  const id = env.id("holder");
  env.create(b, id);
  env.start(id);
  return { id, pid: env.state(id)?.pid ?? -1 };
}

// ---------------------------------------------------------------- default filesystems

t.test("config-linux.md#default-filesystems: proc, sysfs, devpts and tmpfs are available", (t) => {
  const { report } = env.probe([]);
  t.equal(mountAt(report!, "/proc")?.fstype, "proc", "/proc is proc");
  t.equal(mountAt(report!, "/sys")?.fstype, "sysfs", "/sys is sysfs");
  t.equal(mountAt(report!, "/dev/pts")?.fstype, "devpts", "/dev/pts is devpts");
  t.equal(mountAt(report!, "/dev/shm")?.fstype, "tmpfs", "/dev/shm is tmpfs");
  t.end();
});

// ---------------------------------------------------------------- namespaces

const nsKinds: [string, string][] = [
  ["pid", "pid"],
  ["network", "net"],
  ["ipc", "ipc"],
  ["uts", "uts"],
  ["mount", "mnt"],
  ["cgroup", "cgroup"],
];
t.test("config-linux.md#namespaces: a namespace without path is a new namespace", (t) => {
  const { report } = env.probe([], (c) => withNamespaces(c, () => nsKinds.map(([type]) => ({ type }))));
  for (const [type, link] of nsKinds) t.not(report?.ns[link], nsLink("self", link), `${type}: new namespace`);
  t.equal(report?.pid, 1, "pid: the process is pid 1 of the new pid namespace");
  t.ok(report?.cgroup.every((c) => c.path === "/"), "cgroup: the process sees itself at the root of its cgroups");
  t.end();
});

t.test("config-linux.md#namespaces: a type not listed is inherited from the runtime", (t) => {
  const { report } = env.probe([], (c) => {
    withNamespaces(c, () => [{ type: "mount" }]);
    delete c.hostname;
  });
  for (const [type, link] of [["pid", "pid"], ["network", "net"], ["ipc", "ipc"], ["uts", "uts"], ["cgroup", "cgroup"]]) {
    t.equal(report?.ns[link], nsLink("self", link), `${type}: the runtime's namespace`);
  }
  t.not(report?.pid, 1, "the process is not pid 1 in the host pid namespace");
  t.end();
});

t.test("config-linux.md#namespaces: path joins an existing namespace (another container's)", (t) => {
  const h = holder();
  const kinds: [string, string][] = [["pid", "pid"], ["network", "net"], ["ipc", "ipc"], ["uts", "uts"]];
  const { res, report } = env.probe([], (c) => {
    delete c.hostname;
    withNamespaces(c, (ns) => [
      ...ns.filter((n) => !kinds.some(([k]) => k === n.type)),
      ...kinds.map(([type, link]) => ({ type, path: `/proc/${h.pid}/ns/${link}` })),
    ]);
  });
  t.equal(res.status, 0, "run succeeds", { stderr: res.stderr });
  for (const [type, link] of kinds) t.equal(report?.ns[link], nsLink(h.pid, link), `${type}: same namespace as the holder`);
  t.not(report?.pid, 1, "joining a pid namespace with an init makes the process a non-init member");
  env.delete(h.id, true);
  t.end();
});

t.test("config-linux.md#namespaces: path joins a namespace created outside any runtime", (t) => {
  const child = spawn("unshare", ["--net", "--ipc", "--uts", "sleep", "600"], { stdio: "ignore", detached: false });
  env.onCleanup(() => child.kill("SIGKILL"));
  const pid = child.pid!;
  waitFor(() => nsLink(pid, "net") !== nsLink("self", "net"), 3000);
  const { report } = env.probe([], (c) => {
    delete c.hostname;
    withNamespaces(c, (ns) => ns.map((n) => (n.type === "network" ? { type: "network", path: `/proc/${pid}/ns/net` } : n.type === "ipc" ? { type: "ipc", path: `/proc/${pid}/ns/ipc` } : n)));
  });
  t.equal(report?.ns.net, nsLink(pid, "net"), "network namespace joined by path");
  t.equal(report?.ns.ipc, nsLink(pid, "ipc"), "ipc namespace joined by path");
  child.kill("SIGKILL");
  t.end();
});

t.test("config-linux.md#namespaces: a path not associated with a namespace of that type is an error", (t) => {
  const { res } = env.probe([], (c) =>
    withNamespaces(c, (ns) => ns.map((n) => (n.type === "ipc" ? { type: "ipc", path: "/proc/self/ns/net" } : n))),
  );
  t.not(res.status, 0, "ipc namespace given a network namespace path is an error");
  const notNs = env.dir("notns");
  writeFileSync(join(notNs, "file"), "");
  const { res: res2 } = env.probe([], (c) =>
    withNamespaces(c, (ns) => ns.map((n) => (n.type === "network" ? { type: "network", path: join(notNs, "file") } : n))),
  );
  t.not(res2.status, 0, "a regular file as namespace path is an error");
  t.end();
});

t.test("config-linux.md#namespaces: duplicated namespace types are an error", (t) => {
  const { res } = env.probe([], (c) => withNamespaces(c, (ns) => [...ns, { type: "network" }]));
  t.not(res.status, 0, "two network entries are an error");
  t.end();
});

t.test("config-linux.md#namespaces: time namespace", { skip: host.timens ? false : "kernel without time namespaces" }, (t) => {
  const { res, report } = env.probe([], (c) => {
    withNamespaces(c, (ns) => [...ns, { type: "time" }]);
    c.linux!.timeOffsets = { monotonic: { secs: 86400, nanosecs: 0 }, boottime: { secs: 172800, nanosecs: 0 } };
  });
  t.equal(res.status, 0, "run succeeds", dev("timeNamespace"));
  t.ok(report && report.ns.time !== nsLink("self", "time"), "the process is in a new time namespace", dev("timeNamespace"));
  const up = Number((fileText("/proc/uptime") ?? "0").split(" ")[0]);
  const clocks = (report as unknown as { clocks?: { monotonic: number; boottime: number } } | null)?.clocks;
  t.ok(clocks && Math.abs(clocks.monotonic - up - 86400) < 60, "CLOCK_MONOTONIC is offset by timeOffsets.monotonic", dev("timeNamespace"));
  t.ok(clocks && clocks.boottime - up > 172800 - 60, "CLOCK_BOOTTIME is offset by timeOffsets.boottime", dev("timeNamespace"));
  t.end();
});

// ---------------------------------------------------------------- user namespace mappings

t.test("config-linux.md#user-namespace-mappings: uidMappings and gidMappings", { skip: host.userns ? false : "user namespaces disabled" }, (t) => {
  const { res, report, bundle } = env.probe([], (c) => {
    withNamespaces(c, (ns) => [...ns, { type: "user" }]);
    c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    // cgroup v1 hierarchies cannot be mounted from a user namespace.
    c.mounts = c.mounts!.filter((m) => m.type !== "cgroup");
  });
  t.equal(res.status, 0, "run succeeds", { stderr: res.stderr });
  t.not(report?.ns.user, nsLink("self", "user"), "a new user namespace");
  t.same(report?.uid_map, [[0, 100000, 65536]], "uid_map is uidMappings");
  t.same(report?.gid_map, [[0, 200000, 65536]], "gid_map is gidMappings");
  t.equal(report?.uid, 0, "uid 0 in the container");
  t.equal(report?.gid, 0, "gid 0 in the container");
  const st = statSync(join(bundle.rootfs, "probe"));
  t.equal(st.uid, 0, "the rootfs ownership is not modified (SHOULD NOT)");
  t.equal(statSync(join(bundle.rootfs, "etc")).uid, 0, "the rootfs directories keep their owner");
  t.end();
});

t.test("config-linux.md#user-namespace-mappings: several mapping entries", { skip: host.userns ? false : "user namespaces disabled" }, (t) => {
  const uid = [
    { containerID: 0, hostID: 300000, size: 1000 },
    { containerID: 1000, hostID: 301000, size: 1 },
  ];
  const { report } = env.probe([], (c) => {
    withNamespaces(c, (ns) => [...ns, { type: "user" }]);
    c.linux!.uidMappings = uid;
    c.linux!.gidMappings = uid;
    c.process!.user = { uid: 1000, gid: 1000 };
    c.mounts = c.mounts!.filter((m) => m.type !== "cgroup");
  });
  t.same(report?.uid_map, [[0, 300000, 1000], [1000, 301000, 1]], "uid_map has both entries");
  t.equal(report?.uid, 1000, "the process runs as container uid 1000");
  t.end();
});

// ---------------------------------------------------------------- devices

t.test("config-linux.md#devices: devices are created with type, numbers, mode and owner", (t) => {
  const devices = [
    { path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
    { path: "/dev/conf-null", type: "c", major: 1, minor: 3, fileMode: 0o640, uid: 1000, gid: 1001 },
    { path: "/dev/conf-unbuffered", type: "u", major: 1, minor: 7, fileMode: 0o600 },
    { path: "/dev/conf-loop", type: "b", major: 7, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
    { path: "/dev/conf-fifo", type: "p", fileMode: 0o620 },
    { path: "/mnt/outside-dev", type: "c", major: 1, minor: 5, fileMode: 0o644 },
  ];
  const stats = devices.flatMap((d) => ["stat", d.path]);
  const { res, report } = env.probe(stats, (c) => (c.linux!.devices = devices));
  t.equal(res.status, 0, "run succeeds", { stderr: res.stderr });
  for (const d of devices) {
    const s = action(report, "stat", d.path);
    const wantType = d.type === "u" ? "c" : d.type === "p" ? "p" : d.type;
    t.equal(s?.type, wantType, `${d.path}: type ${d.type}`);
    if (d.type !== "p") t.same([s?.major, s?.minor], [d.major, d.minor], `${d.path}: ${d.major}:${d.minor}`);
    t.equal(s?.mode, d.fileMode, `${d.path}: fileMode ${d.fileMode.toString(8)}`);
    if (d.uid !== undefined) t.same([s?.uid, s?.gid], [d.uid, d.gid], `${d.path}: owner ${d.uid}:${d.gid}`);
  }
  t.end();
});

t.test("config-linux.md#devices: a listed device is available (can be opened)", { skip: host.fuse ? false : "no /dev/fuse on this host" }, (t) => {
  // No resources.devices: nothing in the configuration restricts device access.
  const { report } = env.probe(["write", "/dev/fuse", "write", "/dev/conf-null"], (c) => {
    delete c.linux!.resources;
    c.linux!.devices = [
      { path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 0o666 },
      { path: "/dev/conf-null", type: "c", major: 1, minor: 3, fileMode: 0o666 },
    ];
  });
  t.equal(action(report, "write", "/dev/fuse")?.ok, true, "/dev/fuse opens for writing", dev("listedDeviceAccess"));
  t.equal(action(report, "write", "/dev/conf-null")?.ok, true, "/dev/conf-null (1:3) opens for writing");
  t.end();
});

t.test("config-linux.md#devices: an existing file at path that does not match is an error", (t) => {
  const { res } = env.probe([], (c) => (c.linux!.devices = [{ path: "/etc/hostname", type: "c", major: 1, minor: 3 }]));
  t.not(res.status, 0, "a regular file at the device path is an error", dev("deviceExists"));
  t.end();
});

const defaultDevices: [string, number, number][] = [
  ["/dev/null", 1, 3],
  ["/dev/zero", 1, 5],
  ["/dev/full", 1, 7],
  ["/dev/random", 1, 8],
  ["/dev/urandom", 1, 9],
  ["/dev/tty", 5, 0],
];
t.test("config-linux.md#default-devices: the runtime supplies the default devices", (t) => {
  const { report } = env.probe(["write", "/dev/null", "read", "/dev/null", "put", "/dev/full", "x", "stat", "/dev/ptmx"], (c) => {
    c.linux!.devices = [];
  });
  for (const [p, maj, min] of defaultDevices) {
    const d = device(report!, p);
    t.ok(d && d.type === "c" && d.major === maj && d.minor === min, `${p} is a char device ${maj}:${min}`, { found: d });
  }
  const ptmx = device(report!, "/dev/ptmx");
  t.ok(
    ptmx && ((ptmx.type === "l" && (ptmx.target === "pts/ptmx" || ptmx.target === "/dev/pts/ptmx")) || (ptmx.type === "c" && ptmx.major === 5 && ptmx.minor === 2)),
    "/dev/ptmx is a symlink to (or bind mount of) /dev/pts/ptmx",
    { found: ptmx },
  );
  t.equal(action(report, "write", "/dev/null")?.ok, true, "/dev/null can be opened for writing");
  t.equal(action(report, "read", "/dev/null")?.data, "", "/dev/null reads empty");
  t.equal(action(report, "put", "/dev/full")?.errno_name, "ENOSPC", "writing /dev/full gives ENOSPC");
  t.end();
});

t.test("config-linux.md#default-devices: default devices are usable by a non-root user", (t) => {
  const { report } = env.probe(["write", "/dev/null", "write", "/dev/zero", "write", "/dev/urandom"], (c) => (c.process!.user = { uid: 1000, gid: 1000 }));
  for (const p of ["/dev/null", "/dev/zero", "/dev/urandom"]) t.equal(action(report, "write", p)?.ok, true, `${p} is writable (mode 0666)`);
  t.end();
});

t.test("runtime-linux.md#dev-symbolic-links: /dev/fd, /dev/stdin, /dev/stdout, /dev/stderr", (t) => {
  const { report } = env.probe([]);
  for (const [p, target] of [
    ["/dev/fd", "/proc/self/fd"],
    ["/dev/stdin", "/proc/self/fd/0"],
    ["/dev/stdout", "/proc/self/fd/1"],
    ["/dev/stderr", "/proc/self/fd/2"],
  ]) {
    const d = device(report!, p);
    t.ok(d?.type === "l" && d.target === target, `${p} -> ${target}`, { found: d });
  }
  t.end();
});

// ---------------------------------------------------------------- cgroups

const controllers = ["pids", "memory", "cpu", "devices", "freezer"];
t.test("config-linux.md#cgroups-path: an absolute cgroupsPath is relative to the cgroup mount point", { skip: host.cgroupV1 ? false : "no cgroup v1 hierarchies on this host" }, (t) => {
  const cg = env.cgroupPath();
  const b = env.bundle({ args: ["/probe", "--out", "/dev/shm/r", "pause"], mutate: (c) => (c.linux!.cgroupsPath = cg) });
  const id = env.id();
  env.create(b, id);
  const pid = env.state(id)?.pid ?? -1;
  for (const ctl of controllers) {
    const mnt = cgroupV1Controller(ctl);
    if (!mnt) continue;
    const procs = fileText(join(mnt, cg, "cgroup.procs")) ?? "";
    t.ok(procs.split("\n").includes(String(pid)), `${ctl}: the container process is in <mount>${cg}`);
  }
  const own = (fileText(`/proc/${pid}/cgroup`) ?? "").split("\n").filter((l) => /:pids:/.test(l))[0];
  t.equal(own?.split(":")[2], cg, "/proc/<pid>/cgroup shows the configured path");
  env.delete(id, true);
  t.end();
});

t.test("config-linux.md#cgroups-path: the same cgroupsPath gives the same place; missing cgroups are created", { skip: host.cgroupV1 ? false : "no cgroup v1" }, (t) => {
  const cg = `${env.cgroupPath("nested")}/a/b`;
  const seen: string[] = [];
  for (let i = 0; i < 2; i++) {
    const b = env.bundle({ args: ["/probe", "-n", "pause"], mutate: (c) => (c.linux!.cgroupsPath = cg) });
    const id = env.id();
    t.equal(env.create(b, id).status, 0, `container ${i + 1} created with a nested path that does not exist yet`);
    const pid = env.state(id)?.pid ?? -1;
    seen.push((fileText(`/proc/${pid}/cgroup`) ?? "").split("\n").filter((l) => /:pids:/.test(l))[0]?.split(":")[2] ?? "");
    env.delete(id, true);
  }
  t.equal(seen[0], cg, "first container is at the path");
  t.equal(seen[1], seen[0], "second container is at the same place");
  t.end();
});

t.test("config-linux.md#control-groups: resources are applied to the container's cgroup", { skip: host.cgroupV1 ? false : "no cgroup v1" }, (t) => {
  const cg = env.cgroupPath();
  const b = env.bundle({
    args: ["/probe", "-n", "pause"],
    mutate: (c) => {
      c.linux!.cgroupsPath = cg;
      c.linux!.resources = {
        ...(c.linux!.resources ?? {}),
        memory: { limit: 64 * 1024 * 1024 },
        pids: { limit: 123 },
        cpu: { shares: 512 },
      };
    },
  });
  const id = env.id();
  t.equal(env.create(b, id).status, 0, "create succeeds");
  const mem = cgroupV1Controller("memory");
  const pids = cgroupV1Controller("pids");
  const cpu = cgroupV1Controller("cpu");
  if (mem) t.equal(fileText(join(mem, cg, "memory.limit_in_bytes"))?.trim(), String(64 * 1024 * 1024), "memory.limit");
  if (pids) t.equal(fileText(join(pids, cg, "pids.max"))?.trim(), "123", "pids.limit");
  if (cpu) t.equal(fileText(join(cpu, cg, "cpu.shares"))?.trim(), "512", "cpu.shares");
  env.delete(id, true);
  t.end();
});

t.test("config-linux.md#allowed-device-list: entries are applied in the listed order", { skip: host.fuse && host.cgroupV1 ? false : "needs /dev/fuse and the v1 devices controller" }, (t) => {
  const fuse = { path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 0o666 };
  const allowLast = env.probe(["write", "/dev/fuse"], (c) => {
    c.linux!.devices = [fuse];
    c.linux!.resources = { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 10, minor: 229, access: "rw" }] };
  });
  t.equal(action(allowLast.report, "write", "/dev/fuse")?.ok, true, "deny all, then allow 10:229: the device opens");
  const denyLast = env.probe(["write", "/dev/fuse"], (c) => {
    c.linux!.devices = [fuse];
    c.linux!.resources = { devices: [{ allow: true, type: "c", major: 10, minor: 229, access: "rw" }, { allow: false, type: "c", major: 10, minor: 229, access: "rwm" }] };
  });
  t.equal(action(denyLast.report, "write", "/dev/fuse")?.errno_name, "EPERM", "allow 10:229, then deny it: EPERM");
  t.end();
});

// ---------------------------------------------------------------- sysctl

t.test("config-linux.md#sysctl: kernel parameters are set for the container", (t) => {
  const sysctl = { "net.ipv4.ip_forward": "1", "net.core.somaxconn": "256", "kernel.shm_rmid_forced": "1", "kernel.msgmax": "4096" };
  const args = Object.keys(sysctl).flatMap((k) => ["sysctl", k]);
  const hostBefore = fileText("/proc/sys/kernel/msgmax");
  const { report } = env.probe(args, (c) => (c.linux!.sysctl = sysctl));
  for (const [k, v] of Object.entries(sysctl)) t.equal(report?.sysctl[k], v, `${k} = ${v}`);
  t.equal(fileText("/proc/sys/kernel/msgmax"), hostBefore, "the host's value (ipc namespace) is unchanged");
  t.end();
});

// ---------------------------------------------------------------- seccomp

t.test("config-linux.md#seccomp: a filter is installed; errnoRet is returned", (t) => {
  const { report } = env.probe(["mkdir", "/tmp/seccomp-test", "mkdir", "/tmp/seccomp-test2"], (c) => {
    c.root!.readonly = false;
    c.linux!.seccomp = {
      defaultAction: "SCMP_ACT_ALLOW",
      architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
      syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 95 }],
    };
  });
  t.equal(report?.seccomp, 2, "the process runs in seccomp filter mode");
  t.equal(action(report, "mkdir", "/tmp/seccomp-test")?.errno, 95, "mkdir returns errnoRet (EOPNOTSUPP)");
  t.end();
});

t.test("config-linux.md#seccomp: errnoRet defaults to EPERM", (t) => {
  const { report } = env.probe(["mkdir", "/tmp/seccomp-test"], (c) => {
    c.root!.readonly = false;
    c.linux!.seccomp = {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" }],
    };
  });
  t.equal(action(report, "mkdir", "/tmp/seccomp-test")?.errno_name, "EPERM", "mkdir fails with EPERM");
  t.end();
});

t.test("config-linux.md#seccomp: argument conditions", (t) => {
  const rule = (value: number) => ({
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["personality"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value, op: "SCMP_CMP_EQ" }] }],
  });
  const match = env.probe([], (c) => (c.linux!.seccomp = rule(0xffffffff)));
  t.equal(match.report?.personality, -1, "personality(0xffffffff) is refused when the argument matches");
  const noMatch = env.probe([], (c) => (c.linux!.seccomp = rule(8)));
  t.equal(noMatch.report?.personality, 0, "personality(0xffffffff) is allowed when the argument does not match");
  t.end();
});

t.test("config-linux.md#seccomp: defaultAction applies to syscalls not listed", (t) => {
  const { report } = env.probe(["mkdir", "/tmp/x"], (c) => {
    c.root!.readonly = false;
    c.linux!.seccomp = {
      defaultAction: "SCMP_ACT_ERRNO",
      defaultErrnoRet: 38,
      syscalls: [
        {
          names: [
            "execve", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "mmap", "munmap", "mprotect",
            "read", "write", "writev", "readv", "open", "openat", "close", "fstat", "newfstatat", "stat", "lstat", "statx", "getdents64",
            "readlink", "readlinkat", "getpid", "getppid", "getpgid", "getsid", "getuid", "getgid", "geteuid", "getegid",
            "getresuid", "getresgid", "getgroups", "getcwd", "umask", "uname", "prctl", "personality", "prlimit64", "getrlimit",
            "ioctl", "statfs", "fstatfs", "clock_gettime", "exit", "exit_group", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
            "fcntl", "lseek", "futex", "getrandom", "capget", "capset", "setgroups", "setresuid", "setresgid", "setuid", "setgid",
            "seccomp", "nanosleep", "clock_nanosleep", "poll", "ppoll", "pread64", "madvise", "access", "faccessat", "faccessat2",
            "dup", "dup2", "dup3", "fchdir", "chdir", "sigaltstack",
          ],
          action: "SCMP_ACT_ALLOW",
        },
      ],
    };
  });
  t.equal(action(report, "mkdir", "/tmp/x")?.errno, 38, "an unlisted syscall gets defaultErrnoRet (ENOSYS)");
  t.end();
});

t.test("config-linux.md#seccomp: errnoRet on an action without errno is an error", (t) => {
  const { res } = env.probe([], (c) => {
    c.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_KILL", errnoRet: 5 }] };
  });
  t.not(res.status, 0, "SCMP_ACT_KILL with errnoRet is an error", dev("errnoRetKill"));
  t.end();
});

// ---------------------------------------------------------------- rootfsPropagation

t.test("config-linux.md#rootfs-mount-propagation: the rootfs mount has the configured propagation", (t) => {
  for (const p of ["private", "shared", "slave", "unbindable"]) {
    const { res, report } = env.probe([], (c) => (c.linux!.rootfsPropagation = p));
    const got = report ? mountAt(report, "/")?.propagation : undefined;
    if (p === "slave") {
      // A slave of a private mount is private: accept slave (when the host side is shared) or private.
      t.ok(res.status === 0 && (got === "slave" || got === "private"), `slave: rootfs is a slave (or private when it has no master)`, { got });
    } else {
      const d = p === "shared" ? dev("rootfsShared") : p === "unbindable" ? dev("rootfsUnbindable") : {};
      t.equal(got, p, `${p}: rootfs propagation is ${p}`, { ...d, stderr: res.stderr });
    }
  }
  t.end();
});

// ---------------------------------------------------------------- masked and readonly paths

t.test("config-linux.md#masked-paths: masked paths cannot be read", (t) => {
  const b = env.bundle({
    args: ["/probe", "read", "/etc/secret", "ls", "/etc/secretdir", "read", "/proc/keys", "ls", "/sys/firmware", "read", "/proc/timer_list"],
    mutate: (c) => c.linux!.maskedPaths!.push("/etc/secret", "/etc/secretdir"),
  });
  writeFileSync(join(b.rootfs, "etc", "secret"), "secret content\n");
  mkdirSync(join(b.rootfs, "etc", "secretdir"));
  writeFileSync(join(b.rootfs, "etc", "secretdir", "file"), "secret\n");
  const { report } = env.run(b);
  const sec = action(report, "read", "/etc/secret");
  t.ok(sec && !(sec.ok && (sec.data ?? "").includes("secret")), "a masked file's content cannot be read", { found: sec });
  const dir = action(report, "ls", "/etc/secretdir");
  t.ok(dir && !(dir.ok && (dir.entries ?? []).length > 0), "a masked directory's entries cannot be listed", { found: dir });
  const keys = action(report, "read", "/proc/keys");
  t.ok(keys && !(keys.ok && (keys.data ?? "") !== ""), "/proc/keys is masked");
  const fw = action(report, "ls", "/sys/firmware");
  t.ok(fw && !(fw.ok && (fw.entries ?? []).length > 0), "/sys/firmware is masked");
  const tl = action(report, "read", "/proc/timer_list");
  t.ok(tl && !(tl.ok && (tl.data ?? "") !== ""), "/proc/timer_list is masked");
  t.equal(fileText(join(b.rootfs, "etc", "secret")), "secret content\n", "the masked file is untouched on the host");
  t.end();
});

t.test("config-linux.md#readonly-paths: readonly paths cannot be written", (t) => {
  const b = env.bundle({
    args: ["/probe", "write", "/etc/rodir/new", "write", "/etc/rwdir/new", "write", "/proc/sys/kernel/domainname", "write", "/proc/sysrq-trigger", "stat", "/etc/rodir"],
    mutate: (c) => {
      c.root!.readonly = false;
      c.linux!.readonlyPaths!.push("/etc/rodir");
    },
  });
  mkdirSync(join(b.rootfs, "etc", "rodir"));
  mkdirSync(join(b.rootfs, "etc", "rwdir"));
  const { report } = env.run(b);
  t.equal(action(report, "write", "/etc/rodir/new")?.errno_name, "EROFS", "a file cannot be created in a readonly directory");
  t.equal(action(report, "write", "/etc/rwdir/new")?.ok, true, "a sibling directory stays writable");
  t.equal(action(report, "write", "/proc/sys/kernel/domainname")?.errno_name, "EROFS", "/proc/sys is read-only");
  if (host.sysrq) t.equal(action(report, "write", "/proc/sysrq-trigger")?.errno_name, "EROFS", "/proc/sysrq-trigger is read-only");
  else t.pass("/proc/sysrq-trigger is read-only", { skip: "this kernel has no /proc/sysrq-trigger" });
  t.equal(action(report, "stat", "/etc/rodir")?.readonly, true, "statvfs of the readonly path is ST_RDONLY");
  t.end();
});

// ---------------------------------------------------------------- mount label, personality

t.test("config-linux.md#mount-label: mountLabel sets the SELinux context of mounts", { skip: host.selinux ? false : "SELinux is not enabled on this host" }, (t) => {
  const label = "system_u:object_r:container_file_t:s0:c1,c2";
  const { report } = env.probe([], (c) => (c.linux!.mountLabel = label));
  t.ok(mountAt(report!, "/dev/shm")?.super_options.some((o) => o.includes(label)), "tmpfs mounts carry the context");
  t.end();
});

t.test("config-linux.md#personality: LINUX32 shows a 32-bit machine", { skip: process.arch === "x64" ? false : "the test expects an x86_64 host" }, (t) => {
  const { res, report } = env.probe([], (c) => (c.linux!.personality = { domain: "LINUX32" }));
  t.equal(res.status, 0, "run succeeds");
  t.equal((report?.personality ?? 0) & 0xff, 8, "personality is PER_LINUX32", dev("personality"));
  t.match(report?.uname.machine ?? "", /^i[3-6]86$/, "uname shows a 32-bit CPU", dev("personality"));
  const linux = env.probe([], (c) => (c.linux!.personality = { domain: "LINUX" }));
  t.equal(linux.report?.personality, 0, "LINUX is PER_LINUX");
  t.equal(linux.report?.uname.machine, "x86_64", "LINUX keeps the native machine");
  t.end();
});

t.test("config-linux.md: nothing is left in the runtime root", (t) => {
  for (const id of env.ids) if (env.state(id)) env.delete(id, true);
  t.same(env.rootEntries(), [], "--root is empty");
  t.end();
});


