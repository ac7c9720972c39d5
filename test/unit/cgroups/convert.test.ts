import t from "tap";
import {
  blkioWeightToIoWeight,
  cpuSharesToWeight,
  cpuSharesToWeightLinear,
  hugePageSizeBytes,
  memorySwapToV2,
  parseCpuList,
  pidsMaxValue,
  v2Limit,
} from "../../../src/cgroups/convert.js";
import { containerDeviceRules, defaultDeviceRules, v1DeviceWrites } from "../../../src/cgroups/devices.js";
import { validateResources } from "../../../src/cgroups/validate.js";

t.test("cpu shares -> weight (runc >= 1.3.2 mapping)", async (t) => {
  // min, default and max map onto each other; out of range clamps; 0 stays unset
  const cases: Array<[number, number]> = [
    [0, 0],
    [1, 1],
    [2, 1],
    [3, 2],
    [1024, 100],
    [262143, 10000],
    [262144, 10000],
    [262145, 10000],
  ];
  for (const [shares, weight] of cases) t.equal(cpuSharesToWeight(shares), weight, `shares ${shares} -> weight ${weight}`);
  t.ok(cpuSharesToWeight(512) < 100 && cpuSharesToWeight(2048) > 100, "monotonic around the default");
  t.equal(cpuSharesToWeightLinear(1024), 39, "old linear formula kept for reference");
  t.equal(cpuSharesToWeightLinear(2), 1);
  t.equal(cpuSharesToWeightLinear(262144), 10000);
});

t.test("blkio weight -> io.weight", async (t) => {
  t.equal(blkioWeightToIoWeight(0), 0);
  t.equal(blkioWeightToIoWeight(10), 1);
  t.equal(blkioWeightToIoWeight(1000), 10000);
  t.equal(blkioWeightToIoWeight(500), 4950);
});

t.test("memory swap: spec memory+swap -> v2 swap.max", async (t) => {
  t.equal(memorySwapToV2(0, 0), 0, "unset stays unset");
  t.equal(memorySwapToV2(-1, 0), -1);
  t.equal(memorySwapToV2(-1, -1), -1);
  t.equal(memorySwapToV2(0, -1), -1, "unlimited memory without swap: unlimited swap");
  t.equal(memorySwapToV2(-1, 1000), -1);
  t.equal(memorySwapToV2(1000, 1000), 0, "swap == limit: no swap");
  t.equal(memorySwapToV2(500, 200), 300);
  t.equal(memorySwapToV2(300, -1), 300, "unlimited memory: swap as is");
  t.throws(() => memorySwapToV2(300, 400), /memory\+swap limit should be >= memory limit/);
  t.throws(() => memorySwapToV2(300, 0), /unable to set swap limit without memory limit/);
  t.throws(() => memorySwapToV2(-2, 0), /invalid memory\+swap value/);
});

t.test("small helpers", async (t) => {
  t.equal(v2Limit(-1), "max");
  t.equal(v2Limit(67108864), "67108864");
  t.equal(pidsMaxValue(0), undefined);
  t.equal(pidsMaxValue(undefined), undefined);
  t.equal(pidsMaxValue(-1), "max");
  t.equal(pidsMaxValue(20), "20");
  t.same(parseCpuList("0-2,5"), [0, 1, 2, 5]);
  t.same(parseCpuList(""), []);
  t.throws(() => parseCpuList("0-"), /invalid/);
  t.throws(() => parseCpuList("3-1"), /invalid range/);
  t.equal(hugePageSizeBytes("2MB"), 2 * 1024 * 1024);
  t.equal(hugePageSizeBytes("1GB"), 1024 ** 3);
  t.equal(hugePageSizeBytes("2M"), undefined);
});

t.test("device rules -> v1 writes", async (t) => {
  t.same(
    v1DeviceWrites([
      { allow: false, access: "rwm" },
      { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
      { allow: true, type: "c", major: 136, access: "rw" },
      { allow: false, type: "b", major: 8, minor: 0, access: "w" },
    ]),
    [
      ["devices.deny", "a"],
      ["devices.allow", "c 1:3 rwm"],
      ["devices.allow", "c 136:* rw"],
      ["devices.deny", "b 8:0 w"],
    ],
  );
  t.throws(() => v1DeviceWrites([{ allow: true, type: "x" as "a", access: "rwm" }]), /invalid cgroup device type "x"/);
  t.throws(() => v1DeviceWrites([{ allow: true, type: "c", access: "" }]), /invalid cgroup device access/);
  const rules = containerDeviceRules([{ allow: false, access: "rwm" }], [{ type: "c", path: "/dev/fuse", major: 10, minor: 229 }, { type: "p", path: "/dev/fifo" }]);
  t.same(rules[0], { allow: false, access: "rwm" }, "config rules first");
  t.same(rules[1], { allow: true, type: "c", major: 10, minor: 229, access: "rwm" }, "then linux.devices");
  t.equal(rules.length, 2 + defaultDeviceRules().length, "then the defaults; fifos are skipped");
});

t.test("validateResources", async (t) => {
  const ptrs = (r: Parameters<typeof validateResources>[0], o?: Parameters<typeof validateResources>[1]) =>
    validateResources(r, o).map((p) => `${p.severity} ${p.pointer}: ${p.message}`);
  t.same(ptrs({ memory: { limit: 64 << 20 }, pids: { limit: 20 }, cpu: { shares: 1024, quota: 50000, period: 100000 } }), [], "valid input");
  t.same(ptrs({ cpu: { quota: 50000 } }, { mode: "v1" }), [], "quota without period is not an error (runc writes it; the kernel keeps its period)");
  t.match(ptrs({ blockIO: { weight: 5 } }), [/^error \/linux\/resources\/blockIO\/weight: weight 5 out of range: must be 10-1000/]);
  t.match(ptrs({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 2000 }] } }), [/blockIO\/weightDevice\/0\/weight: weight 2000 out of range/]);
  t.match(ptrs({ devices: [{ allow: true, access: "rwm" }, { allow: true, type: "x" as "a", access: "rwm" }] }), [/^error \/linux\/resources\/devices\/1\/type: invalid cgroup device type "x"/]);
  t.match(ptrs({ devices: [{ allow: true, type: "c", access: "rwx" }] }), [/devices\/0\/access: invalid cgroup device access "rwx"/]);
  t.match(ptrs({ memory: { limit: 1000, swap: 500 } }), [/memory\/swap: memory\+swap limit \(500\) should be >= memory limit \(1000\)/]);
  t.match(ptrs({ memory: { swap: 500 } }, { mode: "v2" }), [/memory\/swap: unable to set swap limit without memory limit/]);
  t.same(ptrs({ memory: { swap: 500 } }, { mode: "v1" }), [], "v1: left to the kernel");
  t.match(ptrs({ memory: { swappiness: 101 } }), [/swappiness: invalid memory swappiness 101/]);
  t.match(ptrs({ memory: { kernel: 1 << 20 } }), [/^warning \/linux\/resources\/memory\/kernel: /]);
  t.match(ptrs({ cpu: { shares: 1 } }, { mode: "v1" }), [/cpu\/shares: cpu shares 1 out of range/]);
  t.same(ptrs({ cpu: { shares: 1 } }, { mode: "v2" }), [], "v2: clamped by the conversion");
  t.match(ptrs({ cpu: { period: 10 } }), [/cpu\/period: cpu period 10 out of range/]);
  t.match(ptrs({ cpu: { quota: 10 } }), [/cpu\/quota: cpu quota 10 invalid/]);
  t.same(ptrs({ cpu: { quota: -1 } }), []);
  t.match(ptrs({ cpu: { idle: 2 } }), [/cpu\/idle: invalid cpu idle 2/]);
  t.match(ptrs({ cpu: { cpus: "0-" } }), [/cpu\/cpus: invalid cpu list "0-"/]);
  t.match(ptrs({ cpu: { realtimeRuntime: 1000 } }, { mode: "v2" }), [/^warning .*realtimeRuntime/]);
  t.match(ptrs({ hugepageLimits: [{ pageSize: "2M", limit: 1 }] }), [/hugepageLimits\/0\/pageSize: invalid huge page size "2M"/]);
  t.match(ptrs({ hugepageLimits: [{ pageSize: "1GB", limit: 1 }] }, { hugePageSizes: ["2MB"] }), [/not supported by this host \(supported: 2MB\)/]);
  t.match(ptrs({ unified: { "memory.max": "1" } }, { mode: "hybrid" }), [/^error \/linux\/resources\/unified: cannot use unified resources on cgroup v1/]);
  t.same(ptrs({ unified: { "memory.max": "1" } }, { mode: "v2" }), []);
  t.match(ptrs({ unified: { "../x": "1" } }, { mode: "v2" }), [/unified\/..~1x: unified resource "..\/x" must be a file name/]);
  t.match(ptrs({ unified: { "cgroup.procs": "1" } }, { mode: "v2" }), [/managed by the runtime/]);
  t.match(ptrs({ blockIO: { weight: 5 } }, { pointer: "", file: "resources.json" }), [/^error \/blockIO\/weight/], "update --resources documents use their own root");
  t.equal(validateResources({ blockIO: { weight: 5 } }, { file: "resources.json" })[0]!.file, "resources.json");
});
