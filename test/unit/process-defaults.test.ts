// What the plan fills in for a process as runc does (HOME, the cwd, stdio's owner) and the rules
// shared by config.json and exec's flags (ids, capabilities, device numbers, root.path).
import t from "tap";
import { compile, type HostFacts, type PlanOptions } from "../../src/plan/compile.js";
import { compileExec } from "../../src/plan/exec.js";
import type { Op } from "../../src/plan/ops.js";
import { validateConfig, validateProcess } from "../../src/spec/load.js";
import { rootPathProblem } from "../../src/spec/rootfs.js";
import { capabilityProblem, processIdProblem } from "../../src/spec/semantic.js";
import type { Process, Spec } from "../../src/spec/types.js";

const host: HostFacts = { statKind: () => "dir" };
const opts: PlanOptions = { bundle: "/b", rootfs: "/b/rootfs" };

function spec(process: Partial<Process> = {}): Spec {
  return {
    ociVersion: "1.2.0",
    process: { cwd: "/", args: ["true"], env: ["PATH=/bin"], user: { uid: 1000, gid: 1000 }, ...process },
    root: { path: "rootfs" },
    mounts: [{ destination: "/proc", type: "proc", source: "proc" }],
    linux: { namespaces: [{ type: "pid" }, { type: "mount" }] },
  };
}
const ops = (s: Spec) => compile(s, opts, host).ops;
const of = (list: Op[], name: string) => list.filter((o) => o.op === name);
const envOf = (list: Op[]) => String(of(list, "EXEC")[0].strs![1]).split("\0").filter(Boolean);

t.test("HOME: the init looks it up when process.env has none (or an empty one)", (t) => {
  const none = ops(spec());
  t.same(of(none, "HOME").map((o) => o.ints), [[1000]], "one HOME op for the process's uid");
  t.ok(none.findIndex((o) => o.op === "HOME") < none.findIndex((o) => o.op === "SETRESUID"), "before the uid changes (/etc/passwd may be root's alone)");
  t.ok(none.findIndex((o) => o.op === "HOME") > none.findIndex((o) => o.op === "PIVOT_ROOT"), "after pivot_root: the container's /etc/passwd, mounts included");
  const set = ops(spec({ env: ["PATH=/bin", "HOME=/h"] }));
  t.same(of(set, "HOME"), [], "a HOME in the env is kept");
  t.same(envOf(set), ["PATH=/bin", "HOME=/h"]);
  const empty = ops(spec({ env: ["HOME=", "PATH=/bin"] }));
  t.equal(of(empty, "HOME").length, 1, "an empty HOME counts as none");
  t.same(envOf(empty), ["PATH=/bin"], "and is dropped, so the looked-up one is the only HOME");
  const ex = compileExec(spec().process!, { nsFlags: 0, pidfd: 3 }).ops;
  t.same(of(ex, "HOME").map((o) => o.ints), [[1000]], "exec too");
  t.end();
});

t.test("a missing cwd is created in the root before pivot_root, as root, 0755", (t) => {
  const list = ops(spec({ cwd: "/work/dir" }));
  const mk = of(list, "MKDIR_IN_ROOT");
  t.same(mk.map((o) => [o.strs, o.ints, o.origin]), [[["/work/dir"], [0o755, 1], "process.cwd"]]);
  const at = list.indexOf(mk[0]);
  t.ok(at < list.findIndex((o) => o.op === "PIVOT_ROOT"), "inside the root, before pivot_root");
  t.ok(at < list.findIndex((o) => o.op === "SETRESUID"), "with root's rights");
  t.same(of(ops(spec({ cwd: "/" })), "MKDIR_IN_ROOT"), [], "/ needs nothing");
  t.same(of(compileExec(spec({ cwd: "/x" }).process!, { nsFlags: 0, pidfd: 3 }).ops, "MKDIR_IN_ROOT"), [], "exec does not create its cwd (runc)");
  t.end();
});

t.test("stdio is given to the process's uid before it changes", (t) => {
  const list = ops(spec());
  t.same(of(list, "STDIO_OWNER").map((o) => o.ints), [[1000]]);
  t.ok(list.findIndex((o) => o.op === "STDIO_OWNER") < list.findIndex((o) => o.op === "SETRESUID"));
  t.end();
});

t.test("ids above 2147483647 are refused with the pointer; 2147483647 is fine", (t) => {
  t.equal(processIdProblem(2147483647, "uid"), undefined);
  t.match(processIdProblem(4294967295, "uid") ?? "", /leave unchanged/);
  t.match(processIdProblem(2147483648, "gid") ?? "", /from 0 to 2147483647/);
  const doc = spec({ user: { uid: 4294967295, gid: 2147483648, additionalGids: [1, 4294967295] } });
  const pointers = validateConfig(doc, "c.json").filter((p) => p.severity === "error").map((p) => p.pointer);
  t.same(pointers, ["/process/user/uid", "/process/user/gid", "/process/user/additionalGids/1"]);
  const proc = validateProcess({ args: ["true"], cwd: "/", user: { uid: 0, gid: 4294967295 } }, "p.json").filter((p) => p.severity === "error");
  t.same(proc.map((p) => p.pointer), ["/user/gid"], "process.json (exec --process) too");
  t.end();
});

t.test("id mappings may not reach 4294967295", (t) => {
  const withMaps = (m: { containerID: number; hostID: number; size: number }) => {
    const s = spec({ user: { uid: 0, gid: 0 } });
    s.linux!.namespaces!.push({ type: "user" });
    s.linux!.uidMappings = [m];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
    return validateConfig(s, "c.json").filter((p) => p.severity === "error" && p.pointer.startsWith("/linux/")).map((p) => p.pointer);
  };
  t.same(withMaps({ containerID: 0, hostID: 4294967290, size: 6 }), ["/linux/uidMappings/0/size"], "hostID range reaching it");
  t.same(withMaps({ containerID: 4294967295, hostID: 0, size: 1 }), ["/linux/uidMappings/0/size"], "containerID 4294967295 itself");
  t.same(withMaps({ containerID: 0, hostID: 4294967290, size: 5 }), [], "ending at 4294967294 is fine");
  t.end();
});

t.test("capabilities: one rule for config.json and exec --cap", (t) => {
  t.equal(capabilityProblem("CAP_KILL"), undefined);
  t.equal(capabilityProblem("CAP_SOMETHING_NEWER")?.severity, "warning", "well-formed but unknown: ignored with a warning");
  t.equal(capabilityProblem("net_raw")?.severity, "error", "a misspelling: an error");
  t.match(capabilityProblem("net_raw")?.message ?? "", /CAP_NET_RAW/, "with a suggestion");
  t.end();
});

t.test("linux.devices numbers must name a node: -1 and out-of-range values are refused", (t) => {
  const errs = (d: Record<string, unknown>) => {
    const s = spec();
    s.linux!.devices = [{ path: "/dev/x", type: "c", major: 1, minor: 3, ...d }] as never;
    return validateConfig(s, "c.json").filter((p) => p.severity === "error").map((p) => p.pointer);
  };
  t.same(errs({ major: -1 }), ["/linux/devices/0/major"]);
  t.same(errs({ minor: -1 }), ["/linux/devices/0/minor"]);
  t.same(errs({ major: 4096 }), ["/linux/devices/0/major"]);
  t.same(errs({ minor: 1048576 }), ["/linux/devices/0/minor"]);
  t.same(errs({ major: 4095, minor: 1048575 }), [], "the largest numbers are fine");
  const s = spec();
  s.linux!.resources = { devices: [{ allow: true, type: "c", major: -1, minor: -1, access: "rwm" }] };
  t.same(validateConfig(s, "c.json").filter((p) => p.severity === "error"), [], "resources.devices -1 is a wildcard");
  t.end();
});

t.test("root.path: no symlink in its own components", (t) => {
  const links: Record<string, string> = { "/b/link": "/b/rootfs", "/b/d/l": "/", "/real/bundle/link": "/real/bundle/rootfs" };
  const realPath = (p: string) => {
    if (p === "/bundle-link") return "/real/bundle";
    return links[p] ?? p;
  };
  t.equal(rootPathProblem("rootfs", "/b", realPath), undefined);
  t.match(rootPathProblem("link", "/b", realPath) ?? "", /link is a symlink/);
  t.match(rootPathProblem("/b/d/l", "/b", realPath) ?? "", /leads to \//);
  t.equal(rootPathProblem("rootfs", "/bundle-link", realPath), undefined, "a symlinked bundle directory is fine (runc changes into it first)");
  t.match(rootPathProblem("link", "/bundle-link", realPath) ?? "", /symlink/, "a link inside it is not");
  t.equal(rootPathProblem("sub/../rootfs", "/b", realPath), undefined, "lexical .. is fine");
  t.end();
});
