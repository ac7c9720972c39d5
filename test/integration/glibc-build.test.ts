// A machine without musl-tools: scripts/build.mjs builds tsrun-init with glibc's gcc, embeds it, and
// the tsrun it builds runs a container. Done in a temporary copy of the tree (the build script's own
// path, with TSRUN_INIT_CC=gcc standing in for a machine without musl-gcc). And a machine without a
// C compiler gets one line naming what to install.
import t from "tap";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle } from "../../bundle-fixtures/rootfs.js";
import { repo } from "../lib/tsrun.js";

const onPath = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const glibcStatic = spawnSync("gcc", ["-print-file-name=libc.a"], { encoding: "utf8" }).stdout?.trim() ?? "";

t.test("without musl: the init is built with glibc, embedded, and runs a container", {
  skip: !onPath("gcc") ? "no gcc" : !existsSync(glibcStatic) ? "no static glibc (libc6-dev)" : !existsSync("/bin/busybox") ? "no /bin/busybox (busybox-static)" : false,
  timeout: 240_000,
}, async (t) => {
  const tree = mkdtempSync(join(tmpdir(), "tsrun-glibc-"));
  t.teardown(() => rmSync(tree, { recursive: true, force: true }));
  // what the build reads; the test probe and validators steps are skipped (their scripts are absent)
  mkdirSync(join(tree, "scripts"));
  for (const f of ["scripts/build.mjs", "scripts/bun-compile-flags.json"]) cpSync(join(repo, f), join(tree, f));
  for (const p of ["native/init", "native/wire", "native/shim", "src", "binding.gyp", "package.json", "tsconfig.json", "tsconfig.lib.json"])
    cpSync(join(repo, p), join(tree, p), { recursive: true });
  symlinkSync(join(repo, "node_modules"), join(tree, "node_modules"));

  const build = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: tree, env: { ...process.env, TSRUN_INIT_CC: "gcc" }, encoding: "utf8", timeout: 220_000 });
  t.equal(build.status, 0, `the build succeeds${build.status ? `: ${build.stderr.slice(-2000)}` : ""}`);
  const line = build.stdout.split("\n").find((l) => l.startsWith("build: tsrun-init: "));
  t.match(line, /^build: tsrun-init: glibc \(gcc -static\), \d+ KB$/, "one line says which libc and the init's size");

  const init = readFileSync(join(tree, "native/out/tsrun-init"));
  t.match(line, new RegExp(`, ${Math.round(init.length / 1024)} KB$`), "the size is the init's");
  t.ok(readFileSync(join(tree, "build/Release/tsrun.node")).includes(init), "the addon embeds the glibc init");
  t.ok(readFileSync(join(tree, "dist/tsrun")).includes(init), "dist/tsrun embeds it");

  const bundle = makeBundle(join(tree, "bundle"), { rootfs: "busybox", args: ["/bin/sh", "-c", "echo hello from a glibc init; exit 7"] });
  const root = join(tree, "state");
  const id = `glibc-${process.pid}`;
  const r = spawnSync(join(tree, "dist/tsrun"), ["--root", root, "run", "--bundle", bundle.bundle, id], { encoding: "utf8", timeout: 30_000 });
  t.equal(r.stdout, "hello from a glibc init\n", `the container runs${r.stderr ? `: ${r.stderr}` : ""}`);
  t.equal(r.status, 7, "with its exit status");
  spawnSync(join(tree, "dist/tsrun"), ["--root", root, "delete", "--force", id]);
});

t.test("without a C compiler: one line naming the package to install, and nothing built", async (t) => {
  const tree = mkdtempSync(join(tmpdir(), "tsrun-nocc-"));
  t.teardown(() => rmSync(tree, { recursive: true, force: true }));
  mkdirSync(join(tree, "scripts"));
  for (const f of ["scripts/build.mjs", "scripts/bun-compile-flags.json"]) cpSync(join(repo, f), join(tree, f));
  cpSync(join(repo, "native"), join(tree, "native"), { recursive: true, filter: (p) => !p.includes("/native/out") });
  const empty = join(tree, "bin");
  mkdirSync(empty);
  // sh for the build's `command -v`, and nothing else on PATH
  symlinkSync("/bin/sh", join(empty, "sh"));
  const r = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: tree, env: { PATH: empty }, encoding: "utf8" });
  t.equal(r.status, 1);
  t.equal(r.stderr, "build: no cc, g++, make, python3: install gcc g++ make python3 (Debian/Ubuntu: apt-get install gcc g++ make python3)\n");
  t.notOk(existsSync(join(tree, "native/out/tsrun-init")), "no init built");
});
