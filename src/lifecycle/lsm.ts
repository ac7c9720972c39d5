// AppArmor profiles and SELinux labels: applied where the host runs that LSM, refused clearly where
// it does not (a container that asked for confinement must never run without it).
import { existsSync } from "node:fs";
import type { LsmFacts } from "../plan/compile.js";
import { apparmorEnabled, selinuxEnabled } from "../spec/lsm-host.js";
import type { Process } from "../spec/types.js";
import { RuntimeError } from "./errors.js";

/** What the init needs to label `process`; throws when a requested LSM is not running here. */
export function lsmFor(process: Process, base: string): LsmFacts {
  const facts: LsmFacts = {};
  if (process.apparmorProfile) {
    if (!apparmorEnabled())
      throw new RuntimeError(`${base}.apparmorProfile: ${JSON.stringify(process.apparmorProfile)} was requested but AppArmor is not enabled on this host`);
    // kernels from 5.1 keep AppArmor's attributes in a directory of their own
    facts.apparmorAttr = existsSync("/proc/self/attr/apparmor/exec") ? "apparmor/exec" : "exec";
  }
  if (process.selinuxLabel) {
    if (!selinuxEnabled())
      throw new RuntimeError(`${base}.selinuxLabel: ${JSON.stringify(process.selinuxLabel)} was requested but SELinux is not enabled on this host`);
    facts.selinux = true;
  }
  return facts;
}

/** linux.mountLabel needs SELinux mount contexts, which tsrun does not write yet; without SELinux a
 * label means nothing and is ignored, as runc ignores it. */
export function checkMountLabel(mountLabel: string | undefined): void {
  if (mountLabel && selinuxEnabled())
    throw new RuntimeError("config.json: linux.mountLabel: SELinux mount labels are not supported by tsrun yet");
}
