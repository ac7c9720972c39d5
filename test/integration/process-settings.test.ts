// Process settings of runtime-spec 1.2 that reach the kernel: seccomp NOTIFY with a real agent,
// scheduler, ioPriority, execCPUAffinity. As root, against the built dist/tsrun.
import t from "tap";
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle, type OciConfig } from "../../bundle-fixtures/rootfs.js";
import { apparmorEnabled } from "../../src/spec/lsm-host.js";
import { cgroupDirsOf, processesMentioning, repo, Runtime } from "../lib/tsrun.js";

const work = mkdtempSync(join(tmpdir(), "tsrun-proc-"));
chmodSync(work, 0o755);
const rt = new Runtime();
const agents: ChildProcess[] = [];
t.teardown(() => {
  rt.cleanup();
  for (const a of agents) a.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
const uid = (name: string) => `ps-${name}-${process.pid}-${++n}`;
const bundle = (args: string[], mutate?: (c: OciConfig) => void) =>
  makeBundle(join(work, `b${++n}`), { args, rootfs: "busybox", mutate }).bundle;

const EDQUOT = 122;
const X86_64_MKDIR = [83, 258]; // mkdir, mkdirat

interface Agent {
  socket: string;
  records(): Record<string, any>[];
}

/** Starts test/fixtures/seccomp/agent.py and resolves once it listens. */
async function startAgent(answer: string): Promise<Agent> {
  const socket = join(work, `agent-${++n}.sock`);
  const record = join(work, `agent-${n}.jsonl`);
  const child = spawn("python3", [join(repo, "test/fixtures/seccomp/agent.py"), socket, record, answer], { stdio: ["ignore", "pipe", "inherit"] });
  agents.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d) => String(d).includes("listening") && resolve());
    child.on("exit", (code) => reject(new Error(`agent exited (${code})`)));
  });
  return {
    socket,
    records: () => (existsSync(record) ? readFileSync(record, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : []),
  };
}

function notifyOnMkdir(socket: string, noNewPrivileges: boolean) {
  return (c: OciConfig) => {
    c.process!.noNewPrivileges = noNewPrivileges;
    c.root!.readonly = false;
    c.linux!.seccomp = {
      defaultAction: "SCMP_ACT_ALLOW",
      listenerPath: socket,
      listenerMetadata: "test-metadata",
      syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY" }],
    };
  };
}

const MKDIR_SCRIPT = "mkdir /tmp/made; echo mkdir=$?; ls -d /tmp/made; touch /tmp/other && echo touched";

for (const nnp of [true, false]) {
  t.test(`seccomp NOTIFY (noNewPrivileges ${nnp}): the agent gets the listener and its answer is what the process sees`, async (t) => {
    const agent = await startAgent(`errno:${EDQUOT}`);
    const id = uid("notify");
    const b = bundle(["sh", "-c", MKDIR_SCRIPT], notifyOnMkdir(agent.socket, nnp));
    const r = rt.run(["run", "--bundle", b, id]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /mkdir=1/);
    t.match(r.stderr, /can't create directory '\/tmp\/made': Disk quota exceeded/, "the agent's errno reached mkdir");
    t.match(r.stdout, /touched/, "syscalls without a NOTIFY rule run normally");
    const [hello, ...notes] = agent.records();
    t.equal(hello.nfds, 1, "one fd came with the message");
    t.same(hello.message.fds, ["seccompFd"]);
    t.equal(hello.message.metadata, "test-metadata");
    t.equal(hello.message.state.id, id);
    t.equal(hello.message.state.status, "creating");
    t.equal(hello.message.state.bundle, b);
    t.equal(hello.message.pid, hello.message.state.pid, "pid is the container process");
    t.ok(notes.length >= 1, "the agent received a notification");
    t.ok(notes.every((x) => X86_64_MKDIR.includes(x.nr)), `only mkdir was notified: ${JSON.stringify(notes)}`);
  });
}

t.test("seccomp NOTIFY: an agent that fakes success makes mkdir return 0 without a directory", async (t) => {
  const agent = await startAgent("fake");
  const r = rt.run(["run", "--bundle", bundle(["sh", "-c", MKDIR_SCRIPT], notifyOnMkdir(agent.socket, true)), uid("fake")]);
  t.match(r.stdout, /mkdir=0/);
  t.match(r.stderr, /ls: \/tmp\/made: No such file or directory/);
});

t.test("seccomp NOTIFY: exec'd processes get the filter and their listener reaches the agent", async (t) => {
  const agent = await startAgent(`errno:${EDQUOT}`);
  const id = uid("notify-exec");
  t.equal(rt.detached(["run", "-d", "--bundle", bundle(["sleep", "1000"], notifyOnMkdir(agent.socket, true)), id]).code, 0);
  const r = rt.run(["exec", id, "mkdir", "/tmp/exec-made"]);
  t.equal(r.code, 1);
  t.match(r.stderr, /Disk quota exceeded/);
  const hellos = agent.records().filter((x) => x.message);
  t.equal(hellos.length, 2, "one listener from create, one from exec");
  t.equal(hellos[1].message.state.status, "running");
  t.equal(hellos[1].message.state.pid, rt.state(id).pid, "state.pid is the container's init");
  t.not(hellos[1].message.pid, hellos[1].message.state.pid, "pid is the exec'd process");
  t.equal(rt.run(["delete", "--force", id]).code, 0);
});

t.test("seccomp NOTIFY without a listening agent: one clear error, nothing left behind", async (t) => {
  const id = uid("noagent");
  const socket = join(work, "nobody-listens.sock");
  const r = rt.run(["run", "--bundle", bundle(["true"], notifyOnMkdir(socket, true)), id]);
  t.not(r.code, 0);
  t.match(r.stderr, /linux\.seccomp\.listenerPath: cannot reach the seccomp agent: connect .*nobody-listens\.sock/);
  t.same(rt.containers(), [], "no state directory");
  t.same(cgroupDirsOf(id), [], "no cgroup");
  t.same(processesMentioning(id), [], "no process");
});

t.test("scheduler and ioPriority are applied to the container process", (t) => {
  const b = bundle(["sh", "-c", "cut -d' ' -f19,41 /proc/self/stat; busybox ionice -p $$"], (c) => {
    c.process!.scheduler = { policy: "SCHED_BATCH", nice: 7 };
    c.process!.ioPriority = { class: "IOPRIO_CLASS_BE", priority: 6 };
  });
  const r = rt.run(["run", "--bundle", b, uid("sched")]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^7 3$/m, "nice 7, policy 3 (SCHED_BATCH) in /proc/self/stat");
  t.match(r.stdout, /best-effort: prio 6/);
  const idle = rt.run(["run", "--bundle", bundle(["busybox", "ionice", "-p", "1"], (c) => {
    c.process!.scheduler = { policy: "SCHED_IDLE" };
    c.process!.ioPriority = { class: "IOPRIO_CLASS_IDLE" };
  }), uid("idle")]);
  t.match(idle.stdout, /idle/);
  t.end();
});

t.test("a scheduler the kernel refuses: the error names process.scheduler, nothing left behind", (t) => {
  const id = uid("deadline");
  const b = bundle(["true"], (c) => {
    // a deadline task needs runtime <= deadline <= period and runtime >= 1024 ns: 0 is refused
    c.process!.scheduler = { policy: "SCHED_DEADLINE", runtime: 0, deadline: 0, period: 0 };
  });
  const r = rt.run(["run", "--bundle", b, id]);
  t.not(r.code, 0);
  t.match(r.stderr, /^process\.scheduler: set the scheduling policy SCHED_DEADLINE: invalid argument \(EINVAL\)$/m);
  t.same(rt.containers(), []);
  t.same(cgroupDirsOf(id), []);
  t.end();
});

t.test("execCPUAffinity: exec runs on the final CPUs; a bad list is refused clearly", (t) => {
  const id = uid("affinity");
  const b = bundle(["sleep", "1000"]);
  t.equal(rt.detached(["run", "-d", "--bundle", b, id]).code, 0);
  const proc = (affinity: object) => {
    const p = JSON.parse(readFileSync(join(b, "config.json"), "utf8")).process;
    p.args = ["grep", "Cpus_allowed_list", "/proc/self/status"];
    p.execCPUAffinity = affinity;
    const file = join(work, `proc-${++n}.json`);
    writeFileSync(file, JSON.stringify(p));
    return file;
  };
  const last = cpus().length - 1;
  const r = rt.run(["exec", "--process", proc({ initial: "0", final: String(last) }), id]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, new RegExp(`Cpus_allowed_list:\\s+${last}$`, "m"));
  const absent = rt.run(["exec", "--process", proc({ final: "4095" }), id]);
  t.equal(absent.code, 255);
  t.match(absent.stderr, /exec failed: process\.execCPUAffinity\.final: set the CPU affinity to 4095: invalid argument \(EINVAL\)/);
  const malformed = rt.run(["exec", "--process", proc({ final: "1-x" }), id]);
  t.equal(malformed.code, 255);
  t.match(malformed.stderr, /execCPUAffinity\/final: invalid list element "1-x"/);
  t.equal(rt.run(["delete", "--force", id]).code, 0);
  t.end();
});

const apparmorOn = apparmorEnabled();

t.test("apparmorProfile: the process runs under the profile; an unknown profile fails clearly", { skip: apparmorOn ? false : "this kernel runs no AppArmor (/sys/module/apparmor is absent): the refusal is tested in lifecycle.test.ts, enforcement in the guest tier (test/vm/apparmor.test.sh, scripts/vm)" }, (t) => {
  const r = rt.run(["run", "--bundle", bundle(["cat", "/proc/self/attr/current"], (c) => (c.process!.apparmorProfile = "unconfined")), uid("aa")]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^unconfined/);
  const id = uid("aa-missing");
  const bad = rt.run(["run", "--bundle", bundle(["true"], (c) => (c.process!.apparmorProfile = "tsrun-no-such-profile")), id]);
  t.not(bad.code, 0);
  t.match(bad.stderr, /process\.apparmorProfile: confine the process to AppArmor profile tsrun-no-such-profile: /);
  t.same(cgroupDirsOf(id), []);
  t.end();
});
