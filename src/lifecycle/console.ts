// The console socket of --console-socket: tsrun connects, tsrun-init sends the pty master on it.
import { native } from "../syscalls/index.js";
import { RuntimeError } from "./errors.js";

export function openConsoleSocket(path: string): number {
  return connectCallerSocket("console socket", path);
}

/** A socket the caller listens on (--console-socket, --pidfd-socket); errors in runc's words. */
export function connectCallerSocket(what: string, path: string): number {
  try {
    return native.unixConnect(path);
  } catch (e) {
    throw new RuntimeError(`${what} ${path}: ${(e as Error).message.replace(/^connect [^:]*: /, "").toLowerCase()}`);
  }
}

/** runc's rules about terminals and console sockets, for create/run (detached or not). */
export function checkConsole(terminal: boolean, detached: boolean, consoleSocket: string | undefined): void {
  if (terminal && detached && !consoleSocket)
    throw new RuntimeError("cannot allocate tty if runc will detach without setting console socket");
  if (consoleSocket && !(terminal && detached))
    throw new RuntimeError("cannot use console socket if runc will not detach or allocate tty");
}

/** In the foreground with a terminal and no console socket, tsrun itself is the other end. */
export function needsForegroundTerminal(terminal: boolean, detached: boolean, consoleSocket: string | undefined): boolean {
  return terminal && !detached && !consoleSocket;
}
