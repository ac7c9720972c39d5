// The package as a Node user gets it: `npm pack` of this checkout, installed globally (the command
// and its man page) and into a fresh temporary project, and a TypeScript program there (typechecked
// against the emitted .d.ts, then run) that imports the API, checks a broken bundle (gets its JSON
// pointers), plans and runs a busybox container and reads its exit status, takes another through
// create, start, exec, events, kill and delete, and gets a TsrunError for a container that does not
// exist.
import t from "tap";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle } from "../../bundle-fixtures/rootfs.js";
import { repo } from "../lib/tsrun.js";

const PROGRAM = `
import { Runtime, TsrunError, type CheckResult, type Spec } from "tsrun";
import { readFileSync } from "node:fs";

const [broken, good, root, id] = process.argv.slice(2);
const rt = new Runtime({ root });
const check: CheckResult = rt.check(broken, { host: false });
const spec: Spec = JSON.parse(readFileSync(good + "/config.json", "utf8"));
const plan = await rt.plan(good);
const status: number = await rt.run(id, { bundle: good, stdio: ["ignore", "inherit", "inherit"] });
const [sleeper] = process.argv.slice(6);
const id2 = id + "-b";
await rt.create(id2, { bundle: sleeper });
const created = (await rt.state(id2)).status;
await rt.start(id2);
const running = (await rt.state(id2)).status;
const execStatus = await rt.exec(id2, { args: ["/bin/sh", "-c", "exit 5"] }, { stdio: "ignore" });
const events: string[] = [];
for await (const e of rt.events(id2, { stats: true })) events.push(e.type);
await rt.kill(id2, "KILL");
for (let i = 0; i < 100 && (await rt.state(id2)).status !== "stopped"; i++) await new Promise((r) => setTimeout(r, 50));
const stopped = (await rt.state(id2)).status;
await rt.delete(id2);
let missing = "";
try {
  await rt.state("no-such-" + id);
} catch (e) {
  if (e instanceof TsrunError) missing = e.message + " (exit " + e.exitCode + ")";
}
console.log(JSON.stringify({ ok: check.ok, problems: check.problems.map((p) => [p.pointer, p.severity]), args: spec.process?.args, ops: plan.program.ops.length, planText: plan.text.length, status, lifecycle: [created, running, execStatus, events, stopped], missing, left: await rt.list() }));
`;

t.test("npm pack, install into a fresh project, import { Runtime } from \"tsrun\"", { skip: process.getuid?.() !== 0 ? "needs root" : false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tsrun-lib-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pack = spawnSync("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: repo, encoding: "utf8", timeout: 120_000 });
  t.equal(pack.status, 0, `npm pack${pack.status ? `: ${pack.stderr}` : ""}`);
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"))!;
  t.ok(tarball, "a tarball");

  // npm install -g: the command, and the man page where man finds it
  const prefix = join(dir, "global");
  const global = spawnSync("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", "--silent", join(dir, tarball)], { encoding: "utf8", timeout: 120_000 });
  t.equal(global.status, 0, `npm install -g${global.status ? `: ${global.stderr}` : ""}`);
  t.match(spawnSync(join(prefix, "bin/tsrun"), ["--version"], { encoding: "utf8" }).stdout, /^runc version /, "bin/tsrun");
  t.ok(existsSync(join(prefix, "share/man/man1/tsrun.1")), "share/man/man1/tsrun.1");

  const project = join(dir, "project");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "uses-tsrun", private: true, type: "module", dependencies: { tsrun: `file:../${tarball}` } }));
  const install = spawnSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--silent"], { cwd: project, encoding: "utf8", timeout: 120_000 });
  t.equal(install.status, 0, `npm install of the tarball${install.status ? `: ${install.stderr}` : ""}`);

  writeFileSync(join(project, "main.ts"), PROGRAM);
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, skipLibCheck: false, types: ["node"], typeRoots: [join(repo, "node_modules/@types")] }, files: ["main.ts"] }));
  const tsc = spawnSync(join(repo, "node_modules/.bin/tsc"), ["-p", "."], { cwd: project, encoding: "utf8", timeout: 120_000 });
  t.equal(tsc.status, 0, `the program typechecks against the package's .d.ts${tsc.status ? `: ${tsc.stdout}` : ""}`);

  const broken = makeBundle(join(dir, "broken"), { rootfs: "busybox", mutate: (c) => (c.linux!.namespaces![0].type = "pidd") });
  const good = makeBundle(join(dir, "good"), { rootfs: "busybox", args: ["/bin/sh", "-c", "echo hello from the library; exit 3"] });
  const sleeper = makeBundle(join(dir, "sleeper"), { rootfs: "busybox", args: ["/bin/sh", "-c", "sleep 100"] });
  const id = `lib-${process.pid}`;
  const r = spawnSync(process.execPath, ["main.js", broken.bundle, good.bundle, join(dir, "root"), id, sleeper.bundle], { cwd: project, encoding: "utf8", timeout: 60_000 });
  t.equal(r.status, 0, `the program runs${r.status ? `: ${r.stderr}` : ""}`);
  const [output, json] = r.stdout.trimEnd().split("\n");
  t.equal(output, "hello from the library", "the container's output");
  const result = JSON.parse(json);
  t.equal(result.ok, false, "the broken bundle is not ok");
  t.same(result.problems, [["/linux/namespaces/0/type", "error"]], "its problem, with its JSON pointer");
  t.same(result.args, ["/bin/sh", "-c", "echo hello from the library; exit 3"], "Spec typed");
  t.ok(result.ops > 5 && result.planText > 100, "the plan");
  t.equal(result.status, 3, "run resolves to the process's exit status");
  t.same(result.lifecycle, ["created", "running", 5, ["stats"], "stopped"], "create, state, start, exec (its status), events, kill, delete");
  t.equal(result.missing, "container does not exist (exit 1)", "a TsrunError with the CLI's message and status");
  t.same(result.left, [], "run deleted its container");
});
