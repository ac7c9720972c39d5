// Typed wrappers over the addon and the few /proc reads every command needs.
import { readFileSync } from "node:fs";
import { native, type InitMessage, type WaitStatus } from "./native.js";

export type { InitMessage, WaitStatus };
export { native };

/** Error with the errno code the addon attached ("EPERM", ...). */
export interface ErrnoError extends Error {
  code?: string;
  errno?: number;
}

/** Fields of /proc/<pid>/stat we rely on: state letter and start time (field 22). */
export function procStat(pid: number): { state: string; startTime: string } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: fields start after the last ')'
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: rest[0], startTime: rest[19] };
}

/** Signal a process through a pidfd, so a recycled pid can never be hit. */
export function signalPid(pid: number, signal: number, expectedStartTime?: string): void {
  const fd = native.pidfdOpen(pid);
  try {
    if (expectedStartTime !== undefined && procStat(pid)?.startTime !== expectedStartTime) {
      const err: ErrnoError = new Error("no such process");
      err.code = "ESRCH";
      throw err;
    }
    native.pidfdSendSignal(fd, signal);
  } finally {
    native.close(fd);
  }
}

/**
 * Waits until a process exits, woken by the kernel through a pidfd (no polling). true once it has
 * exited (a zombie counts), false when timeoutMs (-1: no limit) passed first, undefined when there
 * is no such process.
 */
export function awaitExit(pid: number, timeoutMs: number): boolean | undefined {
  let fd: number;
  try {
    fd = native.pidfdOpen(pid);
  } catch (e) {
    if ((e as ErrnoError).code === "ESRCH") return undefined;
    throw e;
  }
  try {
    return native.pidfdWait(fd, timeoutMs);
  } finally {
    native.close(fd);
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Synchronous sleep, for the short bounded waits of the synchronous lifecycle and cgroup code. */
export function sleepMs(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}
