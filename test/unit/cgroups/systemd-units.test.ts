import t from "tap";
import {
  baseUnitProperties,
  cpuListMask,
  cpuQuotaPerSecUSec,
  deviceProperties,
  expandSlice,
  parseProcDevices,
  parseSystemdCgroupsPath,
  parseSystemdVersion,
  resourceProperties,
  unitCgroupPath,
  unifiedProperties,
  unitName,
  UINT64_MAX,
  userInstanceOwner,
} from "../../../src/cgroups/systemd-units.js";
import { defaultDeviceRules } from "../../../src/cgroups/devices.js";

t.test("cgroupsPath slice:prefix:name -> unit, as runc names it", async (t) => {
  t.same(parseSystemdCgroupsPath("system.slice:runc:abc", "abc", false), { slice: "system.slice", prefix: "runc", name: "abc", unit: "runc-abc.scope" });
  t.same(parseSystemdCgroupsPath("machine.slice:libpod:0123", "x", false).unit, "libpod-0123.scope");
  t.same(parseSystemdCgroupsPath("system.slice:docker:f00", "f00", false).unit, "docker-f00.scope");
  // kubelet style: the slice of a pod, prefix cri-containerd
  const k = parseSystemdCgroupsPath("kubepods-besteffort-pod1.slice:cri-containerd:c1", "c1", false);
  t.equal(k.unit, "cri-containerd-c1.scope");
  t.equal(k.slice, "kubepods-besteffort-pod1.slice");
  // an empty slice is the default one; an empty prefix is kept as runc keeps it
  t.equal(parseSystemdCgroupsPath(":p:n", "x", false).slice, "system.slice");
  t.equal(parseSystemdCgroupsPath(":p:n", "x", true).slice, "user.slice");
  t.equal(parseSystemdCgroupsPath("a.slice::n", "x", false).unit, "-n.scope");
  // a name that is a slice is the unit itself
  t.equal(parseSystemdCgroupsPath("system.slice:p:my.slice", "x", false).unit, "my.slice");
  t.equal(unitName("runc", "abc"), "runc-abc.scope");
});

t.test("an empty cgroupsPath gets the default slice, prefix tsrun and the id", async (t) => {
  t.same(parseSystemdCgroupsPath(undefined, "c1", false), { slice: "system.slice", prefix: "tsrun", name: "c1", unit: "tsrun-c1.scope" });
  t.same(parseSystemdCgroupsPath("", "c1", true), { slice: "user.slice", prefix: "tsrun", name: "c1", unit: "tsrun-c1.scope" });
});

t.test("bad systemd cgroupsPaths are refused with the reason", async (t) => {
  t.throws(() => parseSystemdCgroupsPath("/a/b", "x", false), /slice:prefix:name/);
  t.throws(() => parseSystemdCgroupsPath("a.slice:b", "x", false), /slice:prefix:name/);
  t.throws(() => parseSystemdCgroupsPath("a.slice:b:", "x", false), /name .* is empty/);
  t.throws(() => parseSystemdCgroupsPath("a.slice:b/c:d", "x", false), /cannot contain "\/"/);
  t.throws(() => parseSystemdCgroupsPath("notaslice:b:c", "x", false), /invalid slice name/);
  t.throws(() => parseSystemdCgroupsPath("a--b.slice:b:c", "x", false), /empty component/);
});

t.test("slices expand into their parents", async (t) => {
  t.equal(expandSlice("system.slice"), "/system.slice");
  t.equal(expandSlice("a-b.slice"), "/a.slice/a-b.slice");
  t.equal(expandSlice("a-b-c.slice"), "/a.slice/a-b.slice/a-b-c.slice");
  t.equal(expandSlice("-.slice"), "/");
  t.throws(() => expandSlice(".slice"));
  t.throws(() => expandSlice("-a.slice"));
  t.throws(() => expandSlice("a-.slice"));
  t.throws(() => expandSlice("a/b.slice"));
  t.equal(unitCgroupPath("/", "a-b.slice", "x-1.scope"), "/a.slice/a-b.slice/x-1.scope");
  t.equal(unitCgroupPath("/user.slice/user-1000.slice/user@1000.service", "user.slice", "x-1.scope"), "/user.slice/user-1000.slice/user@1000.service/user.slice/x-1.scope");
  t.equal(unitCgroupPath("", "-.slice", "x-1.scope"), "/x-1.scope");
});

const props = (r: Parameters<typeof resourceProperties>[0], v = 252) => Object.fromEntries(resourceProperties(r, { systemdVersion: v }).props);

t.test("resources -> unit properties", async (t) => {
  const p = props({ memory: { limit: 33554432, reservation: 16777216, swap: 50331648 }, pids: { limit: 20 }, cpu: { shares: 1024, quota: 20000, period: 100000, cpus: "0-2,9", mems: "0" }, blockIO: { weight: 500 } });
  t.same(p.MemoryMax, ["t", 33554432n]);
  t.same(p.MemoryLow, ["t", 16777216n]);
  t.same(p.MemorySwapMax, ["t", 16777216n], "swap is memory+swap: swap max is the difference");
  t.same(p.TasksMax, ["t", 20n]);
  t.same(p.CPUWeight, ["t", 100n], "shares 1024 -> weight 100, as the cgroup file gets");
  t.same(p.CPUQuotaPeriodUSec, ["t", 100000n]);
  t.same(p.CPUQuotaPerSecUSec, ["t", 200000n]);
  t.same(p.AllowedCPUs, ["ay", [0b111, 0b10]]);
  t.same(p.AllowedMemoryNodes, ["ay", [1]]);
  t.same(p.IOWeight, ["t", 4950n], "blkio 500 -> io.weight 1 + 490 * 9999 / 990");
  t.same(props({ memory: { limit: -1 }, pids: { limit: -1 } }).MemoryMax, ["t", UINT64_MAX], "-1 is infinity");
  t.same(props({ pids: { limit: -1 } }).TasksMax, ["t", UINT64_MAX]);
  t.same(Object.keys(props({ pids: { limit: 0 }, memory: {}, cpu: {} })), [], "zero values set nothing");
  t.same(props({ memory: { limit: -1, swap: 0 } }).MemorySwapMax, ["t", UINT64_MAX]);
  t.same(props({ memory: { limit: 33554432, swap: 33554432 } }).MemorySwapMax, ["t", 0n], "swap = limit: no swap, said to systemd too (or it rewrites memory.swap.max to max)");
  t.notOk(props({ memory: { limit: 33554432 } }).MemorySwapMax, "no swap given: left alone");
  t.throws(() => resourceProperties({ memory: { limit: 100, swap: 50 } }, { systemdVersion: 252 }), /memory\+swap limit should be >= memory limit/);
  // old systemd: left to the files, with a warning
  const old = resourceProperties({ cpu: { period: 50000, quota: 1000, cpus: "1" } }, { systemdVersion: 239 });
  t.notOk(Object.fromEntries(old.props).CPUQuotaPeriodUSec);
  t.notOk(Object.fromEntries(old.props).AllowedCPUs);
  t.equal(old.warnings.length, 2);
});

t.test("CPUQuotaPerSecUSec rounds up to whole percents as runc does", async (t) => {
  t.equal(cpuQuotaPerSecUSec(50000, 100000), 500000n);
  t.equal(cpuQuotaPerSecUSec(50000, 0), 500000n, "period defaults to 100 ms");
  t.equal(cpuQuotaPerSecUSec(12345, 100000), 130000n);
  t.equal(cpuQuotaPerSecUSec(-1, 100000), UINT64_MAX);
  t.equal(cpuQuotaPerSecUSec(0, 100000), UINT64_MAX, "only a period: no quota");
  t.same(cpuListMask("0"), [1]);
  t.same(cpuListMask("8"), [0, 1]);
});

t.test("device rules -> DevicePolicy/DeviceAllow", async (t) => {
  const names = parseProcDevices("Character devices:\n  1 mem\n  5 /dev/tty\n136 pts\n\nBlock devices:\n  7 loop\n259 blkext\n");
  t.equal(names("c", 136), "pts");
  t.equal(names("b", 7), "loop");
  t.equal(names("c", 7), undefined);
  // runc spec's default: deny all, then the standard devices
  const d = deviceProperties([{ allow: false, access: "rwm" }, ...defaultDeviceRules()], names);
  const p = Object.fromEntries(d.props);
  t.same(p.DevicePolicy, ["s", "strict"]);
  t.same(p.DeviceAllow, [
    "a(ss)",
    [
      ["char-*", "m"],
      ["block-*", "m"],
      ["/dev/char/1:3", "rwm"],
      ["/dev/char/1:8", "rwm"],
      ["/dev/char/1:7", "rwm"],
      ["/dev/char/5:0", "rwm"],
      ["/dev/char/1:5", "rwm"],
      ["/dev/char/1:9", "rwm"],
      ["char-pts", "rwm"],
      ["/dev/char/5:2", "rwm"],
      ["/dev/char/10:200", "rwm"],
    ],
  ]);
  t.same(d.warnings, []);
  // later rules win: a deny removes access given before
  const p2 = Object.fromEntries(deviceProperties([{ allow: true, type: "c", major: 1, minor: 3, access: "rwm" }, { allow: false, type: "c", major: 1, minor: 3, access: "w" }]).props);
  t.same(p2.DeviceAllow, ["a(ss)", [["/dev/char/1:3", "rm"]]]);
  // allow everything (privileged): systemd's auto policy, no entries
  const p3 = Object.fromEntries(deviceProperties([{ allow: true, access: "rwm" }]).props);
  t.same(p3.DevicePolicy, ["s", "auto"]);
  t.same(p3.DeviceAllow, ["a(ss)", []]);
  // a wildcard minor of an unknown driver is left to the BPF filter, with a warning
  const d4 = deviceProperties([{ allow: true, type: "c", major: 250, access: "r" }], names);
  t.same(Object.fromEntries(d4.props).DeviceAllow, ["a(ss)", []]);
  t.match(d4.warnings[0], /major 250/);
});

t.test("systemd versions", async (t) => {
  t.equal(parseSystemdVersion("252.36-1~deb12u1"), 252);
  t.equal(parseSystemdVersion('"249"'), 249);
  t.equal(parseSystemdVersion("v255"), 255);
  t.equal(parseSystemdVersion(""), 0);
});

t.test("linux.resources.unified keys systemd manages become unit properties (runc's table)", async (t) => {
  const o = { systemdVersion: 252 };
  const { props, warnings } = unifiedProperties(
    { "memory.high": "67108864", "memory.low": "1024", "memory.min": "512", "memory.max": "max", "memory.swap.max": "0", "pids.max": "50", "cpu.weight": "300", "cpu.max": "25000 50000", "cpuset.cpus": "0-1", "io.max": "8:0 rbps=1", "cpu.max.burst": "1000" },
    o,
  );
  t.same(warnings, []);
  t.same(new Map(props), new Map<string, unknown>([
    ["MemoryHigh", ["t", 67108864n]],
    ["MemoryLow", ["t", 1024n]],
    ["MemoryMin", ["t", 512n]],
    ["MemoryMax", ["t", UINT64_MAX]],
    ["MemorySwapMax", ["t", 0n]],
    ["TasksMax", ["t", 50n]],
    ["CPUWeight", ["t", 300n]],
    ["CPUQuotaPeriodUSec", ["t", 50000n]],
    ["CPUQuotaPerSecUSec", ["t", 500000n]],
    ["AllowedCPUs", ["ay", [3]]],
  ]), "io.max and cpu.max.burst stay files only");
  t.same(unifiedProperties({ "cpu.max": "max" }, o).props, [["CPUQuotaPerSecUSec", ["t", UINT64_MAX]]]);
  t.same(unifiedProperties({ "cpuset.mems": "0" }, { systemdVersion: 243 }).props, []);
  t.match(unifiedProperties({ "cpuset.mems": "0" }, { systemdVersion: 243 }).warnings[0], /needs 244/);
  t.throws(() => unifiedProperties({ "memory.high": "lots" }, o), /unified\.memory\.high: "lots" is neither "max" nor a number/);
  t.throws(() => unifiedProperties({ "cpu.max": "x 100" }, o), /unified\.cpu\.max/);
  // given after the other resources: the unified value wins, as its file write does
  const r = resourceProperties({ memory: { limit: 1000 }, unified: { "memory.max": "2000" } }, o).props.filter(([n]) => n === "MemoryMax");
  t.same(r, [["MemoryMax", ["t", 1000n]], ["MemoryMax", ["t", 2000n]]]);
});

t.test("systemd on cgroup v1 controllers: runc's v1 property names", async (t) => {
  const { props } = resourceProperties(
    { memory: { limit: 1 << 25, reservation: 1 << 20, swap: 1 << 26 }, cpu: { shares: 512, quota: 20000, period: 100000 }, blockIO: { weight: 300 }, pids: { limit: 20 }, unified: { "memory.high": "1" } },
    { systemdVersion: 252, v1: true },
  );
  t.same(new Map(props), new Map<string, unknown>([
    ["MemoryLimit", ["t", 1n << 25n]],
    ["TasksMax", ["t", 20n]],
    ["CPUShares", ["t", 512n]],
    ["CPUQuotaPeriodUSec", ["t", 100000n]],
    ["CPUQuotaPerSecUSec", ["t", 200000n]],
    ["BlockIOWeight", ["t", 300n]],
  ]), "no MemoryLow/MemorySwapMax/unified on v1 (the files carry them)");
  const base = new Map(baseUnitProperties(7, "system.slice", "d", true));
  t.same(base.get("BlockIOAccounting"), ["b", true]);
  t.notOk(base.has("IOAccounting"));
  t.ok(new Map(baseUnitProperties(7, "system.slice", "d")).has("IOAccounting"));
});

t.test("the owner of a user's systemd instance, from its cgroup", async (t) => {
  t.equal(userInstanceOwner("/user.slice/user-1000.slice/user@1000.service"), 1000);
  t.equal(userInstanceOwner("/user.slice/user-1000.slice/user@1000.service/"), 1000);
  t.equal(userInstanceOwner("/user.slice/user-0.slice/user@0.service"), 0, "root's own instance");
  t.equal(userInstanceOwner("/"), undefined, "the system instance");
  t.equal(userInstanceOwner(""), undefined);
  t.equal(userInstanceOwner("/user.slice/user-1000.slice/session-3.scope"), undefined, "a session is no instance");
  t.equal(userInstanceOwner("/user.slice/user-1000.slice/user@1001.service"), undefined, "mismatched");
});
