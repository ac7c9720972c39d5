// Host checks against described hosts (HostFacts), plus one run against this host.
import t from "tap";
import { checkHost, checkHostWith, parseProcLimits, readHostFacts, type HostFacts, type PathKind } from "../../../src/spec/host-check.js";
import { errors, hasProblem, runcSpec, warnings, type Json } from "./fixtures/helpers.js";

const FILE = "/b/config.json";

function host(over: Partial<HostFacts> = {}, paths: Record<string, PathKind> = { "/b/rootfs": "dir" }): HostFacts {
  return {
    namespaces: new Set(["pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time"]),
    maxUserNamespaces: 1000,
    cgroup: { mode: "v1", v1Controllers: new Set(["cpu", "cpuacct", "cpuset", "memory", "devices", "pids", "blkio", "hugetlb", "freezer"]), v2Controllers: new Set() },
    seccomp: { available: true, actions: new Set(["kill_process", "kill_thread", "trap", "errno", "user_notif", "trace", "log", "allow"]) },
    capLastCap: 40,
    apparmorEnabled: false,
    selinuxEnabled: false,
    resctrlMounted: false,
    hardRlimits: { RLIMIT_NOFILE: 20000, RLIMIT_NPROC: 96365 },
    capSysResource: false,
    statPath: (p) => paths[p],
    isExecutable: (p) => paths[p] === "file" && !p.startsWith("/etc/"),
    ...over,
  };
}

const check = (doc: Json, facts: HostFacts) => checkHostWith(doc, facts, "/b", FILE);

t.test("runc's default spec passes on a v1 host with the rootfs present", async (t) => {
  t.same(check(runcSpec(), host()), []);
});

t.test("rootfs missing or not a directory", async (t) => {
  hasProblem(t, check(runcSpec(), host({}, {})), "/root/path", "the root filesystem /b/rootfs does not exist");
  hasProblem(t, check(runcSpec(), host({}, { "/b/rootfs": "file" })), "/root/path", "the root filesystem /b/rootfs is not a directory");
  const abs = runcSpec();
  abs.root.path = "/srv/rootfs";
  hasProblem(t, check(abs, host({}, {})), "/root/path", "the root filesystem /srv/rootfs does not exist");
});

t.test("namespaces the kernel lacks", async (t) => {
  const d = runcSpec();
  d.linux.namespaces.push({ type: "time" }, { type: "user" }, { type: "cgroup", path: "/proc/99/ns/cgroup" });
  d.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
  d.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
  const problems = check(d, host({ namespaces: new Set(["pid", "net", "mnt", "ipc", "uts", "user", "cgroup"]), maxUserNamespaces: 0 }));
  hasProblem(t, problems, "/linux/namespaces/5/type", "this kernel has no time namespaces (/proc/self/ns/time is missing)");
  hasProblem(t, problems, "/linux/namespaces/6/type", "user namespaces are disabled on this host (/proc/sys/user/max_user_namespaces is 0)");
  hasProblem(t, problems, "/linux/namespaces/7/path", "/proc/99/ns/cgroup does not exist");
});

t.test("cgroup controllers the resources need (v1)", async (t) => {
  const d = runcSpec();
  d.linux.resources = {
    devices: [{ allow: false, access: "rwm" }],
    memory: { limit: 1 },
    cpu: { shares: 0, cpus: "0" },
    pids: { limit: 0 },
    network: { classID: 5 },
    rdma: { mlx: { hcaHandles: 1 } },
    unified: { "memory.high": "1" },
  };
  const problems = check(d, host({ cgroup: { mode: "hybrid", v1Controllers: new Set(["memory"]), v2Controllers: new Set() } }));
  hasProblem(t, problems, "/linux/resources/devices", "device rules need the devices cgroup controller, which is not mounted (no /sys/fs/cgroup/devices)");
  hasProblem(t, problems, "/linux/resources/cpu", "cpu and memory node pinning need the cpuset cgroup controller, which is not mounted (no /sys/fs/cgroup/cpuset)");
  hasProblem(t, problems, "/linux/resources/network/classID", /need the net_cls cgroup controller/);
  hasProblem(t, problems, "/linux/resources/rdma", /need the rdma cgroup controller/);
  hasProblem(t, problems, "/linux/resources/unified", /^needs cgroup v2, but this host uses cgroup v1 \(hybrid/);
  t.notOk(problems.some((p) => p.pointer === "/linux/resources/memory"), "memory is mounted");
  t.notOk(problems.some((p) => p.pointer === "/linux/resources/pids"), "pids limit 0 means unset");
});

t.test("cgroup controllers the resources need (v2)", async (t) => {
  const d = runcSpec();
  d.linux.resources = {
    devices: [{ allow: false, access: "rwm" }],
    memory: { limit: 1 },
    blockIO: { weight: 10 },
    network: { priorities: [{ name: "eth0", priority: 1 }] },
    unified: { "memory.high": "1", "io.max": "x", "cgroup.freeze": "0" },
  };
  const problems = check(d, host({ cgroup: { mode: "v2", v1Controllers: new Set(), v2Controllers: new Set(["memory", "pids"]) } }));
  t.notOk(problems.some((p) => p.pointer === "/linux/resources/devices"), "v2 needs no devices controller");
  hasProblem(t, problems, "/linux/resources/blockIO", "block IO limits need the io controller, which /sys/fs/cgroup/cgroup.controllers does not list");
  hasProblem(t, problems, "/linux/resources/network/priorities", /need cgroup v1 \(net_prio\)/);
  hasProblem(t, problems, "/linux/resources/unified/io.max", "needs the io controller, which /sys/fs/cgroup/cgroup.controllers does not list");
  t.equal(errors(problems).length, 3);
});

t.test("no cgroup filesystem", async (t) => {
  const problems = check(runcSpec(), host({ cgroup: { mode: "none", v1Controllers: new Set(), v2Controllers: new Set() } }));
  hasProblem(t, problems, "/linux/resources", "sets cgroup limits, but no cgroup filesystem is mounted at /sys/fs/cgroup");
});

t.test("seccomp availability and actions", async (t) => {
  const d = runcSpec();
  d.linux.seccomp = { defaultAction: "SCMP_ACT_ERRNO", listenerPath: "/run/a.sock", syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW" }, { names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }] };
  hasProblem(t, check(d, host({ seccomp: { available: false } })), "/linux/seccomp", /^this kernel has no seccomp filter support/);
  const problems = check(d, host({ seccomp: { available: true, actions: new Set(["errno", "allow"]) } }));
  hasProblem(t, problems, "/linux/seccomp/syscalls/1/action", /^SCMP_ACT_NOTIFY needs the kernel's seccomp "user_notif" action/);
  t.equal(errors(problems).length, 1);
});

t.test("LSMs, capabilities, rlimits", async (t) => {
  const d = runcSpec();
  d.process.apparmorProfile = "docker-default";
  d.process.selinuxLabel = "system_u:system_r:container_t:s0";
  d.process.capabilities.bounding.push("CAP_CHECKPOINT_RESTORE");
  d.process.rlimits = [{ type: "RLIMIT_NOFILE", soft: 1024, hard: 1048576 }];
  const problems = check(d, host({ capLastCap: 39 }));
  hasProblem(t, problems, "/process/apparmorProfile", "is set, but AppArmor is not enabled on this host");
  hasProblem(t, problems, "/process/selinuxLabel", "is set, but SELinux is disabled or not supported on this host");
  hasProblem(t, problems, "/process/capabilities/bounding/3", /^CAP_CHECKPOINT_RESTORE is not supported by this kernel/, "warning");
  hasProblem(t, problems, "/process/rlimits/0/hard", /^1048576 is above this host's hard RLIMIT_NOFILE limit \(20000\)/);
  t.notOk(check(d, host({ capSysResource: true, apparmorEnabled: true, selinuxEnabled: true, capLastCap: 40 })).length, "fine with CAP_SYS_RESOURCE and LSMs");
});

t.test("hooks, bind mount sources, intelRdt", async (t) => {
  const d = runcSpec();
  d.hooks = { createRuntime: [{ path: "/usr/bin/missing" }, { path: "/etc/passwd" }, { path: "/usr/bin/ok" }] };
  d.mounts.push({ destination: "/data", type: "bind", source: "data", options: ["rbind"] }, { destination: "/x", type: "none", source: "/srv/x", options: ["bind"] });
  d.linux.intelRdt = { closID: "x" };
  const problems = check(d, host({}, { "/b/rootfs": "dir", "/etc/passwd": "file", "/usr/bin/ok": "file" }));
  hasProblem(t, problems, "/hooks/createRuntime/0/path", "/usr/bin/missing does not exist on the host");
  hasProblem(t, problems, "/hooks/createRuntime/1/path", "/etc/passwd is not an executable file");
  hasProblem(t, problems, "/mounts/7/source", "/b/data does not exist on the host");
  hasProblem(t, problems, "/mounts/8/source", "/srv/x does not exist on the host");
  hasProblem(t, problems, "/linux/intelRdt", /^is set, but no resctrl filesystem is mounted/);
  t.equal(errors(problems).length, 5);
  t.equal(warnings(problems).length, 0);
});

t.test("garbage documents do not throw", async (t) => {
  for (const doc of [null, 1, "x", [], { linux: 5 }, { linux: { namespaces: [null, 5, { type: 1 }] }, process: { rlimits: [null] } }]) {
    t.doesNotThrow(() => check(doc, host()));
  }
});

t.test("parseProcLimits", async (t) => {
  const text = [
    "Limit                     Soft Limit           Hard Limit           Units     ",
    "Max cpu time              unlimited            unlimited            seconds   ",
    "Max open files            1024                 20000                files     ",
    "Max processes             96365                96365                processes ",
  ].join("\n");
  t.same(parseProcLimits(text), { RLIMIT_CPU: Infinity, RLIMIT_NOFILE: 20000, RLIMIT_NPROC: 96365 });
});

t.test("this host: facts are readable and runc's spec with a rootfs passes", async (t) => {
  const facts = readHostFacts();
  t.ok(facts.namespaces.has("mnt"), "mount namespaces exist");
  t.ok(["v1", "hybrid", "v2", "none"].includes(facts.cgroup.mode));
  const problems = checkHost(runcSpec(), { bundle: "/nonexistent-bundle-for-test" });
  hasProblem(t, problems, "/root/path", "the root filesystem /nonexistent-bundle-for-test/rootfs does not exist");
});
