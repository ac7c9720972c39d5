// What a command prints on its stdout, written straight to fd 1. Touching process.stdout makes Bun
// build a stream object at first use: about 460 page faults, a third of a short command's start-up
// on this machine (scripts/bench, "floor" line).
import { writeSync } from "node:fs";
import { sleepMs } from "../syscalls/index.js";

/** Writes all of `text` to stdout, waiting out EAGAIN (a non-blocking pipe) and partial writes. */
export function printOut(text: string | Uint8Array): void {
  let buf = typeof text === "string" ? Buffer.from(text) : text;
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(1, buf));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") sleepMs(1);
      else if (code === "EPIPE") return; // the reader went away: nothing more to tell it
      else throw e;
    }
  }
}
