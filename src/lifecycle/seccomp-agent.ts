// SCMP_ACT_NOTIFY: the filter's listener fd goes to the seccomp agent at linux.seccomp.listenerPath,
// with the container process state, in one message over a unix socket (config-linux.md).
import { isAbsolute, resolve } from "node:path";
import { native } from "../syscalls/index.js";
import { RuntimeError } from "./errors.js";
import type { HookState } from "./hooks.js";

export interface SeccompAgent {
  /** absolute path of the agent's unix socket */
  listenerPath: string;
  listenerMetadata?: string;
}

/** The agent of a config, its relative listenerPath resolved against the bundle. */
export function seccompAgentOf(seccomp: { listenerPath?: string; listenerMetadata?: string } | undefined, bundle: string): SeccompAgent | undefined {
  if (!seccomp?.listenerPath) return undefined;
  const listenerPath = isAbsolute(seccomp.listenerPath) ? seccomp.listenerPath : resolve(bundle, seccomp.listenerPath);
  return { listenerPath, listenerMetadata: seccomp.listenerMetadata };
}

/** The init sent its seccomp listener on `sock` (Step.SECCOMP_LISTENER): hand it to the agent. */
export function passListener(sock: number, agent: SeccompAgent | undefined, pid: number, state: HookState): void {
  const fd = native.recvFd(sock);
  try {
    if (!agent) throw new RuntimeError("linux.seccomp: the filter has a listener but no listenerPath");
    sendToAgent(agent, fd, pid, state);
  } finally {
    native.close(fd);
  }
}

/** The agent must be listening: a container whose notifications nobody answers would hang on its
 * first filtered syscall. */
function sendToAgent(agent: SeccompAgent, listenerFd: number, pid: number, state: HookState): void {
  const message = {
    ociVersion: state.ociVersion,
    fds: ["seccompFd"],
    pid,
    metadata: agent.listenerMetadata ?? "",
    state,
  };
  let sock: number;
  try {
    sock = native.unixConnect(agent.listenerPath);
  } catch (e) {
    throw new RuntimeError(`linux.seccomp.listenerPath: cannot reach the seccomp agent: ${(e as Error).message}`);
  }
  try {
    native.sendFd(sock, listenerFd, Buffer.from(JSON.stringify(message)));
  } catch (e) {
    throw new RuntimeError(`linux.seccomp.listenerPath: sending the listener to ${agent.listenerPath}: ${(e as Error).message}`);
  } finally {
    native.close(sock);
  }
}
