// config.md#posix-platform-hooks and runtime.md#lifecycle: each hook kind
// runs at its moment, in its namespace, in the listed order, with the state
// on stdin; failing hooks stop the lifecycle (or only warn, for poststart
// and poststop).
import t from "tap";
import { chmodSync, copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Env, dev, fileText, host, nsLink, pidAlive, waitFor, type Bundle, type OciConfig, type OciHook } from "./lib.js";

const env = new Env("hooks");
t.teardown(() => env.cleanup());

// hook.sh LABEL DIR [EXIT [SLEEP]]: records what it sees under DIR/LABEL.*
const hookScript = `#!/bin/sh
label="$1"; dir="$2"; code="\${3:-0}"; nap="\${4:-0}"
state="$(cat)"
printf '%s\\n' "$state" > "$dir/$label.state"
echo "$label" >> "$dir/order"
readlink /proc/self/ns/mnt > "$dir/$label.mnt"
readlink /proc/self/ns/net > "$dir/$label.net"
env > "$dir/$label.env"
echo "$@" > "$dir/$label.args"
if [ -e "$dir/report.json" ]; then echo yes; else echo no; fi > "$dir/$label.program-ran"
pid=$(printf '%s' "$state" | sed -n 's/.*"pid": *\\([0-9][0-9]*\\).*/\\1/p')
if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then
  echo alive > "$dir/$label.alive"
  tr '\\000' ' ' < "/proc/$pid/cmdline" > "$dir/$label.cmdline" 2>/dev/null
else
  echo gone > "$dir/$label.alive"
fi
if [ "$nap" != 0 ]; then exec sleep "$nap"; fi
exit "$code"
`;
const hookPath = join(env.tmp, "hook.sh");
writeFileSync(hookPath, hookScript);
chmodSync(hookPath, 0o755);

interface HookRun {
  b: Bundle;
  dir: string;
  id: string;
}

/** A busybox bundle (startContainer hooks run a shell in the container) with /out = dir. */
function hookBundle(hooks: (dir: string) => OciConfig["hooks"], mutate?: (c: OciConfig) => void): HookRun {
  const dir = env.dir("hooks");
  const b = env.bundle({
    rootfs: host.busybox ? "busybox" : "probe",
    args: ["/probe", "--out", "/out/report.json", "pause"],
    mutate: (c) => {
      c.mounts!.push({ destination: "/out", type: "bind", source: dir, options: ["rbind", "rw"] });
      c.hooks = hooks(dir);
      mutate?.(c);
    },
  });
  copyFileSync(hookPath, join(b.rootfs, "hook-in-container.sh"));
  chmodSync(join(b.rootfs, "hook-in-container.sh"), 0o755);
  return { b, dir, id: env.id() };
}

function hook(label: string, dir: string, extra: Partial<OciHook> = {}, code = 0, nap = 0): OciHook {
  return { path: hookPath, args: ["hook.sh", label, dir, String(code), String(nap)], ...extra };
}

/** A startContainer hook: its path resolves in the container. */
function inContainerHook(label: string, code = 0): OciHook {
  return { path: "/hook-in-container.sh", args: ["hook-in-container.sh", label, "/out", String(code)] };
}

function order(dir: string): string[] {
  return (fileText(join(dir, "order")) ?? "").split("\n").filter(Boolean);
}

function stateOf(dir: string, label: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(join(dir, `${label}.state`), "utf8")) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function text(dir: string, label: string, what: string): string | undefined {
  return fileText(join(dir, `${label}.${what}`))?.trim();
}

t.test("config.md#posix-platform-hooks: every hook kind runs at its moment, with the state on stdin", (t) => {
  const { b, dir, id } = hookBundle(
    (dir) => ({
      prestart: [hook("prestart", dir)],
      createRuntime: [hook("createRuntime", dir)],
      createContainer: [hook("createContainer", dir)],
      startContainer: [inContainerHook("startContainer")],
      poststart: [hook("poststart", dir)],
      poststop: [hook("poststop", dir)],
    }),
    (c) => (c.annotations = { "org.example.hooks": "1" }),
  );

  t.equal(env.create(b, id).status, 0, "create succeeds");
  const pid = env.state(id)?.pid ?? -1;

  // create
  t.same(order(dir), ["prestart", "createRuntime", "createContainer"], "create runs prestart, then createRuntime, then createContainer", { ...dev("poststartAtCreate"), found: order(dir) });
  for (const k of ["prestart", "createRuntime", "createContainer"]) {
    const st = stateOf(dir, k);
    t.ok(st, `${k}: the state JSON arrives on stdin`);
    t.equal(st?.id, id, `${k}: state.id`);
    t.equal(st?.bundle, b.bundle, `${k}: state.bundle`);
    t.type(st?.ociVersion, "string", `${k}: state.ociVersion`);
    t.same(st?.annotations, { "org.example.hooks": "1" }, `${k}: state.annotations`);
    t.equal(text(dir, k, "program-ran"), "no", `${k}: the user program has not run`);
  }
  t.equal(stateOf(dir, "createRuntime")?.status, "creating", "createRuntime: status is creating");
  t.equal(stateOf(dir, "createRuntime")?.pid, pid, "createRuntime (runtime namespace): pid is the host pid");
  t.equal(text(dir, "prestart", "mnt"), nsLink("self", "mnt"), "prestart runs in the runtime mount namespace");
  t.equal(text(dir, "prestart", "net"), nsLink("self", "net"), "prestart runs in the runtime network namespace");
  t.equal(text(dir, "createRuntime", "mnt"), nsLink("self", "mnt"), "createRuntime runs in the runtime mount namespace");
  t.equal(text(dir, "createRuntime", "net"), nsLink("self", "net"), "createRuntime runs in the runtime network namespace");
  t.equal(text(dir, "createContainer", "mnt"), nsLink(pid, "mnt"), "createContainer runs in the container mount namespace");
  t.equal(text(dir, "createContainer", "net"), nsLink(pid, "net"), "createContainer runs in the container network namespace");
  t.notOk(existsSync(join(dir, "startContainer.state")), "startContainer has not run during create");

  // start
  t.equal(env.start(id).status, 0, "start succeeds");
  t.ok(existsSync(join(dir, "poststart.state")), "poststart ran before start returned");
  t.equal(text(dir, "poststart", "program-ran") === "yes" || /^\/probe /.test(text(dir, "poststart", "cmdline") ?? ""), true, "poststart did not run before the program", dev("poststartAtCreate"));
  t.same(order(dir).slice(3), ["startContainer", "poststart"], "start runs startContainer, then poststart", { ...dev("poststartAtCreate"), found: order(dir) });
  t.equal(text(dir, "startContainer", "program-ran"), "no", "startContainer runs before the user program");
  t.equal(text(dir, "startContainer", "mnt"), nsLink(pid, "mnt"), "startContainer runs in the container mount namespace (its path resolved there)");
  t.equal(stateOf(dir, "startContainer")?.pid, 1, "startContainer (container namespace): pid as seen by the container");
  t.match(text(dir, "poststart", "cmdline") ?? "", /^\/probe /, "poststart runs after the user program was executed", { ...dev("poststartAtCreate"), found: text(dir, "poststart", "cmdline") });
  t.equal(text(dir, "poststart", "mnt"), nsLink("self", "mnt"), "poststart runs in the runtime mount namespace");
  t.equal(stateOf(dir, "poststart")?.pid, pid, "poststart: pid is the host pid");
  t.equal(stateOf(dir, "poststart")?.status, "running", "poststart: status is running", { ...dev("poststartAtCreate"), found: stateOf(dir, "poststart") });

  // stop and delete
  t.notOk(existsSync(join(dir, "poststop.state")), "poststop has not run before delete");
  env.kill(id, "KILL");
  env.waitStatus(id, "stopped");
  t.notOk(existsSync(join(dir, "poststop.state")), "poststop does not run when the process stops");
  t.equal(env.delete(id).status, 0, "delete succeeds");
  t.ok(existsSync(join(dir, "poststop.state")), "poststop ran before delete returned");
  t.equal(text(dir, "poststop", "alive"), "gone", "poststop runs after the container is deleted");
  t.equal(stateOf(dir, "poststop")?.status, "stopped", "poststop: status is stopped");
  t.equal(text(dir, "poststop", "mnt"), nsLink("self", "mnt"), "poststop runs in the runtime mount namespace");
  t.same(order(dir), ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"], "overall order", dev("poststartAtCreate"));
  t.end();
});

t.test("config.md#posix-platform-hooks: hooks of one kind are called in the listed order", (t) => {
  const { b, id, dir } = hookBundle((dir) => ({
    createRuntime: [hook("cr-1", dir), hook("cr-2", dir), hook("cr-3", dir)],
    poststop: [hook("ps-1", dir), hook("ps-2", dir)],
  }));
  env.create(b, id);
  t.same(order(dir), ["cr-1", "cr-2", "cr-3"], "createRuntime hooks in order");
  env.delete(id, true);
  t.same(order(dir).slice(3), ["ps-1", "ps-2"], "poststop hooks in order");
  t.end();
});

t.test("config.md#posix-platform-hooks: args and env are passed to the hook", (t) => {
  const { b, id, dir } = hookBundle((dir) => ({
    createRuntime: [{ path: hookPath, args: ["hook.sh", "ae", dir, "0", "0", "extra arg"], env: ["HOOK_VAR=hook value", "PATH=/usr/bin:/bin"] }],
  }));
  env.create(b, id);
  t.equal(text(dir, "ae", "args"), `ae ${dir} 0 0 extra arg`, "args[1:] are the hook's arguments");
  const hookEnv = (text(dir, "ae", "env") ?? "").split("\n");
  t.ok(hookEnv.includes("HOOK_VAR=hook value"), "env is the hook's environment");
  t.notOk(hookEnv.some((e) => e.startsWith("HOOK_NOT_SET_BY_CONFIG=")), "the caller's environment does not leak (sanity)");
  env.delete(id, true);
  t.end();
});

t.test("config.md#posix-platform-hooks: a hook that exceeds its timeout is aborted and is an error", (t) => {
  const { b, id } = hookBundle((dir) => ({ createRuntime: [hook("slow", dir, { timeout: 1 }, 0, 20)] }));
  const t0 = Date.now();
  const r = env.create(b, id);
  const took = Date.now() - t0;
  t.not(r.status, 0, "create fails");
  t.ok(took < 15000, `create returned after the timeout, not after the hook's 20 s (${took} ms)`);
  t.equal(env.state(id), null, "no container is left");
  t.end();
});

for (const kind of ["prestart", "createRuntime", "createContainer"] as const) {
  t.test(`runtime.md#lifecycle: a failing ${kind} hook is an error; the container is stopped and destroyed`, (t) => {
    const { b, id, dir } = hookBundle((dir) =>
      kind === "createContainer"
        ? { createRuntime: [hook("pid", dir)], createContainer: [hook(kind, dir, {}, 1)] }
        : { [kind]: [hook(kind, dir, {}, 1)] },
    );
    const before = env.rootEntries();
    const r = env.create(b, id);
    t.not(r.status, 0, "create generates an error");
    t.ok(stateOf(dir, kind), `the ${kind} hook ran`);
    // The host pid, from a hook that runs in the runtime namespace.
    const st = stateOf(dir, kind === "createContainer" ? "pid" : kind);
    const pid = typeof st?.pid === "number" ? st.pid : -1;
    t.ok(waitFor(() => !pidAlive(pid), 3000) !== undefined, "the container process is gone");
    t.equal(env.state(id), null, "the container does not exist any more");
    t.same(env.rootEntries(), before, "the runtime root is as before");
    t.notOk(existsSync(join(dir, "report.json")), "the user program never ran");
    env.delete(id, true);
    t.end();
  });
}

t.test("runtime.md#lifecycle: a failing startContainer hook is an error; the program does not run", (t) => {
  const { b, id, dir: outDir } = hookBundle(() => ({ startContainer: [inContainerHook("sc", 1)] }));
  env.create(b, id);
  const pid = env.state(id)?.pid ?? -1;
  const r = env.start(id);
  t.not(r.status, 0, "start generates an error", dev("startContainerFailure"));
  t.ok(existsSync(join(outDir, "sc.state")), "the startContainer hook ran");
  t.notOk(waitFor(() => existsSync(join(outDir, "report.json")), 500), "the user program did not run");
  t.ok(waitFor(() => !pidAlive(pid), 3000) !== undefined, "the container process is stopped");
  const st = env.state(id);
  t.ok(st === null || st.status === "stopped", "the container is stopped (or already destroyed)");
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#lifecycle: a failing poststart hook only warns; the lifecycle continues", (t) => {
  const { b, id, dir } = hookBundle((dir) => ({ poststart: [hook("ps-fail", dir, {}, 1), hook("ps-next", dir)] }));
  env.create(b, id);
  const r = env.start(id);
  t.equal(r.status, 0, "start succeeds", dev("poststartFailure"));
  t.ok(existsSync(join(dir, "ps-next.state")), "the remaining poststart hooks run", dev("poststartFailure"));
  t.equal(env.state(id)?.status, "running", "the container keeps running", dev("poststartFailure"));
  env.delete(id, true);
  t.end();
});

t.test("runtime.md#lifecycle: a failing poststop hook only warns; delete completes", (t) => {
  const { b, id, dir } = hookBundle((dir) => ({ poststop: [hook("pst-fail", dir, {}, 1), hook("pst-next", dir)] }));
  env.create(b, id);
  env.start(id);
  env.kill(id, "KILL");
  env.waitStatus(id, "stopped");
  const r = env.delete(id);
  t.equal(r.status, 0, "delete succeeds");
  t.ok(existsSync(join(dir, "pst-next.state")), "the remaining poststop hooks run", dev("poststopFailure"));
  t.equal(env.state(id), null, "the container is gone");
  t.end();
});

t.test("config.md#posix-platform-hooks: nothing is left in the runtime root", (t) => {
  for (const id of env.ids) if (env.state(id)) env.delete(id, true);
  t.same(env.rootEntries(), [], "--root is empty");
  t.end();
});
