import t from "tap";
import { cpuMask } from "../../src/plan/cpus.js";
import { compileExec } from "../../src/plan/exec.js";

t.test("cpuMask: a cpu_set_t with the listed CPUs", async (t) => {
  const m = cpuMask("0-2,9");
  t.equal(m.length, 128, "the size of glibc's cpu_set_t");
  t.equal(m[0], 0b111);
  t.equal(m[1], 0b10);
  t.ok(m.subarray(2).every((b) => b === 0));
  const big = cpuMask("1100");
  t.equal(big.length, 144, "grows in whole 64-bit words");
  t.equal(big[137], 1 << 4);
  t.throws(() => cpuMask("1-x"), /invalid list element/);
  t.throws(() => cpuMask("3-1"), /invalid range/);
});

t.test("execCPUAffinity: initial before entering the container, final after the cgroup join", async (t) => {
  const process = { cwd: "/", args: ["true"], user: { uid: 0, gid: 0 }, execCPUAffinity: { initial: "0", final: "1" } };
  const ops = compileExec(process, { nsFlags: 0, pidfd: 4 }).ops;
  const affinity = ops.filter((o) => o.op === "SCHED_AFFINITY");
  t.same(affinity.map((o) => o.origin), ["process.execCPUAffinity.initial", "process.execCPUAffinity.final"]);
  t.equal(ops.indexOf(affinity[0]), 0, "initial: first of all");
  t.ok(ops.indexOf(affinity[1]) > ops.findIndex((o) => o.op === "WAIT_GO"), "final: once tsrun has put the process in the cgroup");
  t.equal((affinity[1].strs![0] as Buffer)[0], 0b10);
  const none = compileExec({ ...process, execCPUAffinity: undefined }, { nsFlags: 0, pidfd: 4 }).ops;
  t.equal(none.filter((o) => o.op === "SCHED_AFFINITY").length, 0);
});
