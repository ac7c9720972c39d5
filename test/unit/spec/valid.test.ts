// Valid configs from runc, Docker/containerd and Podman pass with no errors and no warnings.
import t from "tap";
import { loadBundleConfig, validateConfig } from "../../../src/spec/load.js";
import { validateConfigSchema } from "../../../src/spec/generated/validators.js";
import { FILE, fixture, tempBundle } from "./fixtures/helpers.js";

const FIXTURES = [
  "runc-spec.json",
  "runc-spec-rootless.json",
  "docker-containerd-like.handwritten.json",
  "podman-like.handwritten.json",
];

for (const name of FIXTURES) {
  t.test(name, async (t) => {
    const doc = fixture(name);
    t.equal(validateConfigSchema(doc), true, "schema accepts it");
    t.same(validateConfig(doc, FILE), [], "no problems at all");
    const loaded = loadBundleConfig(tempBundle(t, doc));
    t.same(loaded.warnings, []);
    t.equal(loaded.spec.ociVersion, doc.ociVersion);
  });
}

t.test("extensions and unknown annotations are fine", async (t) => {
  const doc = fixture("runc-spec.json");
  doc["org.example.extension"] = { anything: [1, 2, { deep: true }] };
  doc.windows = { layerFolders: [] };
  doc.vm = { hypervisor: { path: "/usr/bin/qemu" } };
  doc.annotations = { "org.example/x": "", "com.example.key": "value" };
  t.same(validateConfig(doc, FILE), []);
});

t.test("the docker-like config is also valid with the systemd cgroup driver form", async (t) => {
  const doc = fixture("docker-containerd-like.handwritten.json");
  doc.linux.cgroupsPath = "system.slice:docker:3f4e1c2b9a8d";
  t.same(validateConfig(doc, FILE, { systemdCgroup: true }), []);
});

t.test("runtime-spec 1.2/1.3 fields are accepted", async (t) => {
  const doc = fixture("runc-spec.json");
  doc.ociVersion = "1.2.1";
  doc.domainname = "example.org";
  doc.process.scheduler = { policy: "SCHED_FIFO", priority: 10, flags: ["SCHED_FLAG_RESET_ON_FORK"] };
  doc.process.ioPriority = { class: "IOPRIO_CLASS_BE", priority: 4 };
  doc.process.execCPUAffinity = { initial: "0", final: "0-1" };
  doc.process.user.umask = 18;
  doc.process.consoleSize = { height: 24, width: 80 };
  doc.linux.namespaces.push({ type: "user" }, { type: "time" }, { type: "cgroup" });
  doc.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  doc.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  doc.linux.timeOffsets = { boottime: { secs: 10, nanosecs: 5 }, monotonic: { secs: -3 } };
  doc.linux.personality = { domain: "LINUX32" };
  doc.linux.memoryPolicy = { mode: "MPOL_BIND", nodes: "0", flags: ["MPOL_F_STATIC_NODES"] };
  doc.linux.netDevices = { eth1: { name: "ctr0" }, dummy0: {} };
  doc.linux.intelRdt = { closID: "guaranteed", schemata: ["L3:0=7f0", "MB:0=20"], enableMonitoring: true };
  doc.linux.resources = {
    devices: [{ allow: false, access: "rwm" }],
    memory: { limit: 1073741824, reservation: -1, swap: -1, swappiness: 60, checkBeforeUpdate: true },
    cpu: { shares: 1024, quota: 100000, burst: 10000, period: 100000, cpus: "0-1", mems: "0", idle: 0 },
    pids: { limit: -1 },
    blockIO: { weight: 100, weightDevice: [{ major: 8, minor: 0, weight: 500 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
    hugepageLimits: [{ pageSize: "2MB", limit: 209715200 }],
    network: { classID: 1048577, priorities: [{ name: "eth0", priority: 500 }] },
    rdma: { mlx5_1: { hcaHandles: 3 } },
    unified: { "memory.high": "max", "io.max": "8:0 rbps=2097152" },
  };
  doc.linux.seccomp = {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: 1,
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
    flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
    listenerPath: "/run/seccomp-agent.sock",
    listenerMetadata: "opaque",
    syscalls: [
      { names: ["read", "write"], action: "SCMP_ACT_ALLOW" },
      { names: ["mkdir"], action: "SCMP_ACT_NOTIFY" },
      { names: ["ptrace"], action: "SCMP_ACT_TRACE", errnoRet: 1 },
      { names: ["kill"], action: "SCMP_ACT_LOG", args: [{ index: 1, value: 9, op: "SCMP_CMP_EQ" }] },
    ],
  };
  doc.linux.rootfsPropagation = "rslave";
  doc.mounts.push({
    destination: "/data",
    type: "bind",
    source: "/srv/data",
    options: ["rbind", "idmap"],
    uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
    gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
  });
  doc.hooks = {
    createRuntime: [{ path: "/usr/bin/hook", args: ["hook", "create"], env: ["A=1"], timeout: 5 }],
    poststop: [{ path: "/usr/bin/hook" }],
  };
  doc.linux.sysctl = { "net.ipv4.ip_forward": "1", "kernel.shmmax": "1000", "fs.mqueue.msg_max": "20", "kernel.domainname": "x" };
  t.same(validateConfig(doc, FILE), []);
});

t.test("a joined user namespace needs no mappings", async (t) => {
  const doc = fixture("runc-spec.json");
  doc.linux.namespaces.push({ type: "user", path: "/proc/1/ns/user" });
  t.same(validateConfig(doc, FILE), []);
});
