#!/usr/bin/env node
// Builds everything `npm install` promises: tsrun-init (static), the N-API addon (with the init
// embedded), generated validators, test fixtures, dist/cli.js (Node) and dist/tsrun (single binary).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(repo, "node_modules", ".bin", name);
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: repo, stdio: "inherit", ...opts });
const step = (name) => process.stdout.write(`build: ${name}\n`);
const onPath = (name) => {
  try {
    execFileSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

function newer(target, sources) {
  if (!existsSync(target)) return false;
  const t = statSync(target).mtimeMs;
  return sources.every((s) => statSync(join(repo, s)).mtimeMs <= t);
}

// a packed tsrun (npm pack, installed elsewhere) ships dist/ built and no sources: nothing to build
if (!existsSync(join(repo, "native/init/init.c")) && existsSync(join(repo, "dist/tsrun"))) {
  step("dist/ is prebuilt (a packed tsrun): nothing to build");
  process.exit(0);
}

// 0. the tools the native parts need, named by the package that brings them when one is missing
// (node-gyp's make uses cc and g++, and runs gyp with python3)
const missing = [[process.env.TSRUN_INIT_CC || "cc", "gcc"], ["g++", "g++"], ["make", "make"], ["python3", "python3"]].filter(([tool]) => !onPath(tool));
if (missing.length > 0) fail(missing.map(([tool]) => tool).join(", "), missing.map(([, pkg]) => pkg));

function fail(what, pkgs) {
  process.stderr.write(`build: no ${what}: install ${pkgs.join(" ")} (Debian/Ubuntu: apt-get install ${pkgs.join(" ")})\n`);
  process.exit(1);
}

// 1. tsrun-init: static, musl when available (about 30 KB instead of about 700 KB with glibc);
// TSRUN_INIT_CC names another compiler (the tests build it with glibc's gcc that way)
const initOut = join(repo, "native/out/tsrun-init");
const initSources = ["native/init/init.c", "native/wire/wire.h"];
if (!newer(initOut, initSources)) {
  mkdirSync(dirname(initOut), { recursive: true });
  const cc = process.env.TSRUN_INIT_CC || (onPath("musl-gcc") ? "musl-gcc" : "cc");
  let macros;
  try {
    macros = execFileSync(cc, ["-E", "-dM", "-x", "c", "-"], { input: "#include <stdio.h>\n", encoding: "utf8", stdio: ["pipe", "pipe", "ignore"] });
  } catch {
    fail(`C library headers for ${cc}`, ["libc6-dev"]);
  }
  const libc = /\b__GLIBC__\b/.test(macros) ? "glibc" : "musl";
  try {
    run(cc, ["-static", "-Os", "-s", "-Wall", "-Wextra", "-Werror", "-o", initOut, "native/init/init.c"]);
  } catch {
    process.stderr.write(`build: ${cc} could not build tsrun-init (${libc}; its messages are above)\n`);
    process.exit(1);
  }
  step(`tsrun-init: ${libc} (${cc} -static), ${Math.round(statSync(initOut).size / 1024)} KB`);
}

// 2. the addon; rebuilt whenever the init changes because it embeds it
const addon = join(repo, "build/Release/tsrun.node");
const shimSources = readdirSync(join(repo, "native/shim")).map((f) => `native/shim/${f}`);
if (!newer(addon, [...shimSources, "binding.gyp"]) || statSync(addon).mtimeMs < statSync(initOut).mtimeMs) {
  step("addon");
  // configure again when binding.gyp changed (a new source file): the old Makefile would not build it
  // headers of the running node, when it ships them (Debian's libnode-dev, NodeSource): node-gyp
  // would otherwise download them, which fails offline
  const prefix = dirname(dirname(process.execPath));
  const env = !process.env.npm_config_nodedir && existsSync(join(prefix, "include/node/common.gypi")) ? { ...process.env, npm_config_nodedir: prefix } : process.env;
  if (!newer(join(repo, "build/Makefile"), ["binding.gyp"])) run(bin("node-gyp"), ["configure"], { env });
  // make does not see the .incbin dependency on tsrun-init: drop the object so it is rebuilt
  rmSync(join(repo, "build/Release/obj.target/tsrun/native/shim/shim.o"), { force: true });
  run(bin("node-gyp"), ["build"], { env });
}

// 3. validators generated ahead of time: no schema is compiled when tsrun starts
if (existsSync(join(repo, "scripts/gen-validators.mjs"))) {
  step("validators");
  run(process.execPath, ["scripts/gen-validators.mjs"]);
}

// 4. the static probe the tests run inside containers
if (existsSync(join(repo, "bundle-fixtures/build.sh"))) {
  step("test probe");
  run("bash", ["bundle-fixtures/build.sh"]);
}

// 5. the man page, from the parser's command table
if (existsSync(join(repo, "scripts/gen-man.ts"))) {
  step("man/tsrun.1");
  run(bin("bun"), ["scripts/gen-man.ts"]);
}

// 6. bundles: dist/cli.js for Node, dist/tsrun compiled by Bun with bytecode
mkdirSync(join(repo, "dist"), { recursive: true });
step("dist/cli.js");
run(bin("bun"), ["build", "src/cli.ts", "--target=node", "--outdir", "dist", "--entry-naming", "cli.js", "--asset-naming", "[name].[ext]"]);
// the library (`import { Runtime } from "tsrun"`, src/lib.ts) and its declarations
step("dist/lib.js");
run(bin("bun"), ["build", "src/lib.ts", "--target=node", "--outdir", "dist", "--entry-naming", "lib.js", "--asset-naming", "[name].[ext]"]);
run(bin("tsc"), ["-p", "tsconfig.lib.json"]);
step("dist/tsrun");
// the flags live in a file of their own: scripts/bench builds its Bun floor (a hello-world) with them
const bunCompileFlags = JSON.parse(readFileSync(join(repo, "scripts/bun-compile-flags.json"), "utf8"));
// No .env or bunfig.toml is ever read at run time: tsrun runs in bundle directories it does not trust.
run(bin("bun"), [
  // --splitting: each command's code is a chunk of its own, loaded on first use, so `state` does not
  // load the bytecode of create; a high JIT policy: a call lives tens of milliseconds, too short to
  // repay JIT compilation (scripts/bench: lifecycle 1.51 -> 1.28 of runc's time)
  "build", "src/cli.ts", ...bunCompileFlags,
  "--outfile", "dist/tsrun",
]);
