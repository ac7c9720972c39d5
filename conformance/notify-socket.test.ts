// NOTIFY_SOCKET (sd_notify), as runc does it and as systemd Type=notify units and podman rely on:
// with NOTIFY_SOCKET in the runtime's environment, the container gets its own socket at
// /run/notify/notify.sock (named in its NOTIFY_SOCKET), and start / run -d return once the
// container has sent READY=1, which reaches the host's socket followed by MAINPID=<init pid>.
import t from "tap";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureProbe, notifyRecvPath } from "../bundle-fixtures/rootfs.js";
import { Env, RUNTIME, waitFor, type OciConfig } from "./lib.js";

const env = new Env("notify");
t.teardown(() => env.cleanup());
ensureProbe();

/** A host listener (what systemd would be); returns its socket and what it received so far. */
function hostListener(t: { teardown(fn: () => void): void }) {
  const dir = env.dir("host");
  const sock = join(dir, "host.sock");
  const log = join(dir, "received");
  const recv = spawn(notifyRecvPath, [sock, log], { stdio: "ignore" });
  t.teardown(() => void recv.kill("SIGTERM"));
  waitFor(() => existsSync(sock), 3000);
  const messages = () => (existsSync(log) ? readFileSync(log, "utf8") : "").split("\n--\n").filter(Boolean);
  return { sock, messages };
}

function notifyBundle(probeArgs: string[]) {
  return env.bundle({ rootfs: "probe", args: ["/probe", ...probeArgs], mutate: (c: OciConfig) => (c.process!.terminal = false) });
}

/** The runtime with NOTIFY_SOCKET in its environment and the container's stdio on files. */
function rtWithNotify(args: string[], hostSock: string, outFile: string) {
  const out = openSync(outFile, "w");
  const err = openSync(`${outFile}.err`, "w");
  try {
    const t0 = Date.now();
    const r = spawnSync(RUNTIME, ["--root", env.root, ...args], {
      stdio: ["ignore", out, err], timeout: 30_000, killSignal: "SIGKILL",
      env: { ...process.env, NOTIFY_SOCKET: hostSock },
    });
    return { status: r.status, stderr: readFileSync(`${outFile}.err`, "utf8"), ms: Date.now() - t0 };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

t.test("start waits for READY=1 and relays it, then MAINPID, to the host's socket", async (t) => {
  const host = hostListener(t);
  const b = notifyBundle(["notify", "STATUS=starting", "sleep", "1.5", "notify", "READY=1\nSTATUS=up", "pause"]);
  const id = env.id("start");
  const c = rtWithNotify(["create", "--bundle", b.bundle, id], host.sock, join(b.bundle, "out"));
  t.equal(c.status, 0, c.stderr);
  t.ok(existsSync(join(env.root, id, "notify")), "create makes <root>/<id>/notify");
  const s = rtWithNotify(["start", id], host.sock, join(b.bundle, "start.out"));
  t.equal(s.status, 0, s.stderr);
  t.ok(s.ms >= 1400, `start returned after the container's READY (took ${s.ms} ms, READY after 1500)`);
  const pid = env.state(id)?.pid;
  const got = waitFor(() => (host.messages().length >= 2 ? host.messages() : undefined), 3000) ?? host.messages();
  const relevant = got.filter((m) => !m.startsWith("[fds") && !m.includes("BARRIER"));
  t.same(relevant.map((m) => m.trim()), ["READY=1", `MAINPID=${pid}`], "READY=1, then the init's pid; nothing sent before READY");
  const report = JSON.parse(readFileSync(join(b.bundle, "out"), "utf8").trim().split("\n")[0]);
  t.ok(report.env.includes("NOTIFY_SOCKET=/run/notify/notify.sock"), "the process's NOTIFY_SOCKET names the socket in the container");
  env.delete(id, true);
});

t.test("run -d returns once the container is ready", async (t) => {
  const host = hostListener(t);
  const b = notifyBundle(["-n", "sleep", "1", "notify", "READY=1", "pause"]);
  const id = env.id("run");
  env.ids.add(id);
  const r = rtWithNotify(["run", "-d", "--bundle", b.bundle, id], host.sock, join(b.bundle, "out"));
  t.equal(r.status, 0, r.stderr);
  t.ok(r.ms >= 900, `run -d returned after READY (took ${r.ms} ms, READY after 1000)`);
  const pid = env.state(id)?.pid;
  const got = waitFor(() => (host.messages().length >= 2 ? host.messages() : undefined), 3000) ?? host.messages();
  t.same(got.filter((m) => /^(READY|MAINPID)=/.test(m)).map((m) => m.trim()), ["READY=1", `MAINPID=${pid}`]);
  env.delete(id, true);
});

t.test("a container that exits without READY does not keep start waiting", async (t) => {
  const host = hostListener(t);
  const b = notifyBundle(["-n", "sleep", "0.5", "exit", "0"]);
  const id = env.id("noready");
  t.equal(rtWithNotify(["create", "--bundle", b.bundle, id], host.sock, join(b.bundle, "out")).status, 0);
  const s = rtWithNotify(["start", id], host.sock, join(b.bundle, "start.out"));
  t.equal(s.status, 0, s.stderr);
  t.ok(s.ms < 10_000, `start returned when the process exited (${s.ms} ms)`);
  t.same(host.messages().filter((m) => /READY/.test(m)), [], "no READY was invented");
  env.delete(id, true);
});
