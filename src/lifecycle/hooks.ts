// OCI hooks run by tsrun itself: prestart, createRuntime and poststart/poststop in the runtime's
// namespaces, createContainer in the container's (through a tsrun-init that joins them).
// startContainer hooks are ops of the init program (they run inside the container).
import { spawnSync } from "node:child_process";
import { closeSync, readFileSync, writeSync } from "node:fs";
import { compileHookExec } from "../plan/exec.js";
import type { Hook, Hooks } from "../spec/types.js";
import type { StoredState } from "../state/store.js";
import { awaitExit, native, signalPid } from "../syscalls/index.js";
import { RuntimeError } from "./errors.js";
import { awaitExec, driveInitToReady, extraFdNumber, Undo } from "./init-process.js";
import { namespacesToJoin } from "./namespaces.js";
import { warn } from "./log.js";

export type HookKind = keyof Hooks;

export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** The state a hook reads on stdin, for a container tsrun already recorded. */
export function hookStateOf(s: StoredState, status: string, pid?: number): HookState {
  return { ociVersion: s.ociVersion, id: s.id, status, pid, bundle: s.bundle, annotations: s.annotations ?? {} };
}

function describe(kind: HookKind, i: number, h: Hook): string {
  return `hooks.${kind}[${i}] (${h.path})`;
}

function envObject(env: string[] | undefined): NodeJS.ProcessEnv {
  if (!env) return process.env;
  const out: NodeJS.ProcessEnv = {};
  for (const e of env) {
    const eq = e.indexOf("=");
    if (eq > 0) out[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return out;
}

/** Runs hooks in tsrun's namespaces. mustSucceed: the first failure throws; else failures warn. */
export function runHostHooks(kind: HookKind, hooks: Hook[] | undefined, state: HookState, mustSucceed: boolean): void {
  (hooks ?? []).forEach((h, i) => {
    const r = spawnSync(h.path, (h.args ?? [h.path]).slice(1), {
      argv0: h.args?.[0] ?? h.path,
      env: envObject(h.env),
      input: JSON.stringify(state),
      timeout: h.timeout ? h.timeout * 1000 : undefined,
      killSignal: "SIGKILL",
      encoding: "utf8",
    });
    let problem: string | undefined;
    if (r.error) problem = (r.error as NodeJS.ErrnoException).code === "ETIMEDOUT" ? `timed out after ${h.timeout}s` : r.error.message;
    else if (r.signal) problem = `killed by ${r.signal}`;
    else if (r.status !== 0) problem = `exit status ${r.status}`;
    if (!problem) return;
    const output = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
    const msg = `${describe(kind, i, h)}: ${problem}${output ? `: ${output}` : ""}`;
    if (mustSucceed) throw new RuntimeError(msg);
    warn(msg);
  });
}

const HOOK_EXEC_TIMEOUT_MS = 60_000;

/** Runs createContainer hooks inside the namespaces of the container's init (before pivot_root). */
export function runContainerHooks(kind: HookKind, hooks: Hook[] | undefined, state: HookState, initPid: number): void {
  (hooks ?? []).forEach((h, i) => {
    const [readEnd, writeEnd] = native.pipe();
    const pidfd = native.pidfdOpen(initPid);
    const undo = new Undo();
    try {
      const program = compileHookExec(h, { nsFlags: namespacesToJoin(initPid), pidfd: extraFdNumber(0, 0), origin: describe(kind, i, h) });
      native.setSubreaper(true);
      const { pid, execReport } = driveInitToReady(program, { preservedFds: 0, extraFds: [pidfd], stdio: [readEnd, -1, -1] }, undo, () => {});
      awaitExec(execReport, program.ops, HOOK_EXEC_TIMEOUT_MS); // an execve that fails names the hook
      native.close(readEnd);
      writeSync(writeEnd, JSON.stringify(state));
      closeSync(writeEnd);
      const status = waitWithTimeout(pid, h.timeout);
      if (status !== undefined) throw new RuntimeError(`${describe(kind, i, h)}: ${status}`);
    } catch (e) {
      undo.run();
      throw e;
    } finally {
      native.close(pidfd);
      try {
        native.close(readEnd);
        closeSync(writeEnd);
      } catch {
        // already closed
      }
    }
  });
}

/** undefined when the process exited 0; otherwise why it failed. */
function waitWithTimeout(pid: number, timeoutSec?: number): string | undefined {
  if (!awaitExit(pid, timeoutSec ? timeoutSec * 1000 : -1)) {
    try {
      signalPid(pid, 9);
    } catch {
      // exited meanwhile
    }
    native.waitpid(pid);
    return `timed out after ${timeoutSec}s`;
  }
  const st = native.waitpid(pid);
  if (st.signal !== undefined) return `killed by signal ${st.signal}`;
  return st.code === 0 ? undefined : `exit status ${st.code}`;
}

/** Pid of a process as its own pid namespace sees it (the last NSpid entry). */
export function namespacePid(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("NSpid:"));
    const parts = line?.split(/\s+/).filter(Boolean) ?? [];
    return Number(parts[parts.length - 1]) || pid;
  } catch {
    return pid;
  }
}
