// A container's status is derived on every call from the live system, never trusted from disk.
import type { ContainerState } from "../spec/types.js";

export type Status = ContainerState["status"];

export interface StatusProbe {
  /** /proc/<pid>/stat state letter and start time, or undefined when the pid does not exist. */
  procStat(pid: number): { state: string; startTime: string } | undefined;
  fifoExists(): boolean;
  isFrozen(): boolean;
}

export function initAlive(pid: number, startTime: string, probe: Pick<StatusProbe, "procStat">): boolean {
  if (pid <= 0) return false;
  const stat = probe.procStat(pid);
  if (!stat) return false;
  if (stat.startTime !== startTime) return false; // the pid was recycled
  return stat.state !== "Z" && stat.state !== "X" && stat.state !== "x";
}

export function deriveStatus(pid: number, startTime: string, probe: StatusProbe): Status {
  if (!initAlive(pid, startTime, probe)) return "stopped";
  if (probe.isFrozen()) return "paused";
  if (probe.fifoExists()) return "created";
  return "running";
}
