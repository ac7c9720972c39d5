// What runc fills in or refuses around the process, which engines and images rely on: HOME from
// /etc/passwd, a missing cwd created, stdio given to the process's user, exec's exit statuses,
// ids that setresuid would read as "unchanged", device numbers and a symlinked root.path. Not
// spec MUSTs: observed from runc 1.1.5 on the development machine, so runc's column proves them.
import t from "tap";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Env, consoleRecv, fileText, waitFor, type Bundle, type OciConfig } from "./lib.js";

const env = new Env("procdef");
t.teardown(() => env.cleanup());

const shell = (script: string, mutate?: (c: OciConfig) => void) =>
  env.bundle({ args: ["sh", "-c", script], rootfs: "busybox", mutate });

/** A busybox container that sleeps, for exec; its config's process is `mutate`d first. */
function sleeper(mutate?: (c: OciConfig) => void): { b: Bundle; id: string } {
  const b = shell("sleep 1000", mutate);
  const id = env.id("sleeper");
  const r = env.rt(["run", "-d", "--bundle", b.bundle, id]);
  if (r.status !== 0) throw new Error(`run -d: ${r.stderr}`);
  return { b, id };
}

t.test("HOME: set from the user's /etc/passwd entry when process.env has none (run)", (t) => {
  const home = (user: { uid: number; gid: number }, envList?: string[]) =>
    env.run(
      shell('printf "%s|" "$HOME"; env | grep -c "^HOME=" || true', (c) => {
        c.process!.user = user;
        if (envList) c.process!.env = envList;
      }),
    ).res;
  const user = home({ uid: 1000, gid: 1000 });
  t.equal(user.status, 0, "runs", { stderr: user.stderr });
  t.equal(user.stdout, "/home/user|1\n", "uid 1000: its passwd home, exactly one HOME");
  t.equal(home({ uid: 0, gid: 0 }).stdout, "/root|1\n", "uid 0: /root");
  t.equal(home({ uid: 4242, gid: 4242 }).stdout, "/|1\n", "a uid /etc/passwd does not list: /");
  t.equal(home({ uid: 1000, gid: 1000 }, ["PATH=/bin", "HOME=/set/by/config"]).stdout, "/set/by/config|1\n", "a HOME in process.env is kept");
  t.equal(home({ uid: 1000, gid: 1000 }, ["PATH=/bin", "HOME="]).stdout, "/home/user|1\n", "an empty HOME counts as none");
  t.end();
});

t.test("HOME: no /etc/passwd in the rootfs gives /", (t) => {
  const b = shell('echo "$HOME"', (c) => (c.process!.user = { uid: 1000, gid: 1000 }));
  rmSync(join(b.rootfs, "etc", "passwd"));
  const { res } = env.run(b);
  t.equal(res.stdout, "/\n", "HOME=/", { stderr: res.stderr });
  t.end();
});

t.test("HOME: set for exec too (--user, --process), from the container's /etc/passwd", (t) => {
  const { id } = sleeper();
  t.equal(env.rt(["exec", id, "sh", "-c", 'echo "$HOME"']).stdout, "/root\n", "exec as root: /root");
  t.equal(env.rt(["exec", "--user", "1000:1000", id, "sh", "-c", 'echo "$HOME"']).stdout, "/home/user\n", "exec --user 1000: /home/user");
  t.equal(env.rt(["exec", "--user", "4242", id, "sh", "-c", 'echo "$HOME"']).stdout, "/\n", "exec --user of an unlisted uid: /");
  t.equal(env.rt(["exec", "--env", "HOME=/x", id, "sh", "-c", 'echo "$HOME"']).stdout, "/x\n", "exec --env HOME wins");
  const proc = join(env.dir("proc"), "process.json");
  writeFileSync(proc, JSON.stringify({ args: ["sh", "-c", 'echo "$HOME"'], cwd: "/", env: ["PATH=/bin"], user: { uid: 65534, gid: 65534 } }));
  const r = env.rt(["exec", "--process", proc, id]);
  t.equal(r.stdout, "/nonexistent\n", "exec --process: the passwd home of its uid", { stderr: r.stderr });
  t.end();
});

t.test("a missing process.cwd is created inside the rootfs, owned by root, 0755 less the umask", (t) => {
  const b = shell("pwd; touch . 2>&1 || echo not-writable", (c) => {
    c.process!.cwd = "/made/for/you";
    c.process!.user = { uid: 1000, gid: 1000 };
  });
  const { res } = env.run(b);
  t.equal(res.status, 0, "runs", { stderr: res.stderr });
  t.match(res.stdout, /^\/made\/for\/you\n/, "the process starts there");
  const mask = process.umask();
  for (const d of ["made", "made/for", "made/for/you"]) {
    const st = statSync(join(b.rootfs, d));
    t.ok(st.isDirectory(), `${d} is a directory in the rootfs`);
    t.equal(`${st.uid}:${st.gid}`, "0:0", `${d} is owned by root (runc creates it before changing user)`);
    t.equal(st.mode & 0o7777, 0o755 & ~mask, `${d} has mode 0755 less the umask`);
  }
  t.end();
});

t.test("a process.cwd whose parent is a symlink out of the rootfs is created inside it", (t) => {
  const outside = env.dir("outside");
  const b = shell("pwd", (c) => (c.process!.cwd = "/escape/wd"));
  symlinkSync(outside, join(b.rootfs, "escape"));
  const { res } = env.run(b);
  t.same(readdirSync(outside), [], "nothing is created in the host directory the link names");
  // runc 1.1.5 refuses ("mkdir /escape: file exists"); tsrun follows the link inside the rootfs
  if (res.status === 0) t.ok(statSync(join(b.rootfs, outside, "wd")).isDirectory(), "the directory was made inside the rootfs");
  t.end();
});

t.test("exec --cwd of a missing directory is an error (exec does not create it)", (t) => {
  const { id } = sleeper();
  const r = env.rt(["exec", "--cwd", "/no/such/dir", id, "true"]);
  t.equal(r.status, 255, "exit 255", { stderr: r.stderr });
  t.match(r.stderr, /no\/such\/dir/, "the error names the directory");
  t.end();
});

t.test("exec --cap with an unknown capability warns and goes on", (t) => {
  const { id } = sleeper();
  const r = env.rt(["exec", "--cap", "CAP_NOT_A_THING", id, "sh", "-c", "echo ran"]);
  t.equal(r.status, 0, "exit 0", { stderr: r.stderr });
  t.equal(r.stdout, "ran\n", "the process runs");
  t.match(r.stderr, /CAP_NOT_A_THING/, "a warning names it");
  t.match(r.stderr, /level=warning/, "as a warning");
  t.end();
});

t.test("exec: 255 when exec itself fails, the process's own status otherwise", (t) => {
  const { id } = sleeper();
  const statusOf = (args: string[]) => env.rt(["exec", ...args]).status;
  t.equal(statusOf([id, "no-such-binary"]), 255, "no such binary");
  t.equal(statusOf(["no-such-container-" + process.pid, "true"]), 255, "no such container");
  t.equal(statusOf(["--pid-file", "/no/such/dir/pid", id, "true"]), 255, "a pid file that cannot be written");
  t.equal(statusOf(["-d", "--pid-file", "/no/such/dir/pid", id, "sleep", "77"]), 255, "the same, detached");
  t.equal(statusOf(["--user", "4294967295", id, "true"]), 255, "an id out of range");
  t.equal(statusOf([id, "sh", "-c", "exit 3"]), 3, "the process's status");
  t.equal(statusOf([id, "sh", "-c", "exit 255"]), 255, "the process's 255");
  t.equal(statusOf([id, "sh", "-c", "kill -9 $$"]), 137, "killed by a signal: 128+9");
  const ps = env.rt(["ps", id]).stdout;
  t.notMatch(ps, /sleep 77/, "the process whose pid file failed is not left running");
  t.end();
});

t.test("run/create failures exit 1", (t) => {
  const missing = env.run(shell("true", (c) => (c.process!.args = ["no-such-binary"])));
  t.equal(missing.res.status, 1, "run of a missing binary");
  const b = shell("true");
  const id = env.id();
  t.equal(env.rt(["run", "--pid-file", "/no/such/dir/pid", "--bundle", b.bundle, id]).status, 1, "run with a pid file that cannot be written");
  t.equal(env.create(b, env.id(), ["--pid-file", "/no/such/dir/pid"]).status, 1, "create with a pid file that cannot be written");
  t.end();
});

const outOfRange: [string, { uid: number; gid: number; additionalGids?: number[] }][] = [
  ["uid 4294967295", { uid: 4294967295, gid: 0 }],
  ["gid 4294967295", { uid: 1000, gid: 4294967295 }],
  ["uid 2147483648", { uid: 2147483648, gid: 0 }],
  ["additionalGids [4294967295]", { uid: 1000, gid: 1000, additionalGids: [4294967295] }],
];
for (const [what, user] of outOfRange) {
  t.test(`process.user ${what} is refused (it must never run as root)`, (t) => {
    const { res } = env.run(shell("id", (c) => (c.process!.user = { ...user })));
    t.not(res.status, 0, "refused");
    t.notMatch(res.stdout, /uid=/, "the process never ran");
    t.end();
  });
}

t.test("process.user uid 2147483647 (the highest allowed) runs", (t) => {
  const { res } = env.run(shell("id -u", (c) => (c.process!.user = { uid: 2147483647, gid: 0 })));
  t.equal(res.stdout, "2147483647\n", "runs as that uid", { stderr: res.stderr });
  t.end();
});

t.test("exec --user 4294967295 is refused and never runs as root", (t) => {
  const { id } = sleeper();
  for (const u of ["4294967295", "0:4294967295", "2147483648:0"]) {
    const r = env.rt(["exec", "--user", u, id, "id"]);
    t.equal(r.status, 255, `--user ${u}: exit 255`);
    t.equal(r.stdout, "", `--user ${u}: the process never ran`);
  }
  const r = env.rt(["exec", "--additional-gids", "4294967295", id, "id"]);
  t.not(r.status, 0, "--additional-gids 4294967295 refused");
  t.equal(r.stdout, "", "the process never ran");
  t.end();
});

for (const [field, value] of [["major", -1], ["minor", -1]] as const) {
  t.test(`linux.devices ${field} ${value} is refused`, (t) => {
    const { res } = env.run(
      shell("ls -l /dev/x", (c) => (c.linux!.devices = [{ path: "/dev/x", type: "c", major: 1, minor: 3, [field]: value }])),
    );
    t.not(res.status, 0, "refused");
    t.notMatch(res.stdout, /\/dev\/x/, "the process never ran");
    t.end();
  });
}

t.test("linux.resources.devices major/minor -1 is a wildcard (legitimate)", (t) => {
  const { res } = env.run(
    shell("head -c 1 /dev/zero | wc -c", (c) => {
      c.linux!.resources = { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: -1, access: "rwm" }] };
    }),
  );
  t.equal(res.status, 0, "runs", { stderr: res.stderr });
  t.equal(res.stdout.trim(), "1", "c 1:* allows /dev/zero");
  t.end();
});

t.test("a symlinked root.path is refused", (t) => {
  for (const [what, link] of [
    ["relative link to the rootfs", "rootfs"],
    ["link to /", "/"],
  ] as const) {
    const b = shell("true");
    symlinkSync(link, join(b.bundle, "rootlink"));
    b.config.root = { path: "rootlink" };
    writeFileSync(b.configPath, JSON.stringify(b.config));
    const id = env.id();
    const r = env.rt(["run", "--bundle", b.bundle, id]);
    t.not(r.status, 0, `${what}: refused`);
    t.equal(env.state(id), null, `${what}: no container left`);
    const abs = shell("true");
    mkdirSync(join(abs.bundle, "dir"));
    symlinkSync(abs.rootfs, join(abs.bundle, "dir", "l"));
    abs.config.root = { path: join(abs.bundle, "dir", "l") };
    writeFileSync(abs.configPath, JSON.stringify(abs.config));
    t.not(env.rt(["run", "--bundle", abs.bundle, env.id()]).status, 0, `${what}: an absolute path through a link is refused too`);
  }
  t.end();
});

t.test("terminal: the pty belongs to the process's uid (group from devpts gid=5), consoleSize applied; exec -t the same", (t) => {
  const dir = env.dir("tty");
  const listen = (name: string) => {
    const sock = join(dir, `${name}.sock`);
    const out = join(dir, `${name}.out`);
    const recv = spawn(consoleRecv(), [sock, out], { stdio: "ignore" });
    env.onCleanup(() => recv.kill("SIGKILL"));
    waitFor(() => existsSync(sock), 3000);
    return { sock, out };
  };
  const script = 'stat -c "%u:%g:%a" "$(tty)"; stty size; stat -c "%u" /dev/console; sleep 1000';
  const b = shell(script, (c) => {
    c.process!.terminal = true;
    c.process!.consoleSize = { height: 33, width: 111 };
    c.process!.user = { uid: 1000, gid: 1000 };
  });
  const init = listen("init");
  const id = env.id();
  const cr = env.create(b, id, ["--console-socket", init.sock]);
  t.equal(cr.status, 0, "create", { stderr: cr.stderr });
  t.equal(env.start(id).status, 0, "start");
  const text = waitFor(() => {
    const s = (fileText(init.out) ?? "").replace(/\r/g, "");
    return s.split("\n").length >= 4 ? s : undefined;
  }, 5000);
  t.equal(text?.split("\n").slice(0, 3).join("\n"), "1000:5:620\n33 111\n1000", "the pty slave (and /dev/console) is uid 1000's, group tty, 0620; 33x111");

  const ex = listen("exec");
  const r = env.rt(["exec", "-d", "-t", "--console-socket", ex.sock, "--user", "1000:1000", id, "sh", "-c", 'stat -c "%u:%g:%a" "$(tty)"']);
  t.equal(r.status, 0, "exec -t -d", { stderr: r.stderr });
  const got = waitFor(() => (fileText(ex.out) ?? "").replace(/\r/g, "").split("\n")[0] || undefined, 5000);
  t.equal(got, "1000:5:620", "exec -t --user 1000: its pty belongs to uid 1000");
  t.end();
});

t.test("stdio belongs to the process's uid: a non-root process can reopen /dev/stdout", (t) => {
  // create gives the container files as stdio (root's, 0644): runc hands them to the user
  const b = shell("echo via-dev-stdout > /dev/stdout", (c) => (c.process!.user = { uid: 1000, gid: 1000 }));
  const id = env.id();
  const cr = env.create(b, id);
  t.equal(cr.status, 0, "create", { stderr: cr.stderr });
  t.equal(env.start(id).status, 0, "start");
  t.ok(env.waitStatus(id, "stopped"), "the process ran");
  t.equal(env.containerStdout(b, id), "via-dev-stdout\n", "it wrote through /dev/stdout");
  t.equal(statSync(join(b.bundle, `${id}.stdout`)).uid, 1000, "its stdout file now belongs to uid 1000");
  t.end();
});
