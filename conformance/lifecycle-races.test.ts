// runtime.md#lifecycle: poststart hooks run once the user process has been started. A process that
// already exited was started all the same: a runtime must not judge "did it start?" by looking
// at a process that may be gone. Looped, because a race shows only some of the time.
import t from "tap";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Env, host, type OciConfig } from "./lib.js";

const env = new Env("races");
t.teardown(() => env.cleanup());

const RUNS = 100;
const hookDir = env.dir("hook");
const hook = join(hookDir, "poststart.sh");
writeFileSync(hook, `#!/bin/sh\ncat > /dev/null\necho ran >> "$1"\n`);
chmodSync(hook, 0o755);

function bundleWithPoststart(log: string) {
  return env.bundle({
    rootfs: host.busybox ? "busybox" : "probe",
    args: host.busybox ? ["true"] : ["/probe", "exit", "0"],
    mutate: (c: OciConfig) => {
      c.process!.terminal = false;
      c.hooks = { poststart: [{ path: hook, args: [hook, log] }] };
    },
  });
}

function ranCount(log: string): number {
  try {
    return readFileSync(log, "utf8").split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

t.test(`run: a poststart hook with a process that exits at once, ${RUNS} times in a row`, async (t) => {
  const log = join(hookDir, "run.log");
  const b = bundleWithPoststart(log);
  const failures: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const { res } = env.run(b);
    if (res.status !== 0) failures.push(`run ${i}: exit ${res.status}: ${res.stderr.trim()}`);
  }
  t.same(failures, [], "every run succeeds");
  t.equal(ranCount(log), RUNS, "the poststart hook ran once per run");
});

t.test(`create + start: a poststart hook with a process that exits at once, ${RUNS} times in a row`, async (t) => {
  const log = join(hookDir, "start.log");
  const b = bundleWithPoststart(log);
  const failures: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const id = env.id("cs");
    const c = env.create(b, id);
    if (c.status !== 0) {
      failures.push(`create ${i}: exit ${c.status}: ${c.stderr.trim()}`);
      continue;
    }
    const s = env.start(id);
    if (s.status !== 0) failures.push(`start ${i}: exit ${s.status}: ${s.stderr.trim()}`);
    env.delete(id, true);
  }
  t.same(failures, [], "every create and start succeeds");
  t.equal(ranCount(log), RUNS, "the poststart hook ran once per start");
});
