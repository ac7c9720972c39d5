// The foreground terminal of `run`/`exec` without --console-socket: tsrun receives the pty master
// from the init and copies between it and its own terminal (raw mode, window size forwarded).
import { createReadStream, writeSync } from "node:fs";
import { native } from "../syscalls/index.js";

export interface TerminalChannel {
  /** fd to hand to the init as its console socket */
  initEnd: number;
  /** after the init is ready: receive the master and start copying */
  start(): TerminalProxy;
  close(): void;
}

export interface TerminalProxy {
  /** resolves when the container side is closed (all output copied) */
  drained: Promise<void>;
  stop(): void;
}

export function terminalChannel(): TerminalChannel {
  const [ours, theirs] = native.socketpair();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    native.close(ours);
    native.close(theirs);
  };
  return {
    initEnd: theirs,
    close,
    start() {
      const master = native.recvFd(ours);
      close();
      return proxy(master);
    },
  };
}

function proxy(master: number): TerminalProxy {
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  const resize = () => {
    const [cols, rows] = process.stdout.isTTY ? process.stdout.getWindowSize() : [0, 0];
    if (rows && cols) native.setWinsize(master, rows, cols);
  };
  resize();
  process.on("SIGWINCH", resize);
  if (raw) stdin.setRawMode(true);
  const onInput = (d: Buffer) => {
    try {
      writeSync(master, d);
    } catch {
      // the container side is gone
    }
  };
  stdin.on("data", onInput);
  stdin.resume();
  const out = createReadStream("", { fd: master, autoClose: true });
  out.on("data", (d) => process.stdout.write(d));
  const drained = new Promise<void>((resolve) => {
    out.on("error", () => resolve()); // EIO once the last slave fd closes
    out.on("end", () => resolve());
    out.on("close", () => resolve());
  });
  return {
    drained,
    stop() {
      process.off("SIGWINCH", resize);
      stdin.off("data", onInput);
      stdin.pause();
      if (raw) stdin.setRawMode(false);
      out.destroy();
    },
  };
}
