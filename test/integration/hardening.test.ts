// Hardening regression tests (issue 6): each one reproduces an attack class that hit runc and
// asserts that tsrun defeats it; where it is informative, the same bundle goes through runc
// (/usr/sbin/runc, with its own --root) and what runc did is reported as a comment. As root.
//
//   1. CVE-2024-21626: a host fd or cwd leaking into the container (process.cwd /proc/self/fd/N)
//   2. CVE-2019-5736:  overwriting the runtime binary through /proc/<pid>/exe
//   3. CVE-2021-30465: a symlink, or a racing rename, in the rootfs redirecting a mount out of it
//   4. CVE-2019-16884: masked /proc paths undone (/proc a symlink or bound over, umount, a planted
//                      /proc/self/fd, a /dev/null symlink as in CVE-2025-31133)
//   5. CVE-2022-29162: inheritable capabilities granted when nobody asked for them
//   6. a fake /proc/self/fd in an image without a proc mount opening the start gate early
import t, { type Test } from "tap";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync, closeSync, constants as fsc, copyFileSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync,
  openSync, readdirSync, readFileSync, readSync, readlinkSync, realpathSync, rmSync, statSync, symlinkSync, truncateSync,
  writeFileSync, writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle, type Bundle, type BundleOptions, type OciConfig } from "../../bundle-fixtures/rootfs.js";
import { message, mountsMentioning, repo, type Result, Runtime, sleep, TSRUN } from "../lib/tsrun.js";

const RUNC = "/usr/sbin/runc";
const fixtures = join(repo, "test/fixtures/hardening");

const work = mkdtempSync(join(tmpdir(), "tsrun-hardening-"));
chmodSync(work, 0o755);
const rt = new Runtime();

/** runc side by side: the same calls as Runtime, with runc and a root of its own. */
class Runc {
  readonly root = mkdtempSync(join(tmpdir(), "runc-root-"));
  run(args: string[], timeout = 30_000): Result {
    const r = spawnSync(RUNC, ["--root", this.root, ...args], { encoding: "utf8", timeout });
    return { code: r.status ?? 128, stdout: r.stdout ?? "", stderr: message(r.stderr ?? "") };
  }
  /** For commands that leave a container holding stdio (create, run -d): stdio on files. */
  detached(args: string[], name: string): Result & { outFile: string } {
    const outFile = join(work, `runc-${name}.stdout`);
    const out = openSync(outFile, "w");
    const err = openSync(outFile.replace(/stdout$/, "stderr"), "w");
    try {
      const r = spawnSync(RUNC, ["--root", this.root, ...args], { stdio: ["ignore", out, err], timeout: 30_000 });
      return { code: r.status ?? 1, stdout: readFileSync(outFile, "utf8"), stderr: message(readFileSync(outFile.replace(/stdout$/, "stderr"), "utf8")), outFile };
    } finally {
      closeSync(out);
      closeSync(err);
    }
  }
  state(id: string): { status: string; pid: number } {
    return JSON.parse(this.run(["state", id]).stdout);
  }
  cleanup(): void {
    for (const id of existsSync(this.root) ? readdirSync(this.root) : []) this.run(["delete", "--force", id]);
    rmSync(this.root, { recursive: true, force: true });
  }
}
const runc = existsSync(RUNC) ? new Runc() : undefined;

/** Background processes (racers, watchers) still to kill, by pid. */
const background = new Set<ChildProcess>();
/** Host directories outside `work` the attacks aim at. */
const hostDirs: string[] = [];

t.teardown(() => {
  for (const child of background) {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  }
  rt.cleanup();
  runc?.cleanup();
  for (const d of hostDirs) rmSync(d, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

/** Container ids unique to this run: cgroup paths (/tsrun/<id>, runc's /<id>) are host-wide. */
const uid = (name: string) => `${name}-h${process.pid}`;
const [FDS, EXE, HUNTER, SYM, DANGLE, RESOLV, MASK, PLANTED, DEVNULL, PROC2, CAPEXEC] =
  ["fds", "exe", "hunter", "sym", "dangle", "resolv", "mask", "planted", "devnull", "proc2", "capexec"].map(uid);
const [CAPS1, CAPS2, CAPS3, CAPS4, CAPS5] = [1, 2, 3, 4, 5].map((i) => uid(`caps${i}`));

let n = 0;
function bundle(name: string, opts: BundleOptions): Bundle {
  return makeBundle(join(work, `${name}-${++n}`), opts);
}

/** A directory on the host that an attack tries to reach (outside every rootfs and bundle). */
function hostDir(tag: string): string {
  const d = mkdtempSync(join("/tmp", `tsrun-evil-${tag}-`));
  hostDirs.push(d);
  return d;
}

interface ProbeStat { ok: boolean; errno_name: string | null; type: string; ino: number; dev_major: number; dev_minor: number; data?: string; entries?: string[] }
interface CapSet { hex: string; names: string[] }
interface Report {
  cwd: string;
  fds: { fd: number; target: string }[];
  caps: { effective: CapSet; permitted: CapSet; inheritable: CapSet; bounding: CapSet; ambient: CapSet };
  mounts: { mount_point: string; fstype: string; source: string; root: string }[];
  actions: (ProbeStat & { op: string; path: string })[];
}

function report(stdout: string): Report {
  const line = stdout.split("\n").find((l) => l.startsWith("{"));
  if (!line) throw new Error(`no probe report in ${JSON.stringify(stdout.slice(0, 400))}`);
  return JSON.parse(line);
}

function tryReport(stdout: string): Report | undefined {
  try {
    return report(stdout);
  } catch {
    return undefined;
  }
}

function waitStopped(status: () => string, ms = 10_000): void {
  const end = Date.now() + ms;
  while (Date.now() < end && status() !== "stopped") sleep(20);
}

const fdNumbers = (r: Report) => r.fds.map((f) => f.fd).sort((a, b) => a - b);
const numeric = (entries: string[] | undefined) => (entries ?? []).map(Number).sort((a, b) => a - b);
const hostFdsOf = (pid: number) => numeric(readdirSync(`/proc/${pid}/fd`));
const capBits = (c: CapSet) => BigInt("0x" + c.hex);
const devOf = (dev: number) => ({ major: Number((BigInt(dev) >> 8n) & 0xfffn), minor: Number((BigInt(dev) & 0xffn) | ((BigInt(dev) >> 12n) & ~0xffn)) });

/** Static helpers (test/fixtures/hardening/*.c) built once into work/bin. */
function helper(name: string): string {
  const out = join(work, "bin", name);
  if (existsSync(out)) return out;
  mkdirSync(join(work, "bin"), { recursive: true });
  const r = spawnSync("gcc", ["-static", "-O2", "-Wall", "-o", out, join(fixtures, `${name}.c`)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`gcc ${name}.c: ${r.stderr || r.error}`);
  return out;
}

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

// ------------------------------------------------------------------------------------------------
t.test("CVE-2024-21626 class: no host fd and no host cwd reach the container", async (t) => {
  const fdRange = [3, 4, 5, 6, 7, 8, 9, 10];

  /** A container started with cwd /proc/self/fd/N either fails cleanly, or runs inside its own rootfs. */
  const checkCwd = (t: Test, how: string, r: Result, rootfs: string, id: string, fd: number): string => {
    if (r.code !== 0) {
      t.match(r.stderr, new RegExp(`process\\.cwd: change directory to /proc/self/fd/${fd}: `), `${how} fd ${fd}: fails, naming process.cwd`);
      t.notOk(rt.containers().includes(id), `${how} fd ${fd}: the failed container leaves no state`);
      return `error: ${r.stderr.split("\n")[0]}`;
    }
    const rep = report(r.stdout);
    t.notMatch(rep.cwd, /unreachable/, `${how} fd ${fd}: the cwd is not outside the container's root (${rep.cwd})`);
    const here = rep.actions.find((a) => a.op === "stat" && a.path === ".")!;
    const host = statSync(join(rootfs, rep.cwd));
    t.ok(here.ok && here.ino === host.ino && here.dev_major === devOf(host.dev).major && here.dev_minor === devOf(host.dev).minor,
      `${how} fd ${fd}: "." is ${rep.cwd} of the container's rootfs`);
    t.same(fdNumbers(rep), [0, 1, 2], `${how} fd ${fd}: only stdio`);
    return `cwd ${rep.cwd}`;
  };

  const tsrunSeen: string[] = [];
  const runcSeen: string[] = [];
  for (const fd of fdRange) {
    const b = bundle(`cwd${fd}`, {
      rootfs: "probe",
      args: ["/probe", "stat", ".", "ls", "."],
      mutate: (c) => (c.process!.cwd = `/proc/self/fd/${fd}`),
    });
    // run: no exec.fifo
    const id = uid(`cwd-run-${fd}`);
    tsrunSeen.push(`run fd ${fd}: ${checkCwd(t, "run", rt.run(["run", "--bundle", b.bundle, id]), b.rootfs, id, fd)}`);
    // create + start: the init holds exec.fifo (and the rootfs) while it waits
    const cid = uid(`cwd-create-${fd}`);
    const created = rt.detached(["create", "--bundle", b.bundle, cid]);
    let r: Result = created;
    if (created.code === 0) {
      t.equal(rt.run(["start", cid]).code, 0);
      waitStopped(() => rt.state(cid).status);
      r = { code: 0, stdout: readFileSync(created.outFile, "utf8"), stderr: "" };
      rt.run(["delete", cid]);
    }
    tsrunSeen.push(`create fd ${fd}: ${checkCwd(t, "create+start", r, b.rootfs, cid, fd)}`);

    if (runc) {
      const rr = runc.run(["run", "--bundle", b.bundle, uid(`cwd-${fd}`)]);
      runc.run(["delete", "--force", uid(`cwd-${fd}`)]);
      const rep = rr.code === 0 ? tryReport(rr.stdout) : undefined;
      runcSeen.push(`fd ${fd}: ${rep ? `exit ${rr.code}, cwd ${rep.cwd}, fds ${fdNumbers(rep).join(",")}` : `exit ${rr.code}: ${rr.stderr.split("\n")[0]}`}`);
    }
  }
  t.comment(`tsrun with process.cwd /proc/self/fd/N:\n  ${tsrunSeen.join("\n  ")}`);
  if (runc) t.comment(`runc 1.1.5 (${RUNC}) on the same bundles:\n  ${runcSeen.join("\n  ")}`);

  // Inside a running container: pid 1, an exec'd process, a detached exec: stdio only.
  const b = bundle("fds", { rootfs: "probe", args: ["/probe", "-n", "pause"] });
  t.equal(rt.detached(["run", "-d", "--bundle", b.bundle, FDS]).code, 0);
  const init = rt.state(FDS).pid;
  t.same(hostFdsOf(init), [0, 1, 2], "the container's pid 1 holds only stdio (seen from the host)");
  const ex = rt.run(["exec", FDS, "/probe", "ls", "/proc/1/fd"]);
  t.equal(ex.code, 0, ex.stderr);
  const exr = report(ex.stdout);
  t.same(fdNumbers(exr), [0, 1, 2], "an exec'd process holds only stdio");
  t.same(numeric(exr.actions[0].entries), [0, 1, 2], "pid 1 seen from inside: only stdio");
  for (const f of exr.fds) t.notMatch(f.target, /^\/(?!dev\/|proc\/)|^\/proc\/\d/, `fd ${f.fd} (${f.target}) is no host path`);
  const pidFile = join(work, "fds-exec.pid");
  t.equal(rt.detached(["exec", "-d", "--pid-file", pidFile, FDS, "/probe", "-n", "pause"]).code, 0);
  const execPid = Number(readFileSync(pidFile, "utf8"));
  t.same(hostFdsOf(execPid), [0, 1, 2], "a detached exec'd process holds only stdio (seen from the host)");
  const fromInit = rt.run(["run", "--bundle", bundle("fds-run", { rootfs: "probe", args: ["/probe"] }).bundle, uid("fds-run")]);
  t.same(fdNumbers(report(fromInit.stdout)), [0, 1, 2], "run: the process holds only stdio");

  // exec --cwd /proc/self/fd/N: the exec's tsrun-init holds the sync socket and a pidfd
  const execSeen: string[] = [];
  for (const fd of fdRange) {
    const r = rt.run(["exec", "--cwd", `/proc/self/fd/${fd}`, FDS, "/probe", "stat", "."]);
    if (r.code !== 0) {
      t.equal(r.code, 255, `exec --cwd /proc/self/fd/${fd}: exec itself fails (255)`);
      t.match(r.stderr, /process\.cwd: change directory to \/proc\/self\/fd\/\d+: /, `exec --cwd /proc/self/fd/${fd}: names the cwd`);
      execSeen.push(`fd ${fd}: ${r.stderr.split("\n")[0]}`);
    } else {
      const rep = report(r.stdout);
      t.notMatch(rep.cwd, /unreachable/, `exec --cwd /proc/self/fd/${fd}: lands inside the container (${rep.cwd})`);
      t.ok(statSync(join(b.rootfs, rep.cwd)).ino === rep.actions[0].ino, `exec --cwd /proc/self/fd/${fd}: "." is in the rootfs`);
      execSeen.push(`fd ${fd}: cwd ${rep.cwd}`);
    }
  }
  t.comment(`tsrun exec --cwd /proc/self/fd/N:\n  ${execSeen.join("\n  ")}`);
  rt.run(["delete", "--force", FDS]);

  if (runc) {
    const rd = runc.detached(["run", "-d", "--bundle", b.bundle, FDS], FDS);
    const seen: string[] = [];
    if (rd.code === 0) {
      seen.push(`pid 1 fds ${hostFdsOf(runc.state(FDS).pid).join(",")}`);
      const e = runc.run(["exec", FDS, "/probe"]);
      const er = tryReport(e.stdout);
      seen.push(er ? `exec'd process fds ${fdNumbers(er).join(",")}` : `exec: ${e.stderr}`);
      for (const fd of fdRange) {
        const c = runc.run(["exec", "--cwd", `/proc/self/fd/${fd}`, FDS, "/probe"]);
        const cr = c.code === 0 ? tryReport(c.stdout) : undefined;
        seen.push(`exec --cwd /proc/self/fd/${fd}: ${cr ? `cwd ${cr.cwd}` : `exit ${c.code}: ${c.stderr.split("\n")[0]}`}`);
      }
      runc.run(["delete", "--force", FDS]);
    } else seen.push(`run -d failed: ${rd.stderr}`);
    t.comment(`runc 1.1.5, same container:\n  ${seen.join("\n  ")}`);
  }
});

// ------------------------------------------------------------------------------------------------
t.test("CVE-2019-5736 class: the init's executable cannot be written or swapped for the host binary", async (t) => {
  const tsrunReal = realpathSync(TSRUN);
  const before = { sha: sha256(tsrunReal), st: statSync(tsrunReal) };
  const hostPidNs = readlinkSync("/proc/self/ns/pid");
  const seals = helper("seals");
  const F_SEAL = { SEAL: 1, SHRINK: 2, GROW: 4, WRITE: 8 };
  const wanted = F_SEAL.SEAL | F_SEAL.SHRINK | F_SEAL.GROW | F_SEAL.WRITE;

  /** Every process that is in another pid namespace or runs the host's dist/tsrun. */
  const seen: { pid: string; exe: string; pidns: string }[] = [];
  const scan = () => {
    for (const p of readdirSync("/proc")) {
      if (!/^\d+$/.test(p)) continue;
      try {
        const exe = readlinkSync(`/proc/${p}/exe`);
        const pidns = readlinkSync(`/proc/${p}/ns/pid`);
        if (pidns !== hostPidNs || exe === tsrunReal) seen.push({ pid: p, exe, pidns });
      } catch {
        // a kernel thread, or gone
      }
    }
  };
  /** Runs tsrun with args in the background, scanning /proc until it exits. */
  const watched = async (args: string[]): Promise<number> => {
    const child = spawn(TSRUN, ["--root", rt.root, ...args], { stdio: "ignore" });
    background.add(child);
    let code: number | null = null;
    child.on("exit", (c, s) => (code = c ?? 128 + (s ? 9 : 0)));
    while (code === null) {
      scan();
      await new Promise((r) => setImmediate(r));
    }
    background.delete(child);
    scan();
    return code;
  };

  /** Tries to open /proc/<pid>/exe for writing and to write or truncate through it. With
   * destructive false (someone else's binary: runc's), only opens without O_TRUNC, writes nothing. */
  const writeAttempts = (pid: number, destructive = true): string[] => {
    const path = `/proc/${pid}/exe`;
    const out: string[] = [];
    for (const [name, flags] of [["O_WRONLY", fsc.O_WRONLY], ["O_RDWR", fsc.O_RDWR], ["O_WRONLY|O_TRUNC", fsc.O_WRONLY | fsc.O_TRUNC]] as const) {
      if (!destructive && flags & fsc.O_TRUNC) continue;
      let fd = -1;
      try {
        fd = openSync(path, flags);
      } catch (e) {
        out.push(`open ${name}: ${(e as NodeJS.ErrnoException).code}`);
        continue;
      }
      if (!destructive) {
        out.push(`open ${name}: ok (nothing written)`);
        closeSync(fd);
        continue;
      }
      try {
        writeSync(fd, Buffer.from("#!/bin/sh\necho pwned\n"), 0);
        out.push(`open ${name}: ok, write: ok`);
      } catch (e) {
        out.push(`open ${name}: ok, write: ${(e as NodeJS.ErrnoException).code}`);
      }
      try {
        ftruncateSync(fd, 0);
        out.push(`open ${name}: ok, ftruncate: ok`);
      } catch (e) {
        out.push(`open ${name}: ok, ftruncate: ${(e as NodeJS.ErrnoException).code}`);
      }
      closeSync(fd);
    }
    if (!destructive) return out;
    try {
      truncateSync(path, 0);
      out.push("truncate: ok");
    } catch (e) {
      out.push(`truncate: ${(e as NodeJS.ErrnoException).code}`);
    }
    return out;
  };

  // A created container: its init waits on exec.fifo, running tsrun-init from the sealed memfd.
  const b = bundle("exe", { rootfs: "busybox", args: ["sleep", "1000"] });
  for (let i = 0; i < 5; i++) {
    const id = i === 0 ? EXE : uid(`exe${i}`);
    t.equal(await watched(["create", "--bundle", b.bundle, id]), 0, `create ${id}`);
    if (i > 0) rt.run(["delete", "--force", id]);
  }
  const st = rt.state(EXE);
  t.equal(st.status, "created");
  const init = st.pid;
  const containerPidNs = readlinkSync(`/proc/${init}/ns/pid`);
  t.equal(readlinkSync(`/proc/${init}/exe`), "/memfd:tsrun-init (deleted)", "the created init runs from the memfd");

  const s = spawnSync(seals, [`/proc/${init}/exe`], { encoding: "utf8" });
  const got = JSON.parse(s.stdout);
  t.equal(got.error, undefined, "F_GET_SEALS works on /proc/<pid>/exe");
  t.equal((got.seals ?? 0) & wanted, wanted, `seals 0x${(got.seals ?? 0).toString(16)} include F_SEAL_WRITE|F_SEAL_GROW|F_SEAL_SHRINK|F_SEAL_SEAL`);

  // never aim writes at anything but the memfd: a broken runtime must not cost us dist/tsrun
  const attempts = readlinkSync(`/proc/${init}/exe`).startsWith("/memfd:") ? writeAttempts(init) : writeAttempts(init, false);
  for (const a of attempts) t.notMatch(a, /(write|ftruncate|truncate): ok$|nothing written/, `host: ${a}`);
  for (const a of attempts.filter((x) => x.startsWith("open") && !x.includes(": ok"))) t.match(a, /ETXTBSY|EPERM$/, `host: ${a} is ETXTBSY or EPERM`);
  t.equal(readlinkSync(`/proc/${init}/exe`), "/memfd:tsrun-init (deleted)", "still the memfd afterwards");
  t.comment(`tsrun, from the host on /proc/<created init>/exe: seals 0x${(got.seals ?? 0).toString(16)}; ${attempts.join("; ")}`);

  // Start it, then exec into it many times while the container itself hunts for a writable exe.
  t.equal(rt.run(["start", EXE]).code, 0);
  for (let i = 0; i < 10; i++) t.equal(await watched(["exec", EXE, "true"]), 0, `exec ${i}`);

  const inContainer = seen.filter((p) => p.pidns === containerPidNs);
  t.ok(inContainer.some((p) => p.exe === "/memfd:tsrun-init (deleted)"), "the scanner saw tsrun-init in the container's pid namespace");
  t.ok(seen.some((p) => p.exe === tsrunReal && p.pidns === hostPidNs), "the scanner saw the tsrun binary run (in the host's pid namespace)");
  const tsrunInside = seen.filter((p) => p.exe === tsrunReal && p.pidns !== hostPidNs);
  t.same(tsrunInside, [], "dist/tsrun is never the exe of a process in a container's pid namespace");
  const exes = [...new Set(seen.filter((p) => p.pidns !== hostPidNs).map((p) => p.exe))].sort();
  t.comment(`exes seen in containers' pid namespaces during 5 creates and 10 execs: ${exes.join(", ")}`);

  // The attacker inside: every process it can see, it tries to open through /proc/N/exe (O_RDWR,
  // no write: a binary of the rootfs is hard-linked to the fixture cache).
  const hunter = [
    "while :; do",
    "  for d in /proc/[0-9]*; do",
    '    p=${d#/proc/}; [ "$p" = "$$" ] && continue',
    '    e=$(readlink "$d/exe" 2>/dev/null) || continue',
    '    case "$e" in /bin/busybox|"") continue;; esac',
    '    echo "SEEN $p $e"',
    '    if (exec 3<>"$d/exe") 2>/dev/null; then echo "OPENED $p $e"; fi',
    "  done",
    "done",
  ].join("\n");
  const hb = bundle("hunter", { rootfs: "busybox", args: ["sh", "-c", hunter], mutate: (c) => (c.process!.noNewPrivileges = false) });
  const hunt = rt.detached(["run", "-d", "--bundle", hb.bundle, HUNTER]);
  t.equal(hunt.code, 0, hunt.stderr);
  for (let i = 0; i < 30; i++) {
    const r = rt.run(["exec", HUNTER, "true"]);
    if (r.code !== 0) t.fail(`exec ${i}: ${r.stderr}`);
  }
  rt.run(["kill", HUNTER, "KILL"]);
  waitStopped(() => rt.state(HUNTER).status);
  rt.run(["delete", "--force", HUNTER]);
  const lines = readFileSync(hunt.outFile, "utf8").split("\n").filter(Boolean);
  t.same(lines.filter((l) => l.startsWith("OPENED")), [], "from inside, no process's exe could be opened for writing");
  t.same(lines.filter((l) => l.includes(tsrunReal) || l.includes("dist/tsrun")), [], "from inside, dist/tsrun is never seen as an exe");
  const huntedMemfd = lines.filter((l) => l.includes("memfd:tsrun-init")).length;
  t.comment(`the hunter inside saw the exec's tsrun-init ${huntedMemfd} times over 30 execs (others: ${[...new Set(lines.map((l) => l.split(" ").slice(2).join(" ")))].join(", ") || "none"})`);

  // Other sessions may rebuild dist/tsrun meanwhile: byte for byte only when nobody did; the
  // attacks' payload (a shell script written at offset 0) is looked for in any case.
  const head = (() => {
    const fd = openSync(tsrunReal, "r");
    const buf = Buffer.alloc(4);
    readSync(fd, buf, 0, 4, 0);
    closeSync(fd);
    return buf.toString("latin1");
  })();
  t.equal(head, "\x7fELF", "dist/tsrun still starts as an ELF binary (no payload written over it)");
  const after = statSync(tsrunReal);
  if (after.ino === before.st.ino && after.mtimeMs === before.st.mtimeMs) t.equal(sha256(tsrunReal), before.sha, "dist/tsrun is unchanged");
  else t.comment("dist/tsrun was rebuilt by someone else during this test: the byte-for-byte comparison is skipped");
  rt.run(["delete", "--force", EXE]);

  if (runc) {
    const rb = bundle("exe-runc", { rootfs: "busybox", args: ["sleep", "1000"] });
    const c = runc.detached(["create", "--bundle", rb.bundle, EXE], "exe");
    if (c.code === 0) {
      const pid = runc.state(EXE).pid;
      const exe = readlinkSync(`/proc/${pid}/exe`);
      const rs = spawnSync(seals, [`/proc/${pid}/exe`], { encoding: "utf8" }).stdout.trim();
      t.comment(`runc 1.1.5, created init: exe ${exe}; ${rs}; ${writeAttempts(pid, false).join("; ")}`);
      runc.run(["delete", "--force", EXE]);
    } else t.comment(`runc create failed: ${c.stderr}`);
  }
});

// ------------------------------------------------------------------------------------------------
t.test("CVE-2021-30465 class: symlinks and racing renames cannot move a mount out of the rootfs", async (t) => {
  /** Nothing was made in, or mounted on, a host directory. */
  const untouched = (t: Test, dirs: string[], label: string) => {
    for (const d of dirs) {
      t.same(readdirSync(d), [], `${label}: host ${d} stays empty`);
      t.same(mountsMentioning(d), [], `${label}: no host mount at ${d}`);
    }
  };
  const tmpfsAt = (rep: Report, path: string) => rep.mounts.some((m) => m.mount_point === path && m.fstype === "tmpfs");

  /** A rootfs whose /evil* symlinks point at host directories; mounts below them. */
  const symlinkBundle = (name: string, dirs: { a: string; b: string; c: string; d: string }, src: string) => {
    const bb = bundle(name, {
      rootfs: "probe",
      args: ["/probe", "put", "/evil/x/marker", "a", "put", "/evil2/y/marker", "b", "put", "/evil3/marker", "c", "ls", "/evilbind/b"],
      mutate: (c) => {
        c.mounts!.push(
          { destination: "/evil/x", type: "tmpfs", source: "tmpfs" },
          { destination: "/evil2/y", type: "tmpfs", source: "tmpfs" },
          { destination: "/evil3", type: "tmpfs", source: "tmpfs" },
          { destination: "/evilbind/b", type: "bind", source: src, options: ["rbind", "ro"] },
        );
      },
    });
    symlinkSync(dirs.a, join(bb.rootfs, "evil")); // absolute
    symlinkSync(`../../../../../../../..${dirs.b}`, join(bb.rootfs, "evil2")); // relative, climbing out
    symlinkSync(dirs.c, join(bb.rootfs, "evil3")); // the destination itself is the symlink
    symlinkSync(dirs.d, join(bb.rootfs, "evilbind")); // a host directory bound through a symlink
    return bb;
  };
  const src = join(work, "bind-source");
  mkdirSync(src);
  writeFileSync(join(src, "from-the-host"), "x");

  await t.test("symlinks whose targets also exist inside the rootfs", async (t) => {
    const dirs = { a: hostDir("a"), b: hostDir("b"), c: hostDir("c"), d: hostDir("d") };
    const b = symlinkBundle("symlinks", dirs, src);
    for (const d of Object.values(dirs)) mkdirSync(join(b.rootfs, d), { recursive: true });
    const r = rt.run(["run", "--bundle", b.bundle, SYM]);
    t.equal(r.code, 0, r.stderr);
    untouched(t, Object.values(dirs), "tsrun");
    const rep = tryReport(r.stdout);
    if (rep) {
      t.ok(tmpfsAt(rep, `${dirs.a}/x`), "/evil/x is a tmpfs inside the container (at the symlink's target in the rootfs)");
      t.ok(tmpfsAt(rep, `${dirs.b}/y`), "/evil2/y is a tmpfs inside the container");
      t.ok(tmpfsAt(rep, dirs.c), "/evil3 is a tmpfs inside the container");
      t.ok(rep.actions.slice(0, 3).every((a) => a.ok), "the markers went into the container's tmpfs mounts");
      t.same(rep.actions[3].entries, ["from-the-host"], "the bind mount is visible through /evilbind");
    }
    t.ok(existsSync(join(b.rootfs, dirs.a, "x")) && existsSync(join(b.rootfs, dirs.b, "y")), "the mount points were made in the rootfs");
    if (runc) {
      for (const d of Object.values(dirs)) rmSync(join(b.rootfs, d), { recursive: true, force: true });
      for (const d of Object.values(dirs)) mkdirSync(join(b.rootfs, d), { recursive: true });
      const rr = runc.run(["run", "--bundle", b.bundle, SYM]);
      runc.run(["delete", "--force", SYM]);
      const rrep = tryReport(rr.stdout);
      const leaked = Object.values(dirs).filter((d) => readdirSync(d).length || mountsMentioning(d).length);
      t.comment(`runc 1.1.5: exit ${rr.code}${rr.code ? ` (${rr.stderr})` : ""}; mounts inside at ${rrep ? rrep.mounts.filter((m) => m.mount_point.includes("tsrun-evil")).map((m) => m.mount_point).join(", ") : "?"}; host dirs touched: ${leaked.length ? leaked.join(", ") : "none"}`);
      untouched(t, Object.values(dirs), "after runc too");
    }
  });

  await t.test("dangling symlinks: the targets exist only on the host", async (t) => {
    const dirs = { a: hostDir("a"), b: hostDir("b"), c: hostDir("c"), d: hostDir("d") };
    const b = symlinkBundle("dangling", dirs, src);
    const r = rt.run(["run", "--bundle", b.bundle, DANGLE]);
    untouched(t, Object.values(dirs), "tsrun");
    t.notOk(rt.containers().includes(DANGLE), "nothing left behind");
    // runc (securejoin) resolves the symlink inside the rootfs, creates the missing directories
    // there and mounts on them; failing is safe, but breaks images with dangling symlinks.
    t.equal(r.code, 0, `the mounts are made inside the rootfs, as runc does (got: ${r.stderr || "exit 0"})`);
    const rep = tryReport(r.stdout);
    if (rep) {
      t.ok(tmpfsAt(rep, `${dirs.a}/x`) && tmpfsAt(rep, `${dirs.b}/y`) && tmpfsAt(rep, dirs.c), "tmpfs mounts at the symlinks' targets inside the rootfs");
      t.same(rep.actions[3].entries, ["from-the-host"], "the bind mount is visible through /evilbind");
    }

    // The everyday case: an image whose /etc/resolv.conf is a dangling relative symlink, and an
    // engine that binds its own resolv.conf there.
    const resolv = join(work, "resolv.conf");
    writeFileSync(resolv, "nameserver 192.0.2.53\n");
    const rb = bundle("resolv", {
      rootfs: "probe",
      args: ["/probe", "read", "/etc/resolv.conf"],
      mutate: (c) => c.mounts!.push({ destination: "/etc/resolv.conf", type: "bind", source: resolv, options: ["rbind", "ro"] }),
    });
    symlinkSync("../run/systemd/resolve/stub-resolv.conf", join(rb.rootfs, "etc/resolv.conf"));
    const hostStub = "/run/systemd/resolve/stub-resolv.conf";
    const hostStubBefore = existsSync(hostStub);
    const rr = rt.run(["run", "--bundle", rb.bundle, RESOLV]);
    t.equal(rr.code, 0, `a dangling /etc/resolv.conf symlink gets the bind mount, as with runc (got: ${rr.stderr || "exit 0"})`);
    if (rr.code === 0) t.equal(report(rr.stdout).actions[0].data, "nameserver 192.0.2.53\n");
    t.equal(existsSync(hostStub), hostStubBefore, `nothing made at the host's ${hostStub}`);

    if (runc) {
      const before = Object.values(dirs).map((d) => readdirSync(d).length);
      const x = runc.run(["run", "--bundle", b.bundle, DANGLE]);
      runc.run(["delete", "--force", DANGLE]);
      const xrep = tryReport(x.stdout);
      const y = runc.run(["run", "--bundle", rb.bundle, RESOLV]);
      runc.run(["delete", "--force", RESOLV]);
      const yrep = tryReport(y.stdout);
      t.comment(`runc 1.1.5, dangling symlinks: exit ${x.code}${x.code ? ` (${x.stderr})` : ""}, mounts inside at ${xrep ? xrep.mounts.filter((m) => m.mount_point.includes("tsrun-evil")).map((m) => m.mount_point).join(", ") : "?"}; host dirs touched: ${Object.values(dirs).some((d, i) => readdirSync(d).length !== before[i] || mountsMentioning(d).length) ? "YES" : "none"}`);
      t.comment(`runc 1.1.5, dangling /etc/resolv.conf: exit ${y.code}${y.code ? ` (${y.stderr})` : `, reads ${JSON.stringify(yrep?.actions[0].data)}`}; made ${existsSync(join(rb.rootfs, "run/systemd/resolve/stub-resolv.conf")) ? "run/systemd/resolve/stub-resolv.conf in the rootfs" : "nothing in the rootfs"}`);
    }
  });

  await t.test("a racing rename swaps a rootfs directory with a symlink out of it", async (t) => {
    const swap = helper("swap");
    const abs = hostDir("race-abs");
    const rel = hostDir("race-rel");
    const shared = bundle("race", { rootfs: "probe" });
    const rootfs = shared.rootfs;
    // race <-> race.link (-> /tmp/...), race2 <-> race2.link (-> ../../../../tmp/...)
    mkdirSync(join(rootfs, "race"));
    mkdirSync(join(rootfs, "race2"));
    symlinkSync(abs, join(rootfs, "race.link"));
    symlinkSync(`../../../../../../../..${rel}`, join(rootfs, "race2.link"));
    // let the symlinked state resolve too, inside the rootfs
    mkdirSync(join(rootfs, abs), { recursive: true });
    mkdirSync(join(rootfs, rel), { recursive: true });

    const racers: ChildProcess[] = [];
    for (const [a, l] of [["race", "race.link"], ["race2", "race2.link"]]) {
      const child = spawn(swap, [join(rootfs, a), join(rootfs, l)], { stdio: ["ignore", "pipe", "pipe"] });
      background.add(child);
      racers.push(child);
      await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
    }
    const runMany = (run: (i: number) => Result): { ok: number; failed: string[]; outside: string[] } => {
      const out = { ok: 0, failed: [] as string[], outside: [] as string[] };
      for (let i = 0; i < 20; i++) {
        const r = run(i);
        const rep = r.code === 0 ? tryReport(r.stdout) : undefined;
        if (rep) {
          out.ok++;
          // both mounts must be visible in the container: one made outside its root would not be
          for (const m of ["/sub/m", "/sub/n"])
            if (!rep.mounts.some((x) => x.fstype === "tmpfs" && x.mount_point.endsWith(m))) out.outside.push(`run ${i}: no tmpfs at …${m}`);
        } else out.failed.push(r.stderr.split("\n")[0]);
        for (const d of [abs, rel]) if (readdirSync(d).length || mountsMentioning(d).length) out.outside.push(`run ${i}: ${d} touched`);
      }
      return out;
    };
    const mounts = (c: OciConfig) =>
      c.mounts!.push(
        { destination: "/race/sub/m", type: "tmpfs", source: "tmpfs" },
        { destination: "/race2/sub/n", type: "tmpfs", source: "tmpfs" },
      );
    const bundles = Array.from({ length: 20 }, (_, i) => {
      const dir = join(work, `race-b${i}`);
      mkdirSync(dir);
      const cfg = JSON.parse(readFileSync(shared.configPath, "utf8")) as OciConfig;
      cfg.root = { path: rootfs, readonly: true };
      mounts(cfg);
      writeFileSync(join(dir, "config.json"), JSON.stringify(cfg));
      return dir;
    });
    const ts = runMany((i) => rt.run(["run", "--bundle", bundles[i], uid(`race${i}`)]));
    t.same(ts.outside, [], "no mount or directory ever landed outside the rootfs");
    for (const f of ts.failed) t.match(f, /^mounts\[\d+\]: mount tmpfs on \/race2?\/sub\/[mn]: /, `a run that lost the race fails cleanly: ${f}`);
    t.ok(ts.ok + ts.failed.length === 20, "every run either succeeded or failed cleanly");
    t.same(rt.containers(), [], "every run cleaned up");
    t.comment(`tsrun: ${ts.ok}/20 runs succeeded while racing, ${ts.failed.length} failed cleanly`);
    // judged before runc's informative runs: runc 1.1.5 has been seen to lose this race and write
    // into the host directory, which must not be blamed on tsrun
    t.same(readdirSync(abs), [], `${abs} is empty after tsrun's runs`);
    t.same(readdirSync(rel), [], `${rel} is empty after tsrun's runs`);

    let runcLine = "";
    if (runc) {
      const rc = runMany((i) => {
        const r = runc.run(["run", "--bundle", bundles[i], uid(`race${i}`)]);
        runc.run(["delete", "--force", uid(`race${i}`)]);
        return r;
      });
      runcLine = `runc 1.1.5: ${rc.ok}/20 runs succeeded, ${rc.failed.length} failed (${[...new Set(rc.failed.map((f) => f.replace(/\d+/g, "N")))].join(" | ") || "-"}); outside the rootfs: ${rc.outside.length ? rc.outside.join("; ") : "nothing"}`;
    }
    const swaps: string[] = [];
    for (const child of racers) {
      t.equal(child.exitCode, null, "the racer was still swapping at the end");
      const done = new Promise<void>((resolve) => child.once("close", () => resolve()));
      let out = "";
      child.stdout!.on("data", (d) => (out += d));
      child.stderr!.on("data", (d) => (out += d));
      process.kill(child.pid!, "SIGTERM");
      await done;
      background.delete(child);
      swaps.push(out.trim());
    }
    t.comment(`racers swapped ${swaps.join(" and ")} times`);
    if (runcLine) t.comment(runcLine);
    const escaped = [...readdirSync(abs).map((e) => join(abs, e)), ...readdirSync(rel).map((e) => join(rel, e))];
    if (escaped.length) t.comment(`runc 1.1.5 wrote outside the rootfs during the race: ${escaped.join(", ")}`);
  });
});

// ------------------------------------------------------------------------------------------------
t.test("CVE-2019-16884 class: masked /proc paths stay masked", async (t) => {
  const script = [
    "echo keys=$(wc -c < /proc/keys)",
    "echo timer=$(wc -c < /proc/timer_list)",
    "echo firmware=$(ls -A /sys/firmware | wc -l)",
    "echo proc=$(readlink /proc)",
    "busybox umount /proc/keys 2>&1; echo umount_keys=$?",
    "busybox umount -l /proc/timer_list 2>&1; echo umount_timer=$?",
    "busybox umount /sys/firmware 2>&1; echo umount_firmware=$?",
    "mkdir -p /dev/shm/p; busybox mount -t proc proc /dev/shm/p 2>&1; echo mount_proc=$?",
    "busybox mount --bind /etc/hostname /proc/keys 2>&1; echo bind_over=$?",
    "echo keys_after=$(wc -c < /proc/keys)",
    "echo timer_after=$(wc -c < /proc/timer_list)",
    "[ -e /proc2 ] && echo proc2_keys=$(wc -c < /proc2/keys) proc2_timer=$(wc -c < /proc2/timer_list)",
    "grep CapEff /proc/self/status",
  ].join("\n");
  const parse = (out: string) => Object.fromEntries(out.split("\n").filter((l) => /^\w+=/.test(l)).flatMap((l) => l.split(" ").map((kv) => kv.split("=") as [string, string])));
  const keysMasked = (c: OciConfig) => {
    for (const p of ["/proc/keys", "/proc/timer_list"]) if (!c.linux!.maskedPaths!.includes(p)) c.linux!.maskedPaths!.push(p);
  };
  t.ok(readFileSync("/proc/timer_list", "utf8").length > 0, "the host's /proc/timer_list is not empty (masking it means something)");

  /** mayRefuse: refusing the config (cleanly) is as good as masking (runc refuses it). */
  const variants: { name: string; mutate: (c: OciConfig) => void; prepare?: (b: Bundle) => void; mayRefuse?: boolean }[] = [
    {
      name: "the rootfs's /proc is a symlink to /myproc",
      mutate: keysMasked,
      prepare: (b) => {
        rmSync(join(b.rootfs, "proc"), { recursive: true });
        mkdirSync(join(b.rootfs, "myproc"));
        symlinkSync("/myproc", join(b.rootfs, "proc"));
      },
      // refused since issue 19 (item 9), as runc: hardening-proc.test.ts asserts the refusal
      mayRefuse: true,
    },
    {
      name: "a host directory is bound over /proc after the proc mount",
      mutate: (c) => {
        keysMasked(c);
        c.mounts!.splice(1, 0, { destination: "/proc", type: "bind", source: join(work, "fakeproc"), options: ["rbind", "ro"] });
      },
      prepare: () => {
        mkdirSync(join(work, "fakeproc"), { recursive: true });
        writeFileSync(join(work, "fakeproc", "keys"), "SECRET KEYS\n");
        writeFileSync(join(work, "fakeproc", "timer_list"), "SECRET TIMERS\n");
      },
      mayRefuse: true,
    },
    { name: "plain /proc", mutate: keysMasked },
  ];
  for (const v of variants) {
    await t.test(v.name, async (t) => {
      const b = bundle("mask", { rootfs: "busybox", args: ["sh", "-c", script], mutate: v.mutate });
      v.prepare?.(b);
      const r = rt.run(["run", "--bundle", b.bundle, MASK]);
      const runcSide = () => {
        if (!runc) return;
        const rr = runc.run(["run", "--bundle", b.bundle, MASK]);
        runc.run(["delete", "--force", MASK]);
        const g = parse(rr.stdout);
        t.comment(`runc 1.1.5: exit ${rr.code}${rr.code ? ` (${rr.stderr.split("\n")[0]})` : ""}; ${Object.entries(g).map(([k, v]) => `${k}=${v}`).join(" ")}`);
      };
      if (v.mayRefuse && r.code !== 0) {
        t.match(r.stderr, /^((linux\.maskedPaths|linux\.readonlyPaths|mounts)\[\d+\]|config\.json: \/mounts\/\d+): /, `refused cleanly: ${r.stderr}`);
        t.notOk(rt.containers().includes(MASK), "nothing left behind");
        t.comment(`tsrun refused the config: ${r.stderr}`);
        runcSide();
        return;
      }
      t.equal(r.code, 0, r.stderr);
      const got = parse(r.stdout);
      const failed = (v?: string) => v !== undefined && v !== "0";
      t.equal(got.keys, "0", "/proc/keys reads empty");
      t.equal(got.timer, "0", "/proc/timer_list reads empty");
      t.equal(got.firmware, "0", "/sys/firmware is an empty directory");
      t.ok(failed(got.umount_keys), "umount /proc/keys fails");
      t.ok(failed(got.umount_timer), "umount -l /proc/timer_list fails");
      t.ok(failed(got.umount_firmware), "umount /sys/firmware fails");
      t.ok(failed(got.mount_proc), "mounting a fresh proc fails");
      t.ok(failed(got.bind_over), "bind-mounting over the mask fails");
      t.match(r.stdout, /umount: can't unmount \/(my)?proc\/keys: Operation not permitted/, "umount: EPERM without CAP_SYS_ADMIN");
      t.equal(got.keys_after, "0", "/proc/keys is still masked afterwards");
      t.equal(got.timer_after, "0", "/proc/timer_list is still masked afterwards");
      t.equal(BigInt("0x" + /CapEff:\s*(\w+)/.exec(r.stdout)![1]) & (1n << 21n), 0n, "no CAP_SYS_ADMIN");
      if (v.name.startsWith("a host directory")) {
        t.equal(readFileSync(join(work, "fakeproc", "keys"), "utf8"), "SECRET KEYS\n", "the bound host file itself is untouched");
      }
      runcSide();
    });
  }

  // The masks are mounted through /proc/self/fd/N after pivot_root. Without a proc mount at
  // /proc, that path is the image's: planted symlinks there must not steer a mask elsewhere.
  await t.test("the image plants /proc/self/fd/N symlinks (config without a proc mount)", async (t) => {
    const b = bundle("mask-planted", {
      rootfs: "busybox",
      args: ["sh", "-c", "echo firmware=$(ls -A /sys/firmware | wc -l) decoy=$(grep -c ' /mnt/decoy ' /proc/1/mountinfo 2>/dev/null || echo none)"],
      mutate: (c) => {
        c.mounts = c.mounts!.filter((m) => m.type !== "proc");
        c.linux!.maskedPaths = ["/sys/firmware"];
        c.linux!.readonlyPaths = [];
      },
    });
    mkdirSync(join(b.rootfs, "proc/self/fd"), { recursive: true });
    mkdirSync(join(b.rootfs, "mnt/decoy"), { recursive: true });
    for (let fd = 3; fd < 64; fd++) symlinkSync("/mnt/decoy", join(b.rootfs, "proc/self/fd", String(fd)));
    t.ok(readdirSync("/sys/firmware").length > 0, "the host's /sys/firmware is not empty");
    const r = rt.run(["run", "--bundle", b.bundle, PLANTED]);
    if (r.code !== 0) {
      t.notOk(rt.containers().includes(PLANTED), `refused cleanly (${r.stderr}), nothing left behind`);
    } else {
      t.equal(parse(r.stdout).firmware, "0", `/sys/firmware is masked, not some directory the image chose (got: ${r.stdout.trim()})`);
    }
    if (runc) {
      const rr = runc.run(["run", "--bundle", b.bundle, PLANTED]);
      runc.run(["delete", "--force", PLANTED]);
      t.comment(`runc 1.1.5: exit ${rr.code}${rr.code ? ` (${rr.stderr.split("\n")[0]})` : `: ${rr.stdout.trim()}`}`);
    }
  });

  // A mask of a file is /dev/null bound over it. When /dev comes from the bundle (a volume) the
  // image decides what /dev/null is: a symlink to a host-global sysctl must not end up bound,
  // writable, over /proc/keys (the CVE-2025-31133 variant of this class). The probe's `write`
  // opens the file for writing and writes nothing.
  await t.test("the container's /dev/null is a symlink to /proc/sys/kernel/core_pattern", async (t) => {
    const b = bundle("mask-devnull", {
      rootfs: "probe",
      args: ["/probe", "read", "/proc/keys", "write", "/proc/keys", "stat", "/dev/null"],
      mutate: (c) => {
        keysMasked(c);
        c.mounts = c.mounts!.filter((m) => !/^\/dev(\/|$)/.test(m.destination));
        c.mounts.push({ destination: "/dev", type: "bind", source: "devsrc", options: ["rbind"] });
      },
    });
    mkdirSync(join(b.bundle, "devsrc"));
    symlinkSync("/proc/sys/kernel/core_pattern", join(b.bundle, "devsrc", "null"));
    const r = rt.run(["run", "--bundle", b.bundle, DEVNULL]);
    if (r.code !== 0) {
      t.notOk(rt.containers().includes(DEVNULL), `refused cleanly (${r.stderr}), nothing left behind`);
    } else {
      const [read, write] = report(r.stdout).actions;
      t.notOk(write.ok, `/proc/keys cannot be opened for writing (got: ${write.ok ? "writable: it is the host's core_pattern" : write.errno_name})`);
      t.equal(read.data, "", `/proc/keys reads empty (got ${JSON.stringify(read.data)})`);
    }
    if (runc) {
      const rr = runc.run(["run", "--bundle", b.bundle, DEVNULL]);
      runc.run(["delete", "--force", DEVNULL]);
      const rep = rr.code === 0 ? tryReport(rr.stdout) : undefined;
      t.comment(`runc 1.1.5: ${rep ? `/proc/keys reads ${JSON.stringify(rep.actions[0].data)}, open for writing: ${rep.actions[1].ok ? "ok" : rep.actions[1].errno_name}` : `exit ${rr.code} (${rr.stderr.split("\n")[0]})`}`);
    }
  });

  // Informative: a config that mounts a second proc elsewhere gets it unmasked, by either runtime:
  // maskedPaths name paths, not proc instances.
  const b2 = bundle("proc2", {
    rootfs: "busybox",
    args: ["sh", "-c", script],
    mutate: (c) => {
      keysMasked(c);
      c.mounts!.push({ destination: "/proc2", type: "proc", source: "proc" });
    },
  });
  const r2 = rt.run(["run", "--bundle", b2.bundle, PROC2]);
  const g2 = parse(r2.stdout);
  t.equal(g2.keys, "0", "with a second proc at /proc2, /proc/keys is still masked");
  t.comment(`tsrun, second proc at /proc2 (not masked by maskedPaths, by design): exit ${r2.code}, /proc2/keys ${g2.proc2_keys} bytes, /proc2/timer_list ${g2.proc2_timer} bytes`);
  if (runc) {
    const rr = runc.run(["run", "--bundle", b2.bundle, PROC2]);
    runc.run(["delete", "--force", PROC2]);
    const g = parse(rr.stdout);
    t.comment(`runc 1.1.5, same: exit ${rr.code}, /proc/keys ${g.keys} bytes, /proc2/keys ${g.proc2_keys} bytes, /proc2/timer_list ${g.proc2_timer} bytes`);
  }
});

// ------------------------------------------------------------------------------------------------
const setcap = ["/usr/sbin/setcap", "/sbin/setcap", "/usr/bin/setcap"].find((p) => existsSync(p));
const noSetcap = !setcap && "setcap (libcap2-bin) is not installed: no binary with file capabilities can be made";
t.test("CVE-2022-29162 class: no inheritable capabilities unless asked", { skip: noSetcap }, async (t) => {
  const NET_RAW = 1n << 13n;
  /** A probe rootfs with /capprobe: a copy of the probe (own inode) with cap_net_raw+ei. */
  const capBundle = (name: string, args: string[], mutate: (c: OciConfig) => void = () => {}) => {
    const b = bundle(name, {
      rootfs: "probe",
      args,
      mutate: (c) => {
        c.process!.noNewPrivileges = false; // or file capabilities would never apply
        mutate(c);
      },
    });
    const cp = join(b.rootfs, "capprobe");
    copyFileSync(join(b.rootfs, "probe"), cp);
    chmodSync(cp, 0o755);
    const s = spawnSync(setcap!, ["cap_net_raw+ei", cp], { encoding: "utf8" });
    if (s.status !== 0) throw new Error(`setcap: ${s.stderr}`);
    return b;
  };
  const caps = (rep: Report) => ({
    eff: capBits(rep.caps.effective),
    prm: capBits(rep.caps.permitted),
    inh: capBits(rep.caps.inheritable),
    amb: capBits(rep.caps.ambient),
  });
  const show = (rep: Report | undefined) =>
    rep ? `CapInh ${rep.caps.inheritable.hex} CapPrm ${rep.caps.permitted.hex} CapEff ${rep.caps.effective.hex} CapAmb ${rep.caps.ambient.hex}` : "no report";
  const lines: string[] = [];
  const runcLines: string[] = [];
  const both = (label: string, b: Bundle, id: string): Report => {
    const r = rt.run(["run", "--bundle", b.bundle, id]);
    if (r.code !== 0) throw new Error(`${label}: ${r.stderr}`);
    const rep = report(r.stdout);
    lines.push(`${label}: ${show(rep)}`);
    if (runc) {
      const rr = runc.run(["run", "--bundle", b.bundle, id]);
      runc.run(["delete", "--force", id]);
      runcLines.push(`${label}: ${rr.code ? `exit ${rr.code} (${rr.stderr.split("\n")[0]})` : show(tryReport(rr.stdout))}`);
    }
    return rep;
  };

  // runc's default config: no inheritable set
  const pid1 = caps(both("default config, pid 1", capBundle("caps-pid1", ["/probe"]), CAPS1));
  t.equal(pid1.inh, 0n, "CapInh is 0");
  t.equal(pid1.amb, 0n, "CapAmb is 0 (ambient cannot be raised without inheritable)");
  const filecap = caps(both("default config, exec of a cap_net_raw+ei file", capBundle("caps-file", ["/capprobe"]), CAPS2));
  t.equal(filecap.inh, 0n, "CapInh is 0 after exec of a file with inheritable file capabilities");
  t.equal(filecap.prm & NET_RAW, 0n, "CAP_NET_RAW is not gained in the permitted set");
  t.equal(filecap.eff & NET_RAW, 0n, "CAP_NET_RAW is not gained in the effective set");

  const user = (c: OciConfig) => (c.process!.user = { uid: 1000, gid: 1000 });
  const u1 = caps(both("uid 1000", capBundle("caps-user", ["/probe"], user), CAPS3));
  t.equal(u1.eff, 0n, "uid 1000: CapEff is 0");
  t.equal(u1.prm, 0n, "uid 1000: CapPrm is 0");
  t.equal(u1.inh, 0n, "uid 1000: CapInh is 0");
  const u2 = caps(both("uid 1000, exec of the cap_net_raw+ei file", capBundle("caps-user-file", ["/capprobe"], user), CAPS4));
  t.equal(u2.prm, 0n, "uid 1000 + file capabilities: CapPrm is 0");
  t.equal(u2.eff, 0n, "uid 1000 + file capabilities: CapEff is 0");

  // Control: when the config does ask for an inheritable capability, the file's +i applies, so
  // the checks above would see a leak.
  const asked = caps(both("config asks inheritable CAP_NET_RAW, exec of the +ei file", capBundle("caps-asked", ["/capprobe"], (c) => {
    c.process!.capabilities!.bounding!.push("CAP_NET_RAW");
    c.process!.capabilities!.inheritable = ["CAP_NET_RAW"];
  }), CAPS5));
  t.equal(asked.prm & NET_RAW, NET_RAW, "control: inheritable asked for in the config is honoured (CAP_NET_RAW gained)");

  // exec --cap: runc >= 1.1.2 (the CVE-2022-29162 fix) adds the capability to every set but the
  // inheritable one.
  const eb = capBundle("caps-exec", ["/probe", "-n", "pause"]);
  t.equal(rt.detached(["run", "-d", "--bundle", eb.bundle, CAPEXEC]).code, 0);
  const execCaps = (args: string[]) => {
    const r = rt.run(["exec", ...args]);
    if (r.code !== 0) throw new Error(`exec ${args.join(" ")}: ${r.stderr}`);
    const rep = report(r.stdout);
    lines.push(`exec ${args.join(" ").replace(CAPEXEC, "<id>")}: ${show(rep)}`);
    return caps(rep);
  };
  const plain = execCaps([CAPEXEC, "/capprobe"]);
  t.equal(plain.inh, 0n, "exec: CapInh is 0");
  t.equal(plain.prm & NET_RAW, 0n, "exec of the +ei file: CAP_NET_RAW not gained");
  const withCap = execCaps(["--cap", "CAP_NET_RAW", CAPEXEC, "/probe"]);
  t.equal(withCap.prm & NET_RAW, NET_RAW, "exec --cap CAP_NET_RAW: CAP_NET_RAW is permitted");
  t.equal(withCap.inh, 0n, "exec --cap CAP_NET_RAW: CapInh is still 0 (not added to the inheritable set)");
  const userCap = execCaps(["--cap", "CAP_NET_RAW", "--user", "1000:1000", CAPEXEC, "/capprobe"]);
  t.equal(userCap.inh, 0n, "exec --cap CAP_NET_RAW --user 1000 of the +ei file: CapInh is 0");
  t.equal(userCap.prm & NET_RAW, 0n, "exec --cap CAP_NET_RAW --user 1000 of the +ei file: CAP_NET_RAW not gained, as with runc");
  rt.run(["delete", "--force", CAPEXEC]);

  if (runc) {
    const rd = runc.detached(["run", "-d", "--bundle", eb.bundle, CAPEXEC], CAPEXEC);
    if (rd.code === 0) {
      for (const args of [[CAPEXEC, "/capprobe"], ["--cap", "CAP_NET_RAW", CAPEXEC, "/probe"], ["--cap", "CAP_NET_RAW", "--user", "1000:1000", CAPEXEC, "/capprobe"]]) {
        const r = runc.run(["exec", ...args]);
        runcLines.push(`exec ${args.join(" ").replace(CAPEXEC, "<id>")}: ${r.code ? `exit ${r.code} (${r.stderr.split("\n")[0]})` : show(tryReport(r.stdout))}`);
      }
      runc.run(["delete", "--force", CAPEXEC]);
    } else runcLines.push(`run -d: ${rd.stderr}`);
  }
  t.comment(`tsrun:\n  ${lines.join("\n  ")}`);
  if (runc) t.comment(`runc 1.1.5:\n  ${runcLines.join("\n  ")}`);
});

t.test("a fake /proc in the image cannot let the process run before start", async (t) => {
  // Without a proc mount, /proc/self/fd/N is the image's own: links to a plain file would let the
  // init "open exec.fifo" at once and run the process at create time, before any start.
  const id = uid("fakeproc");
  const b = bundle("fakeproc", {
    rootfs: "busybox",
    args: ["sh", "-c", "echo ran > /ran"],
    mutate: (c) => {
      c.root!.readonly = false;
      c.mounts = c.mounts!.filter((m) => m.destination !== "/proc");
      c.linux!.maskedPaths = [];
      c.linux!.readonlyPaths = [];
    },
  });
  mkdirSync(join(b.rootfs, "proc/self/fd"), { recursive: true });
  writeFileSync(join(b.rootfs, "decoy"), "");
  for (let fd = 0; fd < 64; fd++) symlinkSync("/decoy", join(b.rootfs, `proc/self/fd/${fd}`));
  t.equal(rt.detached(["create", "--bundle", b.bundle, id]).code, 0);
  sleep(1000);
  t.notOk(existsSync(join(b.rootfs, "ran")), "the process did not run before start");
  t.not(rt.run(["start", id]).code, 0, "start fails: the init refused the fake /proc");
  t.notOk(existsSync(join(b.rootfs, "ran")));
  t.equal(rt.run(["delete", "--force", id]).code, 0);
});
