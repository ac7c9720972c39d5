// runCheck: bundle + schema + semantic + host, as text and as JSON.
import t from "tap";
import { runCheck } from "../../../src/spec/check.js";
import type { HostFacts } from "../../../src/spec/host-check.js";
import { runcSpec, tempBundle } from "./fixtures/helpers.js";

const facts = (rootfsExists: boolean): HostFacts => ({
  namespaces: new Set(["pid", "net", "mnt", "ipc", "uts", "user", "cgroup", "time"]),
  cgroup: { mode: "v1", v1Controllers: new Set(["devices", "memory"]), v2Controllers: new Set() },
  seccomp: { available: true },
  statPath: (p) => (rootfsExists && p.endsWith("/rootfs") ? "dir" : undefined),
  isExecutable: () => true,
});

t.test("a valid bundle: exit 0, one ok line", async (t) => {
  const dir = tempBundle(t, runcSpec());
  const r = runCheck(dir, "text", { facts: facts(true) });
  t.equal(r.exitCode, 0);
  t.equal(r.output, `${dir}/config.json: ok\n`);
  const j = runCheck(dir, "json", { facts: facts(true) });
  t.equal(j.exitCode, 0);
  t.same(JSON.parse(j.output), { ok: true, problems: [] });
});

t.test("errors from every layer at once, one a line", async (t) => {
  const d = runcSpec();
  d.process.cwd = "relative";
  d.linux.namespaces[0].type = "pidd";
  d.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["nosuchcall"], action: "SCMP_ACT_ERRNO" }] };
  const dir = tempBundle(t, JSON.stringify(d, null, 2).replace('"hostname": "runc"', '"hostname": "runc",\n  "hostname": "again"'));
  const r = runCheck(dir, "text", { facts: facts(false) });
  t.equal(r.exitCode, 1);
  const file = `${dir}/config.json`;
  t.same(r.output.trimEnd().split("\n"), [
    `${file}: /linux/namespaces/0/type: "pidd" is not one of pid, network, mount, ipc, uts, user, cgroup, time`,
    `${file}: /process/cwd: must be an absolute path (the working directory), not "relative"`,
    `${file}: /root/path: the root filesystem ${dir}/rootfs does not exist`,
    `${file}: /linux/seccomp/syscalls/0/names/0: warning: unknown syscall "nosuchcall": the rule ignores it`,
    `${file}: /hostname: warning: duplicate property "hostname": only the last one counts (line 53, column 3)`,
  ]);
  const j = JSON.parse(runCheck(dir, "json", { facts: facts(false) }).output);
  t.equal(j.ok, false);
  t.equal(j.problems.length, 5);
  t.same(Object.keys(j.problems[0]).sort(), ["file", "message", "pointer", "severity"]);
});

t.test("warnings only: exit 0, summary says so", async (t) => {
  const d = runcSpec();
  d.linux.namespace = [];
  const dir = tempBundle(t, d);
  const r = runCheck(dir, "text", { facts: facts(true) });
  t.equal(r.exitCode, 0);
  t.match(r.output, /: \/linux\/namespace: warning: unknown property "namespace" is ignored \(did you mean "namespaces"\?\)\n.*: ok \(1 warning\)\n$/);
});

t.test("bad JSON and a missing config.json", async (t) => {
  const dir = tempBundle(t, '{\n  "ociVersion": "1.0.2",\n  "root": {"path": "rootfs"\n');
  const r = runCheck(dir, "json", { facts: facts(true) });
  t.equal(r.exitCode, 1);
  t.match(JSON.parse(r.output).problems[0].message, /^invalid JSON at line 4, column 1: unexpected end of file/);
  const empty = tempBundle(t, undefined);
  const m = runCheck(empty, "text", { facts: facts(true) });
  t.equal(m.exitCode, 1);
  t.match(m.output, /config\.json: cannot read the bundle's config\.json: no such file: is --bundle right\?\n$/, "a whole-document problem prints no pointer");
});

t.test("a huge integer that loses precision is a warning", async (t) => {
  const text = JSON.stringify(runcSpec(), null, 2).replace('"soft": 1024', '"soft": 9007199254740993');
  const d = JSON.parse(text);
  d.process.rlimits[0].hard = 9007199254740994;
  const dir = tempBundle(t, text.replace('"hard": 1024', '"hard": 9007199254740994'));
  const r = runCheck(dir, "text", { facts: facts(true), noHost: true });
  t.match(r.output, /\/process\/rlimits\/0\/soft: warning: the integer 9007199254740993 cannot be represented exactly and is read as 9007199254740992/);
});

t.test("--systemd-cgroup changes the cgroupsPath rule", async (t) => {
  const d = runcSpec();
  d.linux.cgroupsPath = "/tsrun/x";
  const dir = tempBundle(t, d);
  t.equal(runCheck(dir, "text", { facts: facts(true) }).exitCode, 0);
  const r = runCheck(dir, "text", { facts: facts(true), systemdCgroup: true });
  t.equal(r.exitCode, 1);
  t.match(r.output, /\/linux\/cgroupsPath: with --systemd-cgroup it must have the form slice:prefix:name/);
});

t.test("this host, no injected facts", async (t) => {
  const dir = tempBundle(t, runcSpec());
  const r = runCheck(dir, "json");
  const out = JSON.parse(r.output);
  t.type(out.ok, "boolean");
  t.equal(r.exitCode, out.ok ? 0 : 1);
});
