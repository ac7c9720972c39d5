// exec, terminals over --console-socket, signals and exit statuses of run; as root.
import t from "tap";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle, type OciConfig } from "../../bundle-fixtures/rootfs.js";
import { repo, Runtime, sleep, TSRUN } from "../lib/tsrun.js";

const work = mkdtempSync(join(tmpdir(), "tsrun-exec-"));
chmodSync(work, 0o755);
const rt = new Runtime();
t.teardown(() => {
  rt.cleanup();
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
const bundle = (args: string[], mutate?: (c: OciConfig) => void) =>
  makeBundle(join(work, `b${++n}`), { args, rootfs: "busybox", mutate }).bundle;

const receiver = join(repo, "test/fixtures/console/receiver.py");

/** Starts the console-socket peer and resolves once it listens. */
function consolePeer(input: string, seconds: number) {
  const path = join(work, `console-${++n}.sock`);
  const child = spawn("python3", [receiver, path, input, String(seconds)], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const listening = new Promise<void>((resolve) => {
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("listening")) resolve();
    });
  });
  const result = new Promise<{ payload: string; nfds: number; output: string }>((resolve) =>
    child.on("close", () => resolve(JSON.parse(out.slice(out.indexOf("{"))))));
  return { path, listening, result };
}

t.test("exec runs in the container's namespaces and returns the exit status", async (t) => {
  t.equal(rt.detached(["run", "-d", "--bundle", bundle(["sleep", "1000"], (c) => (c.hostname = "exechost")), "ex"]).code, 0);
  const init = rt.state("ex").pid;
  const r = rt.run(["exec", "ex", "sh", "-c", "echo $$; hostname; cat /proc/1/cmdline; echo; exit 7"]);
  t.equal(r.code, 7, "the exec'd command's status is returned");
  const [pid, host, cmdline] = r.stdout.split("\n");
  t.not(Number(pid), 1, "a new pid inside the container's pid namespace");
  t.ok(Number(pid) < 100, "a small pid: the container's pid namespace");
  t.equal(host, "exechost", "uts namespace");
  t.equal(cmdline.replace(/\0/g, " ").trim(), "sleep 1000", "sees the container's pid 1: pid and mount namespaces");
  for (const ns of ["mnt", "pid", "net", "ipc", "uts"]) {
    const theirs = rt.run(["exec", "ex", "readlink", `/proc/self/ns/${ns}`]).stdout.trim();
    t.equal(theirs, readlinkSync(`/proc/${init}/ns/${ns}`), `same ${ns} namespace as the init`);
  }

  const user = rt.run(["exec", "--user", "1000:1000", "ex", "id"]);
  t.match(user.stdout, /^uid=1000\b.*gid=1000\b/);
  const cap = rt.run(["exec", "--cap", "CAP_NET_RAW", "ex", "grep", "CapEff", "/proc/self/status"]);
  const base = rt.run(["exec", "ex", "grep", "CapEff", "/proc/self/status"]);
  const eff = (s: string) => BigInt("0x" + s.trim().split(/\s+/)[1]);
  t.equal(eff(cap.stdout) & ~eff(base.stdout), 1n << 13n, "--cap adds exactly CAP_NET_RAW (13)");
  t.equal(rt.run(["exec", "--env", "FOO=bar", "--cwd", "/tmp", "ex", "sh", "-c", "echo $FOO $PWD"]).stdout, "bar /tmp\n");

  const missing = rt.run(["exec", "ex", "no-such-command"]);
  t.equal(missing.code, 255, "exec itself failing exits 255");
  t.match(missing.stderr, /exec failed: exec: "no-such-command": executable file not found in \$PATH/);

  const proc = join(work, "process.json");
  writeFileSync(proc, JSON.stringify({ args: ["sh", "-c", "echo from-json; id -u"], cwd: "/", user: { uid: 2000, gid: 2000 }, env: ["PATH=/bin"] }));
  const pj = rt.run(["exec", "--process", proc, "ex", "ignored", "args"]);
  t.equal(pj.stdout, "from-json\n2000\n", "--process is taken as is; trailing args are ignored");

  writeFileSync(proc, JSON.stringify({ cwd: "/", user: { uid: 0, gid: 0 } }));
  const noArgs = rt.run(["exec", "--process", proc, "ex"]);
  t.equal(noArgs.code, 255);
  t.match(noArgs.stderr, /args/);
  writeFileSync(proc, JSON.stringify({ args: ["true"], cwd: "relative", user: { uid: 0, gid: 0 } }));
  const rel = rt.run(["exec", "--process", proc, "ex"]);
  t.equal(rel.code, 255);
  t.match(rel.stderr, /\/cwd/);
  const badSock = rt.run(["exec", "-t", "--console-socket", join(work, "nope.sock"), "ex", "true"]);
  t.equal(badSock.code, 255);
  t.match(badSock.stderr, /console socket .*nope\.sock: no such file or directory/);
  t.equal(rt.state("ex").status, "running", "the container keeps running after failed execs");

  const detached = join(work, "exec.pid");
  const d = rt.detached(["exec", "-d", "--pid-file", detached, "ex", "sleep", "1000"]);
  t.equal(d.code, 0);
  const dpid = Number(readFileSync(detached, "utf8"));
  t.match(readFileSync(`/proc/${dpid}/cmdline`, "utf8"), /^sleep\x001000\x00/, "exec -d leaves the process running, pid file names it");
});

t.test("50 execs leave no zombie and no leaked fd", async (t) => {
  const init = rt.state("ex").pid;
  const fdsBefore = readdirSync(`/proc/${init}/fd`).length;
  for (let i = 0; i < 50; i++) {
    const r = rt.run(["exec", "ex", "true"]);
    if (r.code !== 0) t.fail(`exec ${i}: ${r.stderr}`);
  }
  const children = spawnSync("sh", ["-c", `cat /proc/${init}/task/*/children`]).stdout.toString().trim().split(/\s+/).filter(Boolean);
  const zombies = children.filter((p) => readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]?.startsWith("Z"));
  t.same(zombies, [], "no zombie under the container's init");
  t.equal(readdirSync(`/proc/${init}/fd`).length, fdsBefore, "the init holds no new fds");
  const probe = rt.run(["exec", "ex", "ls", "/proc/self/fd"]);
  t.same(probe.stdout.trim().split(/\s+/).map(Number).sort((a, b) => a - b), [0, 1, 2, 3], "an exec'd process sees only stdio (3 is ls's own directory fd)");
  rt.run(["delete", "--force", "ex"]);
});

t.test("a stopped container refuses exec", async (t) => {
  t.equal(rt.detached(["create", "--bundle", bundle(["true"]), "stopme"]).code, 0);
  rt.run(["start", "stopme"]);
  for (let i = 0; i < 50 && rt.state("stopme").status !== "stopped"; i++) sleep(20);
  const r = rt.run(["exec", "stopme", "true"]);
  t.equal(r.code, 255);
  t.match(r.stderr, /cannot exec in a stopped container/);
  rt.run(["delete", "stopme"]);
});

t.test("terminal through --console-socket", async (t) => {
  const peer = consolePeer("tty; stty size; echo h''i\nexit\n", 3);
  await peer.listening;
  const b = bundle(["sh"], (c) => {
    c.process!.terminal = true;
    c.process!.consoleSize = { height: 33, width: 101 };
  });
  const created = rt.detached(["create", "--console-socket", peer.path, "--bundle", b, "tty1"]);
  t.equal(created.code, 0, created.stderr);
  t.equal(rt.run(["start", "tty1"]).code, 0);
  const got = await peer.result;
  t.equal(got.payload, "/dev/pts/ptmx", "runc's payload: the master's name");
  t.equal(got.nfds, 1, "exactly one fd");
  t.match(got.output, /\/dev\/pts\/\d+\r\n/, "tty inside prints a /dev/pts path");
  t.match(got.output, /\r\n33 101\r\n/, "consoleSize is the terminal's size");
  t.match(got.output, /\r\nhi\r\n/, "what is written to the master reaches the shell");
  rt.run(["delete", "--force", "tty1"]);

  const noSock = rt.detached(["create", "--bundle", b, "tty2"]);
  t.equal(noSock.code, 1);
  t.match(noSock.stderr, /cannot allocate tty if runc will detach without setting console socket/);
  t.same(rt.containers(), []);
});

t.test("signals reach the container through run; exit statuses", async (t) => {
  const b = bundle(["sh", "-c", 'trap "exit 7" TERM; while true; do sleep 0.1; done']);
  const child = spawn(TSRUN, ["--root", rt.root, "run", "--bundle", b, "trapper"], { stdio: "ignore" });
  for (let i = 0; i < 100; i++) {
    sleep(50);
    const s = rt.run(["state", "trapper"]);
    if (s.code === 0 && JSON.parse(s.stdout).status === "running") break;
  }
  sleep(200); // let the shell install its trap
  child.kill("SIGTERM");
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  t.equal(code, 7, "SIGTERM forwarded; the trap's status returned");
  t.equal(rt.run(["run", "--bundle", bundle(["sh", "-c", "exit 9"]), "nine"]).code, 9);
  t.same(rt.containers(), []);
});


t.test("terminal in the foreground: tsrun proxies its own terminal", async (t) => {
  const ptyRun = join(repo, "test/fixtures/console/pty-run.py");
  const b = bundle(["sh"], (c) => (c.process!.terminal = true));
  const r = spawnSync("python3", [ptyRun, "40", "120", TSRUN, "--root", rt.root, "run", "--bundle", b, "fgtty"], {
    env: { ...process.env, PTY_INPUT: "tty; stty size; exit 4\n" },
    encoding: "utf8",
    timeout: 30_000,
  });
  const got = JSON.parse(r.stdout);
  t.equal(got.status, 4, "run returns the shell's status");
  t.match(got.output, /\r\n\/dev\/pts\/\d+\r\n/, "the process has a terminal");
  t.match(got.output, /\r\n40 120\r\n/, "of our terminal's size");
  t.notMatch(got.output, /\r\r\n/, "newlines translated once, not by both terminals");
  t.equal(rt.detached(["run", "-d", "--bundle", bundle(["sleep", "1000"]), "fgexec"]).code, 0);
  const e = spawnSync("python3", [ptyRun, "30", "90", TSRUN, "--root", rt.root, "exec", "-t", "fgexec", "sh"], {
    env: { ...process.env, PTY_INPUT: "stty size; exit 6\n" },
    encoding: "utf8",
    timeout: 30_000,
  });
  const eg = JSON.parse(e.stdout);
  t.equal(eg.status, 6, "exec -t returns the status");
  t.match(eg.output, /\r\n30 90\r\n/);
  rt.run(["delete", "--force", "fgexec"]);
  t.same(rt.containers(), []);
});

t.test("--pidfd-socket: create and exec send a pidfd of the new process", async (t) => {
  const path = join(work, `pidfd-${++n}.sock`);
  const child = spawn("python3", [join(repo, "test/fixtures/console/pidfd-receiver.py"), path], { stdio: ["ignore", "pipe", "inherit"] });
  t.teardown(() => child.kill("SIGKILL"));
  let out = "";
  await new Promise<void>((resolve) => child.stdout.on("data", (d) => { out += d; if (out.includes("listening")) resolve(); }));
  const lines = async (count: number) => {
    for (let i = 0; i < 100 && out.trim().split("\n").length < count + 1; i++) await new Promise((r) => setTimeout(r, 50));
    return out.trim().split("\n").slice(1).map((l) => JSON.parse(l));
  };
  const id = `pidfd-${process.pid}`;
  t.equal(rt.detached(["create", "--pidfd-socket", path, "--bundle", bundle(["sleep", "1000"]), id]).code, 0);
  const [init] = await lines(1);
  t.same(init, { payload: "standard", nfds: 1, pid: rt.state(id).pid }, "the init's pidfd, sent before create returned");
  t.equal(rt.run(["start", id]).code, 0);
  const pidFile = join(work, `pidfd-exec-${n}.pid`);
  t.equal(rt.detached(["exec", "-d", "--pid-file", pidFile, "--pidfd-socket", path, id, "sleep", "1000"]).code, 0);
  const [, exec] = await lines(2);
  t.same(exec, { payload: "setns", nfds: 1, pid: Number(readFileSync(pidFile, "utf8")) });
  const nobody = rt.run(["exec", "--pidfd-socket", join(work, "nobody.sock"), id, "true"]);
  t.equal(nobody.code, 255);
  t.match(nobody.stderr, /pidfd socket .*nobody\.sock: no such file or directory/);
  t.equal(rt.run(["delete", "--force", id]).code, 0);
});
