// Rootless: an unprivileged user created for the test runs busybox bundles made with
// `tsrun spec --rootless`, with and without /etc/subuid ranges; as root (to create that user).
import t from "tap";
import { spawnSync } from "node:child_process";
import {
  accessSync, chmodSync, chownSync, closeSync, openSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRootfs } from "../../bundle-fixtures/rootfs.js";
import { cgroupDirsOf, message, processesMentioning, sleep, TSRUN } from "../lib/tsrun.js";

const SUBUID = "/etc/subuid";
const SUBGID = "/etc/subgid";

function missing(): string | false {
  if (process.geteuid?.() !== 0) return "needs root (to create an unprivileged user)";
  for (const bin of ["/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/bin/setpriv", "/usr/bin/newuidmap", "/usr/bin/newgidmap", "/bin/busybox"])
    if (!existsSync(bin)) return `${bin} is not installed`;
  if (readFileSync("/proc/sys/user/max_user_namespaces", "utf8").trim() === "0") return "user namespaces are disabled";
  return false;
}

const skip = missing();
if (skip) {
  t.plan(0, `rootless: ${skip}`);
} else {
  suite();
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function suite(): void {
  const name = `tsrun-rl-${randomBytes(4).toString("hex")}`;
  const work = mkdtempSync(join(tmpdir(), "tsrun-rl-"));
  chmodSync(work, 0o755);
  let uid = -1;
  let gid = -1;
  let xdg = "";

  const dropSubids = () => {
    for (const f of [SUBUID, SUBGID]) {
      if (!existsSync(f)) continue;
      const lines = readFileSync(f, "utf8").split("\n");
      const kept = lines.filter((l) => l.split(":")[0] !== name && l.split(":")[0] !== String(uid));
      if (kept.length !== lines.length) writeFileSync(f, kept.join("\n"));
    }
  };

  t.teardown(() => {
    if (uid >= 0) {
      // anything the user still runs (only this test's containers) would keep userdel from working
      for (const p of readdirSync("/proc")) {
        try {
          if (/^\d+$/.test(p) && statSync(`/proc/${p}`).uid === uid) process.kill(Number(p), "SIGKILL");
        } catch {
          // gone
        }
      }
      dropSubids();
      spawnSync("/usr/sbin/userdel", [name]);
    }
    rmSync(work, { recursive: true, force: true });
  });

  // no automatic subordinate ranges: each case decides
  const add = spawnSync("/usr/sbin/useradd", ["-M", "-U", "-s", "/bin/sh", "-d", "/nonexistent", "-K", "SUB_UID_COUNT=0", "-K", "SUB_GID_COUNT=0", name], { encoding: "utf8" });
  if (add.status !== 0) {
    t.fail(`useradd ${name}: ${add.stderr}`);
    return;
  }
  const ids = spawnSync("id", ["-u", name], { encoding: "utf8" });
  uid = Number(ids.stdout.trim());
  gid = Number(spawnSync("id", ["-g", name], { encoding: "utf8" }).stdout.trim());
  dropSubids();
  xdg = join(work, "xdg");
  mkdirSync(xdg, { mode: 0o700 });
  chownSync(xdg, uid, gid);

  let outputs = 0;
  /** Runs as the user; stdio goes to files, as a container started by create or run -d keeps it open. */
  const asUser = (args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Result => {
    const env = { PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", USER: name, HOME: "/nonexistent", XDG_RUNTIME_DIR: xdg, ...opts.env };
    const out = join(work, `out.${++outputs}`);
    const fds = [openSync(`${out}.stdout`, "w"), openSync(`${out}.stderr`, "w")];
    try {
      // the shell execs as the user: setpriv's own execve may still pass permission checks as root
      const r = spawnSync("/usr/bin/setpriv", ["--reuid", String(uid), "--regid", String(gid), "--init-groups", "--", "/bin/sh", "-c", 'exec "$@"', "sh", ...args], {
        env, cwd: opts.cwd ?? work, stdio: ["ignore", fds[0], fds[1]], timeout: 30_000,
      });
      return { code: r.status ?? 128, stdout: readFileSync(`${out}.stdout`, "utf8"), stderr: message(readFileSync(`${out}.stderr`, "utf8")) };
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  };
  const tsrun = (args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) => asUser([TSRUN, ...args], opts);
  const stateRoot = join(xdg, "tsrun");

  try {
    accessSync(TSRUN, constants.R_OK | constants.X_OK);
  } catch {
    t.fail(`${TSRUN} is not readable and executable`);
    return;
  }
  const canRun = asUser([TSRUN, "--version"]);
  if (canRun.code !== 0) {
    t.plan(0, `the test user cannot run ${TSRUN} (it and its parent directories must be readable and searchable by others): ${canRun.stderr}`);
    return;
  }
  const userns = existsSync("/usr/bin/unshare") ? asUser(["/usr/bin/unshare", "--user", "true"]) : { code: 0, stderr: "" };
  if (userns.code !== 0) {
    t.plan(0, `unprivileged users may not create user namespaces on this host: ${userns.stderr.trim()}`);
    return;
  }

  /** A bundle dir owned by the user, config.json from `tsrun spec --rootless`, then edited. */
  let n = 0;
  const bundle = (edit: (c: Record<string, any>) => void): string => {
    const dir = join(work, `b${++n}`);
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, uid, gid);
    makeRootfs(join(dir, "rootfs"), { busybox: true });
    const spec = tsrun(["spec", "--rootless"], { cwd: dir });
    if (spec.code !== 0) throw new Error(`spec --rootless: ${spec.stderr}`);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    config.process.terminal = false;
    edit(config);
    writeFileSync(join(dir, "config.json"), JSON.stringify(config, null, "\t"));
    return dir;
  };
  const leftovers = (id: string) => ({
    state: existsSync(stateRoot) ? readdirSync(stateRoot) : [],
    cgroups: cgroupDirsOf(id),
    processes: processesMentioning(id),
  });

  t.test("spec --rootless maps the caller and matches runc's bytes", async (t) => {
    const dir = join(work, "spec");
    mkdirSync(dir);
    chownSync(dir, uid, gid);
    const r = tsrun(["spec", "--rootless"], { cwd: dir });
    t.equal(r.code, 0, r.stderr);
    const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    t.same(config.linux.uidMappings, [{ containerID: 0, hostID: uid, size: 1 }]);
    t.same(config.linux.gidMappings, [{ containerID: 0, hostID: gid, size: 1 }]);
    t.ok(config.linux.namespaces.some((ns: { type: string }) => ns.type === "user"), "a user namespace");
    t.notOk(config.linux.namespaces.some((ns: { type: string }) => ns.type === "network"), "the host network");
    t.same(config.mounts.find((m: { destination: string }) => m.destination === "/sys").type, "none", "/sys is a bind");
    if (existsSync("/usr/sbin/runc")) {
      const theirs = join(work, "spec-runc");
      mkdirSync(theirs);
      chownSync(theirs, uid, gid);
      const rr = asUser(["/usr/sbin/runc", "spec", "--rootless"], { cwd: theirs });
      t.equal(rr.code, 0, rr.stderr);
      t.equal(readFileSync(join(dir, "config.json"), "utf8"), readFileSync(join(theirs, "config.json"), "utf8"), "byte for byte");
    }
    const global = tsrun(["--rootless", "true", "spec", "-b", join(work, "spec")]);
    t.match(global.stderr, /File config.json exists/, "the global --rootless is not spec's flag");
  });

  t.test("without subordinate ids: run prints id, uid 0 inside, maps written directly", async (t) => {
    const b = bundle((c) => (c.process.args = ["sh", "-c", "id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; cat /sys/kernel/uevent_seqnum >/dev/null && echo sys-ok"]));
    const r = tsrun(["run", "--bundle", b, "rl-plain"]);
    t.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    t.match(lines[0], /^uid=0\(root\) gid=0\(root\)/, "root inside");
    t.match(lines[1], new RegExp(`^\\s*0\\s+${uid}\\s+1$`), "uid 0 is the user");
    t.match(lines[2], new RegExp(`^\\s*0\\s+${gid}\\s+1$`), "gid 0 is the user's group");
    t.equal(lines[3], "deny", "setgroups denied: the gid map was written without newgidmap");
    t.equal(lines[4], "sys-ok", "/sys is there (bound from the host)");
    t.match(r.stderr, /rootless: cannot create or join the container's cgroup/, "cgroups skipped with a warning");
    t.same(leftovers("rl-plain"), { state: [], cgroups: [], processes: [] }, "nothing left behind");
    t.equal(statSync(stateRoot).mode & 0o7777, 0o1700, "$XDG_RUNTIME_DIR/tsrun: 0700 and sticky");
  });

  t.test("with /etc/subuid and /etc/subgid ranges: newuidmap/newgidmap write the maps", async (t) => {
    const start = nextFreeStart();
    writeFileSync(SUBUID, `${readFileSync(SUBUID, "utf8").replace(/\n?$/, "\n")}${name}:${start}:65536\n`.replace(/^\n/, ""));
    writeFileSync(SUBGID, `${readFileSync(SUBGID, "utf8").replace(/\n?$/, "\n")}${name}:${start}:65536\n`.replace(/^\n/, ""));
    t.teardown(dropSubids);
    const maps = [{ containerID: 0, hostID: uid, size: 1 }, { containerID: 1, hostID: start, size: 65536 }];
    const gmaps = [{ containerID: 0, hostID: gid, size: 1 }, { containerID: 1, hostID: start, size: 65536 }];
    const b = bundle((c) => {
      c.linux.uidMappings = maps;
      c.linux.gidMappings = gmaps;
      c.process.user.additionalGids = [1000];
      c.process.args = ["sh", "-c", "id; cat /proc/self/uid_map /proc/self/setgroups"];
    });
    const r = tsrun(["run", "--bundle", b, "rl-sub"]);
    t.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n").map((l) => l.trim().replace(/\s+/g, " "));
    t.match(lines[0], /^uid=0\(root\) gid=0\(root\) groups=1000\(user\)/, "root inside, with a supplementary group");
    t.equal(lines[1], `0 ${uid} 1`);
    t.equal(lines[2], `1 ${start} 65536`, "the subordinate range is mapped");
    t.equal(lines[3], "allow", "setgroups allowed");

    // a range the user was not given is refused by newuidmap, with a clear error and no leftovers
    const bad = bundle((c) => {
      c.linux.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }, { containerID: 1, hostID: start + 65536, size: 10 }];
      c.process.args = ["true"];
    });
    const refused = tsrun(["run", "--bundle", bad, "rl-badmap"]);
    t.not(refused.code, 0);
    t.match(refused.stderr, /linux\.uidMappings: newuidmap \d+ 0 \d+ 1 1 \d+ 10: .*\/etc\/subuid/);
    t.same(leftovers("rl-badmap"), { state: [], cgroups: [], processes: [] }, "nothing left behind");
  });

  t.test("a long-running container: host uid, state, list, exec, kill, delete as the user", async (t) => {
    const id = "rl-long";
    const b = bundle((c) => (c.process.args = ["sleep", "300"]));
    const created = tsrun(["create", "--bundle", b, id]);
    t.equal(created.code, 0, created.stderr);
    t.equal(JSON.parse(tsrun(["state", id]).stdout).status, "created");
    t.equal(tsrun(["start", id]).code, 0);
    const st = JSON.parse(tsrun(["state", id]).stdout);
    t.equal(st.status, "running");
    const status = readFileSync(`/proc/${st.pid}/status`, "utf8");
    t.match(status, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, "m"), "runs as the user on the host");
    t.match(status, new RegExp(`^Gid:\\s+${gid}\\s+${gid}\\s+${gid}\\s+${gid}$`, "m"));
    t.equal(readFileSync(`/proc/${st.pid}/cmdline`, "utf8"), "sleep\x00300\0");

    const list = tsrun(["list", "--format", "json"]);
    t.equal(list.code, 0, list.stderr);
    const listed = JSON.parse(list.stdout);
    t.same(listed.map((c: { id: string; owner: string; status: string }) => [c.id, c.owner, c.status]), [[id, name, "running"]]);

    const exec = tsrun(["exec", id, "id", "-u"]);
    t.equal(exec.code, 0, exec.stderr);
    t.equal(exec.stdout, "0\n", "exec joins the user namespace");

    const ps = tsrun(["ps", id]);
    t.not(ps.code, 0);
    t.match(ps.stderr, /no cgroup: it is rootless/, "cgroup commands say why they cannot work");

    const killed = tsrun(["kill", id, "KILL"]);
    t.equal(killed.code, 0, killed.stderr);
    for (let i = 0; i < 100 && JSON.parse(tsrun(["state", id]).stdout).status !== "stopped"; i++) sleep(20);
    t.equal(JSON.parse(tsrun(["state", id]).stdout).status, "stopped");
    const del = tsrun(["delete", id]);
    t.equal(del.code, 0, del.stderr);
    t.same(leftovers(id), { state: [], cgroups: [], processes: [] }, "nothing left behind");

    // run -d, then delete --force of the running container
    const d = tsrun(["run", "-d", "--bundle", b, "rl-force"]);
    t.equal(d.code, 0, d.stderr);
    t.equal(tsrun(["kill", "--all", "rl-force", "KILL"]).code, 0, "kill --all without a cgroup signals the init");
    const forced = tsrun(["delete", "--force", "rl-force"]);
    t.equal(forced.code, 0, forced.stderr);
    t.same(leftovers("rl-force"), { state: [], cgroups: [], processes: [] });
  });

  const noV1Pids = !existsSync("/sys/fs/cgroup/pids/cgroup.procs") && "no cgroup v1 pids hierarchy to delegate (rootless limits on cgroup v2 in a delegated user slice: the guest tier, test/vm/rootless.test.sh)";
  t.test("a cgroup delegated to the user is used and removed", { skip: noV1Pids }, async (t) => {
    const parent = `/sys/fs/cgroup/pids/tsrun-rl-deleg-${randomBytes(3).toString("hex")}`;
    mkdirSync(parent);
    t.teardown(() => {
      for (const d of [join(parent, "rl-deleg"), parent]) if (existsSync(d)) rmdirSync(d);
    });
    chownSync(parent, uid, gid);
    for (const f of ["cgroup.procs", "tasks"]) chownSync(join(parent, f), uid, gid);
    const cgPath = `${parent.slice("/sys/fs/cgroup/pids".length)}/rl-deleg`;
    const b = bundle((c) => {
      c.linux.cgroupsPath = cgPath;
      c.linux.resources = { pids: { limit: 42 } };
      c.process.args = ["sleep", "300"];
    });
    const r = tsrun(["run", "-d", "--bundle", b, "rl-deleg"]);
    t.equal(r.code, 0, r.stderr);
    const pid = JSON.parse(tsrun(["state", "rl-deleg"]).stdout).pid;
    t.equal(readFileSync(join(parent, "rl-deleg", "pids.max"), "utf8").trim(), "42", "the limit is applied in the delegated cgroup");
    t.ok(readFileSync(join(parent, "rl-deleg", "cgroup.procs"), "utf8").split("\n").includes(String(pid)), "the init joined it");
    t.match(r.stderr, /runs without its .*cgroups/, "the other hierarchies are reported as skipped");
    const ps = tsrun(["ps", "--format", "json", "rl-deleg"]);
    t.same(JSON.parse(ps.stdout), [pid], "ps works through the delegated cgroup");
    t.equal(tsrun(["delete", "--force", "rl-deleg"]).code, 0);
    t.notOk(existsSync(join(parent, "rl-deleg")), "the container's cgroup is removed");
    t.same(leftovers("rl-deleg"), { state: [], cgroups: [], processes: [] });
  });

  const noUnshare = !existsSync("/usr/bin/unshare") && "unshare(1) is not installed";
  t.test("on a cgroup2 host (a private mount namespace with cgroup2 at /sys/fs/cgroup)", { skip: noUnshare }, async (t) => {
    // unshare needs root: enter the mount namespace first, then become the user
    const inV2 = (args: string[]): Result => {
      const out = join(work, `v2.${++outputs}`);
      const fds = [openSync(`${out}.stdout`, "w"), openSync(`${out}.stderr`, "w")];
      try {
        const script = 'mount -t cgroup2 none /sys/fs/cgroup && exec /usr/bin/setpriv --reuid "$1" --regid "$2" --init-groups -- /bin/sh -c \'exec "$@"\' sh "${@:3}"';
        const r = spawnSync("/usr/bin/unshare", ["-m", "--propagation", "private", "/bin/bash", "-c", script, "v2", String(uid), String(gid), TSRUN, ...args], {
          env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin", USER: name, XDG_RUNTIME_DIR: xdg }, cwd: work, stdio: ["ignore", fds[0], fds[1]], timeout: 30_000,
        });
        return { code: r.status ?? 128, stdout: readFileSync(`${out}.stdout`, "utf8"), stderr: message(readFileSync(`${out}.stderr`, "utf8")) };
      } finally {
        for (const fd of fds) closeSync(fd);
      }
    };
    const b = bundle((c) => (c.process.args = ["sh", "-c", "id -u; grep ' /sys/fs/cgroup ' /proc/self/mounts | tail -1"]));
    const r = inV2(["run", "--bundle", b, "rl-v2"]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^0\n\S+ \/sys\/fs\/cgroup cgroup2 ro,/, "uid 0; the host's cgroup2 bound read-only (no cgroup namespace to mount one)");
    t.match(r.stderr, /rootless: cannot create or join the container's cgroup .*without a cgroup of its own/);
    t.notMatch(r.stderr, /device rules are not enforced on cgroup v2/, "no device rule warning without a cgroup");
    const limited = bundle((c) => {
      c.linux.resources = { pids: { limit: 10 } };
      c.process.args = ["true"];
    });
    const refused = inV2(["run", "--bundle", limited, "rl-v2-limit"]);
    t.not(refused.code, 0);
    t.match(refused.stderr, /cannot set pids limit: rootless: the container could not create or join its cgroup/);
    t.same(leftovers("rl-v2"), { state: [], cgroups: [], processes: [] });
    t.same(leftovers("rl-v2-limit"), { state: [], cgroups: [], processes: [] });
  });

  t.test("what cannot work rootless fails clearly and leaves nothing behind", async (t) => {
    const limited = bundle((c) => {
      c.linux.resources = { memory: { limit: 64 << 20 } };
      c.process.args = ["true"];
    });
    const r = tsrun(["run", "--bundle", limited, "rl-limit"]);
    t.not(r.code, 0);
    t.match(r.stderr, /cannot set memory limits: rootless: the container could not create or join its memory cgroup/);
    t.same(leftovers("rl-limit"), { state: [], cgroups: [], processes: [] });

    const strict = bundle((c) => (c.process.args = ["true"]));
    const notRootless = tsrun(["--rootless", "false", "run", "--bundle", strict, "rl-strict"]);
    t.not(notRootless.code, 0, "--rootless false: cgroup permission errors are errors");
    t.match(notRootless.stderr, /failed to create cgroup directory .*permission denied/);
    t.same(leftovers("rl-strict"), { state: [], cgroups: [], processes: [] });

    const rootful = join(work, "rootful");
    mkdirSync(rootful);
    makeRootfs(join(rootful, "rootfs"), { busybox: true });
    const spec = spawnSync(TSRUN, ["spec", "-b", rootful], { encoding: "utf8" });
    t.equal(spec.status, 0, spec.stderr);
    const nous = tsrun(["run", "--bundle", rootful, "rl-nouserns"]);
    t.not(nous.code, 0);
    t.match(nous.stderr, /not root, so the container needs a user namespace .*tsrun spec --rootless/);
    t.same(leftovers("rl-nouserns"), { state: [], cgroups: [], processes: [] });

    const noXdg = asUser(["/usr/bin/env", "-u", "XDG_RUNTIME_DIR", TSRUN, "list"]);
    if (!existsSync(`/run/user/${uid}`)) {
      t.not(noXdg.code, 0);
      t.match(noXdg.stderr, /XDG_RUNTIME_DIR is not set .* pass --root/, "no usable default root: a clear error");
    }
    const explicit = join(work, "explicit-root");
    mkdirSync(explicit, { mode: 0o700 });
    chownSync(explicit, uid, gid);
    const listed = tsrun(["--root", explicit, "list", "-q"], { env: { XDG_RUNTIME_DIR: "" } });
    t.equal(listed.code, 0, `--root works without XDG_RUNTIME_DIR: ${listed.stderr}`);
    t.match(tsrun(["--rootless", "maybe", "list"]).stderr, /invalid value for --rootless: "maybe"/);
  });
}

/** The first subordinate id past every range in /etc/subuid and /etc/subgid (at least 200000). */
function nextFreeStart(): number {
  let end = 200000;
  for (const f of [SUBUID, SUBGID]) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, "utf8").split("\n")) {
      const [, s, c] = line.split(":");
      if (s && c) end = Math.max(end, Number(s) + Number(c));
    }
  }
  return end;
}
