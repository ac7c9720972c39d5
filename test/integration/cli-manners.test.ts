// The command line's manners as engines and users meet them, side by side with runc where it is
// installed: global flags before --version (go-runc puts them in front of every call).
import t from "tap";
import { spawnSync } from "node:child_process";
import { wantsVersion } from "../../src/cli/fast.js";
import { TSRUN, message } from "../lib/tsrun.js";

const RUNC = spawnSync("sh", ["-c", "command -v runc"], { encoding: "utf8" }).stdout.trim();

function call(bin: string, args: string[]) {
  const r = spawnSync(bin, args, { encoding: "utf8", timeout: 10_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const ASKS_VERSION = [
  ["--version"],
  ["-v"],
  ["-version"],
  ["--version=true"],
  ["--root", "/tmp/x", "--log", "/tmp/l", "--log-format", "json", "--systemd-cgroup", "--version"],
  ["--root=/tmp/x", "--log=/tmp/l", "--log-format=json", "--systemd-cgroup=true", "-v"],
  ["-root", "/tmp/x", "-log", "/tmp/l", "-log-format", "json", "-systemd-cgroup", "-version"],
  ["--debug", "--rootless", "true", "--criu", "/usr/sbin/criu", "--version"],
  ["--version", "state"],
];
const DOES_NOT = [
  ["--root", "--version"], // --version is the root's value
  ["-h", "--version"], // help wins
  ["--version=false"],
  ["--root", "/tmp/x", "state", "--version"],
  ["--bogus", "--version"],
  ["--", "--version"],
];

t.test("wantsVersion: Go's flag rules on the global flags", async (t) => {
  for (const a of ASKS_VERSION) t.ok(wantsVersion(a), a.join(" "));
  for (const a of DOES_NOT) t.notOk(wantsVersion(a), a.join(" "));
});

for (const [name, bin] of [["tsrun", TSRUN], ["runc", RUNC]] as const) {
  t.test(`${name}: global flags anywhere before --version print the version`, { skip: bin ? false : "runc is not installed" }, async (t) => {
    const plain = call(bin, ["--version"]);
    t.equal(plain.code, 0);
    t.match(plain.stdout, /^runc version /, "the first line is runc's form");
    for (const a of ASKS_VERSION) {
      const r = call(bin, a);
      t.same({ code: r.code, stdout: r.stdout, stderr: r.stderr }, { code: 0, stdout: plain.stdout, stderr: "" }, a.join(" "));
    }
    for (const a of DOES_NOT) t.not(call(bin, a).stdout, plain.stdout, `${a.join(" ")}: no version`);
  });
}

// --help at any width, with or without a terminal: lines break at spaces only, never inside a word.
const SCRIPT = spawnSync("sh", ["-c", "command -v script"], { encoding: "utf8" }).stdout.trim();
const HELPS = [["--help"], ["exec", "--help"], ["checkpoint", "--help"], ["update", "--help"], ["run", "--help"]];

function helpAt(args: string[], columns: number | "pipe"): string {
  if (columns === "pipe") return call(TSRUN, args).stdout;
  const cmd = `stty cols ${columns} rows 50; exec ${[TSRUN, ...args].map((a) => `'${a}'`).join(" ")}`;
  return spawnSync(SCRIPT, ["-qec", cmd, "/dev/null"], { encoding: "utf8", timeout: 10_000 }).stdout.replace(/\r/g, "");
}

const tokens = (s: string) => s.split(/\s+/).filter((w) => w !== "").sort();

t.test("--help never breaks a word across lines, at widths 40, 80, 200 and without a terminal", { skip: SCRIPT ? false : "no script(1) (bsdutils) for a terminal" }, async (t) => {
  const { commands } = await import("../../src/cli/commands.js");
  for (const args of HELPS) {
    const outputs = new Map<number | "pipe", string>();
    for (const w of [40, 80, 200, "pipe"] as const) outputs.set(w, helpAt(args, w));
    const words = tokens(outputs.get("pipe")!);
    t.ok(words.length > 20, `${args.join(" ")}: help printed`);
    for (const [w, out] of outputs) {
      t.same(tokens(out), words, `${args.join(" ")} at ${w}: the same words as every other width`);
      if (w === "pipe") continue;
      const tooLong = out.split("\n").filter((l) => l.length > w && l.trim().includes(" "));
      t.same(tooLong, [], `${args.join(" ")} at ${w}: no line wider than the terminal (but a lone long word)`);
    }
    if (args[0] === "--help")
      for (const c of commands) for (const word of String(c.describe).split(" ")) t.ok(words.includes(word), `"${word}" of ${c.command}'s description is whole`);
  }
});

t.test("wrapHelp: a word longer than the room stands alone, unbroken", async (t) => {
  const { wrapHelp } = await import("../../src/cli/wrap.js");
  const long = "x".repeat(50);
  t.equal(wrapHelp(`  --flag    short words then ${long} end`, 40), `  --flag    short words then\n            ${long}\n            end`);
  t.equal(wrapHelp(`tsrun [global options] command [command options]`, 20), `tsrun [global\n    options] command\n    [command\n    options]`);
  t.equal(wrapHelp("fits", 10), "fits");
});

// The man page and completions come from the parser's command table: every command and flag yargs
// knows (read from its own --help) is in the page, in its command's section, and the committed page
// is what the table makes now.
async function yargsHelp(args: string[]): Promise<string> {
  const { buildParser } = await import("../../src/cli/parser.js");
  let help = "";
  await buildParser(args, "/run/tsrun").parseAsync(args, {}, (_e, _a, output) => {
    help = output;
  });
  return help;
}

const flagsIn = (help: string): string[] =>
  [...new Set(help.split("\n").filter((l) => /^\s+-/.test(l)).flatMap((l) => l.trim().split(/\s{2,}/)[0].split(/,\s*/)).map((f) => f.trim()))];

t.test("man/tsrun.1: every command and flag of the parser, and current", async (t) => {
  const { readFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { manPage } = await import("../../src/cli/docs.js");
  const { commands } = await import("../../src/cli/commands.js");
  const { repo } = await import("../lib/tsrun.js");
  const page = readFileSync(join(repo, "man/tsrun.1"), "utf8");
  t.equal(page, manPage(), "man/tsrun.1 is what the command table makes (npm run build remakes it)");
  const section = (name: string) => {
    const at = page.indexOf(`\n.SS ${name.replace(/-/g, "\\-")}\n`);
    return at < 0 ? "" : page.slice(at + 1, page.slice(at + 1).search(/\n\.S[SH] /) + at + 1);
  };
  const globals = page.slice(page.indexOf(".SH GLOBAL OPTIONS"), page.indexOf(".SH COMMANDS"));
  const topFlags = flagsIn(await yargsHelp(["--help"]));
  t.ok(topFlags.includes("--root") && topFlags.includes("-v"), "the global flags read from --help");
  for (const f of topFlags) t.ok(globals.includes(`\\fB${f.replace(/-/g, "\\-")}\\fR`), `global ${f} is in the page`);
  for (const c of commands) {
    const name = String(c.command);
    const body = section(name);
    t.ok(body, `${name} has a section`);
    for (const f of flagsIn(await yargsHelp([name, "--help"]))) {
      if (topFlags.includes(f) && f !== "--help" && f !== "-h") continue; // yargs repeats the global flags
      t.ok(body.includes(`\\fB${f.replace(/-/g, "\\-")}\\fR`), `${name} ${f} is in its section`);
    }
  }
  const groff = spawnSync("groff", ["-man", "-ww", "-z", join(repo, "man/tsrun.1")], { encoding: "utf8" });
  t.same({ code: groff.status, warnings: groff.stderr }, { code: 0, warnings: "" }, "groff renders it without a warning");
});

t.test("tsrun completion bash|zsh|fish", async (t) => {
  const { commands } = await import("../../src/cli/commands.js");
  const complete = (words: string[]) => {
    const script = `source <(${TSRUN} completion bash); COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _tsrun; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return spawnSync("bash", ["-c", script], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean).sort();
  };
  t.same(complete(["tsrun", "--root", "/x", "ch"]), ["check", "checkpoint"], "commands, after a global flag and its value");
  t.same(complete(["tsrun", "--root", ""]), [], "nothing offered for a flag's value but files");
  t.same(complete(["tsrun", "exec", "--cwd", ""]), [], "nor for a command flag's value");
  t.same(complete(["tsrun", "--lo"]), ["--log", "--log-format"], "global flags");
  t.ok(complete(["tsrun", "exec", "--"]).includes("--cwd"), "a command's flags");
  t.same(complete(["tsrun", "kill", "-"]).filter((w) => !w.startsWith("--")), ["-a", "-h"], "and their short forms");
  for (const shell of ["zsh", "fish"]) {
    const r = call(TSRUN, ["completion", shell]);
    t.equal(r.code, 0, shell);
    for (const c of commands) t.ok(r.stdout.includes(String(c.command)), `${shell}: ${c.command}`);
    const sh = spawnSync("sh", ["-c", `command -v ${shell}`], { encoding: "utf8" }).stdout.trim();
    if (sh) t.equal(spawnSync(sh, ["-n"], { input: r.stdout }).status, 0, `${shell} -n accepts it`);
  }
  const bad = call(TSRUN, ["completion", "tcsh"]);
  t.equal(bad.code, 1);
  t.equal(message(bad.stderr), 'completion: unknown shell "tcsh" (one of bash, zsh, fish)');
});

// Output goes straight to fd 1 (src/cli/output.ts), not through process.stdout: it must still arrive
// whole through a small non-blocking pipe read late (EAGAIN, partial writes), and a reader that
// goes away early must not turn into an error.
t.test("output: all of it through a full non-blocking pipe, and a reader that leaves early", (t) => {
  const whole = call(TSRUN, ["features"]);
  t.equal(whole.code, 0);
  t.ok(whole.stdout.length > 4096, "features prints more than the pipe below holds");
  const py = [
    "import fcntl, os, subprocess, sys, time",
    "r, w = os.pipe()",
    "fcntl.fcntl(w, 1031, 4096)", // F_SETPIPE_SZ
    "fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)",
    "p = subprocess.Popen(sys.argv[1:], stdout=w)",
    "os.close(w)",
    "time.sleep(0.5)",
    "out = b''",
    "while True:",
    "    b = os.read(r, 65536)",
    "    if not b: break",
    "    out += b",
    "sys.stdout.buffer.write(out)",
    "sys.exit(p.wait())",
  ].join("\n");
  const late = spawnSync("python3", ["-c", py, TSRUN, "features"], { encoding: "utf8", timeout: 20_000 });
  t.equal(late.status, 0, late.stderr);
  t.equal(late.stdout, whole.stdout, "the same bytes, none lost or doubled");
  const early = spawnSync("sh", ["-c", `"${TSRUN}" features | head -c 1; echo " $?"`], { encoding: "utf8", timeout: 20_000 });
  t.equal(early.stdout, "{ 0\n");
  t.equal(early.stderr, "", "no error when the reader leaves");
  t.end();
});
