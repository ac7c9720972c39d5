// The init's failure reports as people read them: the op's origin and what it did, and for an
// AppArmor profile the kernel does not know, that it is not loaded (the kernel only says ENOENT).
import { constants } from "node:os";
import t from "tap";
import { describeInitError } from "../../src/lifecycle/init-process.js";
import type { Program } from "../../src/plan/ops.js";

const prog = (attr: string, value: string, origin: string): Program => ({
  ops: [{ op: "PROC_ATTR", strs: [attr, value], origin, what: `confine the process to AppArmor profile ${value.slice(5)}` }],
});

t.test("an AppArmor profile that is not loaded", async (t) => {
  const { ENOENT, EACCES } = constants.errno;
  t.equal(
    describeInitError(prog("apparmor/exec", "exec nope", "process.apparmorProfile"), 0, ENOENT, ""),
    'process.apparmorProfile: AppArmor profile "nope" is not loaded in the kernel (apparmor_parser loads it; aa-status lists the loaded ones)',
  );
  t.match(describeInitError(prog("exec", "exec nope", "process.apparmorProfile"), 0, ENOENT, ""), /"nope" is not loaded/, "kernels before 5.1: attr/exec");
  t.equal(
    describeInitError(prog("apparmor/exec", "exec p", "process.apparmorProfile"), 0, EACCES, ""),
    "process.apparmorProfile: confine the process to AppArmor profile p: permission denied (EACCES)",
    "other errors stay as the kernel says them",
  );
});
