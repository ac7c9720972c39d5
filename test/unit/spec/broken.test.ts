// One broken config per rule: each is rejected with an error naming the JSON pointer and a
// plain sentence. The base is runc's default spec; each case breaks one thing.
import t from "tap";
import { loadBundleConfig, parseJson, validateConfig } from "../../../src/spec/load.js";
import { SpecError, type Problem } from "../../../src/spec/problems.js";
import { cases, type Case } from "./fixtures/broken-cases.js";
import { errors, FILE, hasProblem, runcSpec, tempBundle, warnings } from "./fixtures/helpers.js";

// The cases live in fixtures/broken-cases.ts, shared with the create/run/check rejection suite
// (test/integration/spec-rejection.test.ts).

function problemsFor(c: Case): Problem[] {
  try {
    if (c.text !== undefined) {
      const doc = parseJson(c.text, FILE);
      return validateConfig(doc, FILE, { systemdCgroup: c.systemd });
    }
    const doc = runcSpec();
    c.mutate!(doc);
    // Round-trip through text like a real file (drops undefined, keeps Infinity out).
    return validateConfig(parseJson(JSON.stringify(doc), FILE), FILE, { systemdCgroup: c.systemd });
  } catch (e) {
    if (e instanceof SpecError) return e.problems;
    throw e;
  }
}



t.test("broken configs", async (t) => {
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const problems = problemsFor(c);
      for (const [pointer, message, severity] of c.expect) hasProblem(t, problems, pointer, message, severity ?? "error");
      if (c.expect.every(([, , s]) => s === "warning")) t.same(errors(problems), [], "only warnings");
      for (const p of problems) t.equal(p.file, FILE);
    });
  }
});

t.test("there are at least 40 broken-config cases with an error", async (t) => {
  t.ok(cases.filter((c) => c.expect.some(([, , s]) => s !== "warning")).length >= 40);
});

t.test("every problem at once", async (t) => {
  const d = runcSpec();
  d.ociVersion = "3";
  d.process.args = [];
  d.process.cwd = "relative";
  d.mounts[2].destination = "";
  d.linux.namespaces.push({ type: "pid" });
  d.linux.sysctl = { "vm.overcommit_memory": "1" };
  d.process.rlimits[0].type = "RLIMIT_BOGUS";
  const problems = validateConfig(d, FILE);
  t.same(
    errors(problems)
      .map((p) => p.pointer)
      .sort(),
    ["/linux/namespaces/5/type", "/linux/sysctl/vm.overcommit_memory", "/mounts/2/destination", "/ociVersion", "/process/args", "/process/cwd", "/process/rlimits/0/type"],
  );
});

t.test("ajv's anyOf/oneOf noise collapses into one message", async (t) => {
  const d = runcSpec();
  d.linux.intelRdt = { schemata: [1] };
  const problems = validateConfig(d, FILE);
  t.same(
    problems.map((p) => `${p.pointer}: ${p.message}`),
    ["/linux/intelRdt/schemata/0: must be a string, not 1"],
  );
});

t.test("loadBundleConfig throws a SpecError listing every error, and returns warnings", async (t) => {
  const d = runcSpec();
  d.process.cwd = "x";
  d.linux.namespaces.push({ type: "uts" });
  const dir = tempBundle(t, d);
  const e = t.throws(() => loadBundleConfig(dir)) as unknown as SpecError;
  t.ok(e instanceof SpecError);
  t.equal(errors(e.problems).length, 2);
  t.match(e.message, /config\.json: \/process\/cwd: must be an absolute path/);
  t.match(e.message, /config\.json: \/linux\/namespaces\/5\/type: duplicate namespace type "uts"/);

  const ok = runcSpec();
  ok.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["no_such_call"], action: "SCMP_ACT_ERRNO" }] };
  const loaded = loadBundleConfig(tempBundle(t, ok));
  t.equal(warnings(loaded.warnings).length, 1);
});

t.test("loadBundleConfig: missing config.json and bad JSON", async (t) => {
  const empty = tempBundle(t, undefined);
  const e1 = t.throws(() => loadBundleConfig(empty)) as unknown as SpecError;
  t.match(e1.problems[0].message, /^cannot read bundle's config\.json: no such file/);
  const bad = tempBundle(t, '{"ociVersion": "1.0.2",\n');
  const e2 = t.throws(() => loadBundleConfig(bad)) as unknown as SpecError;
  t.match(e2.problems[0].message, /^invalid JSON at line 2, column 1: unexpected end of file/);
});

t.test("systemd-looking cgroupsPath without --systemd-cgroup is a warning", async (t) => {
  const d = runcSpec();
  d.linux.cgroupsPath = "system.slice:docker:abc";
  const problems = validateConfig(d, FILE);
  t.same(errors(problems), []);
  hasProblem(t, problems, "/linux/cgroupsPath", /looks like systemd's slice:prefix:name form/, "warning");
});
