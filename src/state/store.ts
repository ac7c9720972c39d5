// The state directory: <root>/<id>/{state.json, exec.fifo, lock}. Writes are atomic (temp + rename).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { SavedCgroup } from "../cgroups/types.js";
import type { Hooks, Process } from "../spec/types.js";
import { native } from "../syscalls/native.js";

export const DEFAULT_ROOT = "/run/tsrun";

/** What tsrun keeps about a container between commands. */
export interface StoredState {
  ociVersion: string;
  id: string;
  initPid: number;
  /** Start time of the init from /proc/<pid>/stat: guards against pid reuse. */
  initStartTime: string;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  cgroup?: SavedCgroup;
  /** The container has its own pid namespace (SIGKILL then reaches every process). */
  pidNamespace: boolean;
  /** Namespace files of the init, for exec: type -> path the container joined, when not new. */
  namespaces: { type: string; path?: string }[];
  /** The container's seccomp filter (BPF, base64) and flags, which exec'd processes get too. */
  seccomp?: { bpf: string; flags: number; agent?: { listenerPath: string; listenerMetadata?: string } };
  hooks?: Hooks;
  /** config.json's process: what `exec` starts from when no --process is given. */
  process?: Process;
  rootless: boolean;
  /** The init's ops after READY (startContainer hooks, execve): start names the one that failed. */
  startOps?: StartOp[];
}

/** An op of the init program (src/plan/ops.ts), as much as an error message about it needs. */
export interface StartOp {
  index: number;
  op: string;
  origin: string;
  what: string;
  strs?: string[];
}

export function containerDir(root: string, id: string): string {
  return join(root, id);
}

export function fifoPath(root: string, id: string): string {
  return join(root, id, "exec.fifo");
}

export function readState(root: string, id: string): StoredState | undefined {
  let text: string;
  try {
    text = readFileSync(join(root, id, "state.json"), "utf8");
  } catch {
    return undefined;
  }
  return JSON.parse(text) as StoredState;
}

export function writeState(root: string, state: StoredState): void {
  const dir = containerDir(root, state.id);
  const tmp = join(dir, `.state.json.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
  renameSync(tmp, join(dir, "state.json"));
}

export function listIds(root: string): string[] {
  try {
    return readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}

export function ensureRoot(root: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
}

/** Creates <root>/<id>; false when it already exists. */
export function createContainerDir(root: string, id: string): boolean {
  try {
    mkdirSync(containerDir(root, id), { mode: 0o700 });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

export function removeContainerDir(root: string, id: string): void {
  rmSync(containerDir(root, id), { recursive: true, force: true });
}

export function containerDirExists(root: string, id: string): boolean {
  return existsSync(containerDir(root, id));
}

/** How long a command waits for another one working on the same container. */
const LOCK_TIMEOUT_MS = 60_000;

/** Exclusive per-container lock held until release (or process exit). */
export function lockContainer(root: string, id: string): () => void {
  const fd = openSync(join(root, id, "lock"), "a", 0o600);
  const end = Date.now() + LOCK_TIMEOUT_MS;
  for (let delay = 1; !native.flock(fd, true, false); delay = Math.min(delay * 2, 50)) {
    if (Date.now() > end) {
      closeSync(fd);
      throw new Error(`container ${id} is locked by another command (waited ${LOCK_TIMEOUT_MS / 1000}s)`);
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay);
  }
  return () => closeSync(fd);
}

/** Writes a pid file the way runc does: no newline, temp file in the same directory, then rename. */
export function writePidFile(path: string, pid: number): void {
  // dirname, not the text before the last "/": a bare relative name (`exec --pid-file pid.txt`,
  // runc's exec.bats) has no "/" and lives in the current directory.
  const tmp = join(dirname(path), `.${basename(path)}`);
  writeFileSync(tmp, String(pid), { flag: "w", mode: 0o666 });
  renameSync(tmp, path);
}
