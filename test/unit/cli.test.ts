// The command line as engines send it: Go flag forms, exec's trailing command, signals, units.
import t from "tap";
import { parseFast } from "../../src/cli/fast.js";
import { splitTrailing, trailingArgs } from "../../src/cli/trailing.js";
import { parseDuration, parseSize } from "../../src/cli/units.js";
import { parseSignal } from "../../src/lifecycle/signals.js";
import { VERSION_TEXT } from "../../src/cli/version.js";

t.test("fast parser: Go flag forms", async (t) => {
  const a = parseFast(["--root", "/r", "-log-format=json", "create", "-b", "/b", "--pid-file=/p", "-no-pivot", "--preserve-fds", "2", "id1"], "/run/tsrun")!;
  t.equal(a.command, "create");
  t.same(a.argv._, ["create", "id1"]);
  t.equal(a.argv.root, "/r");
  t.equal(a.argv["log-format"], "json", "one dash and =value");
  t.equal(a.argv.bundle, "/b", "-b is --bundle");
  t.equal(a.argv["pid-file"], "/p");
  t.equal(a.argv["no-pivot"], true, "-no-pivot with one dash is the long flag");
  t.equal(a.argv["preserve-fds"], "2");
  const d = parseFast(["delete", "--force=true", "x"], "/run/tsrun")!;
  t.equal(d.argv.force, true, "booleans take =true");
  t.equal(parseFast(["delete", "--force=false", "x"], "/run/tsrun")!.argv.force, false);
  t.equal(parseFast(["kill", "-a", "x", "9"], "/run/tsrun")!.argv.all, true);
  t.same(parseFast(["kill", "x", "9"], "/run/tsrun")!.argv._, ["kill", "x", "9"]);
  t.equal(parseFast(["state", "x"], "/run/x")!.argv.root, "/run/x", "the default root");
  const e = parseFast(["exec", "-e", "A=1", "--env", "B=2", "-c", "CAP_KILL", "x"], "/r")!;
  t.same(e.argv.env, ["A=1", "B=2"], "repeated flags accumulate, commas do not split");
  t.same(e.argv.cap, ["CAP_KILL"]);
});

t.test("fast parser hands anything unsure to yargs", async (t) => {
  for (const args of [["state", "--help"], ["-h"], ["--version"], ["state", "--bogus", "x"], ["pause", "x"], ["create", "--bundle"], ["delete", "--force=maybe", "x"], []])
    t.equal(parseFast(args, "/r"), undefined, args.join(" ") || "(empty)");
});

t.test("exec and ps: the command after the id is not parsed", async (t) => {
  t.same(splitTrailing(["--root", "/r", "exec", "-d", "--pid-file", "/p", "ctr", "sh", "-c", "echo --help"]), ["--root", "/r", "exec", "-d", "--pid-file", "/p", "ctr"]);
  t.same(trailingArgs(), ["sh", "-c", "echo --help"]);
  t.same(splitTrailing(["ps", "--format", "table", "ctr", "-ef"]), ["ps", "--format", "table", "ctr"]);
  t.same(trailingArgs(), ["-ef"]);
  t.same(splitTrailing(["exec", "--", "ctr", "ls"]), ["exec", "ctr"]);
  t.same(trailingArgs(), ["ls"]);
  t.same(splitTrailing(["kill", "ctr", "9"]), ["kill", "ctr", "9"], "other commands are untouched");
});

t.test("signals: runc's rules", async (t) => {
  t.equal(parseSignal("9"), 9);
  for (const s of ["KILL", "kill", "SIGKILL", "sigkill"]) t.equal(parseSignal(s), 9, s);
  t.equal(parseSignal("term"), 15);
  t.throws(() => parseSignal("NOPE"), /unknown signal "NOPE"/);
});

t.test("sizes and durations", async (t) => {
  t.equal(parseSize("512m", "memory"), 512 * 1024 * 1024);
  t.equal(parseSize("1g", "memory"), 1024 ** 3);
  t.equal(parseSize("1024", "memory"), 1024);
  t.equal(parseSize("-1", "memory-swap"), -1);
  t.throws(() => parseSize("lots", "memory"), /--memory/);
  t.equal(parseDuration("5s"), 5000);
  t.equal(parseDuration("1m30s"), 90_000);
  t.equal(parseDuration("250ms"), 250);
  t.throws(() => parseDuration("5"), /invalid duration/);
});

t.test("--version: runc's lines in runc's order (go-runc, moby, runc's version.bats)", async (t) => {
  const lines = VERSION_TEXT.split("\n");
  t.match(lines[0], /^runc version \d+\.\d+\.\d+$/);
  t.match(lines[1], /^commit: \S+$/);
  t.match(lines[2], /^spec: \d+\.\d+\.\d+$/);
  t.match(lines[3], /^tsrun: /);
});
