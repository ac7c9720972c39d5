// scripts/bench: tsrun side by side with runc (and crun where it can run), interleaved A B A B.
// Entry point is the bash script scripts/bench, which runs this file with the repo's Bun.
// See `scripts/bench --help`.
import { spawn, type Subprocess, which } from "bun";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BUSYBOX, makeBundles, PROBE_MARKER, PROBE_STATUS, type Bundles } from "./bundle.js";
import {
  becomeSubreaper,
  type CmdResult,
  describe,
  killPid,
  reapAll,
  run,
  runAsync,
  setIoDir,
  waitExit,
} from "./proc.js";
import { type Doc, type DocBench, fmt, roundSummary, SCHEMA, table } from "./report.js";
import { medianRatio, round, summarize, type Summary } from "./stats.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

// ------------------------------------------------------------------------------------- options

interface Options {
  json: boolean;
  save?: string;
  runtimes: string[];
  reference: string;
  crun: string; // "auto" | "none" | path
  iterations: number;
  concurrentIterations?: number;
  rssIterations?: number;
  warmup: number;
  concurrency: number;
  only?: Set<string>;
  quiet: boolean;
  /** seconds; iterations are cut (down to a floor) so the whole run fits. null: no budget */
  budget: number | null;
  /** print the table of a saved JSON document and exit */
  print?: string;
  /** a saved JSON document whose ratios are printed beside the new ones */
  compare?: string;
}

const BENCH_IDS = ["version", "run", "lifecycle", "signal", "state", "exec", "concurrent", "rss"] as const;
const DEFAULT_ITERATIONS = 30;
const DEFAULT_BUDGET = 240;
/** share of the time budget each benchmark gets (recomputed over what is left as they run) */
const WEIGHT: Record<string, number> = { version: 0.4, run: 1, lifecycle: 2, signal: 1, state: 0.5, exec: 1, concurrent: 3, rss: 1 };

const USAGE = `usage: scripts/bench [options]

Benchmarks an OCI runtime against a reference on one busybox bundle, interleaved A B A B,
each runtime with its own --root. Prints median and p10-p90 of each and the median of the
per-pair ratios runtime/reference. Must run as root.

  --runtime PATH      runtime under test (default: dist/tsrun); repeat to add more
  --reference PATH    reference runtime (default: runc on PATH)
  --crun PATH|none    also run crun (default: crun on PATH when present). On a hybrid cgroup
                      host crun runs with --cgroup-manager=disabled inside a private mount
                      namespace with cgroup2 at /sys/fs/cgroup (through nsenter)
  --iterations N      measured iterations per benchmark (default ${DEFAULT_ITERATIONS}, cut by the time
                      budget when the machine is slow; an explicit N is not cut unless --budget
                      is given too)
  --budget SECONDS    time budget of the measurements (default ${DEFAULT_BUDGET} without --iterations;
                      0: none). Each benchmark gets a share; after its warm-up the iterations
                      are cut to fit it (never below 5, or 3 for the concurrent one)
  --concurrent-iterations N   iterations of the concurrent benchmark (default: N/5, at least 3)
  --rss-iterations N  iterations of the peak-RSS benchmark (default: min(N, 10))
  --concurrency N     containers in the concurrent benchmark (default 50)
  --warmup N          unmeasured iterations before each benchmark (default 2)
  --only LIST         comma-separated subset of: ${BENCH_IDS.join(",")}
  --json              print a JSON document (schema ${SCHEMA}) instead of the table
  --save FILE         also write the JSON document to FILE
  --print FILE        print the table of a saved JSON document and exit
  --compare FILE      beside each ratio, print the same ratio from a saved JSON document
                      (with --print: the saved run against another saved run)
  --quiet             no progress on stderr
  -h, --help          this text
`;

function die(msg: string, code = 2): never {
  process.stderr.write(`bench: ${msg}\n`);
  process.exit(code);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    json: false,
    runtimes: [],
    reference: "",
    crun: "auto",
    iterations: DEFAULT_ITERATIONS,
    warmup: 2,
    concurrency: 50,
    quiet: false,
    budget: null,
  };
  let explicitIterations = false;
  let explicitBudget = false;
  const int = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) die(`${flag} needs an integer >= ${min}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let val: string | undefined;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) {
      val = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const next = (): string => {
      const v = val ?? argv[++i];
      if (v === undefined) die(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case "-h":
      case "--help":
        process.stdout.write(USAGE);
        process.exit(0);
      case "--json":
        o.json = true;
        break;
      case "--save":
        o.save = resolve(next());
        break;
      case "--runtime":
        o.runtimes.push(next());
        break;
      case "--reference":
        o.reference = next();
        break;
      case "--crun":
        o.crun = next();
        break;
      case "--iterations":
        o.iterations = int(a, next(), 1);
        explicitIterations = true;
        break;
      case "--budget": {
        const n = int(a, next(), 0);
        o.budget = n === 0 ? null : n;
        explicitBudget = true;
        break;
      }
      case "--print":
        o.print = next();
        break;
      case "--compare":
        o.compare = next();
        break;
      case "--concurrent-iterations":
        o.concurrentIterations = int(a, next(), 1);
        break;
      case "--rss-iterations":
        o.rssIterations = int(a, next(), 1);
        break;
      case "--concurrency":
        o.concurrency = int(a, next(), 1);
        break;
      case "--warmup":
        o.warmup = int(a, next(), 0);
        break;
      case "--only": {
        const set = new Set(next().split(",").filter(Boolean));
        for (const b of set) if (!(BENCH_IDS as readonly string[]).includes(b)) die(`--only: unknown benchmark ${b}`);
        o.only = set;
        break;
      }
      case "--quiet":
        o.quiet = true;
        break;
      default:
        die(`unknown argument ${argv[i]}\n${USAGE}`);
    }
  }
  if (!explicitBudget && !explicitIterations) o.budget = DEFAULT_BUDGET;
  return o;
}

// ------------------------------------------------------------------------------------ runtimes

interface Runtime {
  name: string;
  role: "runtime" | "reference" | "extra";
  path: string;
  /** a wrapper exec'ed in front of the runtime (nsenter for crun) */
  prefix: string[];
  /** global options after the runtime path (crun: --cgroup-manager=disabled) */
  globals: string[];
  root: string;
  version: string;
  size: number;
  /** size+mtime+inode when the run started: a rebuild during the run is reported */
  stamp: string;
  notes: string[];
}

class BenchError extends Error {}
/** a runtime command died of the signal the user sent us: not a runtime failure */
class Interrupted extends Error {}

const S = {
  tmp: "",
  idPrefix: `tb${process.pid}`,
  runtimes: [] as Runtime[],
  /** containers that may exist, per runtime name: id -> init pid (0 when unknown) */
  tracked: new Map<string, Map<string, number>>(),
  residents: new Map<string, { id: string; pid: number }>(),
  holder: undefined as Subprocess | undefined,
  cleaned: false,
  opts: undefined as unknown as Options,
};

function cmd(rt: Runtime, ...args: string[]): string[] {
  return [...rt.prefix, rt.path, ...rt.globals, "--root", rt.root, ...args];
}

function must(rt: Runtime, r: CmdResult, what: string): CmdResult {
  if (r.signal === "SIGINT" || r.signal === "SIGTERM" || r.signal === "SIGHUP") throw new Interrupted(r.signal);
  if (r.code !== 0) throw new BenchError(`${rt.name}: ${what} failed: ${describe(r)}`);
  return r;
}

function track(rt: Runtime, id: string, pid = 0): void {
  let m = S.tracked.get(rt.name);
  if (!m) S.tracked.set(rt.name, (m = new Map()));
  m.set(id, pid);
}
function untrack(rt: Runtime, id: string): void {
  S.tracked.get(rt.name)?.delete(id);
}

function pidFile(rt: Runtime, id: string): string {
  return join(S.tmp, "pids", `${rt.name}-${id}`);
}

function readPid(rt: Runtime, id: string): number {
  let txt = "";
  try {
    txt = readFileSync(pidFile(rt, id), "utf8").trim();
  } catch {
    throw new BenchError(`${rt.name}: create ${id} exited 0 but wrote no --pid-file`);
  }
  const pid = Number(txt);
  if (!Number.isInteger(pid) || pid <= 1) throw new BenchError(`${rt.name}: bad --pid-file content ${JSON.stringify(txt)}`);
  track(rt, id, pid);
  return pid;
}

function reap(rt: Runtime, id: string, pid: number, expect: number): number {
  const w = waitExit(pid);
  if (w.status !== null && w.status !== expect) {
    throw new BenchError(`${rt.name}: container ${id} (pid ${pid}) exited ${w.status}, expected ${expect}`);
  }
  if (w.how === "not-our-child") noteOnce(rt, `init of ${rt.name} containers was not re-parented to the benchmark: exit status not checked`);
  return w.ms;
}

function noteOnce(rt: Runtime, note: string): void {
  if (!rt.notes.includes(note)) rt.notes.push(note);
}

function fileSize(p: string): number {
  try {
    return statSync(p).size;
  } catch {
    return Number.NaN;
  }
}

function resolveExe(p: string): string {
  if (p.includes("/")) return resolve(p);
  const w = which(p);
  if (!w) die(`${p}: not found on PATH`);
  return w;
}

function stamp(p: string): string {
  try {
    const st = statSync(p);
    return `${st.size}-${st.mtimeMs}-${st.ino}`;
  } catch {
    return "missing";
  }
}

function makeRuntime(path: string, role: Runtime["role"], name?: string): Runtime {
  const exe = resolveExe(path);
  if (!existsSync(exe)) die(`${exe}: no such runtime${exe === join(REPO, "dist/tsrun") ? " (run npm run build)" : ""}`);
  let n = name ?? basename(exe);
  for (let k = 2; S.runtimes.some((r) => r.name === n); k++) n = `${name ?? basename(exe)}#${k}`;
  const rt: Runtime = {
    name: n,
    role,
    path: exe,
    prefix: [],
    globals: [],
    root: join(S.tmp, "roots", n.replace(/[^A-Za-z0-9_.-]/g, "_")),
    version: "",
    size: fileSize(exe),
    stamp: "",
    notes: [],
  };
  mkdirSync(rt.root, { recursive: true, mode: 0o700 });
  const v = run([exe, "--version"]);
  rt.version = v.code === 0 ? v.stdout.trim().split("\n").map((l) => l.trim()).filter(Boolean).join("; ") : `(--version: ${describe(v)})`;
  rt.stamp = stamp(exe);
  return rt;
}

/** Proves a runtime runs a container: `run` of the probe bundle prints the marker and exits 7. */
function probeRun(rt: Runtime, b: Bundles): CmdResult {
  const id = `${S.idPrefix}-probe`;
  track(rt, id);
  const r = run(cmd(rt, "run", "--bundle", b.probeB, id));
  if (r.code === PROBE_STATUS && r.stdout.includes(PROBE_MARKER)) untrack(rt, id);
  return r;
}

function probeOk(r: CmdResult): boolean {
  return r.code === PROBE_STATUS && r.stdout.includes(PROBE_MARKER);
}

/**
 * crun on this host: plain first; on a hybrid cgroup host it refuses ("cgroups in hybrid mode not
 * supported"), so run it with --cgroup-manager=disabled inside a private mount namespace that has
 * cgroup2 at /sys/fs/cgroup. A holder process keeps that namespace alive; each crun command is
 * nsenter'ed into it, which costs one extra exec (measured and reported as harness.nsenterMs).
 */
async function setupCrun(path: string, b: Bundles): Promise<Runtime | string> {
  const rt = makeRuntime(path, "extra", "crun");
  if (probeOk(probeRun(rt, b))) return rt;
  cleanupOne(rt);
  const unshare = which("unshare");
  const nsenter = which("nsenter");
  if (!unshare || !nsenter) return "crun fails on this host and unshare/nsenter are missing";
  const holder = spawn(
    [unshare, "--mount", "--propagation", "private", "sh", "-c",
      "umount -l /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 cgroup2 /sys/fs/cgroup && echo ready && exec sleep 2147483647"],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  S.holder = holder;
  const reader = holder.stdout!.getReader();
  const first = await Promise.race([
    reader.read().then((r) => new TextDecoder().decode(r.value ?? new Uint8Array())),
    new Promise<string>((res) => setTimeout(() => res("timeout"), 5000)),
  ]);
  reader.releaseLock();
  if (!first.includes("ready")) {
    holder.kill(9);
    S.holder = undefined;
    reapAll();
    return `could not make a private mount namespace with cgroup2 for crun (${first.trim() || "holder exited"})`;
  }
  rt.prefix = [nsenter, `--mount=/proc/${holder.pid}/ns/mnt`, "--"];
  rt.globals = ["--cgroup-manager=disabled"];
  const r = probeRun(rt, b);
  if (!probeOk(r)) {
    cleanupOne(rt);
    holder.kill(9);
    S.holder = undefined;
    reapAll();
    return `crun fails plain and in a private cgroup2 mount namespace: ${describe(r)}`;
  }
  rt.notes.push(
    "crun runs with --cgroup-manager=disabled (it creates no cgroup: a lower bound, not like for like) " +
      "inside a private mount namespace with cgroup2 at /sys/fs/cgroup, each command through nsenter (see harness)",
  );
  return rt;
}

// ----------------------------------------------------------------------------------- benchmarks

type Metrics = Record<string, number>;

interface Bench {
  id: (typeof BENCH_IDS)[number];
  title: string;
  unit: "ms" | "MiB";
  /** first is the headline metric; the rest are printed indented under it */
  metrics: { key: string; label: string }[];
  iterations: number;
  warmup: number;
  /** returns a reason to skip this runtime, or throws when the runtime is broken */
  prepare?: (rt: Runtime) => string | undefined;
  iter: (rt: Runtime, i: number) => Metrics | Promise<Metrics>;
  note?: string;
}

interface BenchResult {
  id: string;
  title: string;
  unit: string;
  iterations: number;
  warmup: number;
  note?: string;
  metrics: { key: string; label: string }[];
  /** runtime -> metric -> samples (iteration order; pairs line up across runtimes) */
  samples: Record<string, Record<string, number[]>>;
  summary: Record<string, Record<string, Summary>>;
  /** "rt/ref" -> metric -> median of per-pair ratios */
  ratios: Record<string, Record<string, number>>;
  skipped: Record<string, string>;
  seconds: number;
}

function progress(msg: string, sameLine = false): void {
  if (S.opts.quiet) return;
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${msg}${sameLine ? "" : "\n"}`);
  else if (!sameLine) process.stderr.write(`${msg}\n`);
}

/**
 * Runs one benchmark: every runtime once per iteration, in the same order (A B A B ...), so that
 * sample i of each runtime was taken back to back and the per-pair ratios compare like with like.
 * With a budget (ms), the number of iterations is cut after the warm-up to fit it.
 */
async function runBench(b: Bench, rts: Runtime[], budgetMs: number | null): Promise<BenchResult> {
  const t0 = performance.now();
  const res: BenchResult = {
    id: b.id,
    title: b.title,
    unit: b.unit,
    iterations: b.iterations,
    warmup: b.warmup,
    note: b.note,
    metrics: b.metrics,
    samples: {},
    summary: {},
    ratios: {},
    skipped: {},
    seconds: 0,
  };
  const active: Runtime[] = [];
  for (const rt of rts) {
    const why = b.prepare?.(rt);
    if (why) res.skipped[rt.name] = why;
    else active.push(rt);
  }
  for (const rt of active) res.samples[rt.name] = Object.fromEntries(b.metrics.map((m) => [m.key, []]));
  let n = b.iterations;
  const floor = Math.min(n, b.id === "concurrent" ? 3 : 5);
  const tLoop = performance.now();
  for (let i = -b.warmup; i < n; i++) {
    // after the warm-up (or the first iteration when there is none): fit the rest into the budget
    const checkAt = b.warmup > 0 ? 0 : 1;
    if (budgetMs !== null && active.length && i === checkAt) {
      const done = b.warmup > 0 ? b.warmup : 1;
      const per = (performance.now() - tLoop) / done;
      const fits = checkAt + Math.floor((budgetMs - (performance.now() - t0)) / per);
      const cut = Math.max(floor, Math.min(n, fits));
      if (cut < n) {
        res.note = [res.note, `iterations cut from ${n} to ${cut} by the time budget`].filter(Boolean).join("; ");
        n = cut;
      }
    }
    for (const rt of active) {
      await checkpoint();
      progress(`[bench] ${b.id}: ${i < 0 ? "warm-up" : `${i + 1}/${n}`} ${rt.name}`, true);
      const m = await b.iter(rt, i);
      if (i < 0) continue;
      for (const { key } of b.metrics) {
        const v = m[key];
        if (!Number.isFinite(v) || v < 0) throw new BenchError(`${rt.name}: ${b.id}: metric ${key} is ${v}`);
        res.samples[rt.name][key].push(v);
      }
    }
  }
  res.iterations = n;
  for (const rt of active) {
    res.summary[rt.name] = Object.fromEntries(b.metrics.map((m) => [m.key, summarize(res.samples[rt.name][m.key])]));
  }
  const ref = active.find((r) => r.role === "reference");
  if (ref) {
    for (const rt of active) {
      if (rt === ref) continue;
      res.ratios[`${rt.name}/${ref.name}`] = Object.fromEntries(
        b.metrics.map((m) => [m.key, medianRatio(res.samples[rt.name][m.key], res.samples[ref.name][m.key])]),
      );
    }
  }
  res.seconds = (performance.now() - t0) / 1000;
  const head = b.metrics[0].key;
  progress(
    `[bench] ${b.id}: ` +
      active.map((rt) => `${rt.name} ${fmt(res.summary[rt.name][head].median, b.unit)}`).join(", ") +
      Object.entries(res.skipped).map(([n]) => `, ${n} skipped`).join("") +
      ` (${res.seconds.toFixed(0)} s)`,
  );
  return res;
}

function id(bench: string, i: number, k?: number): string {
  return `${S.idPrefix}-${bench}-${i < 0 ? `w${-i}` : i}${k === undefined ? "" : `-${k}`}`;
}

function createStart(rt: Runtime, bundle: string, cid: string): { create: CmdResult; start: CmdResult; pid: number } {
  track(rt, cid);
  const create = must(rt, run(cmd(rt, "create", "--bundle", bundle, "--pid-file", pidFile(rt, cid), cid)), `create ${cid}`);
  const pid = readPid(rt, cid);
  const start = must(rt, run(cmd(rt, "start", cid)), `start ${cid}`);
  return { create, start, pid };
}

function del(rt: Runtime, cid: string, force = false): CmdResult {
  const r = must(rt, run(cmd(rt, "delete", ...(force ? ["--force"] : []), cid)), `delete ${cid}`);
  untrack(rt, cid);
  return r;
}

/** The long-running container `state` and `exec` are measured against. */
function resident(rt: Runtime, b: Bundles): { id: string; pid: number } {
  let r = S.residents.get(rt.name);
  if (!r) {
    const cid = `${S.idPrefix}-resident`;
    const { pid } = createStart(rt, b.sleepB, cid);
    r = { id: cid, pid };
    S.residents.set(rt.name, r);
  }
  return r;
}

function dropResident(rt: Runtime): void {
  const r = S.residents.get(rt.name);
  if (!r) return;
  must(rt, run(cmd(rt, "kill", r.id, "KILL")), `kill ${r.id} KILL`);
  reap(rt, r.id, r.pid, 128 + 9);
  del(rt, r.id);
  S.residents.delete(rt.name);
}

function leftover(rt: Runtime, cid: string): boolean {
  return existsSync(join(rt.root, cid));
}

function benches(o: Options, b: Bundles): Bench[] {
  const N = o.iterations;
  const W = o.warmup;
  const list: Bench[] = [
    {
      id: "version",
      title: "--version (process startup)",
      unit: "ms",
      metrics: [{ key: "total", label: "--version" }, { key: "cpu", label: "cpu (user+sys)" }],
      iterations: N,
      warmup: W,
      iter: (rt) => {
        // no namespace wrapper here: this is the runtime's own startup
        const r = must(rt, run([rt.path, "--version"]), "--version");
        if (!r.stdout.trim()) throw new BenchError(`${rt.name}: --version printed nothing`);
        return { total: r.ms, cpu: r.cpuMs };
      },
    },
    {
      id: "run",
      title: "run of `true`",
      unit: "ms",
      metrics: [{ key: "total", label: "run true" }, { key: "cpu", label: "cpu (user+sys)" }],
      iterations: N,
      warmup: W,
      prepare: (rt) => {
        const r = probeRun(rt, b);
        if (!probeOk(r)) {
          throw new BenchError(
            `${rt.name}: run of the probe bundle should print ${PROBE_MARKER} and exit ${PROBE_STATUS}: ${describe(r)}`,
          );
        }
        return undefined;
      },
      iter: (rt, i) => {
        const cid = id("run", i);
        track(rt, cid);
        const r = must(rt, run(cmd(rt, "run", "--bundle", b.trueB, cid)), `run ${cid}`);
        if (leftover(rt, cid)) throw new BenchError(`${rt.name}: run ${cid} exited but left its state in ${rt.root}`);
        untrack(rt, cid);
        return { total: r.ms, cpu: r.cpuMs };
      },
    },
    {
      id: "lifecycle",
      title: "create + start + wait for exit + delete",
      unit: "ms",
      metrics: [
        { key: "total", label: "create+start+wait+delete" },
        { key: "create", label: "create" },
        { key: "start", label: "start" },
        { key: "wait", label: "wait (exit of true)" },
        { key: "delete", label: "delete" },
        { key: "cpu", label: "cpu (user+sys)" },
      ],
      iterations: N,
      warmup: W,
      iter: (rt, i) => {
        const cid = id("life", i);
        const t0 = performance.now();
        const { create, start, pid } = createStart(rt, b.trueB, cid);
        const wait = reap(rt, cid, pid, 0);
        const d = del(rt, cid);
        const total = performance.now() - t0;
        return {
          total,
          create: create.ms,
          start: start.ms,
          wait,
          delete: d.ms,
          cpu: create.cpuMs + start.cpuMs + d.cpuMs,
        };
      },
    },
    {
      id: "signal",
      title: "start of a created container, then kill (SIGKILL) of the running one",
      unit: "ms",
      metrics: [
        { key: "start", label: "start alone" },
        { key: "kill", label: "kill KILL" },
        { key: "cpu", label: "cpu (user+sys)" },
      ],
      iterations: N,
      warmup: W,
      iter: (rt, i) => {
        const cid = id("sig", i);
        track(rt, cid);
        must(rt, run(cmd(rt, "create", "--bundle", b.sleepB, "--pid-file", pidFile(rt, cid), cid)), `create ${cid}`);
        const pid = readPid(rt, cid);
        const start = must(rt, run(cmd(rt, "start", cid)), `start ${cid}`);
        const kill = must(rt, run(cmd(rt, "kill", cid, "KILL")), `kill ${cid} KILL`);
        reap(rt, cid, pid, 128 + 9);
        del(rt, cid);
        return { start: start.ms, kill: kill.ms, cpu: start.cpuMs + kill.cpuMs };
      },
    },
    {
      id: "state",
      title: "state of a running container",
      unit: "ms",
      metrics: [{ key: "total", label: "state" }, { key: "cpu", label: "cpu (user+sys)" }],
      iterations: N,
      warmup: W,
      prepare: (rt) => {
        resident(rt, b);
        return undefined;
      },
      iter: (rt) => {
        const res = resident(rt, b);
        const r = must(rt, run(cmd(rt, "state", res.id)), `state ${res.id}`);
        let st: { status?: string; pid?: number; id?: string };
        try {
          st = JSON.parse(r.stdout);
        } catch {
          throw new BenchError(`${rt.name}: state printed no JSON: ${r.stdout.slice(0, 200)}`);
        }
        if (st.status !== "running" || st.pid !== res.pid || st.id !== res.id) {
          throw new BenchError(`${rt.name}: state of ${res.id} (pid ${res.pid}) is wrong: ${r.stdout.trim()}`);
        }
        return { total: r.ms, cpu: r.cpuMs };
      },
    },
    {
      id: "exec",
      title: "exec of `true` into a running container",
      unit: "ms",
      metrics: [{ key: "total", label: "exec true" }, { key: "cpu", label: "cpu (user+sys)" }],
      iterations: N,
      warmup: W,
      // exec is optional: a runtime whose exec does not work yet is skipped with the reason
      prepare: (rt) => {
        const res = resident(rt, b);
        const echo = run(cmd(rt, "exec", res.id, "echo", PROBE_MARKER));
        if (echo.code !== 0 || !echo.stdout.includes(PROBE_MARKER)) {
          return `exec does not work: ${describe(echo)}${echo.code === 0 ? " and printed nothing (no exec command?)" : ""}`;
        }
        const f = run(cmd(rt, "exec", res.id, "false"));
        if (f.code !== 1) return `exec does not pass the exit status on: \`exec ${res.id} false\` ${describe(f)}`;
        return undefined;
      },
      iter: (rt) => {
        const res = resident(rt, b);
        const r = must(rt, run(cmd(rt, "exec", res.id, "true")), `exec ${res.id} true`);
        return { total: r.ms, cpu: r.cpuMs };
      },
    },
    {
      id: "concurrent",
      title: `${o.concurrency} containers: create+start concurrently, then delete concurrently`,
      unit: "ms",
      metrics: [
        { key: "total", label: `${o.concurrency} concurrent (wall)` },
        { key: "up", label: "create+start phase" },
        { key: "reap", label: "wait for exits" },
        { key: "down", label: "delete phase" },
        { key: "cpu", label: "cpu (user+sys, all cmds)" },
      ],
      iterations: o.concurrentIterations ?? Math.max(3, Math.round(N / 5)),
      // the earlier benchmarks warmed every binary up; one iteration here costs tens of seconds
      warmup: 0,
      iter: async (rt, i) => {
        const ids = Array.from({ length: o.concurrency }, (_, k) => id("conc", i, k));
        const fail: string[] = [];
        const cpu: number[] = [];
        const t0 = performance.now();
        const up = await settle(
          ids.map(async (cid) => {
            track(rt, cid);
            const c = must(rt, await runAsync(cmd(rt, "create", "--bundle", b.trueB, "--pid-file", pidFile(rt, cid), cid)), `create ${cid}`);
            cpu.push(c.cpuMs);
            const pid = readPid(rt, cid);
            const s = must(rt, await runAsync(cmd(rt, "start", cid)), `start ${cid}`);
            cpu.push(s.cpuMs);
            return pid;
          }),
          fail,
        );
        const t1 = performance.now();
        if (interrupted) throw new Interrupted(interrupted);
        if (fail.length) throw new BenchError(`${fail.length}/${ids.length} failed; first: ${fail[0]}`);
        ids.forEach((cid, k) => reap(rt, cid, up[k] as number, 0));
        const t2 = performance.now();
        await settle(
          ids.map(async (cid) => {
            const d = must(rt, await runAsync(cmd(rt, "delete", cid)), `delete ${cid}`);
            cpu.push(d.cpuMs);
            untrack(rt, cid);
          }),
          fail,
        );
        const t3 = performance.now();
        if (interrupted) throw new Interrupted(interrupted);
        if (fail.length) throw new BenchError(`${fail.length}/${ids.length} failed; first: ${fail[0]}`);
        return { total: t3 - t0, up: t1 - t0, reap: t2 - t1, down: t3 - t2, cpu: cpu.reduce((a, x) => a + x, 0) };
      },
    },
    {
      id: "rss",
      title: "peak RSS of one `create` (max RSS of the runtime process and the children it reaped)",
      unit: "MiB",
      metrics: [{ key: "rss", label: "create peak RSS" }],
      iterations: o.rssIterations ?? Math.min(N, 10),
      warmup: Math.min(W, 1),
      note:
        "measured with /usr/bin/time (wait4 ru_maxrss): the runtime's own process and any helper it waits for " +
        "(tsrun-init stage 0, runc's bootstrap), not the container's init",
      prepare: () => (existsSync("/usr/bin/time") ? undefined : "/usr/bin/time is missing (apt-get install -y time)"),
      iter: (rt, i) => {
        const cid = id("rss", i);
        const out = join(S.tmp, "rss.txt");
        track(rt, cid);
        must(
          rt,
          run(["/usr/bin/time", "-o", out, "-f", "%M", ...cmd(rt, "create", "--bundle", b.trueB, "--pid-file", pidFile(rt, cid), cid)]),
          `create ${cid} (under /usr/bin/time)`,
        );
        const kb = Number(readFileSync(out, "utf8").trim().split("\n").pop());
        const pid = readPid(rt, cid);
        must(rt, run(cmd(rt, "start", cid)), `start ${cid}`);
        reap(rt, cid, pid, 0);
        del(rt, cid);
        if (!(kb > 100)) throw new BenchError(`${rt.name}: implausible peak RSS ${kb} KiB`);
        return { rss: kb / 1024 };
      },
    },
  ];
  return o.only ? list.filter((x) => o.only!.has(x.id)) : list;
}

/** Promise.allSettled that collects failure messages (so no chain is left running on failure). */
async function settle<T>(ps: Promise<T>[], fail: string[]): Promise<(T | undefined)[]> {
  const rs = await Promise.allSettled(ps);
  return rs.map((r) => {
    if (r.status === "fulfilled") return r.value;
    if (r.reason instanceof Interrupted) interrupted ??= r.reason.message;
    fail.push(r.reason instanceof Error ? r.reason.message : String(r.reason));
    return undefined;
  });
}

// -------------------------------------------------------------------------------------- cleanup

/** Remove every container the benchmark may have made, the namespace holder and the temp dir. */
function cleanup(): string[] {
  if (S.cleaned) return [];
  S.cleaned = true;
  const problems: string[] = [];
  for (const rt of S.runtimes) {
    const ids = new Map(S.tracked.get(rt.name) ?? []);
    try {
      for (const e of readdirSync(rt.root)) if (e.startsWith(S.idPrefix) && !ids.has(e)) ids.set(e, 0);
    } catch {
      /* root never made */
    }
    for (const [cid, pid] of ids) {
      run(cmd(rt, "kill", cid, "KILL"));
      if (pid > 1) {
        try {
          waitExit(pid, 2000);
        } catch {
          killPid(pid, 9);
        }
      }
    }
    reapAll();
    for (const cid of ids.keys()) {
      run(cmd(rt, "delete", "--force", cid));
      if (leftover(rt, cid)) problems.push(`${rt.name}: could not delete container ${cid} (root ${rt.root})`);
    }
  }
  if (S.holder) {
    S.holder.kill(9);
    reapAll();
  }
  reapAll();
  if (S.tmp && problems.length === 0) rmSync(S.tmp, { recursive: true, force: true });
  else if (S.tmp) problems.push(`kept ${S.tmp} for inspection`);
  for (const p of problems) process.stderr.write(`bench: cleanup: ${p}\n`);
  return problems;
}

let interrupted: string | null = null;

/**
 * First Ctrl-C: stop at the next step (every runtime command is bounded by a timeout) and clean
 * up. A second one: clean up at once.
 */
function onSignal(sig: string): void {
  if (interrupted) {
    process.stderr.write(`\nbench: ${sig} again: cleaning up now\n`);
    cleanup();
    process.exit(130);
  }
  interrupted = sig;
  process.stderr.write(`\nbench: ${sig}: stopping after the current step, then cleaning up\n`);
}

/** Lets signal handlers run (they are dispatched by the event loop), then honours them. */
async function checkpoint(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  if (interrupted) throw new Interrupted(interrupted);
}

// ----------------------------------------------------------------------------------------- main

function shortVersion(rt: Runtime): string {
  const lines = rt.version.split("; ");
  const base = basename(rt.path).replace(/#\d+$/, "");
  return lines.find((l) => l.toLowerCase().includes(base.toLowerCase())) ?? lines[0] ?? "";
}

function buildDoc(
  results: BenchResult[],
  o: Options,
  b: Bundles,
  harness: Doc["harness"],
  t0: number,
  load0: number[],
  date: string,
): Doc {
  const notes: string[] = [];
  for (const rt of S.runtimes) for (const n of rt.notes) notes.push(`${rt.name}: ${n}`);
  const ncpu = cpus().length;
  if (loadavg()[0] > ncpu || load0[0] > ncpu) {
    notes.push(
      `load average above the CPU count (${load0[0].toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end): ` +
        "absolute figures are noisy; the ratios and the cpu rows hold up better",
    );
  }
  for (const rt of S.runtimes) {
    if (stamp(rt.path) !== rt.stamp) notes.push(`WARNING: ${rt.path} changed during the run (rebuilt?): its figures mix two binaries`);
  }
  const benchmarks: DocBench[] = results.map((r) => ({
    id: r.id,
    title: r.title,
    unit: r.unit,
    iterations: r.iterations,
    warmup: r.warmup,
    seconds: round(r.seconds, 1),
    ...(r.note ? { note: r.note } : {}),
    metrics: r.metrics,
    results: Object.fromEntries(
      Object.entries(r.summary).map(([rt, ms]) => [
        rt,
        Object.fromEntries(Object.entries(ms).map(([k, s]) => [k, roundSummary(s, r.samples[rt][k])])),
      ]),
    ),
    ratios: Object.fromEntries(
      Object.entries(r.ratios).map(([pair, ms]) => [pair, Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, round(v)]))]),
    ),
    skipped: r.skipped,
  }));
  return {
    schema: SCHEMA,
    date,
    seconds: round((performance.now() - t0) / 1000, 1),
    host: {
      kernel: release(),
      cpus: ncpu,
      cpuModel: cpus()[0]?.model,
      loadavgStart: load0.map((x) => round(x, 2)),
      loadavgEnd: loadavg().map((x) => round(x, 2)),
    },
    settings: {
      iterations: o.iterations,
      warmup: o.warmup,
      concurrency: o.concurrency,
      budgetSeconds: o.budget,
      interleaved: true,
      bundle: {
        rootfs: `busybox from ${BUSYBOX}`,
        config: "runc spec (runc 1.1), terminal false, root.path absolute",
        configSha256: b.configSha256,
      },
    },
    harness,
    runtimes: S.runtimes.map((rt) => ({
      name: rt.name,
      role: rt.role,
      path: rt.path,
      version: rt.version,
      versionShort: shortVersion(rt),
      sizeBytes: Number.isFinite(rt.size) ? rt.size : null,
      command: [...rt.prefix, rt.path, ...rt.globals],
      notes: rt.notes,
    })),
    sizes: Object.fromEntries(
      ["dist/tsrun", "native/out/tsrun-init"].map((p) => {
        const s = fileSize(join(REPO, p));
        return [p, Number.isFinite(s) ? s : null];
      }),
    ),
    benchmarks,
    notes,
  };
}

function harnessBaseline(crun: Runtime | undefined): Doc["harness"] {
  const plain: number[] = [];
  const ns: number[] = [];
  for (let i = 0; i < 25; i++) {
    plain.push(run(["/bin/true"]).ms);
    if (crun?.prefix.length) ns.push(run([...crun.prefix, "/bin/true"]).ms);
  }
  const base = summarize(plain.slice(5)).median;
  const h: Doc["harness"] = { spawnTrueMs: round(base) };
  if (ns.length) h.nsenterMs = round(Math.max(0, summarize(ns.slice(5)).median - base));
  return h;
}

/**
 * The start-up floor of a Bun binary on this machine: a hello-world compiled with dist/tsrun's own
 * flags, timed interleaved with each runtime's --version, with the page faults of each (wait4's
 * ru_minflt through /usr/bin/time). No tsrun command can start faster than the hello-world.
 */
function bunFloor(rts: Runtime[]): NonNullable<Doc["harness"]["floor"]> | string {
  const flags = JSON.parse(readFileSync(join(REPO, "scripts/bun-compile-flags.json"), "utf8")) as string[];
  const src = join(S.tmp, "hello.ts");
  const exe = join(S.tmp, "hello");
  // writeSync, not process.stdout: building that stream alone costs hundreds of page faults
  writeFileSync(src, 'import { writeSync } from "node:fs";\nwriteSync(1, "hello\\n");\n');
  const built = run([process.execPath, "build", src, ...flags, "--outfile", exe]);
  if (built.code !== 0) return `the hello-world did not build: ${describe(built)}`;
  const subjects: [string, string[]][] = [["hello-world", [exe]], ...rts.map((rt): [string, string[]] => [rt.name, [rt.path, "--version"]])];
  const ms = new Map(subjects.map(([n]) => [n, [] as number[]]));
  for (let i = 0; i < 25; i++) for (const [n, argv] of subjects) ms.get(n)!.push(run(argv).ms);
  const faults = new Map<string, number>();
  if (existsSync("/usr/bin/time")) {
    const out = join(S.tmp, "faults.txt");
    for (const [n, argv] of subjects) {
      const f: number[] = [];
      for (let i = 0; i < 5; i++) {
        run(["/usr/bin/time", "-o", out, "-f", "%R", ...argv]);
        f.push(Number(readFileSync(out, "utf8").trim().split("\n").pop()));
      }
      faults.set(n, summarize(f).median);
    }
  }
  return {
    flags: flags.join(" "),
    results: Object.fromEntries(
      subjects.map(([n]) => [n, { ms: round(summarize(ms.get(n)!.slice(5)).median), pageFaults: faults.get(n) ?? null }]),
    ),
  };
}

/** cgroups named after our containers that outlived them (a runtime that leaks on delete). */
function leakedCgroups(): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e);
      if (e.startsWith(S.idPrefix)) found.push(p);
      else if (depth > 0 && !e.includes(".")) {
        try {
          if (statSync(p).isDirectory()) walk(p, depth - 1);
        } catch {
          /* raced */
        }
      }
    }
  };
  walk("/sys/fs/cgroup", 3);
  return found;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  S.opts = o;
  const saved = (file: string): Doc => {
    try {
      return JSON.parse(readFileSync(file, "utf8")) as Doc;
    } catch (e) {
      return die(`cannot read the saved run ${file}: ${(e as Error).message}`);
    }
  };
  const before = o.compare ? saved(o.compare) : undefined;
  if (o.print) {
    process.stdout.write(table(saved(o.print), before));
    return 0;
  }
  if (process.getuid?.() !== 0) die("must run as root (it creates containers)");
  const t0 = performance.now();
  const date = new Date().toISOString();
  const load0 = loadavg();

  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => onSignal(sig));
  becomeSubreaper();
  S.tmp = mkdtempSync("/tmp/tsrun-bench-");
  mkdirSync(join(S.tmp, "pids"));
  setIoDir(join(S.tmp, "io"));

  const results: BenchResult[] = [];
  let doc: Doc;
  try {
    progress(`[bench] bundles in ${S.tmp}`);
    const b = makeBundles(S.tmp);
    const under = o.runtimes.length ? o.runtimes : [join(REPO, "dist/tsrun")];
    for (const p of under) S.runtimes.push(makeRuntime(p, "runtime"));
    S.runtimes.push(makeRuntime(o.reference || (which("runc") ?? "/usr/sbin/runc"), "reference"));
    let crun: Runtime | undefined;
    if (o.crun !== "none") {
      const path = o.crun === "auto" ? which("crun") : resolveExe(o.crun);
      const ref = S.runtimes.find((r) => r.role === "reference")!;
      if (!path) noteOnce(ref, "crun not installed: apt-get install -y crun to compare with it too");
      else if (!S.runtimes.some((r) => r.path === path)) {
        const c = await setupCrun(path, b);
        if (typeof c === "string") noteOnce(ref, `crun skipped: ${c}`);
        else S.runtimes.push((crun = c));
      }
    }
    progress(`[bench] runtimes: ${S.runtimes.map((r) => `${r.name}=${r.path}`).join(" ")}`);
    const harness = harnessBaseline(crun);
    progress("[bench] floor: a Bun hello-world built with dist/tsrun's flags");
    const floor = bunFloor(S.runtimes);
    if (typeof floor === "string") S.runtimes[0].notes.push(`floor not measured: ${floor}`);
    else harness.floor = floor;
    const list = benches(o, b);
    const lastResidentUser = list.map((x) => x.id as string).filter((x) => x === "state" || x === "exec").pop();
    const tBench = performance.now();
    for (const [k, bench] of list.entries()) {
      let share: number | null = null;
      if (o.budget !== null) {
        const left = o.budget * 1000 - (performance.now() - tBench);
        const w = list.slice(k).reduce((a, x) => a + (WEIGHT[x.id] ?? 1), 0);
        share = Math.max(0, (left * (WEIGHT[bench.id] ?? 1)) / w);
      }
      results.push(await runBench(bench, S.runtimes, share));
      if (bench.id === lastResidentUser) for (const rt of S.runtimes) dropResident(rt);
    }
    for (const rt of S.runtimes) dropResident(rt);
    // every container made was deleted: the roots hold nothing of ours, no cgroup is left
    for (const rt of S.runtimes) {
      const left = readdirSync(rt.root).filter((e) => e.startsWith(S.idPrefix));
      if (left.length) throw new BenchError(`${rt.name}: containers left in ${rt.root} after delete: ${left.join(", ")}`);
    }
    const leaked = leakedCgroups();
    if (leaked.length) throw new BenchError(`cgroups left behind after delete: ${leaked.slice(0, 5).join(", ")}${leaked.length > 5 ? ", ..." : ""}`);
    doc = buildDoc(results, o, b, harness, t0, load0, date);
  } catch (e) {
    if (e instanceof Interrupted || interrupted) {
      process.stderr.write(`\nbench: interrupted (${interrupted ?? (e as Error).message}): cleaning up\n`);
      cleanup();
      return 130;
    }
    process.stderr.write(`\nbench: FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
    if (!(e instanceof BenchError) && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    cleanup();
    return 1;
  }
  const problems = cleanup();
  const json = JSON.stringify(doc, null, 2) + "\n";
  if (o.save) writeFileSync(o.save, json);
  process.stdout.write(o.json ? json : table(doc, before));
  return problems.length ? 1 : 0;
}

/** Best-effort removal of a runtime's containers (used when crun's probe fails). */
function cleanupOne(rt: Runtime): void {
  try {
    for (const e of readdirSync(rt.root)) {
      if (!e.startsWith(S.idPrefix)) continue;
      run(cmd(rt, "delete", "--force", e));
    }
  } catch {
    /* nothing there */
  }
  S.tracked.delete(rt.name);
  reapAll();
}

process.exit(await main());
