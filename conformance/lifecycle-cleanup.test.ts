// Failing and racing lifecycle steps leave nothing behind and do nothing twice (runtime.md#lifecycle:
// poststop hooks run once the container is deleted; a create that fails leaves no trace).
import t from "tap";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Env, RUNTIME, dev, host, type OciConfig } from "./lib.js";

const env = new Env("cleanup");
t.teardown(() => env.cleanup());

t.test("a bind mount whose source is missing: create fails and makes no mountpoint in the rootfs", async (t) => {
  const b = env.bundle({
    rootfs: "probe",
    args: ["/probe"],
    mutate: (c: OciConfig) => {
      c.process!.terminal = false;
      c.mounts!.push({ destination: "/new-file", type: "bind", source: "/no/such/source", options: ["bind"] });
      c.mounts!.push({ destination: "/new-dir/sub", type: "bind", source: "/no/such/dir", options: ["rbind"] });
    },
  });
  const id = env.id("nosrc");
  const r = env.create(b, id);
  t.not(r.status, 0, "create fails");
  t.match(r.stderr, /no such file or directory/);
  t.notOk(existsSync(join(b.rootfs, "new-file")), "no file made for the mountpoint");
  t.notOk(existsSync(join(b.rootfs, "new-dir")), "no directory made for the later one");
  t.equal(env.state(id), null, "no container left");
});

t.test("concurrent delete --force of one container: its poststop hooks run once", async (t) => {
  const dir = env.dir("poststop");
  const log = join(dir, "ran");
  const hook = join(dir, "poststop.sh");
  writeFileSync(hook, `#!/bin/sh\ncat > /dev/null\necho ran >> ${log}\n`);
  chmodSync(hook, 0o755);
  const b = env.bundle({
    rootfs: host.busybox ? "busybox" : "probe",
    args: host.busybox ? ["sleep", "100"] : ["/probe", "-n", "pause"],
    mutate: (c: OciConfig) => ((c.process!.terminal = false), (c.hooks = { poststop: [{ path: hook }] })),
  });
  const rounds = 10;
  for (let i = 0; i < rounds; i++) {
    const id = env.id("race");
    t.equal(env.create(b, id).status, 0);
    t.equal(env.start(id).status, 0);
    const deletes = Array.from({ length: 4 }, () => new Promise<number>((resolve) => {
      spawn(RUNTIME, ["--root", env.root, "delete", "--force", id], { stdio: "ignore" }).on("exit", (code) => resolve(code ?? 1));
    }));
    await Promise.all(deletes);
    t.equal(env.state(id), null, `round ${i}: the container is gone`);
  }
  const ran = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean).length : 0;
  t.equal(ran, rounds, "poststop ran once per container", dev("concurrentDeletePoststop"));
});
