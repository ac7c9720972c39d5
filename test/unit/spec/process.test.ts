// exec --process: process.json validation, and state documents.
import t from "tap";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadProcessFile, validateProcess, validateState } from "../../../src/spec/load.js";
import { SpecError } from "../../../src/spec/problems.js";
import { errors, hasProblem, runcSpec, tempBundle, warnings } from "./fixtures/helpers.js";

const goodProcess = () => ({
  terminal: false,
  user: { uid: 0, gid: 0 },
  args: ["/bin/sh", "-c", "echo hi"],
  env: ["PATH=/usr/bin:/bin"],
  cwd: "/",
  capabilities: { bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"] },
  noNewPrivileges: true,
});

t.test("a process.json like containerd's passes", async (t) => {
  t.same(validateProcess(goodProcess(), "p.json"), []);
  t.same(validateProcess(runcSpec().process, "p.json"), []);
});

t.test("pointers are relative to the process file, or prefixed", async (t) => {
  const p = { ...goodProcess(), cwd: "tmp", args: [], user: { uid: "0", gid: 0 }, rlimits: [{ type: "RLIMIT_CORE", soft: 2, hard: 1 }] };
  const problems = validateProcess(p, "p.json");
  hasProblem(t, problems, "/cwd", 'must be an absolute path (the working directory), not "tmp"');
  hasProblem(t, problems, "/args", "must be a non-empty array of strings");
  hasProblem(t, problems, "/user/uid", 'must be a user or group id from 0 to 4294967295, not a string ("0")');
  hasProblem(t, problems, "/rlimits/0/soft", "the soft limit (2) must not be greater than the hard limit (1)");
  const prefixed = validateProcess(p, "c.json", "/process");
  hasProblem(t, prefixed, "/process/cwd", 'must be an absolute path (the working directory), not "tmp"');
  hasProblem(t, prefixed, "/process/args", "must be a non-empty array of strings");
});

t.test("a process without args, or not an object", async (t) => {
  const { args: _args, ...noArgs } = goodProcess();
  hasProblem(t, validateProcess(noArgs, "p.json"), "/args", /^is required and must be a non-empty array of strings/);
  hasProblem(t, validateProcess([], "p.json"), "", "must be a process object {args, env, cwd, user, ...}, not an empty array");
  hasProblem(t, validateProcess(null, "p.json"), "", "must be a process object {args, env, cwd, user, ...}, not null");
});

t.test("checked against the container: uid mapped in its user namespace", async (t) => {
  const spec = runcSpec();
  spec.linux.namespaces.push({ type: "user" });
  spec.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 100 }];
  spec.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 100 }];
  const p = { ...goodProcess(), user: { uid: 500, gid: 0, additionalGids: [7, 200] } };
  const problems = validateProcess(p, "p.json", "", spec);
  hasProblem(t, problems, "/user/uid", /^uid 500 is not mapped by linux\.uidMappings/);
  hasProblem(t, problems, "/user/additionalGids/1", "gid 200 is not mapped by linux.gidMappings");
  t.equal(errors(problems).length, 2);
});

t.test("unknown fields in process.json are warnings", async (t) => {
  const p = { ...goodProcess(), argv: ["x"] };
  const problems = validateProcess(p, "p.json");
  t.same(errors(problems), []);
  hasProblem(t, problems, "/argv", 'unknown property "argv" is ignored (did you mean "args"?)', "warning");
});

t.test("loadProcessFile", async (t) => {
  const dir = tempBundle(t, undefined, false);
  const good = join(dir, "good.json");
  writeFileSync(good, JSON.stringify(goodProcess()));
  const loaded = loadProcessFile(good);
  t.same(loaded.process.args, ["/bin/sh", "-c", "echo hi"]);
  t.same(warnings(loaded.warnings), []);
  const bad = join(dir, "bad.json");
  writeFileSync(bad, JSON.stringify({ ...goodProcess(), cwd: "" }));
  const e = t.throws(() => loadProcessFile(bad)) as unknown as SpecError;
  t.ok(e instanceof SpecError);
  t.match(e.message, /bad\.json: \/cwd: must be an absolute path/);
  const missing = t.throws(() => loadProcessFile(join(dir, "nope.json"))) as unknown as SpecError;
  t.match(missing.problems[0].message, /^cannot read process file: no such file/);
});

t.test("state documents", async (t) => {
  const state = {
    ociVersion: "1.2.1",
    id: "c1",
    pid: 4242,
    status: "running",
    bundle: "/b",
    rootfs: "/b/rootfs",
    created: "2026-11-23T15:00:00.123456789Z",
    owner: "",
    annotations: { a: "b" },
  };
  t.same(validateState(state, "state.json"), []);
  const bad = validateState({ ...state, status: "exited", pid: -5, id: "" }, "state.json");
  hasProblem(t, bad, "/status", '"exited" is not one of creating, created, running, paused, stopped');
  hasProblem(t, bad, "/pid", "must be a process id (0 when stopped), not -5");
  hasProblem(t, bad, "/id", "must be a non-empty container id, not an empty string");
  const { bundle: _b, ...noBundle } = state;
  hasProblem(t, validateState(noBundle, "state.json"), "/bundle", "is required and must be the absolute path of the bundle");
});
