// `tsrun spec`: byte-identical to `runc spec` (and --rootless), refuses to overwrite.
import t, { type Test } from "tap";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultSpec, formatSpec, SpecExistsError, writeDefaultSpec } from "../../../src/spec/default.js";
import { validateConfig } from "../../../src/spec/load.js";
import { fixtureText } from "./fixtures/helpers.js";

function tmp(t: Test): string {
  const d = mkdtempSync(join(tmpdir(), "tsrun-specgen-"));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

t.test("defaultSpec matches the runc spec fixtures byte for byte", async (t) => {
  t.equal(formatSpec(defaultSpec({ rootless: false })), fixtureText("runc-spec.json"));
  t.equal(formatSpec(defaultSpec({ rootless: true, uid: 0, gid: 0 })), fixtureText("runc-spec-rootless.json"));
});

t.test("rootless maps the given ids", async (t) => {
  const s = defaultSpec({ rootless: true, uid: 1000, gid: 1001 });
  t.same(s.linux?.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
  t.same(s.linux?.gidMappings, [{ containerID: 0, hostID: 1001, size: 1 }]);
});

t.test("the default specs are valid", async (t) => {
  t.same(validateConfig(defaultSpec({ rootless: false }), "config.json"), []);
  t.same(validateConfig(defaultSpec({ rootless: true }), "config.json"), []);
});

t.test("writeDefaultSpec writes runc's file and refuses to overwrite", async (t) => {
  const d = tmp(t);
  const path = writeDefaultSpec(d, false);
  t.equal(path, join(d, "config.json"));
  t.equal(readFileSync(path, "utf8"), fixtureText("runc-spec.json"));
  const e = t.throws(() => writeDefaultSpec(d, true));
  t.ok(e instanceof SpecExistsError);
  t.equal((e as Error).message, "File config.json exists. Remove it first");
  t.equal(readFileSync(path, "utf8"), fixtureText("runc-spec.json"), "untouched");
  t.throws(() => writeDefaultSpec(join(d, "missing"), false), /no such file or directory/);
});

t.test("same bytes as the installed runc", { skip: !existsSync("/usr/sbin/runc") && "runc not installed" }, async (t) => {
  for (const rootless of [false, true]) {
    const ours = tmp(t);
    const theirs = tmp(t);
    writeDefaultSpec(ours, rootless);
    execFileSync("/usr/sbin/runc", rootless ? ["spec", "--rootless"] : ["spec"], { cwd: theirs });
    t.equal(readFileSync(join(ours, "config.json"), "utf8"), readFileSync(join(theirs, "config.json"), "utf8"), rootless ? "rootless" : "default");
  }
});
