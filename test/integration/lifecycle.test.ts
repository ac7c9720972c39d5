// The container lifecycle for real: create, start, state, kill, delete, list, run; as root.
import t from "tap";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, openSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle, type OciConfig } from "../../bundle-fixtures/rootfs.js";
import { cgroupDirsOf, message, mountsMentioning, processesMentioning, Runtime, sleep, TSRUN } from "../lib/tsrun.js";

const work = mkdtempSync(join(tmpdir(), "tsrun-it-"));
chmodSync(work, 0o755); // a user-namespaced root must be able to reach the rootfs
const rt = new Runtime();
t.teardown(() => {
  rt.cleanup();
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
function bundle(args: string[], mutate?: (c: OciConfig) => void, rootfs: "probe" | "busybox" = "busybox") {
  return makeBundle(join(work, `b${++n}`), { args, rootfs, mutate }).bundle;
}

t.test("run prints the process's output and returns its exit status", async (t) => {
  const hello = rt.run(["run", "--bundle", bundle(["echo", "hello"]), "hello"]);
  t.equal(hello.stdout, "hello\n");
  t.equal(hello.code, 0);
  const three = rt.run(["run", "--bundle", bundle(["sh", "-c", "exit 3"]), "three"]);
  t.equal(three.code, 3);
  // pid 1 of a pid namespace cannot be SIGKILLed from inside: kill a shell that is not pid 1
  const nopidns = (c: OciConfig) => (c.linux!.namespaces = c.linux!.namespaces!.filter((ns) => ns.type !== "pid"));
  const killed = rt.run(["run", "--bundle", bundle(["sh", "-c", "kill -9 $$"], nopidns), "killed"]);
  t.equal(killed.code, 137, "killed by SIGKILL gives 128+9");
  t.same(rt.containers(), [], "run deletes the container afterwards");
});

t.test("create, start, state, kill, delete", async (t) => {
  const id = "life";
  const b = bundle(["sleep", "30"]);
  const pidFile = join(work, "life.pid");
  const created = rt.detached(["create", "--bundle", b, "--pid-file", pidFile, id]);
  t.equal(created.code, 0, created.stderr);
  const pidText = readFileSync(pidFile, "utf8");
  t.match(pidText, /^[0-9]+$/, "pid file holds the pid without a newline");
  let st = rt.state(id);
  t.equal(st.status, "created");
  t.equal(st.pid, Number(pidText));
  t.equal(st.bundle, b);
  t.equal(st.rootfs, join(b, "rootfs"));
  t.equal(st.ociVersion, "1.0.2-dev");
  t.match(st.created as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  t.equal(st.owner, "");
  t.ok(existsSync(join(rt.root, id, "exec.fifo")));
  t.equal(readFileSync(`/proc/${st.pid}/cmdline`, "utf8"), "tsrun-init\x003\0", "the init waits, not yet the user process");

  const started = rt.run(["start", id]);
  t.equal(started.code, 0, started.stderr);
  st = rt.state(id);
  t.equal(st.status, "running");
  t.equal(readFileSync(`/proc/${st.pid}/cmdline`, "utf8"), "sleep\x0030\0", "same pid now runs the process");
  t.notOk(existsSync(join(rt.root, id, "exec.fifo")), "the fifo is gone once started");

  const again = rt.run(["start", id]);
  t.equal(again.code, 1);
  t.match(again.stderr, /cannot start an already running container/);
  const del = rt.run(["delete", id]);
  t.equal(del.code, 1);
  t.match(del.stderr, /cannot delete container life that is not stopped: running/);

  const listed = rt.run(["list", "--format", "json"]);
  const entry = JSON.parse(listed.stdout).find((c: { id: string }) => c.id === id);
  t.equal(entry.status, "running");
  t.equal(entry.owner, "root");
  t.match(rt.run(["list"]).stdout, /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\nlife\s+\d+\s+running\s+/);

  t.equal(rt.run(["kill", id, "KILL"]).code, 0);
  for (let i = 0; i < 100 && rt.state(id).status !== "stopped"; i++) sleep(20);
  st = rt.state(id);
  t.equal(st.status, "stopped");
  t.equal(st.pid, 0, "a stopped container reports pid 0");
  const killStopped = rt.run(["kill", id]);
  t.match(killStopped.stderr, /container not running/);
  t.equal(rt.run(["kill", "--all", id, "9"]).code, 0, "kill --all of a stopped container is not an error");
  t.match(rt.run(["start", id]).stderr, /cannot start a container that has stopped/);

  t.equal(rt.run(["delete", id]).code, 0);
  t.equal(rt.run(["list", "--format", "json"]).stdout, "null\n", "list prints null when empty");
  t.notOk(existsSync(join(rt.root, id)));
  t.same(cgroupDirsOf(id), [], "no cgroup left");
  const unknown = rt.run(["state", id]);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /container does not exist/);
});

t.test("delete of a created container kills its init; delete --force of a running one", async (t) => {
  const b = bundle(["sleep", "30"]);
  t.equal(rt.detached(["create", "--bundle", b, "c1"]).code, 0);
  const pid = rt.state("c1").pid;
  t.equal(rt.run(["delete", "c1"]).code, 0);
  sleep(50);
  t.notOk(existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("tsrun-init"), "init gone");
  t.equal(rt.detached(["run", "-d", "--bundle", b, "c2"]).code, 0);
  t.equal(rt.state("c2").status, "running", "run -d leaves it running");
  t.equal(rt.run(["delete", "--force", "c2"]).code, 0);
  t.same(rt.containers(), []);
  t.same(cgroupDirsOf("c2"), []);
  t.equal(rt.run(["delete", "--force", "never-existed"]).code, 0, "delete --force of an unknown id succeeds");
  t.match(rt.run(["delete", "never-existed"]).stderr, /container does not exist/);
});

t.test("inside the container", async (t) => {
  const b = bundle(["/probe", "read", "/proc/keys", "write", "/proc/sys/kernel/hostname", "stat", "/probe", "write", "/probe-new"], (c) => {
    c.linux!.maskedPaths!.push("/proc/keys");
    c.hostname = "inside";
    c.process!.user = { uid: 1000, gid: 1000, additionalGids: [10, 20] };
    c.process!.cwd = "/tmp";
    c.process!.capabilities = { bounding: ["CAP_KILL", "CAP_CHOWN"], effective: ["CAP_KILL"], permitted: ["CAP_KILL", "CAP_CHOWN"] };
    c.process!.env = ["PATH=/bin", "FOO=bar"];
  }, "probe");
  const r = rt.run(["run", "--bundle", b, "probe1"]);
  t.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout);
  t.equal(p.pid, 1, "the process is pid 1");
  t.equal(p.hostname, "inside");
  t.same([p.uid, p.gid, p.euid, p.egid], [1000, 1000, 1000, 1000]);
  t.same(p.groups, [10, 20]);
  t.equal(p.cwd, "/tmp");
  t.same(p.env, ["PATH=/bin", "FOO=bar", "HOME=/home/user"], "HOME from /etc/passwd, as runc");
  // a non-root user keeps capabilities across execve only through the ambient set (kernel rule)
  t.same(p.caps.effective.names, [], "uid 1000 without ambient caps has none after exec");
  t.same(p.caps.bounding.names, ["CAP_CHOWN", "CAP_KILL"]);
  t.same(p.caps.inheritable.names, [], "no inheritable capabilities unless asked");
  t.equal(p.no_new_privs, true);
  const mounts = p.mounts as { mount_point: string; fstype: string; options: string[] }[];
  t.ok(mounts.some((m) => m.mount_point === "/proc" && m.fstype === "proc"), "/proc is mounted");
  const root = mounts.find((m) => m.mount_point === "/");
  t.ok(root, "the rootfs is /");
  t.ok(root?.options.includes("ro"), "root.readonly makes / read-only");
  t.equal(p.root_readonly, true);
  const [keys, sysctlWrite, probeStat, rootWrite] = p.actions;
  t.equal(keys.ok, true);
  t.equal(keys.data, "", "a masked file reads as /dev/null");
  t.equal(sysctlWrite.ok, false, "readonly path");
  t.equal(probeStat.ok, true, "/probe of the rootfs is visible at /");
  t.equal(rootWrite.ok, false, "read-only root refuses writes");
  t.same(rt.containers(), []);

  const rootCaps = bundle(["/probe"], (c) => {
    c.process!.capabilities = {
      bounding: ["CAP_KILL", "CAP_CHOWN", "CAP_NET_RAW"], effective: ["CAP_KILL"], permitted: ["CAP_KILL", "CAP_CHOWN"],
      inheritable: ["CAP_CHOWN"], ambient: ["CAP_CHOWN"],
    };
  }, "probe");
  const rc = rt.run(["run", "--bundle", rootCaps, "caps"]);
  t.equal(rc.code, 0, rc.stderr);
  const caps = JSON.parse(rc.stdout).caps;
  t.same(caps.effective.names, ["CAP_CHOWN", "CAP_KILL"], "effective: configured plus ambient");
  t.same(caps.permitted.names, ["CAP_CHOWN", "CAP_KILL"]);
  t.same(caps.bounding.names, ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"]);
  t.same(caps.inheritable.names, ["CAP_CHOWN"]);
  t.same(caps.ambient.names, ["CAP_CHOWN"]);
});

t.test("namespaces: user with mappings, joining by path, no pivot", async (t) => {
  const userns = bundle(["/probe"], (c) => {
    c.linux!.namespaces!.push({ type: "user" });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 200000, size: 65536 }];
    c.root!.readonly = false;
  }, "probe");
  const r = rt.run(["run", "--bundle", userns, "userns"]);
  t.equal(r.code, 0, r.stderr);
  const p = JSON.parse(r.stdout);
  t.equal(p.uid, 0, "root inside");
  t.same(p.uid_map, [[0, 200000, 65536]]);
  const devnull = (p.devices as { path: string; type: string; major: number; minor: number }[]).find((d) => d.path === "/dev/null");
  t.same([devnull?.type, devnull?.major, devnull?.minor], ["c", 1, 3], "devices bound from the host");

  const holder = bundle(["sleep", "30"]);
  t.equal(rt.detached(["run", "-d", "--bundle", holder, "holder"]).code, 0);
  const hpid = rt.state("holder").pid;
  const joiner = bundle(["/probe"], (c) => {
    c.linux!.namespaces = c.linux!.namespaces!.map((ns) => (ns.type === "network" || ns.type === "uts" ? { type: ns.type, path: `/proc/${hpid}/ns/${ns.type === "network" ? "net" : "uts"}` } : ns));
    delete c.hostname;
  }, "probe");
  const j = rt.run(["run", "--bundle", joiner, "joiner"]);
  t.equal(j.code, 0, j.stderr);
  const jp = JSON.parse(j.stdout);
  t.equal(jp.ns.net, readlinkSync(`/proc/${hpid}/ns/net`), "joined the holder's network namespace");
  t.equal(jp.ns.uts, readlinkSync(`/proc/${hpid}/ns/uts`));
  t.not(jp.ns.pid, readlinkSync(`/proc/${hpid}/ns/pid`), "its own pid namespace");
  rt.run(["delete", "--force", "holder"]);

  const nopivot = rt.run(["run", "--no-pivot", "--bundle", bundle(["/probe"], undefined, "probe"), "nopivot"]);
  t.equal(nopivot.code, 0, nopivot.stderr);
  t.equal(JSON.parse(nopivot.stdout).pid, 1);
});

t.test("bad input: clear error, non-zero exit, nothing left behind", async (t) => {
  const cases: [string, () => string[], RegExp][] = [
    ["malformed JSON", () => {
      const b = bundle(["true"]);
      writeFileSync(join(b, "config.json"), '{"ociVersion": "1.0.2", "process": ');
      return ["create", "--bundle", b, "bad1"];
    }, /config\.json/],
    ["missing rootfs", () => {
      const b = bundle(["true"]);
      rmSync(join(b, "rootfs"), { recursive: true });
      return ["create", "--bundle", b, "bad2"];
    }, /root\/path|rootfs/],
    ["empty mount destination", () => ["create", "--bundle", bundle(["true"], (c) => c.mounts!.push({ destination: "", type: "tmpfs", source: "tmpfs" })), "bad3"], /\/mounts\/\d+\/destination/],
    ["id with a slash", () => ["create", "--bundle", bundle(["true"]), "a/b"], /invalid container ID format/],
    ["id ..", () => ["create", "--bundle", bundle(["true"]), ".."], /invalid container ID format/],
    ["missing executable", () => ["create", "--bundle", bundle(["no-such-binary"]), "bad4"], /exec: "no-such-binary": executable file not found in \$PATH/],
    ["a mount the kernel refuses", () => ["create", "--bundle", bundle(["true"], (c) => c.mounts!.push({ destination: "/x", type: "no-such-fs", source: "none" })), "bad5"], /mounts\[\d+\]: mount no-such-fs on \/x: no such device \(ENODEV\)/],
    ["an AppArmor profile on a host without AppArmor", () => ["create", "--bundle", bundle(["true"], (c) => (c.process!.apparmorProfile = "docker-default")), "bad7"], /process\.apparmorProfile: "docker-default" was requested but AppArmor is not enabled on this host|applying AppArmor profiles is not supported/],
    ["unknown namespace path", () => ["create", "--bundle", bundle(["true"], (c) => {
      c.linux!.namespaces = [{ type: "network", path: "/proc/999999999/ns/net" }, { type: "mount" }, { type: "uts" }];
    }), "bad6"], /linux\.namespaces\[0\]: join network namespace/],
  ];
  for (const [name, args, message] of cases) {
    const a = args();
    const id = a.at(-1)!;
    const r = rt.detached(a);
    t.not(r.code, 0, `${name}: non-zero exit`);
    t.match(r.stderr, message, `${name}: ${r.stderr.trim()}`);
    t.equal(r.stderr.trim().split("\n").length, 1, `${name}: one line`);
    t.same(rt.containers(), [], `${name}: nothing in --root`);
    if (!id.includes("/") && id !== "..") {
      t.same(cgroupDirsOf(id), [], `${name}: no cgroup`);
      t.same(processesMentioning(join(work, `b${n}`)), [], `${name}: no process`);
    }
    t.same(mountsMentioning(join(work, `b${n}`)), [], `${name}: no mount on the host`);
  }
  const sig = rt.run(["kill", "whatever", "SIGNOPE"]);
  t.not(sig.code, 0);
  t.match(sig.stderr, /unknown signal "SIGNOPE"|container does not exist/);
});

t.test("unknown signal on a live container", async (t) => {
  t.equal(rt.detached(["run", "-d", "--bundle", bundle(["sleep", "1000"]), "sigs"]).code, 0);
  const r = rt.run(["kill", "sigs", "SIGNOPE"]);
  t.equal(r.code, 1);
  t.match(r.stderr, /unknown signal "SIGNOPE"/);
  t.equal(rt.state("sigs").status, "running", "the container is untouched");
  t.equal(rt.run(["kill", "sigs", "term"]).code, 0, "lower-case names without SIG work");
  sleep(500);
  // sleep as pid 1 ignores SIGTERM (kernel rule for init): still running
  t.equal(rt.state("sigs").status, "running");
  t.equal(rt.run(["kill", "sigs", "9"]).code, 0);
  rt.run(["delete", "--force", "sigs"]);
});

t.test("json log format", async (t) => {
  const log = join(work, "log.json");
  const r = rt.run(["--log", log, "--log-format", "json", "state", "nope"]);
  t.equal(r.code, 1);
  const lines = readFileSync(log, "utf8").trim().split("\n");
  t.equal(lines.length, 1);
  const rec = JSON.parse(lines[0]);
  t.same(Object.keys(rec), ["level", "msg", "time"]);
  t.equal(rec.level, "error");
  t.equal(rec.msg, "container does not exist");
  t.match(rec.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.equal(r.stderr, "container does not exist", "the bare message also goes to stderr");
  const bad = rt.run(["--log-format", "xml", "list"]);
  t.match(bad.stderr, /invalid log-format: xml/);
});

t.test("no host fd reaches the container, except --preserve-fds and LISTEN_FDS", async (t) => {
  const b = bundle(["/probe"], undefined, "probe");
  const extra = [openSync("/etc/hostname", "r"), openSync("/etc/passwd", "r")];
  const run = (args: string[], env: NodeJS.ProcessEnv = process.env) => {
    const r = spawnSync(TSRUN, ["--root", rt.root, ...args], { stdio: ["ignore", "pipe", "pipe", ...extra], encoding: "utf8", env, timeout: 30_000 });
    return { code: r.status, report: r.status === 0 ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
  };
  const fdsOf = (report: { fds: { fd: number }[] }) => report.fds.map((f) => f.fd).sort((a, b) => a - b);
  try {
    const plain = run(["run", "--bundle", b, "fds1"]);
    t.equal(plain.code, 0, plain.stderr);
    t.same(fdsOf(plain.report), [0, 1, 2], "only stdio, though tsrun itself had fds 3 and 4 open");
    const kept = run(["run", "--preserve-fds", "2", "--bundle", b, "fds2"]);
    t.equal(kept.code, 0, kept.stderr);
    t.same(fdsOf(kept.report), [0, 1, 2, 3, 4], "--preserve-fds 2 passes fds 3 and 4");
    const targets = kept.report.fds.filter((f: { fd: number }) => f.fd >= 3).map((f: { target: string }) => f.target);
    t.same(targets, ["/etc/hostname", "/etc/passwd"], "in the same order");
    const bad = run(["run", "--preserve-fds", "5", "--bundle", b, "fds3"]);
    t.equal(bad.code, 1);
    t.match(message(bad.stderr), /unable to stat preserved-fd 2 \(of 5\)/, "fds the caller did not pass are refused, even where tsrun's runtime has its own");
  } finally {
    for (const fd of extra) closeSync(fd);
  }
  t.same(rt.containers(), []);
});

t.test("a create killed half way: delete --force still removes its cgroups", async (t) => {
  const b = bundle(["true"], (c) => (c.hooks = { createRuntime: [{ path: "/bin/sleep", args: ["sleep", "30"] }] }));
  const child = spawn(TSRUN, ["--root", rt.root, "create", "--bundle", b, "halfway"], { stdio: "ignore" });
  for (let i = 0; i < 100 && cgroupDirsOf("halfway").length === 0; i++) sleep(30);
  sleep(300); // the hook is running: the cgroup exists, the container is not ready
  t.ok(cgroupDirsOf("halfway").length > 0, "the cgroup was made");
  child.kill("SIGKILL");
  await new Promise((r) => child.on("exit", r));
  for (const p of processesMentioning("sleep\u000030")) if (readFileSync(`/proc/${p}/cmdline`, "utf8") === "sleep\u000030\u0000") process.kill(p, "SIGKILL");
  t.equal(rt.run(["delete", "--force", "halfway"]).code, 0);
  t.same(cgroupDirsOf("halfway"), [], "no cgroup left in any hierarchy");
  t.same(rt.containers(), []);
});
