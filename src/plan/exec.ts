// The program of `exec`: join the running container's namespaces, then become its new process.
import type { Hook, Process } from "../spec/types.js";
import { CLONE } from "./constants.js";
import { compileProcess, nulJoin, type LsmFacts, type SeccompProgram } from "./compile.js";
import { cpuMask } from "./cpus.js";
import type { Op, Program } from "./ops.js";

export interface ExecPlanOptions {
  /** CLONE_NEW* flags of the namespaces to join (those the container does not share with tsrun). */
  nsFlags: number;
  /** fd number, inside tsrun-init, of a pidfd of the container's init. */
  pidfd: number;
  consoleFd?: number;
  foregroundTerminal?: boolean;
  preservedFds?: number;
  seccomp?: SeccompProgram;
  lsm?: LsmFacts;
  setgroupsDenied?: boolean;
}

/** The start of every program that enters a running container: its namespaces, then its pid
 * namespace (a child of the setns), then a wait while tsrun places the process. */
function joinContainer(add: (op: Op) => void, nsFlags: number, pidfd: number, origin: string, waitFor: string): void {
  if (nsFlags) add({ op: "SETNS_FD", ints: [pidfd, nsFlags], origin, what: "join the container's namespaces" });
  add({ op: "CLONE", ints: [0], origin, what: "enter the pid namespace" });
  add({ op: "WAIT_GO", origin: "runtime", what: waitFor });
}

export function compileExec(process: Process, opts: ExecPlanOptions): Program {
  const ops: Op[] = [];
  const add = (op: Op) => ops.push(op);
  const { initial, final } = process.execCPUAffinity ?? {};
  // initial: where tsrun-init runs until it is in the container's cgroup (which may reset it)
  if (initial) add({ op: "SCHED_AFFINITY", strs: [cpuMask(initial)], origin: "process.execCPUAffinity.initial", what: `set the CPU affinity to ${initial}` });
  joinContainer(add, opts.nsFlags, opts.pidfd, "container", "wait for the cgroup");
  if (opts.nsFlags & CLONE.NEWUSER) {
    add({ op: "SETRESGID", ints: [0], origin: "linux.gidMappings", what: "become root gid in the user namespace" });
    add({ op: "SETRESUID", ints: [0], origin: "linux.uidMappings", what: "become root in the user namespace" });
  }
  if (opts.consoleFd !== undefined) add({ op: "SETSID", origin: "process.terminal", what: "create a session" });
  compileProcess(process, "process", {
    preservedFds: opts.preservedFds,
    consoleFd: opts.consoleFd,
    foregroundTerminal: opts.foregroundTerminal,
    seccomp: opts.seccomp,
    lsm: opts.lsm,
    setgroupsDenied: opts.setgroupsDenied,
    finalAffinity: final ? cpuMask(final) : undefined,
  }, add);
  return { ops };
}

/** A createContainer hook: join the container's namespaces (still before pivot_root), exec it. */
export function compileHookExec(hook: Hook, opts: { nsFlags: number; pidfd: number; origin: string }): Program {
  const ops: Op[] = [];
  const add = (op: Op) => ops.push(op);
  joinContainer(add, opts.nsFlags, opts.pidfd, opts.origin, "wait");
  add({ op: "FIND_EXEC", strs: [hook.path, ""], origin: opts.origin, what: `find ${hook.path}` });
  add({ op: "READY", origin: "runtime", what: "report ready" });
  add({ op: "CLOSE_FDS", ints: [3], origin: "runtime", what: "close inherited fds" });
  const args = hook.args ?? [hook.path];
  const env = hook.env ?? [];
  add({ op: "EXEC", strs: [nulJoin(args), nulJoin(env)], ints: [args.length, env.length], origin: opts.origin, what: `run ${hook.path}` });
  return { ops };
}
