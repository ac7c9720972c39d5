// --pidfd-socket (runc 1.2): a pidfd of the new process goes to the caller's unix socket, one fd by
// SCM_RIGHTS with "standard" (a container's init) or "setns" (an exec'd process) as payload.
import { native } from "../syscalls/index.js";
import { connectCallerSocket } from "./console.js";
import { RuntimeError } from "./errors.js";

export class PidfdSocket {
  private open = true;
  private constructor(private readonly sock: number, private readonly path: string) {}

  /** Connects at once, so a wrong path fails before anything is made. */
  static connect(path: string | undefined): PidfdSocket | undefined {
    return path ? new PidfdSocket(connectCallerSocket("pidfd socket", path), path) : undefined;
  }

  send(pid: number, kind: "standard" | "setns"): void {
    const pidfd = native.pidfdOpen(pid);
    try {
      native.sendFd(this.sock, pidfd, Buffer.from(kind));
    } catch (e) {
      throw new RuntimeError(`pidfd socket ${this.path}: ${(e as Error).message}`);
    } finally {
      native.close(pidfd);
    }
  }

  close(): void {
    if (this.open) native.close(this.sock);
    this.open = false;
  }
}
