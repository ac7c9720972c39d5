// Turns a mount's string options into mount(2) flags, propagation flags and fs data.
import { MS } from "./constants.js";

export interface ParsedMountOptions {
  flags: number;
  propagation: number;
  data: string[];
  bind: boolean;
  recursive: boolean;
  /** tmpcopyup (a runc extension, tmpfs only): the tmpfs starts with what the directory held */
  copyUp: boolean;
  /** idmap / ridmap: the bind shows ids through the mount's uidMappings/gidMappings (ridmap: submounts too) */
  idmap: boolean;
  recursiveIdmap: boolean;
  /** MOUNT_ATTR_* set / cleared on the whole mount tree (rro, rnosuid, ...) */
  attrSet: number;
  attrClr: number;
}

/** mount_setattr(2) attributes. */
export const MOUNT_ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, ATIME_MASK: 0x70, RELATIME: 0x0, NOATIME: 0x10, STRICTATIME: 0x20, NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000 } as const;

const RECURSIVE_SET: Record<string, [number, number]> = {
  rro: [MOUNT_ATTR.RDONLY, 0], rrw: [0, MOUNT_ATTR.RDONLY],
  rnosuid: [MOUNT_ATTR.NOSUID, 0], rsuid: [0, MOUNT_ATTR.NOSUID],
  rnodev: [MOUNT_ATTR.NODEV, 0], rdev: [0, MOUNT_ATTR.NODEV],
  rnoexec: [MOUNT_ATTR.NOEXEC, 0], rexec: [0, MOUNT_ATTR.NOEXEC],
  rnodiratime: [MOUNT_ATTR.NODIRATIME, 0], rdiratime: [0, MOUNT_ATTR.NODIRATIME],
  rnosymfollow: [MOUNT_ATTR.NOSYMFOLLOW, 0], rsymfollow: [0, MOUNT_ATTR.NOSYMFOLLOW],
  rnoatime: [MOUNT_ATTR.NOATIME, MOUNT_ATTR.ATIME_MASK], rstrictatime: [MOUNT_ATTR.STRICTATIME, MOUNT_ATTR.ATIME_MASK],
  rrelatime: [MOUNT_ATTR.RELATIME, MOUNT_ATTR.ATIME_MASK],
};

const SET: Record<string, number> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, sync: MS.SYNCHRONOUS,
  remount: MS.REMOUNT, mand: MS.MANDLOCK, dirsync: MS.DIRSYNC, noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME, relatime: MS.RELATIME, strictatime: MS.STRICTATIME,
  lazytime: MS.LAZYTIME, silent: MS.SILENT, nosymfollow: MS.NOSYMFOLLOW, iversion: MS.I_VERSION,
};
const CLEAR: Record<string, number> = {
  rw: MS.RDONLY, suid: MS.NOSUID, dev: MS.NODEV, exec: MS.NOEXEC, async: MS.SYNCHRONOUS,
  nomand: MS.MANDLOCK, atime: MS.NOATIME, diratime: MS.NODIRATIME, norelatime: MS.RELATIME,
  nostrictatime: MS.STRICTATIME, nolazytime: MS.LAZYTIME, loud: MS.SILENT, symfollow: MS.NOSYMFOLLOW,
  noiversion: MS.I_VERSION,
};
const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};
/** Options runtimes accept that are not for the kernel's mount(2). */
const IGNORED = new Set(["defaults"]);

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  const out: ParsedMountOptions = { flags: 0, propagation: 0, data: [], bind: false, recursive: false, copyUp: false, idmap: false, recursiveIdmap: false, attrSet: 0, attrClr: 0 };
  for (const opt of options) {
    if (opt === "bind") out.bind = true;
    else if (opt === "tmpcopyup") out.copyUp = true;
    else if (opt === "idmap") out.idmap = true;
    else if (opt === "ridmap") { out.idmap = true; out.recursiveIdmap = true; }
    else if (opt === "rbind") { out.bind = true; out.recursive = true; }
    else if (opt in SET) out.flags |= SET[opt];
    else if (opt in CLEAR) out.flags &= ~CLEAR[opt];
    else if (opt in PROPAGATION) out.propagation |= PROPAGATION[opt];
    else if (opt in RECURSIVE_SET) {
      const [set, clr] = RECURSIVE_SET[opt];
      out.attrSet = (out.attrSet & ~clr) | set;
      out.attrClr = (out.attrClr & ~set) | clr;
    }
    else if (!IGNORED.has(opt)) out.data.push(opt);
  }
  return out;
}

export function propagationFlag(name: string): number | undefined {
  return PROPAGATION[name];
}

/** Every option with a meaning here (features.md mountOptions); the rest pass to the filesystem. */
export function knownMountOptions(): string[] {
  return ["bind", "rbind", "defaults", "tmpcopyup", "idmap", "ridmap", ...Object.keys(SET), ...Object.keys(CLEAR), ...Object.keys(PROPAGATION), ...Object.keys(RECURSIVE_SET)].sort();
}

/** Per-mount MS_* flags of a bind as the MOUNT_ATTR_* bits mount_setattr(2) takes. */
export function mountAttrOf(msFlags: number): number {
  const pairs: [number, number][] = [
    [MS.RDONLY, MOUNT_ATTR.RDONLY], [MS.NOSUID, MOUNT_ATTR.NOSUID], [MS.NODEV, MOUNT_ATTR.NODEV],
    [MS.NOEXEC, MOUNT_ATTR.NOEXEC], [MS.NOATIME, MOUNT_ATTR.NOATIME], [MS.STRICTATIME, MOUNT_ATTR.STRICTATIME],
    [MS.NODIRATIME, MOUNT_ATTR.NODIRATIME], [MS.NOSYMFOLLOW, MOUNT_ATTR.NOSYMFOLLOW],
  ];
  return pairs.reduce((attr, [ms, a]) => (msFlags & ms ? attr | a : attr), 0);
}
