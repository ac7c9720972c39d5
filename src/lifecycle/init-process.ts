// Drives a tsrun-init process: sends the program, answers its requests, maps its errors back to
// the config.json fields the failing op came from.
import { constants as osConstants } from "node:os";
import { MsgType, type Op, type Program } from "../plan/ops.js";
import { encodeProgram } from "../plan/wire.js";
import { awaitExit, native, signalPid } from "../syscalls/index.js";
import { RuntimeError } from "./errors.js";
import type { StartOp } from "../state/store.js";

const INIT_TIMEOUT_MS = 60_000;

/** Cleanup actions run in reverse order when an operation fails half way. */
export class Undo {
  private actions: (() => void)[] = [];
  push(action: () => void): void {
    this.actions.push(action);
  }
  run(): void {
    for (const action of this.actions.reverse()) {
      try {
        action();
      } catch {
        // keep undoing the rest
      }
    }
  }
}

/** The fd number, inside tsrun-init, of extraFds[index]: spawnInit gives it the preserved fds from 3,
 * then its end of the sync socket, then the extra fds. */
export function extraFdNumber(preservedFds: number, index: number): number {
  return 3 + preservedFds + 1 + index;
}

/** Starts tsrun-init, feeds it the program and answers it until it is ready. Returns the pid of the
 * process it made (the container init, or an exec'd process). */
export function driveInit(
  program: Program,
  fds: { preservedFds: number; extraFds?: number[]; stdio?: number[] },
  undo: Undo,
  beforeGo: (pid: number) => string | void,
  onReport?: (marker: number, pid: number, sock: number) => void,
): number {
  const { pid, execReport } = driveInitToReady(program, fds, undo, beforeGo, onReport);
  native.close(execReport);
  return pid;
}

/** A ready init and its end of the sync channel, which reaches EOF when the init execs (see awaitExec). */
export interface ReadyInit {
  pid: number;
  /** owned by the caller from here on */
  execReport: number;
}

/** driveInit, keeping the channel that tells, without racing the process's exit, whether it exec'd. */
export function driveInitToReady(
  program: Program,
  fds: { preservedFds: number; extraFds?: number[]; stdio?: number[] },
  undo: Undo,
  /** Work before the process may go on (maps, cgroup); returns the state JSON the init keeps. */
  beforeGo: (pid: number) => string | void,
  /** Work at a REPORT op (hooks, a seccomp listener to receive from `sock`); the init waits until it returns. */
  onReport: (marker: number, pid: number, sock: number) => void = () => {},
): ReadyInit {
  const { pid: stage0, sock } = native.spawnInit(fds.preservedFds, fds.extraFds ?? [], fds.stdio ?? []);
  let initPid = 0;
  let sockOpen = true;
  const closeSock = () => {
    if (sockOpen) native.close(sock);
    sockOpen = false;
  };
  undo.push(() => {
    closeSock();
    if (initPid > 0) {
      try {
        signalPid(initPid, osConstants.signals.SIGKILL);
      } catch {
        // already gone
      }
      waitGone(initPid);
    }
  });
  try {
    sendProgram(sock, program);
    const first = expectMessage(sock, program);
    if (first.type !== MsgType.PID) throw new RuntimeError("tsrun-init: protocol error: expected the container pid");
    initPid = first.a;
  } catch (e) {
    closeSock(); // stage 0 may still wait for the program: EOF ends it
    try {
      reapStage0(stage0);
    } catch {
      // the first error is the one to report
    }
    throw e;
  }
  reapStage0(stage0);
  const state = Buffer.from(beforeGo(initPid) ?? "");
  const go = Buffer.alloc(5);
  go.write("G");
  go.writeUInt32LE(state.length, 1);
  writeOrExplain(sock, Buffer.concat([go, state]), program);
  for (;;) {
    const msg = expectMessage(sock, program);
    if (msg.type === MsgType.READY) break;
    if (msg.type !== MsgType.REPORT) throw new RuntimeError("tsrun-init: protocol error: expected ready");
    onReport(msg.a, initPid, sock);
    writeOrExplain(sock, Buffer.from("A"), program);
  }
  sockOpen = false; // the caller's now
  return { pid: initPid, execReport: sock };
}

/** A started init's report channel and the ops that may still fail on it. */
export interface ExecReport {
  fd: number;
  ops: Op[] | StartOp[];
}

/** A write to the init; when it has gone, what it said before (an error) or that it is gone. */
function writeOrExplain(sock: number, data: Buffer, program: Program): void {
  try {
    native.writeAll(sock, data);
  } catch (e) {
    if (!isGoneError(e)) throw e;
    expectMessage(sock, program);
    throw new InitGoneError("container init exited before it was ready");
  }
}

/** The ops after READY: what a later `start` needs to name the op that failed before exec. */
export function opsAfterReady(program: Program): StartOp[] {
  const ready = program.ops.findIndex((op) => op.op === "READY");
  return program.ops.slice(ready + 1).map((op, k) => ({ index: ready + 1 + k, op: op.op, origin: op.origin, what: op.what }));
}


/**
 * Waits until the init has exec'd the process: its end of `fd` (sync socket or exec.fifo, both
 * close-on-exec) closes at execve. A process that exits at once still started; a failure of an op
 * after READY (a startContainer hook, execve itself) arrives as an ERROR. Closes fd.
 */
export function awaitExec(fd: number, ops: Op[] | StartOp[], timeoutMs: number): void {
  const program: Program = { ops: [] };
  ops.forEach((op, k) => (program.ops["index" in op ? op.index : k] = op as Op));
  try {
    let msg;
    try {
      msg = native.readMsg(fd, timeoutMs);
    } catch (e) {
      if ((e as { errno?: number }).errno === osConstants.errno.ETIMEDOUT || /timed out/i.test((e as Error).message))
        throw new RuntimeError(`the container process was not started within ${timeoutMs / 1000}s (still in tsrun-init)`);
      throw e;
    }
    if (!msg) return;
    if (msg.type === MsgType.ERROR) throw new RuntimeError(describeInitError(program, msg.a, msg.b, msg.detail));
    throw new RuntimeError("tsrun-init: protocol error: unexpected message before exec");
  } finally {
    native.close(fd);
  }
}

/** tsrun-init's buffer for the program (PROGRAM_MAX in native/init/init.c). */
export const PROGRAM_MAX_BYTES = 8 << 20;

/** Sends the program; one too large for the init is refused here, naming its largest part. */
function sendProgram(sock: number, program: Program): void {
  const bytes = encodeProgram(program);
  if (bytes.length - 16 > PROGRAM_MAX_BYTES) {
    const sizes = program.ops.map((op) => ({ op, size: encodeProgram({ ops: [op] }).length - 16 }));
    const largest = sizes.reduce((a, b) => (b.size > a.size ? b : a));
    let origin = largest.op.origin;
    // EXEC carries both argv and envp: name the one that is big
    if (largest.op.op === "EXEC" && (largest.op.strs?.[1]?.length ?? 0) > (largest.op.strs?.[0]?.length ?? 0)) origin = origin.replace(/\.args$/, ".env");
    throw new RuntimeError(`${origin}: too large: the init program would be ${mib(bytes.length)}, over tsrun-init's limit of ${mib(PROGRAM_MAX_BYTES)} (${largest.op.what}: ${mib(largest.size)})`);
  }
  try {
    native.writeAll(sock, bytes);
  } catch (e) {
    // the init died (or refused the program): what it said, if anything, says why
    if (!isGoneError(e)) throw e;
  }
}

function mib(n: number): string {
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

function isGoneError(e: unknown): boolean {
  const errno = (e as { errno?: number }).errno;
  return errno === osConstants.errno.EPIPE || errno === osConstants.errno.ECONNRESET;
}

/** The init went away before it was ready (killed, or OOM-killed in its cgroup). */
export class InitGoneError extends RuntimeError {}

function expectMessage(sock: number, program: Program) {
  let msg;
  try {
    msg = native.readMsg(sock, INIT_TIMEOUT_MS);
  } catch (e) {
    if (isGoneError(e)) throw new InitGoneError("container init exited before it was ready");
    if ((e as { errno?: number }).errno !== osConstants.errno.ETIMEDOUT) throw e;
    throw new RuntimeError(`container init did not report within ${INIT_TIMEOUT_MS / 1000}s: it is stuck (a frozen cgroup, a stopped process?)`);
  }
  if (!msg) throw new InitGoneError("container init exited before it was ready");
  if (msg.type === MsgType.ERROR) throw new RuntimeError(describeInitError(program, msg.a, msg.b, msg.detail));
  return msg;
}

export function describeInitError(program: Program, index: number, errno: number, detail: string): string {
  const op = program.ops[index];
  if (!op) return `tsrun-init: ${detail || errnoText(errno)}`;
  if (op.op === "HOOK") return `${op.origin}: ${op.what}: ${errno ? errnoText(errno) : detail}`;
  if (op.op === "FIND_EXEC") {
    const name = String(op.strs?.[0] ?? "");
    // runc's exact wording: engines map "no such file or directory" to exit status 127
    const text = name.includes("/")
      ? `exec: ${JSON.stringify(name)}: stat ${name}: ${errnoText(errno, false)}`
      : `exec: ${JSON.stringify(name)}: executable file not found in $PATH`;
    return op.origin.startsWith("hooks.") ? `${op.origin}: ${text}` : text;
  }
  // AppArmor answers ENOENT for a profile the kernel does not know
  const attr = String(op.strs?.[1] ?? "");
  if (op.op === "PROC_ATTR" && attr.startsWith("exec ") && /(^|\/)exec$/.test(String(op.strs?.[0] ?? "")) && ERRNO_NAMES.get(errno) === "ENOENT" && op.origin.endsWith("apparmorProfile"))
    return `${op.origin}: AppArmor profile ${JSON.stringify(attr.slice(5))} is not loaded in the kernel (apparmor_parser loads it; aa-status lists the loaded ones)`;
  // the init says why when errno alone would not (a mount landing on /proc, a symlink on the way)
  if (detail) return `${op.origin}: ${op.what}: ${detail}${errno ? ` (${ERRNO_NAMES.get(errno) ?? `errno ${errno}`})` : ""}`;
  return `${op.origin}: ${op.what}: ${errnoText(errno)}`;
}

const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));
const ERRNO_TEXT: Record<string, string> = {
  EPERM: "operation not permitted", ENOENT: "no such file or directory", EACCES: "permission denied",
  EINVAL: "invalid argument", EEXIST: "file exists", ENOTDIR: "not a directory", EISDIR: "is a directory",
  EBUSY: "device or resource busy", ENOSPC: "no space left on device", EROFS: "read-only file system",
  ELOOP: "too many levels of symbolic links", EXDEV: "invalid cross-device link", ENODEV: "no such device",
  ENOMEM: "cannot allocate memory", ENOSYS: "function not implemented", ENAMETOOLONG: "file name too long",
  E2BIG: "argument list too long", ENOEXEC: "exec format error", EOVERFLOW: "value too large for defined data type",
  ESRCH: "no such process", EBADF: "bad file descriptor", EPROTO: "protocol error", EAGAIN: "resource temporarily unavailable",
};

export function errnoText(errno: number, withName = true): string {
  const name = ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
  const text = ERRNO_TEXT[name];
  if (!text) return name;
  return withName ? `${text} (${name})` : text;
}

/** Stage 0 exits as soon as it has reported the container's pid; a bounded wait all the same. */
function reapStage0(pid: number): void {
  if (!awaitExit(pid, INIT_TIMEOUT_MS)) {
    signalPid(pid, osConstants.signals.SIGKILL);
    native.waitpid(pid);
    throw new RuntimeError(`tsrun-init did not exit within ${INIT_TIMEOUT_MS / 1000}s after starting the container`);
  }
  native.waitpid(pid);
}

/** Waits (briefly) until a killed pid is gone, so its cgroup can be removed. Reaps it when it is
 * our child: a zombie left in a pid namespace keeps that namespace's init from exiting. */
export function waitGone(pid: number, timeoutMs = 2000): void {
  try {
    if (awaitExit(pid, timeoutMs) === undefined) return; // no such process
  } catch {
    return; // not a process tsrun can watch
  }
  try {
    native.waitpid(pid, true);
  } catch {
    // not our child
  }
}

