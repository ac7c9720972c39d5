// Runs the built dist/tsrun for tests, with a private --root, and inspects what it leaves behind.
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const repo = resolve(import.meta.dirname, "../..");
export const TSRUN = process.env.TSRUN_BIN ?? join(repo, "dist/tsrun");

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The message of a runc-style log line on stderr (`time=... level=error msg="..."`), or stderr as is. */
export function message(stderr: string): string {
  return stderr
    .trim()
    .split("\n")
    .map((l) => {
      const m = /level=\w+ msg=("(?:[^"\\]|\\.)*")/.exec(l);
      return m ? JSON.parse(m[1]) : l;
    })
    .join("\n");
}

export class Runtime {
  readonly root: string;
  private readonly scratch: string;
  constructor() {
    this.root = mkdtempSync(join(tmpdir(), "tsrun-root-"));
    this.scratch = mkdtempSync(join(tmpdir(), "tsrun-out-"));
  }

  /** Runs tsrun and waits for it and everything holding its stdout (use for run/state/...). */
  run(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): Result {
    const r = spawnSync(TSRUN, ["--root", this.root, ...args], {
      input: opts.input,
      env: opts.env ?? process.env,
      timeout: opts.timeout ?? 30_000,
      encoding: "utf8",
    });
    return { code: r.status ?? 128 + (r.signal ? 9 : 0), stdout: r.stdout, stderr: message(r.stderr) };
  }

  /** Runs tsrun with stdio on files, for commands that leave a container holding them (create). */
  detached(args: string[], name = "out"): Result & { outFile: string } {
    const outFile = join(this.scratch, `${name}.${Date.now()}.${Math.random()}.stdout`);
    const errFile = outFile.replace(/stdout$/, "stderr");
    const out = openSync(outFile, "w");
    const err = openSync(errFile, "w");
    try {
      const r = spawnSync(TSRUN, ["--root", this.root, ...args], { stdio: ["ignore", out, err], timeout: 30_000 });
      return { code: r.status ?? 1, stdout: readFileSync(outFile, "utf8"), stderr: message(readFileSync(errFile, "utf8")), outFile };
    } finally {
      closeSync(out);
      closeSync(err);
    }
  }

  state(id: string): { status: string; pid: number; [k: string]: unknown } {
    const r = this.run(["state", id]);
    if (r.code !== 0) throw new Error(`state ${id}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  containers(): string[] {
    return existsSync(this.root) ? readdirSync(this.root) : [];
  }

  cleanup(): void {
    for (const id of this.containers()) this.run(["delete", "--force", id]);
    rmSync(this.root, { recursive: true, force: true });
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

/** Every cgroup directory, in any hierarchy, whose name is the container id. */
export function cgroupDirsOf(id: string): string[] {
  const found: string[] = [];
  const base = "/sys/fs/cgroup";
  for (const h of readdirSync(base)) {
    for (const p of [join(base, h, "tsrun", id), join(base, h, id)]) if (existsSync(p)) found.push(p);
  }
  return found;
}

export function mountsMentioning(text: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(text));
}

/** Host pids whose command line mentions text (our own test processes excluded). */
export function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, "utf8").includes(text)) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

export function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
