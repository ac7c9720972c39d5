// checkpoint/restore without criu: runc's flags as engines send them, and the criu command lines
// tsrun builds from a container's config and state.
import t from "tap";
import yargs from "yargs";
import { CHECKPOINT_OPTIONS, checkpointArgs, RESTORE_OPTIONS, restoreArgs as restoreCliArgs } from "../../src/cli/commands/checkpoint.js";
import { GO_FLAG_RULES } from "../../src/cli/parser.js";
import { COMMAND_FLAGS } from "../../src/cli/flags.js";
import type { Args } from "../../src/cli/args.js";
import {
  cgroupRoots, checkParentPath, criuErrorLines, dumpArgs, externalMounts, restoreArgs, restoreMountpoints, stdioInheritArgs,
  type CriuHostFacts,
} from "../../src/plan/criu.js";
import { restoredState } from "../../src/lifecycle/restore.js";
import type { Spec } from "../../src/spec/types.js";

function parse(options: object, args: string[]): Args {
  return yargs(args).parserConfiguration(GO_FLAG_RULES).options(options as never).strictOptions().exitProcess(false)
    .fail((msg, err) => { throw err ?? new Error(msg); }).parseSync() as unknown as Args;
}

const spec: Spec = {
  ociVersion: "1.0.2",
  root: { path: "rootfs" },
  process: { args: ["sh"], cwd: "/", user: { uid: 0, gid: 0 } },
  mounts: [
    { destination: "/proc", type: "proc", source: "proc" },
    { destination: "/dev", type: "tmpfs", source: "tmpfs" },
    { destination: "/etc/resolv.conf", type: "bind", source: "/host/resolv.conf", options: ["rbind", "ro"] },
    { destination: "/data/", source: "vol", options: ["bind"] },
    { destination: "/data/inner", source: "/host/inner", options: ["bind"] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup" },
  ],
  linux: {
    namespaces: [{ type: "pid" }, { type: "mount" }, { type: "network", path: "/var/run/netns/n1" }],
    maskedPaths: ["/proc/kcore", "/proc/keys", "/proc/acpi", "/proc/missing"],
  },
} as Spec;

const facts = (over: Partial<CriuHostFacts> = {}): CriuHostFacts => ({
  kindInRoot: (p) => (p === "/proc/acpi" ? "dir" : p === "/proc/missing" ? "missing" : "file"),
  bindSource: (s) => (s.startsWith("/") ? s : `/bundle/${s}`),
  cgroupPaths: { cpu: "/sys/fs/cgroup/cpu/tsrun/c1", "name=systemd": "/sys/fs/cgroup/systemd/tsrun/c1", "": "/sys/fs/cgroup/unified/tsrun/c1" },
  cgroupV2: false,
  namespaceInode: () => 4026532001,
  ...over,
});

t.test("checkpoint flags: runc's names and Go forms", async (t) => {
  const argv = parse(CHECKPOINT_OPTIONS, [
    "--image-path=/img", "-work-path", "/work", "--leave-running", "-tcp-established", "--ext-unix-sk=true", "--shell-job",
    "--file-locks", "--pre-dump", "--parent-path", "../pre", "--manage-cgroups-mode=full", "--empty-ns", "network",
    "--empty-ns", "network", "--status-fd", "3", "--page-server", "10.0.0.1:5000", "--auto-dedup", "--tcp-skip-in-flight",
    "--link-remap", "c1",
  ]);
  t.same(argv._, ["c1"], "the id stays positional after a repeated --empty-ns");
  const a = checkpointArgs(argv);
  t.match(a, {
    imagePath: "/img", workPath: "/work", leaveRunning: true, tcpEstablished: true, extUnixSk: true, shellJob: true, fileLocks: true,
    preDump: true, parentPath: "../pre", manageCgroupsMode: "full", emptyNs: ["network", "network"], statusFd: 3,
    pageServer: "10.0.0.1:5000", autoDedup: true, tcpSkipInFlight: true, linkRemap: true, lazyPages: false,
  });
  const d = checkpointArgs(parse(CHECKPOINT_OPTIONS, ["c1"]));
  t.match(d, { imagePath: undefined, workPath: undefined, leaveRunning: false, statusFd: -1, emptyNs: [] }, "runc's defaults");
  t.throws(() => parse(CHECKPOINT_OPTIONS, ["--bogus", "c1"]), /Unknown argument/);
});

t.test("restore flags: what go-runc and conmon pass", async (t) => {
  const shim = restoreCliArgs(parse(RESTORE_OPTIONS, [
    "--image-path", "/img", "--work-path", "/w", "--detach", "--pid-file", "/run/init.pid", "-no-subreaper", "--bundle", "/b", "c1",
  ]));
  t.match(shim, { imagePath: "/img", workPath: "/w", detach: true, pidFile: "/run/init.pid", noSubreaper: true, bundle: "/b" });
  const conmon = restoreCliArgs(parse(RESTORE_OPTIONS, [
    "--bundle", "/b", "--pid-file", "/p", "--no-pivot", "--no-new-keyring", "--detach", "--image-path", "/i", "--work-path", "/b",
    "--tcp-established", "--file-locks", "--lsm-profile=apparmor:p", "--lsm-mount-context=ctx", "c1",
  ]));
  t.match(conmon, { noPivot: true, tcpEstablished: true, fileLocks: true, lsmProfile: "apparmor:p", lsmMountContext: "ctx" });
  t.match(restoreCliArgs(parse(RESTORE_OPTIONS, ["-b", "/b", "-d", "c1"])), { bundle: "/b", detach: true }, "short aliases");
  t.equal(restoreCliArgs(parse(RESTORE_OPTIONS, ["c1"])).bundle, ".");
});

t.test("the flag table knows every checkpoint and restore flag", async (t) => {
  for (const [cmd, options] of [["checkpoint", CHECKPOINT_OPTIONS], ["restore", RESTORE_OPTIONS]] as const)
    for (const [name, o] of Object.entries(options)) {
      t.equal(COMMAND_FLAGS[cmd][name], (o as { type: string }).type === "boolean" ? "bool" : "string", `${cmd} --${name}`);
    }
});

t.test("external mounts: binds, cgroup binds, masked files", async (t) => {
  t.same(externalMounts(spec, facts()), [
    { key: "/etc/resolv.conf", source: "/host/resolv.conf" },
    { key: "/data", source: "/bundle/vol" },
    { key: "/data/inner", source: "/host/inner" },
    { key: "/sys/fs/cgroup/cpu", source: "/sys/fs/cgroup/cpu/tsrun/c1" },
    { key: "/sys/fs/cgroup/name=systemd", source: "/sys/fs/cgroup/systemd/tsrun/c1" },
    { key: "/proc/kcore", source: "/dev/null" },
    { key: "/proc/keys", source: "/dev/null" },
  ], "masked directories (tmpfs) and missing paths are criu's own business");
  const v2 = externalMounts(spec, facts({ cgroupV2: true, cgroupPaths: { "": "/sys/fs/cgroup/tsrun/c1" } }));
  t.same(v2.find((m) => m.key === "/sys/fs/cgroup"), { key: "/sys/fs/cgroup", source: "/sys/fs/cgroup/tsrun/c1" }, "cgroup2 mount");
  const userns = { ...spec, linux: { ...spec.linux, namespaces: [{ type: "user" }], devices: [{ path: "/dev/fuse", type: "c", major: 10, minor: 229 }] } } as Spec;
  const keys = externalMounts(userns, facts()).map((m) => m.key);
  t.ok(keys.includes("/dev/null") && keys.includes("/dev/tty") && keys.includes("/dev/fuse"), "devices bound from the host in a user namespace");
  const restoreFacts = facts();
  delete restoreFacts.kindInRoot;
  t.same(externalMounts(spec, restoreFacts).filter((m) => m.source === "/dev/null").map((m) => m.key), ["/proc/kcore", "/proc/keys", "/proc/acpi", "/proc/missing"],
    "restore (no running container to look into): every masked path is named; criu maps only the keys its image holds");
  const bad = { ...spec, mounts: [{ destination: "/a]b", type: "bind", source: "/x" }] } as Spec;
  t.throws(() => externalMounts(bad, facts()), /cannot be named to criu/);
});

t.test("dump command line", async (t) => {
  const base = { pid: 4242, rootfs: "/b/rootfs", spec, freezerPath: "/sys/fs/cgroup/freezer/tsrun/c1", host: facts() };
  const args = dumpArgs({ ...base, options: { imagePath: "/img", workPath: "/work" } });
  t.same(args.slice(0, 13), [
    "dump", "--tree", "4242", "--images-dir", "/img", "--work-dir", "/work", "--log-file", "dump.log", "-v4", "--manage-cgroups", "--root", "/b/rootfs",
  ]);
  t.same(args.slice(13, 15), ["--freeze-cgroup", "/sys/fs/cgroup/freezer/tsrun/c1"]);
  t.ok(args.join(" ").includes("--external mnt[/etc/resolv.conf]:/etc/resolv.conf"), "dump names each external mount by its mount point");
  t.ok(args.join(" ").includes("--external net[4026532001]:extRootNetNS"), "a joined network namespace is external");
  t.notOk(args.includes("--leave-running"));
  t.notOk(args.includes("--track-mem"));

  const all = dumpArgs({
    ...base,
    options: {
      imagePath: "/img", workPath: "/img", leaveRunning: true, tcpEstablished: true, extUnixSk: true, shellJob: true, fileLocks: true,
      manageCgroupsMode: "strict", emptyNs: ["network"], autoDedup: true, tcpSkipInFlight: true, linkRemap: true,
      pageServer: "[::1]:5000", statusFd: 5, parentPath: "../parent",
    },
  });
  for (const f of ["--leave-running", "--tcp-established", "--ext-unix-sk", "--shell-job", "--file-locks", "--auto-dedup", "--skip-in-flight", "--link-remap", "--track-mem"])
    t.ok(all.includes(f), f);
  t.ok(all.includes("--manage-cgroups=strict"), "criu's optional argument is attached");
  t.same(all.slice(all.indexOf("--empty-ns"), all.indexOf("--empty-ns") + 2), ["--empty-ns", "net"]);
  t.same(all.slice(all.indexOf("--prev-images-dir"), all.indexOf("--prev-images-dir") + 2), ["--prev-images-dir", "../parent"], "relative to the image dir, as criu reads it");
  t.same(all.slice(all.indexOf("--page-server"), all.indexOf("--page-server") + 5), ["--page-server", "--address", "::1", "--port", "5000"]);
  t.same(all.slice(all.indexOf("--status-fd"), all.indexOf("--status-fd") + 2), ["--status-fd", "5"]);

  const pre = dumpArgs({ ...base, options: { imagePath: "/img", workPath: "/img", preDump: true, leaveRunning: true } });
  t.equal(pre[0], "pre-dump");
  t.ok(pre.includes("--track-mem"));
  t.notOk(pre.includes("--leave-running"), "pre-dump always leaves the container running");
  t.notOk(dumpArgs({ ...base, freezerPath: undefined, options: { imagePath: "/i", workPath: "/i" } }).includes("--freeze-cgroup"));
});

t.test("flag values tsrun refuses, with runc's wording", async (t) => {
  const base = { pid: 1, rootfs: "/r", spec, host: facts() };
  const o = { imagePath: "/i", workPath: "/i" };
  t.throws(() => dumpArgs({ ...base, options: { ...o, manageCgroupsMode: "bogus" } }), /Invalid manage cgroups mode/);
  t.throws(() => dumpArgs({ ...base, options: { ...o, emptyNs: ["ipc"] } }), /namespace "ipc" is not supported/);
  t.throws(() => dumpArgs({ ...base, options: { ...o, pageServer: "nohost" } }), /Use --page-server ADDRESS:PORT/);
  t.throws(() => dumpArgs({ ...base, options: { ...o, lazyPages: true } }), /--lazy-pages is not supported/);
  t.throws(() => checkParentPath("/abs"), /--parent-path must be relative/);
  t.throws(() => checkParentPath("./"), /must not be the same as --image-path/);
  t.doesNotThrow(() => checkParentPath("../pre-dump-1"));
});

t.test("restore command line", async (t) => {
  const args = restoreArgs({
    root: "/run/tsrun/c1/criu-root", spec, pidFile: "/run/tsrun/c1/criu-restore.pid", host: facts(),
    options: { imagePath: "/img", workPath: "/work", tcpEstablished: true, fileLocks: true, lsmProfile: "apparmor:x", lsmMountContext: "ctx" },
    cgroupRoots: cgroupRoots({ cpu: "/tsrun/c1", memory: "/tsrun/c1", "": "/tsrun/c1" }, false),
    descriptors: ["pipe:[1001]", "/dev/null", "pipe:[1002]"],
    namespaceFds: { extRootNetNS: 3 },
  });
  t.same(args.slice(0, 17), [
    "restore", "--images-dir", "/img", "--work-dir", "/work", "--log-file", "restore.log", "-v4", "--tcp-established", "--file-locks",
    "--manage-cgroups", "--root", "/run/tsrun/c1/criu-root", "--restore-detached", "--restore-sibling", "--pidfile", "/run/tsrun/c1/criu-restore.pid",
  ]);
  const line = args.join(" ");
  t.ok(line.includes("--cgroup-root cpu:/tsrun/c1 --cgroup-root memory:/tsrun/c1"), "each v1 controller is rebased on the new cgroup");
  t.notOk(line.includes("--cgroup-root :"), "not the controller-less hierarchy of a hybrid host");
  t.ok(line.includes("--external mnt[/etc/resolv.conf]:/host/resolv.conf"), "restore binds each external mount's source");
  t.ok(line.includes("--external mnt[/proc/keys]:/dev/null"));
  t.ok(line.includes("--inherit-fd fd[3]:extRootNetNS"));
  t.ok(line.includes("--inherit-fd fd[0]:pipe:[1001] --inherit-fd fd[2]:pipe:[1002]"), "stdio pipes become the caller's");
  t.ok(line.endsWith("--lsm-profile apparmor:x --lsm-mount-context ctx"));
  t.same(cgroupRoots({ "": "/tsrun/c1" }, true), { "": "/tsrun/c1" });
  t.ok(restoreArgs({
    root: "/r", spec, pidFile: "/p", host: facts(), options: { imagePath: "/i", workPath: "/i" },
    cgroupRoots: { "": "/x" }, descriptors: [], namespaceFds: { extRootNetNS: 3 },
  }).join(" ").includes("--cgroup-root /x"), "cgroup2: the default root");
  t.throws(() => restoreArgs({
    root: "/r", spec, pidFile: "/p", host: facts(), options: { imagePath: "/i", workPath: "/i" }, cgroupRoots: {}, descriptors: [], namespaceFds: {},
  }), /no file descriptor for the network namespace/);
  t.same(stdioInheritArgs(["/dev/null", "socket:[5]", "pipe:[7]", "pipe:[8]"]), ["--inherit-fd", "fd[2]:pipe:[7]"]);
});

t.test("restore: mount points and the new state", async (t) => {
  t.same(restoreMountpoints(spec, (s) => (s.endsWith("resolv.conf") ? "file" : "dir"), (s) => (s.startsWith("/") ? s : `/bundle/${s}`)), [
    { path: "/etc/resolv.conf", dir: false },
    { path: "/data", dir: true },
  ], "top-level bind destinations only; /data/inner lives in the restored /data");
  const st = restoredState({
    id: "c1", spec, bundle: "/b", rootfs: "/b/rootfs", pid: 77, startTime: "1234", created: "2026-01-01T00:00:00Z",
    cgroup: { driver: "v1", paths: { cpu: "/sys/fs/cgroup/cpu/tsrun/c1" } }, rootless: false,
  });
  t.match(st, { id: "c1", initPid: 77, initStartTime: "1234", bundle: "/b", pidNamespace: true, process: spec.process });
  t.same(st.namespaces, [{ type: "pid", path: undefined }, { type: "mount", path: undefined }, { type: "network", path: "/var/run/netns/n1" }]);
});

t.test("criu's log: the error lines, without timestamps", async (t) => {
  const log = [
    "(00.000066) Version: 3.17.1 (gitid 0)",
    "(00.058543) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds",
    "(00.058546) Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable",
    "(00.058604) Adjust mmap_min_addr 0x1000 -> 0x10000",
  ].join("\n");
  t.same(criuErrorLines(log), ["Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds", "Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable"]);
  t.same(criuErrorLines(log, 1), ["Error (criu/vdso.c:613): vdso: Failed to fill self vdso symtable"]);
});
