// Waiting in the foreground for a container process: signals tsrun receives are forwarded to it.
import { constants } from "node:os";
import { native, signalPid } from "../syscalls/index.js";

/** Every catchable signal but SIGCHLD, SIGWINCH and SIGURG (runc forwards the same set). */
const FORWARDED = [
  "SIGHUP", "SIGINT", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
  "SIGCONT", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGVTALRM", "SIGPROF", "SIGIO", "SIGPWR", "SIGSYS",
] as const;

export interface Forwarder {
  /** Starts delivering (and flushes what arrived before the pid was known). */
  attach(pid: number, startTime: string): void;
  detach(): void;
}

/** Installs the handlers at once, so no signal between spawn and wait is lost. */
export function forwardSignals(): Forwarder {
  let target: { pid: number; startTime: string } | undefined;
  const pending: number[] = [];
  const deliver = (sig: number) => {
    if (!target) return void pending.push(sig);
    try {
      signalPid(target.pid, sig, target.startTime);
    } catch {
      // the process is exiting
    }
  };
  const handlers = FORWARDED.map((name) => {
    const handler = () => deliver(constants.signals[name]);
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    attach(pid, startTime) {
      target = { pid, startTime };
      for (const sig of pending.splice(0)) deliver(sig);
    },
    detach() {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}

/** Waits for a child (tsrun is its subreaper) and returns the shell-style exit status. */
export async function waitExitStatus(pid: number): Promise<number> {
  const status = await native.waitpidAsync(pid);
  return status.signal !== undefined ? 128 + status.signal : status.code ?? 0;
}
