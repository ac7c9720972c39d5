// runtime.md (and runtime-linux.md): state, lifecycle, operations, errors.
import t from "tap";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Env, cgroupV1Controller, dev, fileText, nsLink, pidAlive, waitFor, type OciConfig } from "./lib.js";

const env = new Env("runtime");
t.teardown(() => env.cleanup());

/** A bundle whose probe writes its report to /out/report.json (a host dir) and then waits. */
function outBundle(probeArgs: string[] = ["pause"], mutate?: (c: OciConfig) => void) {
  const out = env.dir("out");
  const b = env.bundle({
    args: ["/probe", "--out", "/out/report.json", ...probeArgs],
    mutate: (c) => {
      c.mounts!.push({ destination: "/out", type: "bind", source: out, options: ["rbind", "rw"] });
      mutate?.(c);
    },
  });
  return { b, out, report: join(out, "report.json") };
}

function readReport(p: string): Record<string, unknown> | null {
  const s = fileText(p);
  if (!s) return null;
  try {
    return JSON.parse(s) as Record<string, unknown>;
  } catch {
    return null;
  }
}

t.test("runtime.md#state: state of a created container", (t) => {
  const { b } = outBundle(["pause"], (c) => {
    c.annotations = { "org.example.conformance": "yes", "com.example.empty": "" };
  });
  const id = env.id();
  const cr = env.create(b, id);
  t.equal(cr.status, 0, "create succeeds", { stderr: cr.stderr });
  const r = env.rt(["state", id]);
  t.equal(r.status, 0, "state succeeds");
  let st: Record<string, unknown> = {};
  t.doesNotThrow(() => (st = JSON.parse(r.stdout) as Record<string, unknown>), "state prints JSON");
  t.type(st.ociVersion, "string", "ociVersion (string, REQUIRED)");
  t.match(String(st.ociVersion), /^\d+\.\d+\.\d+/, "ociVersion is a SemVer version");
  t.equal(st.id, id, "id is the container's id");
  t.equal(st.status, "created", "status is `created` after create");
  t.type(st.pid, "number", "pid (int) is REQUIRED when created");
  t.ok((st.pid as number) > 0 && pidAlive(st.pid as number), "pid is a live process as seen by the host");
  t.equal(st.bundle, b.bundle, "bundle is the absolute path to the bundle directory");
  t.ok(String(st.bundle).startsWith("/"), "bundle is absolute");
  t.same(st.annotations, { "org.example.conformance": "yes", "com.example.empty": "" }, "annotations are the config's annotations");
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#state: pid is the container process as seen by the host", (t) => {
  const { b, report } = outBundle(["pause"]);
  const id = env.id();
  env.create(b, id);
  const pid = env.state(id)?.pid ?? -1;
  t.equal(env.start(id).status, 0, "start succeeds");
  const rep = waitFor(() => readReport(report));
  t.ok(rep, "the probe ran");
  t.equal(rep?.pid, 1, "the container process is pid 1 in its pid namespace");
  const nspid = (fileText(`/proc/${pid}/status`) ?? "").match(/^NSpid:\s*(.*)$/m)?.[1].trim().split(/\s+/);
  t.equal(nspid?.[0], String(pid), "state.pid is the host pid of that process");
  t.equal(nspid?.[nspid.length - 1], "1", "...which is pid 1 inside the container");
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#lifecycle: create does not run the user-specified program", (t) => {
  const { b, report } = outBundle(["pause"]);
  const id = env.id();
  t.equal(env.create(b, id).status, 0, "create succeeds");
  const pid = env.state(id)?.pid ?? -1;
  const cmd = fileText(`/proc/${pid}/cmdline`) ?? "";
  t.notOk(existsSync(report) || waitFor(() => existsSync(report), 300), "the program has not run after create");
  t.notOk(cmd.startsWith("/probe"), "the container process has not executed the program yet");
  t.equal(env.start(id).status, 0, "start succeeds");
  t.ok(waitFor(() => existsSync(report)), "the program runs after start");
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#create: all properties except process are applied by create", (t) => {
  const { b } = outBundle(["pause"], (c) => {
    c.hostname = "applied-at-create";
    c.mounts!.push({ destination: "/created-tmpfs", type: "tmpfs", source: "tmpfs", options: ["size=1m"] });
  });
  const id = env.id();
  t.equal(env.create(b, id).status, 0, "create succeeds");
  const pid = env.state(id)?.pid ?? -1;
  const mi = fileText(`/proc/${pid}/mountinfo`) ?? "";
  t.match(mi, / \/created-tmpfs /, "the configured mount exists in the container's mount namespace after create");
  t.not(nsLink(pid, "uts"), nsLink("self", "uts"), "the uts namespace exists after create");
  t.not(nsLink(pid, "mnt"), nsLink("self", "mnt"), "the mount namespace exists after create");
  t.not(nsLink(pid, "net"), nsLink("self", "net"), "the network namespace exists after create");
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#lifecycle: updates to config.json after create do not affect the container", (t) => {
  const { b, report } = outBundle(["pause"], (c) => {
    c.hostname = "before";
    c.process!.env!.push("PHASE=before");
  });
  const id = env.id();
  t.equal(env.create(b, id).status, 0, "create succeeds");
  const cfg = JSON.parse(readFileSync(b.configPath, "utf8")) as OciConfig;
  cfg.hostname = "after";
  cfg.process!.env = ["PHASE=after"];
  cfg.process!.args = ["/probe", "--out", "/out/report.json", "exit", "7"];
  writeFileSync(b.configPath, JSON.stringify(cfg));
  t.equal(env.start(id).status, 0, "start succeeds");
  const rep = waitFor(() => readReport(report));
  t.equal(rep?.hostname, "before", "hostname is the one from create time");
  t.ok((rep?.env as string[] | undefined)?.includes("PHASE=before"), "env is the one from create time");
  t.same((rep?.argv as string[] | undefined)?.slice(-1), ["pause"], "args are the ones from create time");
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#create: a non-unique id is an error and creates nothing", (t) => {
  const { b } = outBundle(["pause"]);
  const id = env.id();
  t.equal(env.create(b, id).status, 0, "first create succeeds");
  const pid = env.state(id)?.pid;
  const { b: b2 } = outBundle(["pause"]);
  const r = env.create(b2, id);
  t.not(r.status, 0, "second create with the same id fails");
  const st = env.state(id);
  t.equal(st?.status, "created", "the existing container is still created");
  t.equal(st?.pid, pid, "the existing container keeps its pid");
  t.equal(st?.bundle, b.bundle, "the existing container keeps its bundle");
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#create: missing id or bundle is an error", (t) => {
  const { b } = outBundle(["pause"]);
  const before = env.rootEntries().length;
  const r = env.rt(["create", "--bundle", b.bundle]);
  t.not(r.status, 0, "create without an id fails");
  const empty = env.dir("nobundle");
  const id = env.id();
  const r2 = env.rt(["create", "--bundle", empty, id]);
  t.not(r2.status, 0, "create with a directory that is not a bundle (no config.json) fails");
  t.equal(env.state(id), null, "no container was created");
  t.equal(env.rootEntries().length, before, "nothing was added to the runtime root");
  t.end();
});

t.test("runtime.md#create: an invalid id is an error and creates nothing", (t) => {
  const { b } = outBundle(["pause"]);
  for (const bad of ["../escape", "a/b", ""]) {
    const r = env.rt(["create", "--bundle", b.bundle, bad]);
    t.not(r.status, 0, `create with id ${JSON.stringify(bad)} fails`);
  }
  t.notOk(existsSync(join(env.tmp, "escape")), "an id with .. did not create anything outside the root");
  t.end();
});

// runtime.md#errors: a failing operation leaves the environment as if it was never attempted.
const failureClasses: [string, (c: OciConfig) => void][] = [
  ["missing rootfs", (c) => (c.root!.path = "does-not-exist")],
  [
    "failing mount",
    (c) => c.mounts!.push({ destination: "/bad", type: "bind", source: "/nonexistent/source", options: ["bind"] }),
  ],
  ["unknown namespace path", (c) => c.linux!.namespaces!.push({ type: "user", path: "/nonexistent/ns" })],
  [
    "namespace path of the wrong type",
    (c) => {
      c.linux!.namespaces = c.linux!.namespaces!.filter((n) => n.type !== "network");
      c.linux!.namespaces.push({ type: "network", path: "/proc/self/ns/uts" });
    },
  ],
  ["unknown rlimit", (c) => c.process!.rlimits!.push({ type: "RLIMIT_BOGUS", soft: 1, hard: 1 })],
  ["failing createRuntime hook", (c) => (c.hooks = { createRuntime: [{ path: "/bin/false" }] })],
  ["non-absolute cwd", (c) => (c.process!.cwd = "relative/dir")],
];
for (const [what, mutate] of failureClasses) {
  t.test(`runtime.md#errors: a create that fails (${what}) leaves nothing behind`, (t) => {
    const cg = env.cgroupPath();
    const { b } = outBundle(["pause"], (c) => {
      c.linux!.cgroupsPath = cg;
      mutate(c);
    });
    const id = env.id();
    const before = env.rootEntries();
    const r = env.create(b, id);
    t.not(r.status, 0, "create generates an error");
    t.equal(env.state(id), null, "state of the id is an error: no container exists");
    t.same(env.rootEntries(), before, "the runtime root is as before");
    const pidsCtl = cgroupV1Controller("pids");
    if (pidsCtl) t.notOk(existsSync(join(pidsCtl, cg)), "no cgroup was left behind");
    // The id is free again: a valid bundle with the same id can be created.
    const { b: good } = outBundle(["pause"]);
    t.equal(env.create(good, id).status, 0, "the same id can then be used");
    env.delete(id, true);
    t.end();
  });
}

t.test("runtime.md#start: start runs the program; status becomes running", (t) => {
  const { b, report } = outBundle(["pause"]);
  const id = env.id();
  env.create(b, id);
  const pid = env.state(id)?.pid;
  const r = env.start(id);
  t.equal(r.status, 0, "start succeeds");
  const st = env.state(id);
  t.equal(st?.status, "running", "status is running after start");
  t.equal(st?.pid, pid, "pid is unchanged by start");
  t.ok(waitFor(() => existsSync(report)), "the user-specified program ran");
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#start: errors", (t) => {
  t.not(env.rt(["start"]).status, 0, "start without an id is an error");
  t.not(env.start(env.id("missing")).status, 0, "start of a container that does not exist is an error");
  t.end();
});

t.test("runtime.md#start: starting a container that is not created is an error and has no effect", (t) => {
  const { b, report } = outBundle(["pause"]);
  const id = env.id();
  env.create(b, id);
  t.equal(env.start(id).status, 0, "first start succeeds");
  waitFor(() => existsSync(report));
  const st1 = env.state(id);
  const mtime = existsSync(report) ? readFileSync(report, "utf8") : "";
  const r = env.start(id);
  t.not(r.status, 0, "second start is an error");
  const st2 = env.state(id);
  t.equal(st2?.status, "running", "the container is still running");
  t.equal(st2?.pid, st1?.pid, "the container process is the same");
  t.ok(pidAlive(st1?.pid ?? -1), "the container process is alive");
  t.equal(fileText(report) ?? "", mtime, "the program did not run a second time");
  env.kill(id, "KILL");
  t.ok(env.waitStatus(id, "stopped"), "container stops after SIGKILL");
  t.not(env.start(id).status, 0, "start of a stopped container is an error");
  t.equal(env.state(id)?.status, "stopped", "the stopped container is unaffected");
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#start: start generates an error when process is not set", (t) => {
  const b = env.bundle({ mutate: (c) => delete c.process });
  const id = env.id();
  const cr = env.create(b, id);
  if (cr.status === 0) {
    t.not(env.start(id).status, 0, "start of a container without process is an error");
  } else {
    t.pass("the runtime refused the bundle without process already at create");
  }
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#kill: kill sends the specified signal to the container process", (t) => {
  for (const [sig, num] of [
    ["SIGUSR1", 10],
    ["TERM", 15],
    ["12", 12],
  ] as const) {
    const out = env.dir("sig");
    const b = env.bundle({
      args: ["/probe", "-n", "wait-signal", "/out/signal"],
      mutate: (c) => c.mounts!.push({ destination: "/out", type: "bind", source: out, options: ["rbind", "rw"] }),
    });
    const id = env.id();
    env.create(b, id);
    env.start(id);
    sleepUntilRunning(id);
    // Give the probe a moment to install its handlers.
    waitFor(() => (fileText(`/proc/${env.state(id)?.pid}/status`) ?? "").match(/^SigCgt:\s*0*([1-9a-f])/m), 2000);
    const r = env.kill(id, sig);
    t.equal(r.status, 0, `kill ${sig} succeeds`);
    const got = waitFor(() => fileText(join(out, "signal")));
    t.equal(got?.trim(), String(num), `the process received signal ${num}`);
    t.ok(env.waitStatus(id, "stopped"), "status becomes stopped when the process exits");
    env.delete(id, true);
  }
  t.end();
});

function sleepUntilRunning(id: string): void {
  waitFor(() => env.state(id)?.status === "running", 3000);
}

t.test("runtime.md#kill: a created container can be signalled", (t) => {
  const { b } = outBundle(["pause"]);
  const id = env.id();
  env.create(b, id);
  const r = env.kill(id, "KILL");
  t.equal(r.status, 0, "kill of a created container succeeds");
  t.ok(env.waitStatus(id, "stopped"), "status becomes stopped");
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#kill: kill of a container that is neither created nor running is an error and has no effect", (t) => {
  const b = env.bundle({ args: ["/probe", "-n", "exit", "0"] });
  const id = env.id();
  env.create(b, id);
  env.start(id);
  t.ok(env.waitStatus(id, "stopped"), "the container stopped by itself");
  const r = env.kill(id, "KILL");
  t.not(r.status, 0, "kill of a stopped container is an error");
  t.equal(env.state(id)?.status, "stopped", "the container is still stopped (and still exists)");
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#kill: errors", (t) => {
  t.not(env.rt(["kill"]).status, 0, "kill without an id is an error");
  t.not(env.kill(env.id("missing"), "KILL").status, 0, "kill of a container that does not exist is an error");
  t.end();
});

t.test("runtime.md#kill: status is stopped when the process exits on its own", (t) => {
  const b = env.bundle({ args: ["/probe", "-n", "exit", "3"] });
  const id = env.id();
  env.create(b, id);
  env.start(id);
  t.ok(env.waitStatus(id, "stopped"), "status becomes stopped");
  const st = env.state(id);
  t.equal(st?.id, id, "a stopped container can still be queried");
  t.equal(st?.bundle, b.bundle, "state of a stopped container keeps the bundle");
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#delete: deleting a stopped container removes it and what create made", (t) => {
  const cg = env.cgroupPath();
  const { b } = outBundle(["exit", "0"], (c) => (c.linux!.cgroupsPath = cg));
  const id = env.id();
  env.create(b, id);
  const pidsCtl = cgroupV1Controller("pids");
  if (pidsCtl) t.ok(existsSync(join(pidsCtl, cg)), "create made the cgroup");
  env.start(id);
  t.ok(env.waitStatus(id, "stopped"), "the container stopped");
  const before = env.rootEntries();
  const r = env.delete(id);
  t.equal(r.status, 0, "delete succeeds");
  t.equal(env.state(id), null, "state of a deleted container is an error");
  t.ok(env.rootEntries().length < before.length, "the runtime root no longer holds the container");
  if (pidsCtl) t.notOk(existsSync(join(pidsCtl, cg)), "the cgroup created by create is removed");
  const { b: b2 } = outBundle(["pause"]);
  t.equal(env.create(b2, id).status, 0, "the id may be used by a subsequent container");
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#delete: deleting a running container is an error and has no effect", (t) => {
  const { b } = outBundle(["pause"]);
  const id = env.id();
  env.create(b, id);
  env.start(id);
  const pid = env.state(id)?.pid ?? -1;
  const r = env.delete(id);
  t.not(r.status, 0, "delete of a running container is an error");
  t.equal(env.state(id)?.status, "running", "the container is still running");
  t.ok(pidAlive(pid), "the container process is alive");
  t.equal(env.delete(id, true).status, 0, "delete --force removes it");
  t.notOk(waitFor(() => !pidAlive(pid), 3000) === undefined, "the process is gone after delete --force");
  t.end();
});

t.test("runtime.md#delete: deleting a created container is an error and has no effect", (t) => {
  const { b } = outBundle(["pause"]);
  const id = env.id();
  env.create(b, id);
  const pid = env.state(id)?.pid ?? -1;
  const r = env.delete(id);
  t.not(r.status, 0, "delete of a created container is an error", dev("deleteCreated"));
  t.equal(env.state(id)?.status, "created", "the container is still created", dev("deleteCreated"));
  t.equal(pidAlive(pid), true, "the container process is alive", dev("deleteCreated"));
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#delete: errors", (t) => {
  t.not(env.rt(["delete"]).status, 0, "delete without an id is an error");
  t.not(env.delete(env.id("missing")).status, 0, "delete of a container that does not exist is an error");
  t.end();
});

t.test("runtime.md#delete: resources not created by the container are not deleted", (t) => {
  const shared = env.dir("shared");
  writeFileSync(join(shared, "keep"), "keep\n");
  // A network namespace held by a process outside the runtime's control.
  const holder = env.bundle({ args: ["/probe", "-n", "pause"] });
  const hid = env.id("holder");
  env.create(holder, hid);
  env.start(hid);
  const hpid = env.state(hid)?.pid ?? -1;
  const netns = nsLink(hpid, "net");
  const b = env.bundle({
    args: ["/probe", "-n", "exit", "0"],
    mutate: (c) => {
      c.mounts!.push({ destination: "/shared", type: "bind", source: shared, options: ["rbind", "rw"] });
      c.linux!.namespaces = c.linux!.namespaces!.map((n) => (n.type === "network" ? { type: "network", path: `/proc/${hpid}/ns/net` } : n));
    },
  });
  const id = env.id();
  env.create(b, id);
  env.start(id);
  env.waitStatus(id, "stopped");
  t.equal(env.delete(id).status, 0, "delete succeeds");
  t.equal(fileText(join(shared, "keep")), "keep\n", "the bind-mounted host directory and its content remain");
  t.ok(pidAlive(hpid), "the process owning the joined network namespace is untouched");
  t.equal(nsLink(hpid, "net"), netns, "the joined network namespace still exists");
  t.equal(env.state(hid)?.status, "running", "the other container is untouched");
  env.delete(hid, true);
  t.end();
});

t.test("runtime.md#query-state: errors", (t) => {
  t.not(env.rt(["state"]).status, 0, "state without an id is an error");
  t.not(env.rt(["state", env.id("missing")]).status, 0, "state of a container that does not exist is an error");
  t.end();
});

t.test("runtime-linux.md#file-descriptors: only stdio is open in the process", (t) => {
  const { report } = env.probe([]);
  const fds = (report?.fds ?? []).map((f) => f.fd).sort((a, b) => a - b);
  t.same(fds, [0, 1, 2], "the container process has exactly fds 0, 1 and 2 open");
  t.end();
});

t.test("runtime.md#scope: the creating entity can use every operation on its container", (t) => {
  const { b } = outBundle(["pause"]);
  const id = env.id();
  t.equal(env.create(b, id).status, 0, "create");
  t.equal(env.rt(["state", id]).status, 0, "state");
  t.equal(env.start(id).status, 0, "start");
  t.equal(env.kill(id, "KILL").status, 0, "kill");
  env.waitStatus(id, "stopped");
  t.equal(env.delete(id).status, 0, "delete");
  t.end();
});

t.test("runtime.md#delete: nothing is left in the runtime root", (t) => {
  for (const id of env.ids) if (env.state(id)) env.delete(id, true);
  t.same(env.rootEntries(), [], "every container deleted: --root is empty");
  t.end();
});
