// tsrun as a library: `import { Runtime } from "tsrun"`. The lifecycle (create, start, run, exec,
// kill, delete, state, list, events) goes through the tsrun binary beside this file, the command line
// itself: the same code, the same errors, and the container's processes never become children of
// the caller's process (whose signals, subreaper flag and event loop they would otherwise take).
// What only reads a bundle (check, plan) runs here, through the same functions as the commands.
import { spawn, type StdioOptions } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkBundle } from "./spec/check.js";
import { formatProgram } from "./plan/format.js";
import { planBundle } from "./cli/commands/plan.js";
import type { ContainerState, Process } from "./spec/types.js";
import type { Problem } from "./spec/problems.js";
import type { Program } from "./plan/ops.js";

export type * from "./spec/types.js";
export type { Problem } from "./spec/problems.js";
export type { Op, Program } from "./plan/ops.js";

export interface RuntimeOptions {
  /** The state directory (`--root`); tsrun's default when omitted. */
  root?: string;
  /** The tsrun binary; the one installed with this package when omitted. */
  binary?: string;
  /** `--systemd-cgroup`. */
  systemdCgroup?: boolean;
  /** `--rootless true|false|auto`. */
  rootless?: boolean | "auto";
  /** `--debug`: per-step timings in the log. */
  debug?: boolean;
}

export interface CreateOptions {
  /** The bundle directory (config.json and the rootfs). */
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  pidfdSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds?: number;
}

export interface RunOptions extends CreateOptions {
  /** Where the container's stdio goes (as child_process.spawn takes it); inherited by default. */
  stdio?: StdioOptions;
  /** Keep the container after it exits (`--keep`). */
  keep?: boolean;
}

export interface ExecOptions {
  stdio?: StdioOptions;
  /** Return at once with status 0, leaving the process running (`--detach`). */
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
}

export interface CheckResult {
  /** No errors (warnings allowed). */
  ok: boolean;
  /** Errors first, then warnings; each names its file and JSON pointer (RFC 6901). */
  problems: Problem[];
}

export interface Plan {
  program: Program;
  /** As `tsrun plan` prints it: one op a line with its origin. */
  text: string;
}

export interface Event {
  type: string;
  id: string;
  data?: Record<string, unknown>;
}

/** A tsrun command failed: its error message (as the CLI logs it) and exit status. */
export class TsrunError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly args: string[],
  ) {
    super(message);
    this.name = "TsrunError";
  }
}

const here = dirname(fileURLToPath(import.meta.url));

export class Runtime {
  readonly binary: string;
  private readonly globals: string[];

  constructor(opts: RuntimeOptions = {}) {
    this.binary = opts.binary ?? join(here, "tsrun");
    this.globals = ["--log-format", "json"];
    if (opts.root !== undefined) this.globals.push("--root", opts.root);
    if (opts.systemdCgroup) this.globals.push("--systemd-cgroup");
    if (opts.rootless !== undefined) this.globals.push(`--rootless=${opts.rootless}`);
    if (opts.debug) this.globals.push("--debug");
  }

  /** Creates the container; its process waits for start(). Its stdio: opts.stdio, else none. */
  async create(id: string, opts: CreateOptions & { stdio?: StdioOptions }): Promise<void> {
    await this.detached(["create", ...createFlags(opts), id], opts.stdio);
  }

  async start(id: string): Promise<void> {
    await this.call(["start", id]);
  }

  /** Creates, starts and waits for the container; resolves to its process's exit status. */
  async run(id: string, opts: RunOptions): Promise<number> {
    return this.status(["run", ...createFlags(opts), ...(opts.keep ? ["--keep"] : []), id], opts.stdio);
  }

  /** Runs a process in the container; resolves to its exit status (255 when exec itself failed). */
  async exec(id: string, process: Partial<Process> & { args: string[] }, opts: ExecOptions = {}): Promise<number> {
    const dir = mkdtempSync(join(tmpdir(), "tsrun-exec-"));
    try {
      const file = join(dir, "process.json");
      writeFileSync(file, JSON.stringify({ cwd: "/", user: { uid: 0, gid: 0 }, ...process }));
      const flags = ["--process", file, ...(opts.detach ? ["--detach"] : []), ...opt("--pid-file", opts.pidFile), ...opt("--console-socket", opts.consoleSocket)];
      if (opts.detach) {
        await this.detached(["exec", ...flags, id], opts.stdio);
        return 0;
      }
      return await this.status(["exec", ...flags, id], opts.stdio);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async state(id: string): Promise<ContainerState> {
    return JSON.parse(await this.call(["state", id]));
  }

  async list(): Promise<ContainerState[]> {
    return JSON.parse(await this.call(["list", "--format", "json"])) ?? [];
  }

  /** Sends a signal (a name like "SIGTERM" or "TERM", or a number) to the container's init, or with all to every process. */
  async kill(id: string, signal: string | number = "SIGTERM", opts: { all?: boolean } = {}): Promise<void> {
    await this.call(["kill", ...(opts.all ? ["--all"] : []), id, String(signal)]);
  }

  async delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.call(["delete", ...(opts.force ? ["--force"] : []), id]);
  }

  /** The container's events (OOM, stats every interval) until it is gone, or its stats once with stats: true. */
  async *events(id: string, opts: { intervalMs?: number; stats?: boolean } = {}): AsyncGenerator<Event> {
    const args = [...this.globals, "events", ...(opts.stats ? ["--stats"] : []), ...(opts.intervalMs ? ["--interval", `${opts.intervalMs}ms`] : []), id];
    const child = spawn(this.binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number>((resolve) => child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1))));
    let buffered = "";
    try {
      for await (const chunk of child.stdout) {
        buffered += chunk;
        let nl;
        while ((nl = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line) yield JSON.parse(line) as Event;
        }
      }
      const code = await exited;
      if (code !== 0) throw new TsrunError(errorOf(stderr), code, args);
    } finally {
      if (child.exitCode === null) child.kill();
    }
  }

  /** Every problem of a bundle at once (as `tsrun check`), and whether this host can run it (host: false skips that). */
  check(bundle: string, opts: { host?: boolean } = {}): CheckResult {
    const problems = checkBundle(bundle, { noHost: opts.host === false });
    return { ok: !problems.some((p) => p.severity === "error"), problems };
  }

  /** The init program the bundle compiles to (as `tsrun plan`), changing nothing. */
  async plan(bundle: string): Promise<Plan> {
    const program = await planBundle(bundle);
    return { program, text: formatProgram(program) };
  }

  /** Runs a command that prints what it answers on stdout; rejects with its error. */
  private call(args: string[], stdout: "pipe" | "ignore" = "pipe"): Promise<string> {
    const full = [...this.globals, ...args];
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, full, { stdio: ["ignore", stdout, "pipe"] });
      let out = "";
      let err = "";
      child.stdout?.on("data", (d) => (out += d));
      child.stderr!.on("data", (d) => (err += d));
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve(out) : reject(new TsrunError(errorOf(err), code ?? 1, full))));
    });
  }

  /**
   * Runs a command that leaves a process running (create, exec --detach): that process may hold
   * any pipe given to tsrun, so its errors are read from a --log file once tsrun exits.
   */
  private async detached(args: string[], stdio: StdioOptions = "ignore"): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), "tsrun-log-"));
    try {
      const log = join(dir, "log.json");
      const full = [...this.globals, "--log", log, ...args];
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(this.binary, full, { stdio });
        child.on("error", reject);
        child.on("exit", (c) => resolve(c ?? 1));
      });
      if (code !== 0) throw new TsrunError(errorOf(existsSync(log) ? readFileSync(log, "utf8") : ""), code, full);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Runs a command whose exit status is the container process's; rejects only when tsrun could not run it. */
  private status(args: string[], stdio: StdioOptions = "inherit"): Promise<number> {
    const full = [...this.globals, ...args];
    const io = (typeof stdio === "string" ? [stdio, stdio, stdio] : [...stdio]) as unknown[];
    // tsrun's own errors come on stderr as JSON records: read them there, pass anything else through
    const passErr = io[2];
    io[2] = "pipe";
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, full, { stdio: io as StdioOptions });
      let err = "";
      child.stderr!.on("data", (d: Buffer) => {
        err += d;
        const text = d.toString();
        if (passErr === "inherit") for (const line of text.split("\n")) if (line && !isLogRecord(line)) process.stderr.write(line + "\n");
      });
      child.on("error", reject);
      child.on("close", (code, signal) => {
        const error = errorOf(err, "");
        if (error) reject(new TsrunError(error, code ?? 1, full));
        else resolve(code ?? 128 + (signal ? 9 : 0));
      });
    });
  }
}

function createFlags(o: CreateOptions): string[] {
  return [
    "--bundle", o.bundle,
    ...opt("--pid-file", o.pidFile), ...opt("--console-socket", o.consoleSocket), ...opt("--pidfd-socket", o.pidfdSocket),
    ...(o.noPivot ? ["--no-pivot"] : []), ...(o.noNewKeyring ? ["--no-new-keyring"] : []),
    ...(o.preserveFds ? ["--preserve-fds", String(o.preserveFds)] : []),
  ];
}

function opt(flag: string, value: string | undefined): string[] {
  return value === undefined ? [] : [flag, value];
}

function isLogRecord(line: string): boolean {
  return /^\{"level":/.test(line);
}

/** The last error record tsrun logged (runc's JSON log form), or stderr itself. */
function errorOf(stderr: string, fallback?: string): string {
  let last: string | undefined;
  for (const line of stderr.split("\n")) {
    if (!isLogRecord(line)) continue;
    try {
      const r = JSON.parse(line) as { level: string; msg: string };
      if (r.level === "error") last = r.msg;
    } catch {
      // not a record
    }
  }
  return last ?? fallback ?? (stderr.trim() || "tsrun failed");
}
