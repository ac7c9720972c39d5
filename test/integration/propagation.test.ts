// Mount propagation of bind volumes (issue 19, item 19), as root, side by side with runc. Kubernetes'
// Bidirectional is rootfsPropagation "rshared" plus a volume with "rshared": a mount made on the
// host under the volume's source appears in the container and the reverse, while the container's
// own mounts (proc, dev...) never reach the host. rslave: host -> container only. rprivate: neither.
import t from "tap";
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle } from "../../bundle-fixtures/rootfs.js";
import { Runtime, TSRUN } from "../lib/tsrun.js";
import { RUNC, runcIfInstalled } from "../lib/runc.js";
import { spawnSync } from "node:child_process";

const work = mkdtempSync(join(tmpdir(), "tsrun-propagation-"));
chmodSync(work, 0o755);
const rt = new Runtime();
const runc = runcIfInstalled();
const mounted: string[] = [];
const sh = (cmd: string) => spawnSync("sh", ["-c", cmd], { encoding: "utf8" });
t.teardown(() => {
  rt.cleanup();
  runc?.cleanup();
  for (const m of mounted.reverse()) sh(`umount -R '${m}' 2>/dev/null`);
  rmSync(work, { recursive: true, force: true });
});

const mountinfo = () => readFileSync("/proc/self/mountinfo", "utf8");

interface Outcome { containerSawHost: boolean; hostSawContainer: boolean; leaked: string[]; code: number | null; out: string }

/** One container with a volume from a fresh shared tmpfs on the host, both sides mounting under it. */
async function scenario(runtime: string, root: string, name: string, rootfsPropagation: string, volumeProp: string): Promise<Outcome> {
  const source = join(work, `${name}-src`);
  mkdirSync(source);
  if (sh(`mount -t tmpfs ${name}-src '${source}' && mount --make-shared '${source}'`).status !== 0) throw new Error("cannot make a shared tmpfs");
  mounted.push(source);
  mkdirSync(join(source, "h"));
  mkdirSync(join(source, "c"));
  const script = [
    "touch /vol/ready",
    "i=0; while [ ! -e /vol/h/from-host ] && [ $i -lt 60 ]; do sleep 0.05; i=$((i+1)); done",
    "[ -e /vol/h/from-host ] && echo container-saw-host",
    "mount -t tmpfs from-container /vol/c && touch /vol/c/from-container && echo mounted",
    "i=0; while [ ! -e /vol/done ] && [ $i -lt 60 ]; do sleep 0.05; i=$((i+1)); done",
  ].join("\n");
  const b = makeBundle(join(work, name), {
    rootfs: "busybox",
    args: ["sh", "-c", script],
    mutate: (c) => {
      c.linux!.rootfsPropagation = rootfsPropagation;
      c.root!.readonly = false;
      c.mounts!.push({ destination: "/vol", type: "bind", source, options: ["rbind", volumeProp] });
      for (const set of ["bounding", "permitted", "effective"] as const) c.process!.capabilities![set]!.push("CAP_SYS_ADMIN");
    },
  });
  const child = spawn(runtime, ["--root", root, "run", "--bundle", b.bundle, `${name}-${process.pid}`], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // the container says it runs (a file on the shared tmpfs: files need no propagation)
  const end = Date.now() + 10_000;
  while (Date.now() < end && !existsSync(join(source, "ready"))) await new Promise((r) => setTimeout(r, 20));
  sh(`mount -t tmpfs from-host '${join(source, "h")}' && touch '${join(source, "h", "from-host")}'`);
  let hostSawContainer = false;
  for (let k = 0; k < 60 && !hostSawContainer; k++) {
    hostSawContainer = existsSync(join(source, "c", "from-container"));
    if (!hostSawContainer) await new Promise((r) => setTimeout(r, 50));
  }
  const leaked = mountinfo().split("\n").filter((l) => l.includes(b.rootfs));
  writeFileSync(join(source, "done"), "");
  const code = await exited;
  return { containerSawHost: out.includes("container-saw-host"), hostSawContainer, leaked, code, out };
}

const cases: { name: string; rootfs: string; volume: string; toContainer: boolean; toHost: boolean }[] = [
  { name: "bidirectional", rootfs: "rshared", volume: "rshared", toContainer: true, toHost: true },
  { name: "hosttocontainer", rootfs: "rslave", volume: "rslave", toContainer: true, toHost: false },
  { name: "private", rootfs: "rprivate", volume: "rprivate", toContainer: false, toHost: false },
];
for (const c of cases) {
  t.test(`rootfsPropagation ${c.rootfs}, volume ${c.volume}`, async (t) => {
    const got = await scenario(TSRUN, rt.root, `ts-${c.name}`, c.rootfs, c.volume);
    t.equal(got.code, 0, got.out);
    t.equal(got.containerSawHost, c.toContainer, `a mount made on the host under the source ${c.toContainer ? "appears" : "does not appear"} in the container`);
    t.equal(got.hostSawContainer, c.toHost, `a mount made in the container under the volume ${c.toHost ? "appears" : "does not appear"} on the host`);
    t.same(got.leaked, [], "none of the container's own mounts (rootfs, proc, dev...) reached the host");
    if (runc) {
      const r = await scenario(RUNC, runc.root, `runc-${c.name}`, c.rootfs, c.volume);
      t.same({ toContainer: r.containerSawHost, toHost: r.hostSawContainer, leaked: r.leaked.length }, { toContainer: c.toContainer, toHost: c.toHost, leaked: 0 }, `runc 1.1.5 does the same (exit ${r.code})`);
    }
  });
}
