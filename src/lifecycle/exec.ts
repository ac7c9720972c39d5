// exec: run another process in a running container: its namespaces (through a pidfd of its init),
// its cgroup, the process settings of process.json or of config.json with the CLI's overrides.
import { compileExec } from "../plan/exec.js";
import type { Process } from "../spec/types.js";
import { writePidFile } from "../state/store.js";
import { native, procStat } from "../syscalls/index.js";
import { loadContainer } from "./container.js";
import { RuntimeError } from "./errors.js";
import { forwardSignals, waitExitStatus } from "./foreground.js";
import { checkPreservedFds } from "./create.js";
import { passListener } from "./seccomp-agent.js";
import { hookStateOf } from "./hooks.js";
import { Step } from "../plan/compile.js";
import { awaitExec, driveInitToReady, extraFdNumber, Undo } from "./init-process.js";
import { checkConsole, needsForegroundTerminal, openConsoleSocket } from "./console.js";
import { PidfdSocket } from "./pidfd-socket.js";
import { lsmFor } from "./lsm.js";
import { terminalChannel, type TerminalChannel } from "./terminal.js";
import { namespacesToJoin } from "./namespaces.js";
import { setgroupsDenied as isSetgroupsDenied } from "./idmap.js";

export interface ExecOptions {
  root: string;
  id: string;
  process: Process;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  pidfdSocket?: string;
  preserveFds?: number;
  ignorePaused?: boolean;
}

/** runc exits 255 when exec itself fails, so callers can tell it from the process's own status. */
const EXEC_FAILED = 255;
const EXEC_TIMEOUT_MS = 60_000;

export async function execProcess(opts: ExecOptions): Promise<number> {
  try {
    return await execInner(opts);
  } catch (e) {
    if (e instanceof RuntimeError) throw new RuntimeError(`exec failed: ${e.message}`, EXEC_FAILED);
    throw new RuntimeError(`exec failed: ${(e as Error).message}`, EXEC_FAILED);
  }
}

async function execInner(opts: ExecOptions): Promise<number> {
  const c = loadContainer(opts.root, opts.id);
  const status = c.status();
  if (status === "stopped") throw new RuntimeError("cannot exec in a stopped container");
  if (status === "paused" && !opts.ignorePaused)
    throw new RuntimeError("cannot exec in a paused container (use --ignore-paused to override)");
  const proc = opts.process;
  const lsm = lsmFor(proc, "process");
  // runc's exec accepts a console socket in the foreground too (CRI-O passes one)
  checkConsole(!!proc.terminal, opts.detach || !!opts.consoleSocket, opts.consoleSocket);

  checkPreservedFds(opts.preserveFds ?? 0);
  const undo = new Undo();
  const ourFds: number[] = [];
  const forwarder = opts.detach ? undefined : forwardSignals();
  try {
    const pidfdSocket = PidfdSocket.connect(opts.pidfdSocket);
    if (pidfdSocket) undo.push(() => pidfdSocket.close());
    const pidfd = native.pidfdOpen(c.state.initPid);
    ourFds.push(pidfd);
    if (procStat(c.state.initPid)?.startTime !== c.state.initStartTime) throw new RuntimeError("container not running");
    const extraFds = [pidfd];
    let consoleFd: number | undefined;
    let terminal: TerminalChannel | undefined;
    if (opts.consoleSocket) {
      const sock = openConsoleSocket(opts.consoleSocket);
      ourFds.push(sock);
      extraFds.push(sock);
      consoleFd = extraFdNumber(opts.preserveFds ?? 0, 1);
    } else if (needsForegroundTerminal(!!proc.terminal, opts.detach, opts.consoleSocket)) {
      terminal = terminalChannel();
      const channel = terminal;
      undo.push(() => channel.close());
      extraFds.push(channel.initEnd);
      consoleFd = extraFdNumber(opts.preserveFds ?? 0, 1);
    }
    const seccomp = c.state.seccomp;
    const setgroupsDenied = isSetgroupsDenied(c.state.initPid);
    if (setgroupsDenied && proc.user.additionalGids?.length)
      throw new RuntimeError("process.user.additionalGids: supplementary groups cannot be set: the container's user namespace denies setgroups");
    const program = compileExec(proc, {
      nsFlags: namespacesToJoin(c.state.initPid),
      pidfd: extraFdNumber(opts.preserveFds ?? 0, 0),
      consoleFd,
      foregroundTerminal: terminal !== undefined && process.stdout.isTTY === true,
      preservedFds: opts.preserveFds ?? 0,
      lsm,
      seccomp: seccomp && { bpf: Buffer.from(seccomp.bpf, "base64"), flags: seccomp.flags, listener: !!seccomp.agent },
      setgroupsDenied,
    });
    if (!opts.detach) native.setSubreaper(true);
    const cgroup = c.cgroup();
    const { pid, execReport } = driveInitToReady(program, { preservedFds: opts.preserveFds ?? 0, extraFds }, undo, (pid) => cgroup?.apply(pid), (marker, pid, sock) => {
      if (marker === Step.SECCOMP_LISTENER) passListener(sock, seccomp?.agent, pid, hookStateOf(c.state, "running", c.state.initPid));
    });
    // an execve that fails (a noexec mount, a bad binary) is exec's failure, not the process's status
    awaitExec(execReport, program.ops, EXEC_TIMEOUT_MS);
    pidfdSocket?.send(pid, "setns");
    pidfdSocket?.close();
    const startTime = procStat(pid)?.startTime ?? "";
    if (opts.pidFile) writePidFile(opts.pidFile, pid);
    if (opts.detach) return 0;
    const tty = terminal?.start();
    forwarder!.attach(pid, startTime);
    try {
      const status = await waitExitStatus(pid);
      if (tty) await Promise.race([tty.drained, new Promise((r) => setTimeout(r, 500))]);
      return status;
    } finally {
      tty?.stop();
    }
  } catch (e) {
    undo.run();
    throw e;
  } finally {
    for (const fd of ourFds) native.close(fd);
    forwarder?.detach();
  }
}

