// NOTIFY_SOCKET (sd_notify), as runc does it: when the runtime's environment names a host socket
// (systemd Type=notify, podman --sdnotify=container), the container gets its own socket in the
// state directory, bind-mounted at /run/notify/notify.sock and named in its NOTIFY_SOCKET; start
// (and run) wait for the container's READY=1 and pass it on to the host's socket with MAINPID.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { containerDir } from "../state/store.js";
import { native } from "../syscalls/index.js";
import { warn } from "./log.js";

/** Where the container sees its socket; the directory is what is bind-mounted. */
export const NOTIFY_DIR_IN_CONTAINER = "/run/notify";
export const NOTIFY_SOCKET_IN_CONTAINER = `${NOTIFY_DIR_IN_CONTAINER}/notify.sock`;
/** How long the host may take to read BARRIER=1 (its fd closes when it has). */
const BARRIER_TIMEOUT_MS = 5000;
const POLL_SLICE_MS = 100;

/** The host's socket from tsrun's environment, if any. */
export function hostNotifySocket(): string | undefined {
  const path = process.env.NOTIFY_SOCKET;
  return path ? path : undefined;
}

export function notifyDir(root: string, id: string): string {
  return join(containerDir(root, id), "notify");
}

/** create: the directory the container's socket will live in (bound at start). */
export function makeNotifyDir(root: string, id: string): string {
  const dir = notifyDir(root, id);
  mkdirSync(dir, { mode: 0o755 });
  return dir;
}

/** The container's end, bound before the process can run; undefined without NOTIFY_SOCKET or when
 * the container was created without it. */
export function bindNotifySocket(root: string, id: string): number | undefined {
  if (!hostNotifySocket()) return undefined;
  const dir = notifyDir(root, id);
  if (!existsSync(dir)) return undefined;
  return native.notifyBind(join(dir, "notify.sock"));
}

function forwardReady(ready: string, mainPid: number): void {
  const host = hostNotifySocket()!;
  native.notifySend(host, `${ready}\n`);
  native.notifySend(host, `MAINPID=${mainPid}\n`);
  if (!native.notifyBarrier(host, BARRIER_TIMEOUT_MS))
    warn(`NOTIFY_SOCKET ${host}: READY was sent but not acknowledged within ${BARRIER_TIMEOUT_MS / 1000}s (BARRIER=1)`);
}

/** A pidfd of the container process, or undefined when it is gone already. */
function pidfdOf(pid: number): number | undefined {
  try {
    return native.pidfdOpen(pid);
  } catch {
    return undefined;
  }
}

/** Waits for the container's READY= and relays it; returns early when the process is gone. Closes sock. */
export function relayReadySync(sock: number, pid: number): void {
  const pidfd = pidfdOf(pid);
  if (pidfd === undefined) return native.close(sock);
  try {
    for (;;) {
      const ready = native.notifyRecvReady(sock, pidfd, 60_000);
      if (ready === null) return;
      if (ready) return forwardReady(ready, pid);
    }
  } finally {
    native.close(pidfd);
    native.close(sock);
  }
}

/** relayReadySync for the foreground: the event loop (signal forwarding) keeps running meanwhile. */
export async function relayReady(sock: number, pid: number): Promise<void> {
  const pidfd = pidfdOf(pid);
  if (pidfd === undefined) return native.close(sock);
  try {
    for (;;) {
      const ready = native.notifyRecvReady(sock, pidfd, POLL_SLICE_MS);
      if (ready === null) return;
      if (ready) return forwardReady(ready, pid);
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    native.close(pidfd);
    native.close(sock);
  }
}
