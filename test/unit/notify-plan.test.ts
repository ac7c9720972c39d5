// NOTIFY_SOCKET: the container's notify directory is bound at /run/notify by an ordinary MOUNT op.
import t from "tap";
import { compile, type HostFacts } from "../../src/plan/compile.js";
import { MS } from "../../src/plan/constants.js";
import { MountTarget } from "../../src/plan/ops.js";
import type { Spec } from "../../src/spec/types.js";

const host: HostFacts = { statKind: () => "dir" };
const spec: Spec = {
  ociVersion: "1.2.0",
  process: { cwd: "/", args: ["true"], env: ["PATH=/bin"], user: { uid: 0, gid: 0 } },
  root: { path: "rootfs" },
  mounts: [{ destination: "/proc", type: "proc", source: "proc" }],
  linux: { namespaces: [{ type: "mount" }, { type: "pid" }] },
};

t.test("with a notify directory: a read-only nosuid/nodev/noexec bind on /run/notify, after the config's mounts", async (t) => {
  const program = compile(spec, {
    bundle: "/b", rootfs: "/b/rootfs", notifySocketDir: "/run/tsrun/c/notify", extraEnv: ["NOTIFY_SOCKET=/run/notify/notify.sock"],
  }, host);
  const i = program.ops.findIndex((op) => op.origin === "NOTIFY_SOCKET");
  t.ok(i > program.ops.findIndex((op) => op.origin === "mounts[0]"), "after the config's mounts");
  const op = program.ops[i]!;
  t.equal(op.op, "MOUNT");
  t.same(op.strs, ["/run/tsrun/c/notify", "/run/notify", "", ""]);
  t.equal(Number(op.ints![0]) & MS.BIND, MS.BIND, "a bind");
  t.equal(op.ints![1], MountTarget.DIR);
  t.equal(Number(op.ints![3]) & (MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC), MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, "remounted ro, nosuid, nodev, noexec");
  const exec = program.ops.find((o) => o.op === "EXEC")!;
  t.match(String(exec.strs![1]), /NOTIFY_SOCKET=\/run\/notify\/notify\.sock/, "the process is told where it is");
});

t.test("without one: no such mount", async (t) => {
  const program = compile(spec, { bundle: "/b", rootfs: "/b/rootfs" }, host);
  t.notOk(program.ops.some((op) => op.origin === "NOTIFY_SOCKET"));
});
