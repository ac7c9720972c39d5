// Process plumbing for the benchmark: timed spawns with the child's rusage, and reaping of
// container init processes. The benchmark makes itself a child subreaper (as containerd-shim and
// conmon are), so a detached container's init is re-parented to it and its exit status can be
// collected with waitpid: that is how "wait for exit" is measured and how we check that `true`
// really ran and exited 0.
import { spawn, spawnSync, sleepSync } from "bun";
import { dlopen, FFIType, ptr } from "bun:ffi";
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";

const libc = dlopen("libc.so.6", {
  prctl: { args: [FFIType.i32, FFIType.u64, FFIType.u64, FFIType.u64, FFIType.u64], returns: FFIType.i32 },
  waitpid: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  kill: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
});

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

export function becomeSubreaper(): void {
  if (libc.symbols.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) !== 0) {
    throw new Error("prctl(PR_SET_CHILD_SUBREAPER) failed");
  }
}

export interface WaitResult {
  /** exit code, or 128+signal when killed; null when the status could not be collected */
  status: number | null;
  ms: number;
  how: "reaped" | "not-our-child";
}

function decode(st: number): number {
  const sig = st & 0x7f;
  return sig === 0 ? (st >> 8) & 0xff : 128 + sig;
}

function alive(pid: number): boolean {
  // a zombie we cannot reap still answers kill(0); look at its state instead
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/**
 * Wait for a process re-parented to us to exit and reap it. Polls waitpid(WNOHANG) with a short
 * back-off (adds at most ~0.2 ms) so that a stuck container turns into an error after timeoutMs
 * instead of hanging the benchmark, and so Ctrl-C is handled promptly.
 */
export function waitExit(pid: number, timeoutMs = 10_000): WaitResult {
  const t0 = performance.now();
  const st = new Int32Array(1);
  let nap = 0.02;
  for (;;) {
    const r = libc.symbols.waitpid(pid, ptr(st), WNOHANG);
    if (r === pid) return { status: decode(st[0]), ms: performance.now() - t0, how: "reaped" };
    if (r < 0) {
      // ECHILD: not ours (a runtime that daemonizes elsewhere); fall back to watching /proc
      while (alive(pid)) {
        if (performance.now() - t0 > timeoutMs) throw new Error(`pid ${pid} did not exit within ${timeoutMs} ms`);
        sleepSync(0.2);
      }
      return { status: null, ms: performance.now() - t0, how: "not-our-child" };
    }
    if (performance.now() - t0 > timeoutMs) throw new Error(`pid ${pid} did not exit within ${timeoutMs} ms`);
    sleepSync(nap);
    nap = Math.min(nap * 2, 0.2);
  }
}

/** Reap whatever zombies were re-parented to us (used only at cleanup, when nothing else runs). */
export function reapAll(): void {
  const st = new Int32Array(1);
  for (let i = 0; i < 10_000; i++) {
    const r = libc.symbols.waitpid(-1, ptr(st), WNOHANG);
    if (r <= 0) return;
  }
}

export function killPid(pid: number, sig: number): void {
  libc.symbols.kill(pid, sig);
}

/** No single runtime command may take longer than this (a hung runtime is an error, not a hang). */
export const CMD_TIMEOUT_MS = 60_000;

export interface CmdResult {
  argv: string[];
  code: number | null;
  signal: string | null;
  ms: number;
  /** user+system CPU of the process and the children it reaped (wait4 rusage), ms */
  cpuMs: number;
  stdout: string;
  stderr: string;
}

// A runtime's stdout/stderr go to files, never to pipes: a created container's init inherits them
// and keeps them open until it exits, so a pipe would never reach EOF and `create` would appear to
// hang (engines hand runtimes files or FIFOs for the same reason).
let ioDir = "";
let ioSeq = 0;

export function setIoDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  ioDir = dir;
}

interface Io {
  out: string;
  err: string;
  fdOut: number;
  fdErr: number;
}

function openIo(): Io {
  if (!ioDir) throw new Error("setIoDir() first");
  const n = ioSeq++;
  const out = join(ioDir, `${n}.out`);
  const err = join(ioDir, `${n}.err`);
  return { out, err, fdOut: openSync(out, "w+", 0o600), fdErr: openSync(err, "w+", 0o600) };
}

function closeIo(io: Io): { stdout: string; stderr: string } {
  closeSync(io.fdOut);
  closeSync(io.fdErr);
  const stdout = readFileSync(io.out, "utf8");
  const stderr = readFileSync(io.err, "utf8");
  unlinkSync(io.out);
  unlinkSync(io.err);
  return { stdout, stderr };
}

function cpu(ru: { cpuTime: { total: bigint | number } } | undefined): number {
  return ru ? Number(ru.cpuTime.total) / 1000 : Number.NaN;
}

/** Run a command to completion; wall time measured around the spawn only. */
export function run(argv: string[]): CmdResult {
  const io = openIo();
  const t0 = performance.now();
  const r = spawnSync(argv, { stdin: "ignore", stdout: io.fdOut, stderr: io.fdErr, timeout: CMD_TIMEOUT_MS });
  const ms = performance.now() - t0;
  return {
    argv,
    code: r.exitCode,
    signal: r.exitedDueToTimeout ? `${r.signalCode} after the ${CMD_TIMEOUT_MS} ms timeout` : (r.signalCode ?? null),
    ms,
    cpuMs: cpu(r.resourceUsage),
    ...closeIo(io),
  };
}

/** The same, asynchronously (for the concurrent benchmark). */
export async function runAsync(argv: string[]): Promise<CmdResult> {
  const io = openIo();
  const t0 = performance.now();
  const p = spawn(argv, { stdin: "ignore", stdout: io.fdOut, stderr: io.fdErr, timeout: CMD_TIMEOUT_MS });
  await p.exited;
  const ms = performance.now() - t0;
  return { argv, code: p.exitCode, signal: p.signalCode, ms, cpuMs: cpu(p.resourceUsage()), ...closeIo(io) };
}

export function describe(r: CmdResult): string {
  const how = r.code !== null ? `exited ${r.code}` : `killed by ${r.signal}`;
  const err = r.stderr.trim() || r.stdout.trim();
  return `\`${r.argv.join(" ")}\` ${how}${err ? `: ${err.split("\n").slice(-5).join(" | ")}` : ""}`;
}
