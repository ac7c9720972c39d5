// Settings tsrun cannot honour yet: a clear error, never a silent ignore (a container that asked
// for an AppArmor profile must not run without one).
import { existsSync, readFileSync } from "node:fs";
import type { Process } from "../spec/types.js";
import { RuntimeError } from "./errors.js";

function apparmorEnabled(): boolean {
  try {
    return readFileSync("/sys/module/apparmor/parameters/enabled", "utf8").trim() === "Y";
  } catch {
    return false;
  }
}

function selinuxEnabled(): boolean {
  return existsSync("/sys/fs/selinux/enforce");
}

export function refuseUnsupported(process: Process, base: string, pidfdSocket: string | undefined): void {
  if (process.apparmorProfile)
    throw new RuntimeError(apparmorEnabled()
      ? `${base}.apparmorProfile: applying AppArmor profiles is not supported by tsrun yet`
      : `${base}.apparmorProfile: ${JSON.stringify(process.apparmorProfile)} was requested but AppArmor is not enabled on this host`);
  if (process.selinuxLabel)
    throw new RuntimeError(selinuxEnabled()
      ? `${base}.selinuxLabel: applying SELinux labels is not supported by tsrun yet`
      : `${base}.selinuxLabel: ${JSON.stringify(process.selinuxLabel)} was requested but SELinux is not enabled on this host`);
  if (pidfdSocket) throw new RuntimeError("--pidfd-socket is not supported by tsrun yet");
}
