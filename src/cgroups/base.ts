// Behaviour shared by the v1 and v2 drivers: process listing, signalling, removal.
import { rmdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Resources } from "../spec/types.js";
import type { CgroupManager, FreezerState, SavedCgroup } from "./types.js";
import type { CgroupStats } from "./stats.js";
import {
  CgroupError,
  dirExists,
  errnoText,
  isPermission,
  readCgroupFileIfExists,
  readProcsRecursive,
  removeCgroupTree,
  sleepMs,
  writeCgroupFile,
} from "./fsutil.js";

const SIGKILL = 9;

function rmdirQuiet(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty or not ours: not something to remove
  }
}

export abstract class BaseManager implements CgroupManager {
  protected paths: Record<string, string>;
  readonly rootless: boolean;
  abstract readonly mode: "v1" | "v2" | "hybrid";
  protected abstract readonly driver: "v1" | "v2";

  /** rootless: hierarchies left out because we may not create or join our directory there (key -> why) */
  protected readonly dropped: Record<string, string> = {};
  private droppedNotes: { dir: string; keys: string[]; why: string }[] = [];
  /** directories create() made (not there before) */
  protected readonly made = new Set<string>();
  /** warnings for takeWarnings (a cgroup that is not empty) */
  private notes: string[] = [];

  constructor(paths: Record<string, string>, rootless = false) {
    this.paths = { ...paths };
    this.rootless = rootless;
  }

  /**
   * rootless: a permission error on one of our directories means running without that cgroup, as
   * runc does; the directory is forgotten (and reported by takeWarnings). Returns false otherwise.
   */
  protected dropUnwritable(dir: string, e: unknown): boolean {
    if (!(this.rootless && isPermission(e))) return false;
    const keys = Object.keys(this.paths).filter((k) => this.paths[k] === dir);
    const why = (e as Error)?.message ?? String(e);
    for (const k of keys) {
      delete this.paths[k];
      this.dropped[k] = why;
    }
    this.droppedNotes.push({ dir, keys, why });
    return true;
  }

  /** Why a controller has no directory (rootless), for error messages. */
  protected droppedReason(key: string): string | undefined {
    const why = this.dropped[key];
    return why === undefined ? undefined : `rootless: the container could not create or join its ${key ? `${key} ` : ""}cgroup (${why})`;
  }

  takeWarnings(): string[] {
    const notes = this.notes.splice(0);
    if (!this.droppedNotes.length) return notes;
    const keys = this.droppedNotes.flatMap((n) => n.keys).map((k) => k || "cgroup2").sort();
    const first = this.droppedNotes[0]!;
    this.droppedNotes = [];
    const none = this.dirs().length === 0;
    const what = none ? "a cgroup of its own" : `its ${keys.join(", ")} cgroup${keys.length > 1 ? "s" : ""}`;
    return [...notes, `rootless: cannot create or join the container's cgroup (${first.why}): it runs without ${what}, so no resource limits or device rules apply there`];
  }

  get saved(): SavedCgroup {
    const s: SavedCgroup = { driver: this.driver, paths: { ...this.paths }, mode: this.mode };
    if (this.rootless) s.rootless = true;
    return s;
  }

  path(controller: string): string | undefined {
    return this.paths[controller];
  }

  /** Every distinct directory, in a stable order. */
  protected dirs(): string[] {
    return [...new Set(Object.values(this.paths))];
  }

  /** The directory whose cgroup.procs defines "the container's processes". */
  protected abstract primaryDir(): string | undefined;

  abstract create(): void;
  abstract set(resources: Resources): string[];
  abstract freezerState(): FreezerState;
  protected abstract setFreezer(state: "FROZEN" | "THAWED"): void;
  abstract stats(): CgroupStats;
  abstract oomKillCount(): number | undefined;

  /**
   * A cgroup that existed before, as runc treats it: a frozen one is refused (the init would join
   * it and stop for good), one with processes in it only warned about.
   */
  protected checkExisting(): void {
    const dir = this.primaryDir();
    if (!dir) return;
    if (this.freezerState() !== "THAWED") {
      for (const made of [...this.made].reverse()) rmdirQuiet(made);
      this.made.clear();
      throw new CgroupError(`container's cgroup unexpectedly frozen: ${this.freezerDir() ?? dir} (thaw it, or choose another linux.cgroupsPath)`);
    }
    const n = readProcsRecursive(dir).length;
    if (n > 0) this.notes.push(`container's cgroup is not empty: ${n} process(es) found`);
  }

  /** The directory whose freezer state counts (v1: the freezer hierarchy's). */
  protected freezerDir(): string | undefined {
    return this.primaryDir();
  }

  /** Write pid into dir/cgroup.procs, retrying EINVAL (a task still in TASK_NEW cannot move yet). */
  protected writeProc(dir: string, pid: number): void {
    for (let attempt = 0; ; attempt++) {
      try {
        writeCgroupFile(dir, "cgroup.procs", String(pid));
        return;
      } catch (e) {
        if ((e as CgroupError).code === "EINVAL" && attempt < 5) {
          sleepMs(30);
          continue;
        }
        throw new CgroupError(`failed to add pid ${pid} to cgroup ${dir}: ${(e as Error).message}`, (e as CgroupError).code);
      }
    }
  }

  apply(pid: number): void {
    if (!Number.isInteger(pid) || pid <= 0) throw new CgroupError(`invalid pid ${pid}`);
    for (const dir of this.dirs()) {
      try {
        this.writeProc(dir, pid);
      } catch (e) {
        if (this.dropUnwritable(dir, e)) {
          // created but not joinable: leave nothing behind
          if (this.made.has(dir)) rmdirQuiet(dir);
          continue;
        }
        throw e;
      }
    }
  }

  freeze(): void {
    this.setFreezer("FROZEN");
  }

  thaw(): void {
    this.setFreezer("THAWED");
  }

  isFrozen(): boolean {
    return this.freezerState() === "FROZEN";
  }

  pids(): number[] {
    const dir = this.primaryDir();
    return dir ? readProcsRecursive(dir) : [];
  }

  /** Whether a freezer exists to stop the tasks while they are signalled. */
  protected abstract canFreeze(): boolean;

  /** v2 cgroup.kill (kernel 5.14+), only for SIGKILL. */
  protected cgroupKill(): boolean {
    return false;
  }

  killAll(signal: number): void {
    if (signal === SIGKILL && this.cgroupKill()) {
      // cgroup.kill reaches frozen tasks too; thaw anyway so the cgroup is not left paused.
      try {
        if (this.freezerState() !== "THAWED") this.setFreezer("THAWED");
      } catch {
        /* best effort */
      }
      this.waitEmpty(1000);
      return;
    }
    // Freeze so nothing forks between listing and signalling, then restore the previous freezer
    // state (SIGKILL always thaws, or the killed tasks could never exit).
    let wasFrozen = false;
    let froze = false;
    if (this.canFreeze()) {
      try {
        wasFrozen = this.freezerState() !== "THAWED";
        if (!wasFrozen) {
          this.setFreezer("FROZEN");
          froze = true;
        }
      } catch {
        /* best effort: signal without freezing */
      }
    }
    let firstErr: unknown;
    try {
      for (const pid of this.pids()) {
        try {
          process.kill(pid, signal);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ESRCH") continue;
          firstErr ??= e;
        }
      }
    } finally {
      if (froze || (wasFrozen && signal === SIGKILL)) {
        try {
          this.setFreezer("THAWED");
        } catch {
          /* best effort */
        }
      }
    }
    if (firstErr) throw new CgroupError(`failed to signal processes in the container's cgroup: ${errnoText(firstErr)}`, (firstErr as NodeJS.ErrnoException).code);
  }

  /** Wait (bounded) until no process is left in the cgroup; returns whether it is empty. */
  waitEmpty(timeoutMs: number): boolean {
    const deadline = Date.now() + timeoutMs;
    let delay = 2;
    for (;;) {
      if (this.pids().length === 0) return true;
      if (Date.now() >= deadline) return false;
      sleepMs(delay);
      delay = Math.min(delay * 2, 50);
    }
  }

  destroy(): void {
    const errors: string[] = [];
    // Deepest directories first across hierarchies does not matter; within one, removeCgroupTree does it.
    for (const dir of this.dirs()) {
      try {
        removeCgroupTree(dir);
      } catch (e) {
        if (this.rootless && isPermission(e)) continue;
        errors.push((e as Error).message);
      }
    }
    if (errors.length) throw new CgroupError(errors.join("; "));
  }

  exists(): boolean {
    const dir = this.primaryDir();
    return dir !== undefined && dirExists(dir);
  }

  /** Poll a predicate until true or timeout. */
  protected waitFor(pred: () => boolean, timeoutMs: number, onRetry?: (i: number) => void): boolean {
    const deadline = Date.now() + timeoutMs;
    let delay = 1;
    for (let i = 1; ; i++) {
      if (pred()) return true;
      if (Date.now() >= deadline) return false;
      onRetry?.(i);
      sleepMs(delay);
      delay = Math.min(delay * 2, 10);
    }
  }

  /** Parent directory helper used by drivers. */
  protected static parentOf(dir: string): string {
    return dirname(dir);
  }

  protected static readIfExists(dir: string, file: string): string | undefined {
    return readCgroupFileIfExists(dir, file);
  }
}
