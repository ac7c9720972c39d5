// The one interface every cgroup driver (v1, v2, hybrid, systemd) implements.
import type { Resources } from "../spec/types.js";
import type { CgroupStats } from "./stats.js";

export type { CgroupStats } from "./stats.js";

/** What state.json records so that a later command can find the container's cgroups again. */
export interface SavedCgroup {
  driver: "v1" | "v2";
  /**
   * controller name (v1) or "" (v2 unified) -> absolute cgroup directory.
   * v1 keys are controller names ("cpu", "memory", ...) and named hierarchies ("name=systemd");
   * on a hybrid host the v1 driver also records the cgroup2 directory under "".
   * Co-mounted controllers (cpu,cpuacct) map to the same directory.
   */
  paths: Record<string, string>;
  /** host mode when the cgroup was created (informational; the driver decides behaviour) */
  mode?: "v1" | "v2" | "hybrid";
  /** permission errors on the cgroup filesystem were ignored when creating it */
  rootless?: boolean;
  /** --systemd-cgroup: the transient unit systemd manages the cgroup (paths[""]) as */
  systemd?: { unit: string; slice: string; user?: boolean };
}

export type FreezerState = "THAWED" | "FREEZING" | "FROZEN";

export interface CgroupManager {
  readonly saved: SavedCgroup;
  /** Create the cgroup directories (all hierarchies). Fails if the cgroup already holds processes. */
  create(): void;
  /** Move pid into the container's cgroup(s). */
  apply(pid: number): void;
  /**
   * Write resource limits. Returns warnings (settings ignored on this host, e.g. kernel memory);
   * throws a CgroupError on anything the kernel or the driver rejects.
   */
  set(resources: Resources): string[];
  freeze(): void;
  thaw(): void;
  isFrozen(): boolean;
  /** Host pids of every process in the container's cgroup. */
  pids(): number[];
  /** Signal every process in the cgroup. */
  killAll(signal: number): void;
  /** Waits (bounded) until no process is left in the cgroup; whether it is empty. */
  waitEmpty(timeoutMs: number): boolean;
  /** Remove every cgroup directory of this container; missing directories are fine. */
  destroy(): void;
  exists(): boolean;

  // ---- additions (beyond the first interface) ----
  /** "v1" | "v2" | "hybrid" */
  readonly mode: "v1" | "v2" | "hybrid";
  /** THAWED, FREEZING (v1 transitional / v2 freeze requested but not done) or FROZEN. */
  freezerState(): FreezerState;
  /** runc `events --stats` data (types.Stats). Use encodeStats()/encodeEvent() to print it. */
  stats(): CgroupStats;
  /** Number of OOM kills in the container's memory cgroup so far (undefined when the kernel does not say). */
  oomKillCount(): number | undefined;
  /** Directory of one controller ("" = cgroup2); undefined when the host has no such hierarchy. */
  path(controller: string): string | undefined;
  /** What create() and apply() warn about (a cgroup that is not empty; rootless: what they left out), once. */
  takeWarnings(): string[];
}
