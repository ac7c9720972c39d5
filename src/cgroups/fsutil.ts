// Small synchronous file helpers for cgroup filesystems.
//
// cgroupfs files are not regular files: writes must be one write(2) per value (devices.allow takes
// one rule per write), files must be opened without O_CREAT (some are write-only, mode 0200), and
// errors should name the file and the value so a person can act on them.
import * as fs from "node:fs";
import { join } from "node:path";
import { sleepMs } from "../syscalls/index.js";

export class CgroupError extends Error {
  /** errno code of the failing syscall, when there was one (EINVAL, EBUSY, ENOENT...). */
  readonly code?: string;
  constructor(message: string, code?: string) {
    super(message);
    this.name = "CgroupError";
    if (code !== undefined) this.code = code;
  }
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

const ERRNO_TEXT: Record<string, string> = {
  EINVAL: "invalid argument",
  EBUSY: "device or resource busy",
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EOPNOTSUPP: "operation not supported",
  ENOTSUP: "operation not supported",
  ERANGE: "numerical result out of range",
  ESRCH: "no such process",
  ENODEV: "no such device",
  ENOTEMPTY: "directory not empty",
  EEXIST: "file exists",
};

export function errnoText(e: unknown): string {
  const code = errCode(e);
  if (code && ERRNO_TEXT[code]) return `${ERRNO_TEXT[code]} (${code})`;
  if (code) return code;
  return (e as Error)?.message ?? String(e);
}

export function isNotFound(e: unknown): boolean {
  return errCode(e) === "ENOENT";
}

export function isPermission(e: unknown): boolean {
  const c = errCode(e);
  return c === "EACCES" || c === "EPERM" || c === "EROFS";
}

/** Write one value to a cgroup file with a single write(2). Throws a CgroupError naming file and value. */
export function writeCgroupFile(dir: string, file: string, value: string): void {
  const path = join(dir, file);
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
  } catch (e) {
    throw new CgroupError(`failed to write ${JSON.stringify(value)}: open ${path}: ${errnoText(e)}`, errCode(e));
  }
  try {
    const buf = Buffer.from(value);
    const n = fs.writeSync(fd, buf, 0, buf.length);
    if (n !== buf.length) throw Object.assign(new Error("short write"), { code: "EIO" });
  } catch (e) {
    throw new CgroupError(`failed to write ${JSON.stringify(value)}: write ${path}: ${errnoText(e)}`, errCode(e));
  } finally {
    fs.closeSync(fd);
  }
}

/** Read a cgroup file, trimmed. Throws a CgroupError naming the file. */
export function readCgroupFile(dir: string, file: string): string {
  const path = join(dir, file);
  try {
    return fs.readFileSync(path, "utf8").trim();
  } catch (e) {
    throw new CgroupError(`failed to read ${path}: ${errnoText(e)}`, errCode(e));
  }
}

/** Read a cgroup file or return undefined when it does not exist. */
export function readCgroupFileIfExists(dir: string, file: string): string | undefined {
  try {
    return fs.readFileSync(join(dir, file), "utf8").trim();
  } catch (e) {
    if (isNotFound(e) || errCode(e) === "ENODEV" || errCode(e) === "EOPNOTSUPP") return undefined;
    throw new CgroupError(`failed to read ${join(dir, file)}: ${errnoText(e)}`, errCode(e));
  }
}

export function fileExists(path: string): boolean {
  try {
    fs.accessSync(path, fs.constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

export function dirExists(path: string): boolean {
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export { sleepMs } from "../syscalls/index.js";

/** Parse a cgroup.procs / tasks file: one pid per line. */
export function parsePidList(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split("\n")) {
    const s = line.trim();
    if (s === "") continue;
    const n = Number(s);
    if (Number.isInteger(n) && n > 0) out.push(n);
  }
  return out;
}

/** Pids in dir/cgroup.procs (not recursive). A missing directory yields []. */
export function readProcs(dir: string): number[] {
  const text = readCgroupFileIfExists(dir, "cgroup.procs");
  return text === undefined ? [] : parsePidList(text);
}

/** Sub-cgroup directories of dir, deepest first, dir itself last. Missing dir yields []. */
export function cgroupTreeDeepestFirst(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): boolean => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (e) {
      if (isNotFound(e)) return false;
      throw new CgroupError(`failed to list ${d}: ${errnoText(e)}`, errCode(e));
    }
    for (const ent of entries) if (ent.isDirectory()) walk(join(d, ent.name));
    out.push(d);
    return true;
  };
  walk(dir);
  return out;
}

/** Pids of every process in dir and its descendants (sorted, unique). */
export function readProcsRecursive(dir: string): number[] {
  const set = new Set<number>();
  for (const d of cgroupTreeDeepestFirst(dir)) for (const p of readProcs(d)) set.add(p);
  return [...set].sort((a, b) => a - b);
}

/** mkdir -p; returns the directories it created, outermost first. */
export function mkdirAll(dir: string, mode = 0o755): string[] {
  const created: string[] = [];
  const parts = dir.split("/").filter(Boolean);
  let cur = "";
  for (const p of parts) {
    cur += "/" + p;
    try {
      fs.mkdirSync(cur, { mode });
      created.push(cur);
    } catch (e) {
      if (errCode(e) === "EEXIST") continue;
      throw new CgroupError(`failed to create cgroup directory ${cur}: ${errnoText(e)}`, errCode(e));
    }
  }
  return created;
}

/**
 * Remove a cgroup directory and its sub-cgroups, deepest first. A cgroup whose tasks are still
 * exiting answers EBUSY for a moment, so retry until `timeoutMs` has passed. Missing is fine.
 */
export function removeCgroupTree(dir: string, timeoutMs = 2000): void {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    let lastErr: unknown;
    let failedAt = "";
    for (const d of cgroupTreeDeepestFirst(dir)) {
      try {
        fs.rmdirSync(d);
      } catch (e) {
        if (isNotFound(e)) continue;
        lastErr = e;
        failedAt = d;
        break;
      }
    }
    if (lastErr === undefined) return;
    if (Date.now() >= deadline) {
      let detail = "";
      try {
        const pids = readProcsRecursive(failedAt);
        if (pids.length) detail = ` (still holds pid${pids.length > 1 ? "s" : ""} ${pids.join(", ")})`;
      } catch {
        /* ignore */
      }
      throw new CgroupError(`failed to remove cgroup ${failedAt}: ${errnoText(lastErr)}${detail}`, errCode(lastErr));
    }
    sleepMs(delay);
    delay = Math.min(delay * 2, 100);
  }
}
