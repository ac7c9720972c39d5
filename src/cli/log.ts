// runc-compatible logging: logrus text or JSON lines, to --log or stderr.
import { openSync, writeSync } from "node:fs";

export type LogFormat = "text" | "json";
type Level = "debug" | "info" | "warning" | "error";

let logFd = 2;
let toFile = false;
let format: LogFormat = "text";
let debugOn = false;

export function configureLog(opts: { log?: string; format: LogFormat; debug: boolean }): void {
  format = opts.format;
  debugOn = opts.debug;
  if (opts.log) {
    logFd = openSync(opts.log, "a", 0o644);
    toFile = true;
  }
}

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

function line(level: Level, msg: string): string {
  if (format === "json") return JSON.stringify({ level, msg, time: timestamp() }) + "\n";
  return `time="${timestamp()}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

function write(level: Level, msg: string): void {
  try {
    writeSync(logFd, line(level, msg));
  } catch {
    // logging must never turn into a second failure
  }
}

export function logError(msg: string): void {
  write("error", msg);
  // runc also prints the bare message on stderr when the log goes elsewhere: engines read both
  if (toFile) writeSync(2, msg + "\n");
}

/** Warnings go to a --log file only with --debug: Podman reads that file as exactly one JSON
 * object when create fails, so it must hold nothing but the error. On stderr they always show. */
export function logWarn(msg: string): void {
  if (!toFile || debugOn) write("warning", msg);
}

export function logDebug(msg: string): void {
  if (debugOn) write("debug", msg);
}
