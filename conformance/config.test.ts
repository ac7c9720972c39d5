// config.md: root, mounts, process, user, hostname, domainname, annotations,
// extensibility and valid values. Each test runs the probe in the container
// and compares what it reports with config.json.
import t from "tap";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  Env,
  RUNTIME,
  allOptions,
  consoleRecv,
  dev,
  device,
  fileText,
  mountAt,
  nsLink,
  waitFor,
  type OciConfig,
  type ProbeReport,
} from "./lib.js";

const env = new Env("config");
t.teardown(() => env.cleanup());

function action(r: ProbeReport | null, op: string, path: string) {
  return r?.actions.find((a) => a.op === op && a.path === path);
}

// ---------------------------------------------------------------- version and root

t.test("config.md#specification-version: a SemVer ociVersion is accepted", (t) => {
  for (const v of ["1.0.0", "1.0.2-dev", "1.1.0", "1.2.0"]) {
    const { res, report } = env.probe([], (c) => (c.ociVersion = v));
    t.ok(res.status === 0 && report !== null, `ociVersion ${v} runs`);
  }
  t.end();
});

t.test("config.md#root: a relative root.path is relative to the bundle", (t) => {
  const { res, report } = env.probe(["stat", "/probe"]);
  t.equal(res.status, 0, "run succeeds");
  t.equal(action(report, "stat", "/probe")?.ok, true, "the bundle's rootfs is / in the container");
  t.end();
});

t.test("config.md#root: an absolute root.path", (t) => {
  const b = env.bundle({ args: ["/probe", "read", "/etc/marker"] });
  writeFileSync(join(b.rootfs, "etc", "marker"), "absolute-root\n");
  const cfg = JSON.parse(readFileSync(b.configPath, "utf8")) as OciConfig;
  cfg.root!.path = b.rootfs;
  writeFileSync(b.configPath, JSON.stringify(cfg));
  const { res, report } = env.run(b);
  t.equal(res.status, 0, "run succeeds");
  t.equal(action(report, "read", "/etc/marker")?.data, "absolute-root\n", "the absolute path is the container's /");
  t.end();
});

t.test("config.md#root: a directory MUST exist at root.path", (t) => {
  const { res } = env.probe([], (c) => (c.root!.path = "no-such-rootfs"));
  t.not(res.status, 0, "a missing root directory is an error");
  t.end();
});

t.test("config.md#root: readonly true makes the root filesystem read-only", (t) => {
  const { report } = env.probe(["write", "/ro-test"], (c) => (c.root!.readonly = true));
  t.equal(report?.root_readonly, true, "statvfs(/) has ST_RDONLY");
  t.equal(mountAt(report!, "/")?.options.includes("ro"), true, "the / mount is ro");
  t.equal(action(report, "write", "/ro-test")?.errno_name, "EROFS", "writing to / fails with EROFS");
  t.end();
});

t.test("config.md#root: readonly false (the default) leaves the root writable", (t) => {
  const { report, bundle } = env.probe(["write", "/rw-test"], (c) => delete c.root!.readonly);
  t.equal(report?.root_readonly, false, "statvfs(/) is not read-only");
  t.equal(action(report, "write", "/rw-test")?.ok, true, "a file can be created in /");
  t.ok(statSync(join(bundle.rootfs, "rw-test")).isFile(), "the file is in the bundle's rootfs");
  t.end();
});

// ---------------------------------------------------------------- mounts

t.test("config.md#mounts: mounts are mounted in the listed order", (t) => {
  const { report } = env.probe([], (c) => {
    c.mounts!.push(
      { destination: "/mnt/a", type: "tmpfs", source: "tmpfs", options: ["size=1m"] },
      { destination: "/mnt/a/b", type: "tmpfs", source: "tmpfs", options: ["size=2m"] },
      { destination: "/mnt/x", type: "tmpfs", source: "first", options: ["size=1m"] },
      { destination: "/mnt/x", type: "tmpfs", source: "second", options: ["size=2m"] },
    );
  });
  const idx = (p: string) => report!.mounts.findIndex((m) => m.mount_point === p);
  t.ok(idx("/mnt/a") >= 0 && idx("/mnt/a/b") > idx("/mnt/a"), "a nested mount listed later is mounted on top of the earlier one");
  const xs = report!.mounts.filter((m) => m.mount_point === "/mnt/x").map((m) => m.source);
  t.same(xs, ["first", "second"], "two mounts on one destination are stacked in the listed order");
  t.equal(mountAt(report!, "/mnt/x")?.source, "second", "the last listed mount is the visible one");
  t.end();
});

t.test("config.md#mounts: destination is the mount point in the container; bind source on the host", (t) => {
  const src = env.dir("bindsrc");
  writeFileSync(join(src, "hello"), "from host\n");
  const { report } = env.probe(["read", "/data/hello", "put", "/data/back", "from container"], (c) =>
    c.mounts!.push({ destination: "/data", type: "bind", source: src, options: ["bind", "rw"] }),
  );
  t.equal(action(report, "read", "/data/hello")?.data, "from host\n", "the host directory is visible at destination");
  t.equal(action(report, "put", "/data/back")?.ok, true, "a rw bind mount is writable");
  t.equal(fileText(join(src, "back")), "from container", "writes land in the host directory");
  t.end();
});

t.test("config.md#mounts: a bind source may be relative to the bundle", (t) => {
  const b = env.bundle({
    args: ["/probe", "read", "/rel/file"],
    mutate: (c) => c.mounts!.push({ destination: "/rel", type: "bind", source: "relsrc", options: ["bind", "ro"] }),
  });
  mkdirSync(join(b.bundle, "relsrc"));
  writeFileSync(join(b.bundle, "relsrc", "file"), "relative\n");
  const { report } = env.run(b);
  t.equal(action(report, "read", "/rel/file")?.data, "relative\n", "source relative to the bundle directory");
  t.end();
});

t.test("config.md#mounts: a mount is a bind mount when options has bind or rbind, whatever type says", (t) => {
  const src = env.dir("bindtype");
  writeFileSync(join(src, "f"), "x");
  const { report } = env.probe(["ls", "/b1", "ls", "/b2"], (c) =>
    c.mounts!.push(
      { destination: "/b1", source: src, options: ["bind"] },
      { destination: "/b2", type: "none", source: src, options: ["rbind"] },
    ),
  );
  t.same(action(report, "ls", "/b1")?.entries, ["f"], "bind without type");
  t.same(action(report, "ls", "/b2")?.entries, ["f"], "rbind with type none");
  t.end();
});

t.test("config.md#mounts: a relative destination is interpreted relative to /", (t) => {
  const { res, report } = env.probe([], (c) =>
    c.mounts!.push({ destination: "mnt/relative", type: "tmpfs", source: "tmpfs", options: ["size=1m"] }),
  );
  t.equal(res.status, 0, "a relative destination is accepted");
  t.ok(report && mountAt(report, "/mnt/relative"), "it is mounted at /mnt/relative");
  t.end();
});

t.test("config.md#linux-mount-options: bind-mount ro is read-only, rbind includes submounts, bind does not", (t) => {
  const src = env.dir("rbind");
  mkdirSync(join(src, "sub"));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "conf-sub", join(src, "sub")]);
  env.onCleanup(() => execFileSync("umount", ["-l", join(src, "sub")]));
  writeFileSync(join(src, "sub", "in-submount"), "x");
  const { report } = env.probe(["write", "/ro/newfile", "ls", "/r/sub", "ls", "/nr/sub"], (c) =>
    c.mounts!.push(
      { destination: "/ro", type: "bind", source: src, options: ["bind", "ro"] },
      { destination: "/r", type: "bind", source: src, options: ["rbind"] },
      { destination: "/nr", type: "bind", source: src, options: ["bind"] },
    ),
  );
  t.equal(action(report, "write", "/ro/newfile")?.errno_name, "EROFS", "ro bind mount refuses writes");
  t.ok(mountAt(report!, "/ro")?.options.includes("ro"), "ro bind mount has ro in mountinfo");
  t.same(action(report, "ls", "/r/sub")?.entries, ["in-submount"], "rbind brings the submount");
  t.same(action(report, "ls", "/nr/sub")?.entries, [], "bind does not bring the submount");
  t.end();
});

// Flag options that show in mountinfo (per-mount or superblock options).
const flagOptions: [string, string[], string[]][] = [
  // option, must appear, must not appear
  ["ro", ["ro"], ["rw"]],
  ["rw", ["rw"], ["ro"]],
  ["nosuid", ["nosuid"], []],
  ["suid", [], ["nosuid"]],
  ["nodev", ["nodev"], []],
  ["dev", [], ["nodev"]],
  ["noexec", ["noexec"], []],
  ["exec", [], ["noexec"]],
  ["noatime", ["noatime"], ["relatime"]],
  ["relatime", ["relatime"], ["noatime"]],
  ["strictatime", [], ["noatime", "relatime"]],
  ["nodiratime", ["nodiratime"], []],
  ["sync", ["sync"], []],
  ["dirsync", ["dirsync"], []],
  ["lazytime", ["lazytime"], []],
];
t.test("config.md#linux-mount-options: MUST options are applied (tmpfs, checked in mountinfo)", (t) => {
  const { report } = env.probe([], (c) => {
    flagOptions.forEach(([opt], i) =>
      c.mounts!.push({ destination: `/opt${i}`, type: "tmpfs", source: `opt-${opt}`, options: [opt, "size=1m"] }),
    );
  });
  flagOptions.forEach(([opt, yes, no], i) => {
    const m = mountAt(report!, `/opt${i}`);
    const all = allOptions(m);
    t.ok(
      all.length > 0 && yes.every((o) => all.includes(o)) && no.every((o) => !m!.options.includes(o)),
      `${opt}: mountinfo has ${yes.join(",") || "-"} and not ${no.join(",") || "-"}`,
      { found: all },
    );
  });
  t.end();
});

const acceptedOptions = ["async", "atime", "diratime", "iversion", "noiversion", "loud", "silent", "nolazytime", "norelatime", "nostrictatime", "nomand"];
t.test("config.md#linux-mount-options: other MUST options are accepted", (t) => {
  const { res, report } = env.probe([], (c) => {
    acceptedOptions.forEach((opt, i) =>
      c.mounts!.push({ destination: `/acc${i}`, type: "tmpfs", source: `acc-${opt}`, options: [opt, "size=1m"] }),
    );
  });
  t.equal(res.status, 0, "run succeeds", { stderr: res.stderr });
  acceptedOptions.forEach((opt, i) => t.equal(mountAt(report!, `/acc${i}`)?.fstype, "tmpfs", `${opt} is accepted and the mount exists`));
  t.end();
});

t.test("config.md#linux-mount-options: defaults is accepted", (t) => {
  const { res, report } = env.probe([], (c) =>
    c.mounts!.push({ destination: "/defaults", type: "tmpfs", source: "tmpfs", options: ["defaults", "size=1m"] }),
  );
  t.equal(res.status, 0, "run succeeds", dev("mountDefaults"));
  t.equal(report ? mountAt(report, "/defaults")?.fstype : undefined, "tmpfs", "the mount exists", dev("mountDefaults"));
  t.end();
});

t.test("config.md#linux-mount-options: nosymfollow (SHOULD)", (t) => {
  const { report } = env.probe([], (c) =>
    c.mounts!.push({ destination: "/nosym", type: "tmpfs", source: "tmpfs", options: ["nosymfollow", "size=1m"] }),
  );
  t.ok(allOptions(report ? mountAt(report, "/nosym") : undefined).includes("nosymfollow"), "nosymfollow is in mountinfo");
  t.end();
});

t.test("config.md#linux-mount-options: recursive options rro and rnosuid (SHOULD)", (t) => {
  const src = env.dir("rro");
  mkdirSync(join(src, "sub"));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "conf-rro", join(src, "sub")]);
  env.onCleanup(() => execFileSync("umount", ["-l", join(src, "sub")]));
  const { report } = env.probe([], (c) =>
    c.mounts!.push({ destination: "/rro", type: "bind", source: src, options: ["rbind", "rro", "rnosuid"] }),
  );
  const sub = report ? mountAt(report, "/rro/sub") : undefined;
  t.ok(sub?.options.includes("ro"), "rro makes the submount read-only");
  t.ok(sub?.options.includes("nosuid"), "rnosuid makes the submount nosuid");
  t.end();
});

t.test("config.md#linux-mount-options: unknown options are passed as filesystem data", (t) => {
  const { report } = env.probe([], (c) =>
    c.mounts!.push({ destination: "/data", type: "tmpfs", source: "tmpfs", options: ["size=3m", "mode=0710", "nr_inodes=123"] }),
  );
  const so = mountAt(report!, "/data")?.super_options ?? [];
  t.ok(so.includes("size=3072k"), "size= reached tmpfs", { found: so });
  t.ok(so.includes("mode=710"), "mode= reached tmpfs");
  t.ok(so.includes("nr_inodes=123"), "nr_inodes= reached tmpfs");
  t.end();
});

const propagation: [string, string][] = [
  ["private", "private"],
  ["rprivate", "private"],
  ["shared", "shared"],
  ["rshared", "shared"],
  ["unbindable", "unbindable"],
  ["runbindable", "unbindable"],
];
t.test("config.md#linux-mount-options: propagation options", (t) => {
  const { report } = env.probe([], (c) => {
    propagation.forEach(([opt], i) =>
      c.mounts!.push({ destination: `/prop${i}`, type: "tmpfs", source: `prop-${opt}`, options: [opt, "size=1m"] }),
    );
  });
  propagation.forEach(([opt, want], i) =>
    t.equal(mountAt(report!, `/prop${i}`)?.propagation, want, `${opt} gives a ${want} mount`),
  );
  t.end();
});

t.test("config.md#linux-mount-options: slave and rslave", (t) => {
  // The source is made shared on the host (in a private tmpfs), so a slave copy has a master.
  const src = env.dir("slave");
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "conf-slave", src]);
  execFileSync("mount", ["--make-shared", src]);
  env.onCleanup(() => execFileSync("umount", ["-l", src]));
  const { report } = env.probe([], (c) =>
    c.mounts!.push(
      { destination: "/s1", type: "bind", source: src, options: ["rbind", "slave"] },
      { destination: "/s2", type: "bind", source: src, options: ["rbind", "rslave"] },
    ),
  );
  t.equal(mountAt(report!, "/s1")?.propagation, "slave", "slave gives a slave mount");
  t.equal(mountAt(report!, "/s2")?.propagation, "slave", "rslave gives a slave mount");
  t.end();
});

t.test("config.md#linux-mount-options: idmap without mappings or user namespace is an error", (t) => {
  const src = env.dir("idmap");
  const { res } = env.probe([], (c) =>
    c.mounts!.push({ destination: "/idm", type: "bind", source: src, options: ["rbind", "idmap"] }),
  );
  t.not(res.status, 0, "the runtime generates an error", dev("idmapNoUserns"));
  t.end();
});

// ---------------------------------------------------------------- process

t.test("config.md#process: args are the program and its argv", (t) => {
  const { report } = env.probe(["sysctl", "kernel.ostype", "sleep", "0"]);
  t.same(report?.argv, ["/probe", "sysctl", "kernel.ostype", "sleep", "0"], "argv equals process.args");
  t.end();
});

t.test("config.md#process: args[0] is looked up like execvp's file (PATH)", (t) => {
  const b = env.bundle({
    args: ["probe-in-path"],
    mutate: (c) => (c.process!.env = ["PATH=/nonexistent:/usr/local/probebin"]),
  });
  mkdirSync(join(b.rootfs, "usr", "local", "probebin"), { recursive: true });
  execFileSync("cp", [join(b.rootfs, "probe"), join(b.rootfs, "usr", "local", "probebin", "probe-in-path")]);
  const { res, report } = env.run(b);
  t.equal(res.status, 0, "run succeeds");
  t.equal(report?.argv[0], "probe-in-path", "the program found through PATH ran with argv[0] as given");
  t.end();
});

t.test("config.md#process: env is the process environment", (t) => {
  const envs = ["PATH=/bin:/usr/bin", "FOO=bar", "EMPTY=", "WITH_EQUALS=a=b=c", "SPACES=a b  c"];
  const { report } = env.probe([], (c) => (c.process!.env = envs));
  for (const e of envs) t.ok(report?.env.includes(e), `${e} is set`);
  const extra = (report?.env ?? []).filter((e) => !envs.includes(e) && !e.startsWith("HOME="));
  t.same(extra, [], "no other variables (HOME excepted) leak in from the runtime");
  t.end();
});

t.test("config.md#process: cwd is the working directory", (t) => {
  for (const cwd of ["/", "/home/user", "/etc"]) {
    const { report } = env.probe([], (c) => (c.process!.cwd = cwd));
    t.equal(report?.cwd, cwd, `cwd ${cwd}`);
  }
  t.end();
});

t.test("config.md#process: cwd MUST be absolute (an invalid value is an error)", (t) => {
  const { res } = env.probe([], (c) => (c.process!.cwd = "home/user"));
  t.not(res.status, 0, "a relative cwd is an error");
  t.end();
});

t.test("config.md#process: args needs at least one entry", (t) => {
  const { res } = env.probe([], (c) => (c.process!.args = []));
  t.not(res.status, 0, "empty args is an error");
  t.end();
});

t.test("config.md#process: terminal true puts a pseudoterminal on the process's stdio", (t) => {
  const dir = env.dir("console");
  const sock = join(dir, "console.sock");
  const outFile = join(dir, "console.out");
  const recv = spawn(consoleRecv(), [sock, outFile], { stdio: "ignore" });
  env.onCleanup(() => recv.kill("SIGKILL"));
  waitFor(() => existsSync(sock), 3000);
  const b = env.bundle({
    args: ["/probe"],
    mutate: (c) => {
      c.process!.terminal = true;
      c.process!.consoleSize = { height: 25, width: 80 };
    },
  });
  const id = env.id();
  const cr = env.create(b, id, ["--console-socket", sock]);
  t.equal(cr.status, 0, "create --console-socket succeeds", { stderr: cr.stderr });
  t.equal(env.start(id).status, 0, "start succeeds");
  const text = waitFor(() => {
    const s = fileText(outFile) ?? "";
    return s.includes("}\r\n") || s.trimEnd().endsWith("}") ? s : undefined;
  }, 5000);
  let report: ProbeReport | null = null;
  try {
    report = JSON.parse((text ?? "").replace(/\r/g, "").trim().split("\n").pop() ?? "") as ProbeReport;
  } catch {
    report = null;
  }
  t.ok(report, "the probe's output arrives through the pty master sent on the console socket");
  for (const fd of [0, 1, 2]) t.equal(report?.stdio[fd]?.isatty, true, `fd ${fd} is a terminal`);
  t.match(report?.stdio[0]?.target ?? "", /^\/dev\/pts\/\d+$/, "stdin is a /dev/pts slave of the container's devpts");
  const cons = report ? device(report, "/dev/console") : undefined;
  t.ok(cons && cons.type === "c" && cons.major === 136, "config-linux.md#default-devices: /dev/console is the pty (char 136:N)", { found: cons });
  t.same(report?.winsize, { rows: 25, cols: 80 }, "consoleSize sets the terminal size");
  env.delete(id, true);
  recv.kill("SIGKILL");
  t.end();
});

t.test("config.md#process: consoleSize is ignored when terminal is false", (t) => {
  const { res, report } = env.probe([], (c) => {
    c.process!.terminal = false;
    c.process!.consoleSize = { height: 25, width: 80 };
  });
  t.equal(res.status, 0, "run succeeds");
  t.equal(report?.actions.length, 0, "the probe ran with pipes as stdio");
  t.end();
});

t.test("config.md#posix-process: rlimits set soft and hard limits", (t) => {
  const rl = [
    { type: "RLIMIT_NOFILE", soft: 512, hard: 1024 },
    { type: "RLIMIT_CORE", soft: 0, hard: 4096 },
    { type: "RLIMIT_NPROC", soft: 500, hard: 600 },
    { type: "RLIMIT_MSGQUEUE", soft: 8192, hard: 16384 },
    { type: "RLIMIT_STACK", soft: 4194304, hard: 8388608 },
  ];
  const { report } = env.probe([], (c) => (c.process!.rlimits = rl));
  for (const r of rl) {
    t.equal(report?.rlimits[r.type]?.soft, r.soft, `${r.type} rlim_cur matches soft`);
    t.equal(report?.rlimits[r.type]?.hard, r.hard, `${r.type} rlim_max matches hard`);
  }
  t.end();
});

t.test("config.md#posix-process: an rlimit type that cannot be mapped is an error", (t) => {
  const { res } = env.probe([], (c) => c.process!.rlimits!.push({ type: "RLIMIT_NOPE", soft: 1, hard: 1 }));
  t.not(res.status, 0, "unknown rlimit type is an error");
  t.end();
});

t.test("config.md#posix-process: duplicated rlimits types are an error", (t) => {
  const { res } = env.probe([], (c) =>
    c.process!.rlimits!.push({ type: "RLIMIT_NOFILE", soft: 100, hard: 100 }),
  );
  t.not(res.status, 0, "two RLIMIT_NOFILE entries are an error", dev("rlimitDuplicate"));
  t.end();
});

const capSets = ["bounding", "effective", "permitted", "inheritable", "ambient"] as const;
t.test("config.md#linux-process: capabilities sets are applied exactly", (t) => {
  const caps = {
    bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID"],
    effective: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    inheritable: ["CAP_KILL", "CAP_NET_BIND_SERVICE"],
    ambient: ["CAP_NET_BIND_SERVICE"],
  };
  const { report } = env.probe([], (c) => (c.process!.capabilities = caps));
  for (const s of capSets) t.same([...(report?.caps[s].names ?? [])].sort(), [...caps[s]].sort(), `${s} set`);
  t.end();
});

t.test("config.md#linux-process: no capabilities at all", (t) => {
  const { report } = env.probe([], (c) => (c.process!.capabilities = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] }));
  for (const s of capSets) t.same(report?.caps[s].names, [], `${s} is empty`);
  t.end();
});

t.test("config.md#linux-process: capabilities for a non-root user", (t) => {
  const caps = ["CAP_NET_BIND_SERVICE", "CAP_KILL"];
  const { report } = env.probe([], (c) => {
    c.process!.user = { uid: 1000, gid: 1000 };
    c.process!.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps };
  });
  t.same([...(report?.caps.effective.names ?? [])].sort(), [...caps].sort(), "effective set of uid 1000");
  t.same([...(report?.caps.ambient.names ?? [])].sort(), [...caps].sort(), "ambient set of uid 1000");
  t.end();
});

t.test("config.md#linux-process: unknown capabilities are a warning, not a failure (SHOULD NOT fail)", (t) => {
  const { res, report } = env.probe([], (c) => c.process!.capabilities!.bounding!.push("CAP_NOT_A_CAPABILITY"));
  t.equal(res.status, 0, "run succeeds");
  t.ok(report?.caps.bounding.names.includes("CAP_KILL"), "the known capabilities are applied");
  t.end();
});

t.test("config.md#linux-process: noNewPrivileges", (t) => {
  const on = env.probe([], (c) => (c.process!.noNewPrivileges = true));
  t.equal(on.report?.no_new_privs, true, "true sets no_new_privs");
  const off = env.probe([], (c) => (c.process!.noNewPrivileges = false));
  t.equal(off.report?.no_new_privs, false, "false leaves no_new_privs unset");
  t.end();
});

t.test("config.md#linux-process: oomScoreAdj set is applied", (t) => {
  for (const v of [100, 500, 1000]) {
    const { report } = env.probe([], (c) => (c.process!.oomScoreAdj = v));
    t.equal(report?.oom_score_adj, v, `oom_score_adj ${v}`);
  }
  t.end();
});

t.test("config.md#linux-process: oomScoreAdj unset does not change oom_score_adj", (t) => {
  // Run the runtime from a shell whose oom_score_adj is 123 (raising needs no privilege).
  const b = env.bundle({ args: ["/probe"], mutate: (c) => delete c.process!.oomScoreAdj });
  const id = env.id();
  const out = execFileSync(
    "/bin/sh",
    ["-c", 'echo 123 > /proc/self/oom_score_adj && exec "$0" --root "$1" run --bundle "$2" "$3"', RUNTIME, env.root, b.bundle, id],
    { encoding: "utf8" },
  );
  const report = JSON.parse(out.trim().split("\n").pop()!) as ProbeReport;
  t.equal(report.oom_score_adj, 123, "the process inherits the caller's oom_score_adj");
  t.end();
});

t.test("config.md#posix-platform-user: uid, gid and additionalGids", (t) => {
  const { report } = env.probe([], (c) => (c.process!.user = { uid: 1000, gid: 1001, additionalGids: [5, 1000, 4242] }));
  t.equal(report?.uid, 1000, "uid");
  t.equal(report?.euid, 1000, "euid");
  t.equal(report?.gid, 1001, "gid");
  t.equal(report?.egid, 1001, "egid");
  t.same([...(report?.groups ?? [])].sort((a, b) => a - b).filter((g) => g !== 1001), [5, 1000, 4242], "additionalGids are the supplementary groups");
  t.end();
});

t.test("config.md#posix-platform-user: root user with no additionalGids has no supplementary groups", (t) => {
  const { report } = env.probe([], (c) => (c.process!.user = { uid: 0, gid: 0 }));
  t.equal(report?.uid, 0, "uid 0");
  t.same((report?.groups ?? []).filter((g) => g !== 0), [], "no supplementary groups besides gid");
  t.end();
});

t.test("config.md#posix-platform-user: umask", (t) => {
  for (const m of [0o077, 0o002, 0o027]) {
    const { report } = env.probe([], (c) => (c.process!.user.umask = m));
    t.equal(report?.umask, m, `umask ${m.toString(8)}`);
  }
  t.end();
});

t.test("config.md#posix-platform-user: unset umask is not changed from the caller's (SHOULD)", (t) => {
  const old = process.umask(0o027);
  try {
    const { report } = env.probe([], (c) => delete c.process!.user.umask);
    t.equal(report?.umask, 0o027, "the process has the calling process' umask 027", dev("umaskInherit"));
  } finally {
    process.umask(old);
  }
  t.end();
});

// ---------------------------------------------------------------- hostname, domainname

t.test("config.md#hostname: hostname in the container's UTS namespace", (t) => {
  const { report } = env.probe([], (c) => (c.hostname = "conformance-host"));
  t.equal(report?.hostname, "conformance-host", "hostname as configured");
  t.not(report?.ns.uts, nsLink("self", "uts"), "in a new UTS namespace");
  t.end();
});

t.test("config.md#domainname: domainname in the container's UTS namespace", (t) => {
  const { res, report } = env.probe([], (c) => (c.domainname = "conformance.example"));
  t.equal(res.status, 0, "run succeeds");
  t.equal(report?.domainname, "conformance.example", "domainname as configured", dev("domainname"));
  t.end();
});

// ---------------------------------------------------------------- annotations, extensibility, valid values

t.test("config.md#annotations: unknown annotation keys are not an error", (t) => {
  const annotations = {
    "com.example.gpu-cores": "2",
    "org.opencontainers.unknown.key": "x",
    "io.example.empty": "",
    "weird key with spaces": "v",
  };
  const b = env.bundle({ args: ["/probe", "-n", "pause"], mutate: (c) => (c.annotations = annotations) });
  const id = env.id();
  t.equal(env.create(b, id).status, 0, "create succeeds");
  t.same(env.state(id)?.annotations, annotations, "state reports the annotations, empty value included");
  env.delete(id, true);
  t.end();
});

const unknownFields: [string, (c: OciConfig) => void][] = [
  ["top level", (c) => (c["com.example.unknownTopLevel"] = { a: 1 })],
  ["process", (c) => (c.process!["unknownProcessField"] = [1, 2, 3])],
  ["process.user", (c) => ((c.process!.user as Record<string, unknown>)["unknownUserField"] = "x")],
  ["root", (c) => ((c.root as Record<string, unknown>)["unknownRootField"] = true)],
  ["a mount", (c) => (c.mounts![0]["unknownMountField"] = "x")],
  ["linux", (c) => (c.linux!["unknownLinuxField"] = { nested: true })],
  ["a namespace", (c) => ((c.linux!.namespaces![0] as unknown as Record<string, unknown>)["unknownNsField"] = 1)],
  ["hooks", (c) => (c.hooks = { ...(c.hooks ?? {}), ...({ unknownHookKind: [{ path: "/bin/false" }] } as object) })],
];
for (const [where, mutate] of unknownFields) {
  t.test(`config.md#extensibility: an unknown property in ${where} is ignored`, (t) => {
    const { res, report } = env.probe([], mutate);
    t.equal(res.status, 0, "run succeeds", { stderr: res.stderr });
    t.ok(report, "the program ran");
    t.end();
  });
}

t.test("config.md#valid-values: invalid or unsupported values are an error", (t) => {
  const cases: [string, (c: OciConfig) => void][] = [
    ["namespace type", (c) => c.linux!.namespaces!.push({ type: "nonsense" })],
    ["rlimit type", (c) => (c.process!.rlimits = [{ type: "RLIMIT_NONSENSE", soft: 1, hard: 1 }])],
    ["rootfsPropagation", (c) => (c.linux!.rootfsPropagation = "nonsense")],
    ["seccomp defaultAction", (c) => (c.linux!.seccomp = { defaultAction: "SCMP_ACT_NONSENSE" })],
    ["device type", (c) => (c.linux!.devices = [{ type: "x", path: "/dev/xx", major: 1, minor: 3 }])],
    ["mount propagation of rootfs", (c) => (c.linux!.rootfsPropagation = "rshared-ish")],
  ];
  for (const [what, mutate] of cases) {
    const { res } = env.probe([], mutate);
    t.not(res.status, 0, `an invalid ${what} is an error`);
  }
  t.end();
});

t.test("config.md: nothing is left in the runtime root", (t) => {
  for (const id of env.ids) if (env.state(id)) env.delete(id, true);
  t.same(env.rootEntries(), [], "--root is empty");
  t.end();
});
