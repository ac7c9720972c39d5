// Running criu and the host-side chores around it (the image directories, criu's log, the
// rootfs mount a restore needs). The command lines come from src/plan/criu.ts.
import { spawnSync, type StdioOptions } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { MS } from "../plan/constants.js";
import { criuErrorLines } from "../plan/criu.js";
import { native } from "../syscalls/index.js";
import { RuntimeError } from "./errors.js";
import { debug } from "./log.js";

/** The criu binary: $TSRUN_CRIU (tests use a stand-in) or `criu` from $PATH. */
export function criuBinary(): string {
  return process.env.TSRUN_CRIU || "criu";
}

/**
 * Runs criu to completion. On failure the error names criu's log file and quotes its last
 * error lines, which is where criu says what went wrong (stderr is mostly empty with -o).
 */
export function runCriu(args: string[], logFile: string, stdio: StdioOptions): void {
  debug(`criu ${args.join(" ")}`);
  const r = spawnSync(criuBinary(), args, { stdio, encoding: "utf8", maxBuffer: 16 << 20 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new RuntimeError(`criu not found (${criuBinary()}): checkpoint and restore need CRIU installed`);
    throw new RuntimeError(`cannot run criu: ${r.error.message}`);
  }
  if (r.status === 0) return;
  const how = r.signal ? `was killed by ${r.signal}` : `exited with status ${r.status}`;
  let log = "";
  try {
    log = readFileSync(logFile, "utf8");
  } catch {
    // criu failed before it opened its log
  }
  const lines = criuErrorLines(log);
  const stderr = typeof r.stderr === "string" ? r.stderr.trim().split("\n").filter(Boolean).slice(-3) : [];
  const detail = lines.length ? lines : stderr;
  throw new RuntimeError(
    `criu ${args[0]} failed: criu ${how} (log file: ${logFile})` +
      (detail.length ? `:\n${detail.join("\n")}` : "") +
      (lines.some((l) => /kerndat|Could not initialize kernel features/.test(l))
        ? "\n(`criu check` shows whether CRIU can work on this kernel)"
        : ""),
  );
}

/** A directory for images or work files: created when missing; says whether it was. */
export function ensureDir(path: string): { created: boolean } {
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) throw new RuntimeError(`${path} is not a directory`);
    return { created: false };
  }
  mkdirSync(path, { recursive: true, mode: 0o700 });
  return { created: true };
}

/**
 * Undo what a failed criu run left in a directory: entries that were not there before go, except
 * `keep` (criu's log, which the error names). A directory tsrun made is removed when nothing is left.
 */
export function tidyDir(path: string, before: Set<string>, created: boolean, keep?: string): void {
  let entries: string[];
  try {
    entries = readdirSync(path);
  } catch {
    return;
  }
  for (const e of entries) if (!before.has(e) && e !== keep) rmSync(join(path, e), { recursive: true, force: true });
  if (created) {
    try {
      rmdirSync(path);
    } catch {
      // not empty: it holds the log
    }
  }
}

export function listDir(path: string): Set<string> {
  try {
    return new Set(readdirSync(path));
  } catch {
    return new Set();
  }
}

/**
 * criu restores the container's root mount from `--root`, which must be a mount point of its own:
 * the rootfs is bound (recursively) onto a directory in the state dir, as runc does, and made a
 * slave: criu (mount-v2) copies the root's propagation recorded in the image (the container's root
 * was a slave of the host's peer group) from this mount with MOVE_MOUNT_SET_GROUP, which the kernel
 * refuses from a private mount (EINVAL: "Failed to copy sharing from ... Invalid argument"); a
 * slave keeps that group and still sends nothing back to the host.
 */
export function bindRootfs(rootfs: string, target: string): () => void {
  mkdirSync(target, { mode: 0o700 });
  try {
    native.mount(rootfs, target, MS.BIND | MS.REC);
  } catch (e) {
    rmdirSync(target);
    throw new RuntimeError(`cannot bind the rootfs ${rootfs} for criu: ${(e as Error).message}`);
  }
  const undo = () => {
    try {
      native.umount2(target, MNT_DETACH);
    } catch {
      // already gone
    }
    try {
      rmdirSync(target);
    } catch {
      // still busy: the state dir removal retries
    }
  };
  try {
    native.mount("", target, MS.SLAVE | MS.REC);
  } catch (e) {
    undo();
    throw new RuntimeError(`cannot make ${target} a slave mount: ${(e as Error).message}`);
  }
  return undo;
}

const MNT_DETACH = 2;

