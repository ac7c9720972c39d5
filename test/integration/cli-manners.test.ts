// The command line's manners as engines and users meet them, side by side with runc where it is
// installed: global flags before --version (go-runc puts them in front of every call).
import t from "tap";
import { spawnSync } from "node:child_process";
import { wantsVersion } from "../../src/cli/fast.js";
import { TSRUN } from "../lib/tsrun.js";

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
