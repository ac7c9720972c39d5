// The drivers' file writes, checked against fake cgroup directories (plain files in a temp dir).
// This proves what the v2 driver writes even on a host whose cgroup2 has no controllers.
import t, { type Test } from "tap";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { V1Manager } from "../../../src/cgroups/v1.js";
import { V2Manager } from "../../../src/cgroups/v2.js";
import { encodeEvent, encodeStats } from "../../../src/cgroups/stats.js";

function fakeDir(t: Test, files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), "tsrun-cg-fake-"));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  for (const [f, v] of Object.entries(files)) writeFileSync(join(d, f), v);
  return d;
}
const rd = (d: string, f: string) => readFileSync(join(d, f), "utf8");

t.test("v2 driver writes the v2 files", async (t) => {
  const d = fakeDir(t, {
    "cgroup.controllers": "cpuset cpu io memory hugetlb pids rdma misc",
    "cpu.max": "max 100000",
    "cpu.weight": "100",
    "cpu.max.burst": "0",
    "cpu.idle": "0",
    "cpuset.cpus": "",
    "cpuset.mems": "",
    "memory.max": "max",
    "memory.swap.max": "max",
    "memory.low": "0",
    "memory.high": "max",
    "memory.current": "4096",
    "pids.max": "max",
    "io.weight": "default 100",
    "io.max": "",
    "hugetlb.2MB.max": "max",
    "rdma.max": "",
  });
  const m = new V2Manager(d);
  const warnings = m.set({
    memory: { limit: 64 << 20, swap: 96 << 20, reservation: 32 << 20, kernel: 1 << 20, swappiness: 10 },
    cpu: { shares: 1024, quota: 50000, period: 200000, burst: 1000, idle: 1, cpus: "0-1", mems: "0", realtimeRuntime: 5 },
    pids: { limit: 20 },
    blockIO: { weight: 1000, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
    hugepageLimits: [{ pageSize: "2MB", limit: 4194304 }],
    rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10 } },
    network: { classID: 1 },
    unified: { "memory.high": "50000000" },
  });
  t.equal(rd(d, "memory.max"), String(64 << 20));
  t.equal(rd(d, "memory.swap.max"), String(32 << 20), "swap.max = swap - limit");
  t.equal(rd(d, "memory.low"), String(32 << 20), "reservation -> memory.low");
  t.equal(rd(d, "cpu.weight"), "100", "shares 1024 -> weight 100");
  t.equal(rd(d, "cpu.max"), "50000 200000");
  t.equal(rd(d, "cpu.max.burst"), "1000");
  t.equal(rd(d, "cpu.idle"), "1");
  t.equal(rd(d, "cpuset.cpus"), "0-1");
  t.equal(rd(d, "cpuset.mems"), "0");
  t.equal(rd(d, "pids.max"), "20");
  t.equal(rd(d, "io.weight"), "10000", "blkio weight 1000 -> io.weight 10000");
  t.equal(rd(d, "io.max"), "8:0 rbps=1048576");
  t.equal(rd(d, "hugetlb.2MB.max"), "4194304");
  t.equal(rd(d, "rdma.max"), "mlx5_1 hca_handle=3 hca_object=10");
  t.equal(rd(d, "memory.high"), "50000000", "unified keys are written as files");
  t.match(warnings.join("\n"), /memory\.kernel .*ignored/);
  t.match(warnings.join("\n"), /swappiness .*ignored/);
  t.match(warnings.join("\n"), /realtime.*ignored/);
  t.match(warnings.join("\n"), /network .*ignored/);
  // device rules become a BPF program attached to the directory, which must be a real cgroup2 one
  // (enforcement is tested in test/integration/cgroups/v2.test.ts)
  t.throws(() => m.set({ devices: [{ allow: false, access: "rwm" }] }), {
    name: "CgroupError",
    message: new RegExp(`^cannot set device rules: BPF_PROG_QUERY of the device programs attached to ${d}: .*\\((EBADF|EPERM)\\)`),
  });

  // update semantics: only the quota -> the period stays; -1 -> max
  m.set({ cpu: { quota: 30000 } });
  t.equal(rd(d, "cpu.max"), "30000", "kernel keeps its period when only the quota is written");
  writeFileSync(join(d, "cpu.max"), "30000 200000");
  m.set({ cpu: { period: 100000 } });
  t.equal(rd(d, "cpu.max"), "30000 100000", "only the period: the current quota is kept");
  m.set({ memory: { limit: -1 } });
  t.equal(rd(d, "memory.max"), "max");
  t.equal(rd(d, "memory.swap.max"), "max", "unlimited memory without swap: unlimited swap");
  m.set({ memory: { limit: 32 << 20, swap: 32 << 20 } });
  t.equal(rd(d, "memory.swap.max"), "0", "swap equal to the limit: no swap (0 written, as runc)");
  m.set({ memory: { limit: 48 << 20 } });
  t.equal(rd(d, "memory.swap.max"), "0", "swap not given: memory.swap.max left as it is");
  m.set({ pids: { limit: -1 } });
  t.equal(rd(d, "pids.max"), "max");

  t.throws(() => m.set({ memory: { limit: 1000, swap: 500 } }), /memory\+swap limit should be >= memory limit/);
  t.throws(() => m.set({ memory: { limit: 1000, checkBeforeUpdate: true } }), /rejecting memory limit 1000 <= usage 4096/);
  t.throws(() => m.set({ unified: { "a/b": "1" } }), /must be a file name/);
});

t.test("v2 driver: missing controller gives a clear error", async (t) => {
  const d = fakeDir(t, { "cgroup.controllers": "", "cgroup.procs": "" });
  const m = new V2Manager(d);
  t.throws(() => m.set({ memory: { limit: 1 << 20 } }), /cannot set memory limit: the memory controller is not available in .* \(cgroup.controllers: none\)/);
  t.throws(() => m.set({ pids: { limit: 5 } }), /cannot set pids limit: the pids controller is not available/);
  t.throws(() => m.set({ unified: { "memory.high": "1" } }), /the memory controller is not available/);
  t.same(m.set({}), [], "nothing to do is fine");
});

t.test("v2 bfq weight is written unconverted", async (t) => {
  const d = fakeDir(t, { "cgroup.controllers": "io", "io.bfq.weight": "100" });
  new V2Manager(d).set({ blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 300 }] } });
  t.equal(rd(d, "io.bfq.weight"), "8:0 300");
});

t.test("v1 driver writes the v1 files", async (t) => {
  const mem = fakeDir(t, {
    "memory.limit_in_bytes": "9223372036854771712",
    "memory.memsw.limit_in_bytes": "9223372036854771712",
    "memory.soft_limit_in_bytes": "0",
    "memory.swappiness": "60",
    "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
    "memory.kmem.tcp.limit_in_bytes": "0",
  });
  const cpu = fakeDir(t, { "cpu.shares": "1024", "cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "-1", "cpu.cfs_burst_us": "0", "cpu.rt_period_us": "1000000", "cpu.rt_runtime_us": "0", "cpu.idle": "0" });
  const cpuset = fakeDir(t, { "cpuset.cpus": "", "cpuset.mems": "" });
  const pids = fakeDir(t, { "pids.max": "max" });
  const blkio = fakeDir(t, { "blkio.bfq.weight": "100", "blkio.bfq.weight_device": "", "blkio.throttle.write_iops_device": "" });
  const netcls = fakeDir(t, { "net_cls.classid": "0" });
  const netprio = fakeDir(t, { "net_prio.ifpriomap": "" });
  const hugetlb = fakeDir(t, { "hugetlb.2MB.limit_in_bytes": "0" });
  const devices = fakeDir(t, { "devices.allow": "", "devices.deny": "" });
  const m = new V1Manager({ memory: mem, cpu, cpuset, pids, blkio, net_cls: netcls, net_prio: netprio, hugetlb, devices });
  // cpu.shares is read back to detect kernel clamping; a fake file echoes what was written
  const warnings = m.set({
    memory: { limit: 64 << 20, swap: 128 << 20, reservation: 32 << 20, swappiness: 0, disableOOMKiller: true, kernel: 5, kernelTCP: 1 << 20 },
    cpu: { shares: 512, quota: 50000, period: 100000, burst: 10000, realtimePeriod: 1000000, realtimeRuntime: 950000, idle: 0, cpus: "0", mems: "0" },
    pids: { limit: 20 },
    blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 200 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }] },
    network: { classID: 0x100001, priorities: [{ name: "eth0", priority: 5 }] },
    hugepageLimits: [{ pageSize: "2MB", limit: 2097152 }],
    devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: 3, access: "rwm" }],
  });
  t.equal(rd(mem, "memory.limit_in_bytes"), String(64 << 20));
  t.equal(rd(mem, "memory.memsw.limit_in_bytes"), String(128 << 20), "v1 memsw = spec swap (memory+swap)");
  t.equal(rd(mem, "memory.soft_limit_in_bytes"), String(32 << 20));
  t.equal(rd(mem, "memory.swappiness"), "0");
  t.equal(rd(mem, "memory.oom_control"), "1");
  t.equal(rd(mem, "memory.kmem.tcp.limit_in_bytes"), String(1 << 20));
  t.equal(rd(cpu, "cpu.shares"), "512");
  t.equal(rd(cpu, "cpu.cfs_quota_us"), "50000");
  t.equal(rd(cpu, "cpu.cfs_period_us"), "100000");
  t.equal(rd(cpu, "cpu.cfs_burst_us"), "10000");
  t.equal(rd(cpu, "cpu.rt_runtime_us"), "950000");
  t.equal(rd(cpuset, "cpuset.cpus"), "0");
  t.equal(rd(pids, "pids.max"), "20");
  t.equal(rd(blkio, "blkio.bfq.weight"), "300", "no CFQ: BFQ's weight file");
  t.equal(rd(blkio, "blkio.bfq.weight_device"), "8:0 200");
  t.equal(rd(blkio, "blkio.throttle.write_iops_device"), "8:0 100");
  t.equal(rd(netcls, "net_cls.classid"), String(0x100001));
  t.equal(rd(netprio, "net_prio.ifpriomap"), "eth0 5");
  t.equal(rd(hugetlb, "hugetlb.2MB.limit_in_bytes"), "2097152");
  t.equal(rd(devices, "devices.allow"), "c 1:3 rwm");
  t.equal(rd(devices, "devices.deny"), "a");
  t.match(warnings, [/memory\.kernel .*ignored/]);
  t.equal(m.oomKillCount(), undefined, "oom_control was overwritten by the fake write");
  writeFileSync(join(mem, "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
  t.equal(m.oomKillCount(), 3);

  t.throws(() => m.set({ rdma: { mlx: { hcaHandles: 1 } } }), /cannot set rdma limits: the rdma cgroup controller is not mounted on this host/);
  t.throws(() => m.set({ unified: { "memory.high": "1" } }), /cannot use unified resources on cgroup v1/);
  t.throws(() => m.set({ hugepageLimits: [{ pageSize: "1GB", limit: 1 }] }), /huge page size 1GB is not supported by this host/);
  writeFileSync(join(cpu, "cpu.shares"), "");
});

t.test("stats encoding keeps uint64 precision", async (t) => {
  const mem = fakeDir(t, {
    "memory.limit_in_bytes": "9223372036854771712",
    "memory.usage_in_bytes": "1048576",
    "memory.max_usage_in_bytes": "2097152",
    "memory.failcnt": "0",
    "memory.stat": "cache 4096\nrss 8192\n",
  });
  const pids = fakeDir(t, { "pids.current": "3", "pids.max": "20" });
  const cpuacct = fakeDir(t, { "cpuacct.usage": "123456789", "cpuacct.usage_percpu": "100 200 ", "cpuacct.usage_sys": "5", "cpuacct.usage_user": "7" });
  const blkio = fakeDir(t, { "blkio.throttle.io_service_bytes_recursive": "8:0 Read 4096\n8:0 Write 0\nTotal 4096\n" });
  const m = new V1Manager({ memory: mem, pids, cpuacct, blkio });
  const s = m.stats();
  t.equal(s.memory.usage.limit, 9223372036854771712n);
  t.equal(s.memory.cache, 4096n);
  t.equal(s.pids.current, 3n);
  t.equal(s.pids.limit, 20n);
  t.same(s.cpu.usage.percpu, [100n, 200n]);
  t.equal(s.cpu.usage.kernel, 5n);
  t.same(s.blkio.ioServiceBytesRecursive, [{ major: 8n, op: "Read", value: 4096n }, { major: 8n, op: "Write" }]);
  const json = encodeStats(s);
  t.match(json, /"limit":9223372036854771712/, "exact digits, no float rounding");
  t.match(json, /"network_interfaces":null/);
  t.match(json, /"intel_rdt":\{\}/);
  t.match(json, /"usage":\{"kernel":5,"user":7,"total":123456789,"percpu":\[100,200\]\}/);
  t.same(JSON.parse(encodeEvent("oom", "c1")), { type: "oom", id: "c1" });
  t.match(encodeEvent("stats", "c1", s), /^\{"type":"stats","id":"c1","data":\{"cpu":/);
});
