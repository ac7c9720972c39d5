// Whether this host runs AppArmor or SELinux: what `check` reports and what create/exec rely on.
import { existsSync, readFileSync } from "node:fs";

export function apparmorEnabled(): boolean {
  try {
    return readFileSync("/sys/module/apparmor/parameters/enabled", "utf8").trim().startsWith("Y");
  } catch {
    return false;
  }
}

export function selinuxEnabled(): boolean {
  return existsSync("/sys/fs/selinux/enforce");
}
