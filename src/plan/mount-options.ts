// Turns a mount's string options into mount(2) flags, propagation flags and fs data.
import { MS } from "./constants.js";

export interface ParsedMountOptions {
  flags: number;
  propagation: number;
  data: string[];
  bind: boolean;
  recursive: boolean;
}

const SET: Record<string, number> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, sync: MS.SYNCHRONOUS,
  remount: MS.REMOUNT, mand: MS.MANDLOCK, dirsync: MS.DIRSYNC, noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME, relatime: MS.RELATIME, strictatime: MS.STRICTATIME,
  lazytime: MS.LAZYTIME, silent: MS.SILENT, nosymfollow: MS.NOSYMFOLLOW,
};
const CLEAR: Record<string, number> = {
  rw: MS.RDONLY, suid: MS.NOSUID, dev: MS.NODEV, exec: MS.NOEXEC, async: MS.SYNCHRONOUS,
  nomand: MS.MANDLOCK, atime: MS.NOATIME, diratime: MS.NODIRATIME, norelatime: MS.RELATIME,
  nostrictatime: MS.STRICTATIME, nolazytime: MS.LAZYTIME, loud: MS.SILENT, symfollow: MS.NOSYMFOLLOW,
};
const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};
/** Options runtimes accept that are not for the kernel's mount(2). */
const IGNORED = new Set(["tmpcopyup", "defaults"]);

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  const out: ParsedMountOptions = { flags: 0, propagation: 0, data: [], bind: false, recursive: false };
  for (const opt of options) {
    if (opt === "bind") out.bind = true;
    else if (opt === "rbind") { out.bind = true; out.recursive = true; }
    else if (opt in SET) out.flags |= SET[opt];
    else if (opt in CLEAR) out.flags &= ~CLEAR[opt];
    else if (opt in PROPAGATION) out.propagation |= PROPAGATION[opt];
    else if (!IGNORED.has(opt)) out.data.push(opt);
  }
  return out;
}

export function propagationFlag(name: string): number | undefined {
  return PROPAGATION[name];
}
