// linux.seccomp -> BPF through the real libseccomp (the addon), then loaded by a small C helper
// to prove what the kernel does with it. Needs gcc and libseccomp.so.2; no root.
import t from "tap";
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import {
  cachingCompiler,
  compileSeccomp,
  describeSeccomp,
  SCMP_ACT,
  SECCOMP_FILTER_FLAG,
  SeccompError,
  type CompiledSeccomp,
  type SeccompCompiler,
} from "../../src/plan/seccomp.js";
import type { Seccomp, SeccompArg } from "../../src/spec/types.js";

const repo = join(import.meta.dirname, "../..");
const fixtures = join(repo, "test/fixtures/seccomp");

// The addon with native/shim/seccomp.cc wired in; TSRUN_SECCOMP_ADDON names another build.
interface SeccompAddon {
  seccompCompile?: SeccompCompiler;
  seccompVersion?: () => string;
  seccompResolveSyscall?: (name: string, arch?: string) => number;
  seccompNativeArch?: () => string;
}
const addonPath = process.env.TSRUN_SECCOMP_ADDON ?? join(repo, "build/Release/tsrun.node");
const addon = createRequire(import.meta.url)(addonPath) as SeccompAddon;
if (typeof addon.seccompCompile !== "function") {
  t.fail(`${addonPath} has no seccompCompile: native/shim/seccomp.cc is not wired into the addon`);
  process.exit(1);
}
const compiler: SeccompCompiler = addon.seccompCompile;
const version = addon.seccompVersion!();
const nativeArch = addon.seccompNativeArch!();
const nr = (name: string) => addon.seccompResolveSyscall!(name);
const compile = (s: Seccomp, options = {}) => compileSeccomp(s, compiler, options);
const fixture = (name: string) => JSON.parse(readFileSync(join(fixtures, name), "utf8")) as Seccomp;

const mkdirEperm: Seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" }] };

// ---- the C helper

const work = t.testdir({});
const helper = join(work, "load-and-mkdir");
execFileSync("gcc", ["-O2", "-Wall", "-Wextra", "-Werror", "-o", helper, join(fixtures, "load-and-mkdir.c")]);
let runs = 0;

interface Run {
  out: Record<string, number>;
  signal: NodeJS.Signals | null;
  status: number | null;
  stderr: string;
}

/** Loads the filter (or none: null) in the helper, then mkdir and the probes. */
function run(filter: CompiledSeccomp | null, probes: string[] = [], flags = filter?.flags ?? 0): Run {
  const n = ++runs;
  const bpfFile = join(work, `filter-${n}.bpf`);
  if (filter) writeFileSync(bpfFile, filter.bpf);
  const r = spawnSync(helper, [filter ? bpfFile : "-", String(flags), join(work, `dir-${n}`), ...probes], { encoding: "utf8", timeout: 10_000 });
  const out: Record<string, number> = {};
  for (const line of r.stdout.split("\n")) {
    const m = /^([\w-]+)=(-?\d+)$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return { out, signal: r.signal, status: r.status, stderr: r.stderr };
}

const EPERM = 1;
const ENOSPC = 28;
const ENOSYS = 38;
const EINVAL = 22;

t.comment(`libseccomp ${version}, native arch ${nativeArch}`);

// ---- pure mapping

t.test("actions map to seccomp return values, errnoRet defaulting to EPERM", async (t) => {
  const rule = (action: string, errnoRet?: number) =>
    describeSeccomp({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action, errnoRet }] }).description.rules[0].action;
  t.equal(rule("SCMP_ACT_KILL"), 0);
  t.equal(rule("SCMP_ACT_KILL_THREAD"), 0);
  t.equal(rule("SCMP_ACT_KILL_PROCESS"), 0x80000000);
  t.equal(rule("SCMP_ACT_TRAP"), 0x00030000);
  t.equal(rule("SCMP_ACT_ERRNO"), 0x00050001);
  t.equal(rule("SCMP_ACT_ERRNO", 38), 0x00050026);
  t.equal(rule("SCMP_ACT_ERRNO", 0), 0x00050000);
  t.equal(rule("SCMP_ACT_TRACE"), 0x7ff00001);
  t.equal(rule("SCMP_ACT_TRACE", 7), 0x7ff00007);
  t.equal(rule("SCMP_ACT_LOG"), 0x7ffc0000);
  t.equal(rule("SCMP_ACT_NOTIFY"), 0x7fc00000);
  const d = describeSeccomp({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 38, syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ALLOW" }] });
  t.equal(d.description.defaultAction, 0x00050026);
  t.equal(d.description.rules[0].action, SCMP_ACT.ALLOW);
  t.throws(() => rule("SCMP_ACT_EXPLODE"), /linux\.seccomp\.syscalls\[0\]: unknown action "SCMP_ACT_EXPLODE"/);
  t.throws(() => rule("SCMP_ACT_ERRNO", 70000), /errnoRet 70000/);
  t.throws(() => describeSeccomp({ defaultAction: "SCMP_ACT_NOTIFY" }), SeccompError);
});

t.test("rules doing what the default does are skipped", async (t) => {
  const d = describeSeccomp({
    defaultAction: "SCMP_ACT_ERRNO",
    syscalls: [
      { names: ["mkdir"], action: "SCMP_ACT_ERRNO" },
      { names: ["rmdir"], action: "SCMP_ACT_ERRNO", errnoRet: 1 },
      { names: ["unlink"], action: "SCMP_ACT_ERRNO", errnoRet: 2 },
      { names: ["read"], action: "SCMP_ACT_ALLOW" },
    ],
  });
  t.same(d.description.rules.map((r) => r.names[0]), ["unlink", "read"]);
  t.same(d.description.rules.map((r) => r.origin), ["linux.seccomp.syscalls[2]", "linux.seccomp.syscalls[3]"]);
  // and libseccomp accepts what is left (it refuses a rule equal to the default)
  t.ok(compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ALLOW" }] }).bpf.length > 0);
});

t.test("flags map to seccomp(2) bits", async (t) => {
  const flags = (f: string[], notify = false) =>
    describeSeccomp({ defaultAction: "SCMP_ACT_ALLOW", flags: f, syscalls: notify ? [{ names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }] : [] });
  t.equal(flags([]).flags, 0);
  t.equal(flags(["SECCOMP_FILTER_FLAG_TSYNC"]).flags, 1);
  t.equal(flags(["SECCOMP_FILTER_FLAG_LOG"]).flags, 2);
  t.equal(flags(["SECCOMP_FILTER_FLAG_SPEC_ALLOW"]).flags, 4);
  t.equal(flags(["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]).flags, 7);
  // NOTIFY asks for a listener; TSYNC with a listener needs TSYNC_ESRCH
  const n = flags([], true);
  t.equal(n.flags, SECCOMP_FILTER_FLAG.NEW_LISTENER);
  t.equal(n.needsNotify, true);
  t.equal(flags(["SECCOMP_FILTER_FLAG_TSYNC"], true).flags, 1 | 8 | 16);
  t.equal(flags(["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"], true).flags, 8 | 32);
  // WAIT_KILLABLE_RECV without a listener: the kernel would refuse it, it means nothing
  const w = flags(["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]);
  t.equal(w.flags, 0);
  t.match(w.warnings, [/WAIT_KILLABLE_RECV only applies to SCMP_ACT_NOTIFY/]);
  t.equal(flags([]).needsNotify, false);
  t.throws(() => flags(["SECCOMP_FILTER_FLAG_BOGUS"]), /linux\.seccomp\.flags\[0\]: unknown flag/);
});

t.test("architectures map to libseccomp names", async (t) => {
  const d = describeSeccomp({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_X86"] });
  t.same(d.description.arches, ["x86_64", "x86", "x32", "aarch64"]);
  t.throws(() => describeSeccomp({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_VAX"] }), /architectures\[0\]: unknown architecture "SCMP_ARCH_VAX"/);
  t.throws(() => describeSeccomp({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["toString"] }), /unknown architecture "toString"/);
  t.throws(() => describeSeccomp({ defaultAction: "SCMP_ACT_ALLOW", flags: ["__proto__"] }), /unknown flag "__proto__"/);
});

t.test("argument conditions", async (t) => {
  const rules = (args: SeccompArg[]) =>
    describeSeccomp({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["personality"], action: "SCMP_ACT_ERRNO", args }] }).description.rules;
  t.same(rules([{ index: 0, op: "SCMP_CMP_MASKED_EQ", value: 2114060288 }]), [
    { origin: "linux.seccomp.syscalls[0]", action: 0x50001, names: ["personality"], args: [{ index: 0, op: 7, value: "2114060288", valueTwo: "0" }] },
  ]);
  // different indexes: one rule, ANDed
  t.equal(rules([{ index: 0, op: "SCMP_CMP_EQ", value: 16 }, { index: 2, op: "SCMP_CMP_EQ", value: 9 }]).length, 1);
  // the same index twice: one rule each (ORed), as runc does
  const or = rules([{ index: 0, op: "SCMP_CMP_EQ", value: 1 }, { index: 0, op: "SCMP_CMP_EQ", value: 2 }, { index: 1, op: "SCMP_CMP_NE", value: 3 }]);
  t.same(or.map((r) => r.args.map((a) => `${a.index}:${a.op}:${a.value}`)), [["0:4:1"], ["0:4:2"], ["1:1:3"]]);
  // 64-bit values: 0xffffffffffffffff read as a double is 2^64
  const big = describeSeccomp({
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [{ names: ["personality"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, op: "SCMP_CMP_MASKED_EQ", value: 18446744073709551615, valueTwo: 4294967296 }] }],
  });
  t.same(big.description.rules[0].args[0], { index: 0, op: 7, value: "18446744073709551615", valueTwo: "4294967296" });
  t.match(big.warnings, [/above 2\^64-1/]);
  t.throws(() => rules([{ index: 6, op: "SCMP_CMP_EQ", value: 1 }]), /args\[0\]: index 6 is not a syscall argument/);
  t.throws(() => rules([{ index: 0, op: "SCMP_CMP_LIKE", value: 1 }]), /unknown operator "SCMP_CMP_LIKE"/);
  t.throws(() => rules([{ index: 0, op: "constructor", value: 1 }]), /unknown operator "constructor"/);
  t.throws(() => rules([{ index: 0, op: "SCMP_CMP_EQ", value: -1 }]), /negative/);
  t.throws(() => rules([{ index: 0, op: "SCMP_CMP_EQ", value: 1.5 }]), /not an unsigned 64-bit integer/);
});

// ---- real libseccomp

const instructions = (c: CompiledSeccomp) => c.bpf.length / 8;

t.test("a profile returning EPERM for mkdir compiles", async (t) => {
  const c = compile(mkdirEperm);
  t.same(c.warnings, []);
  t.equal(c.flags, 0);
  t.equal(c.needsNotify, false);
  t.equal(c.bpf.length % 8, 0);
  // the first instruction loads seccomp_data.arch: ld [4]
  t.same([...c.bpf.subarray(0, 8)], [0x20, 0, 0, 0, 4, 0, 0, 0]);
  t.ok(instructions(c) < 20, `${instructions(c)} instructions`);
  // and compiling is deterministic
  t.same(compile(mkdirEperm).bpf, c.bpf);
});

t.test("unknown syscall names are warnings and change nothing", async (t) => {
  const c = compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir", "no_such_syscall", "mkdirat"], action: "SCMP_ACT_ERRNO" }, { names: ["also_missing"], action: "SCMP_ACT_KILL" }] });
  t.same(c.warnings, [
    'linux.seccomp.syscalls[0]: unknown syscall "no_such_syscall" (libseccomp on this host does not know it): the rule ignores it',
    'linux.seccomp.syscalls[1]: unknown syscall "also_missing" (libseccomp on this host does not know it): the rule ignores it',
  ]);
  t.same(c.bpf, compile(mkdirEperm).bpf);
  // a name this arch lacks but another has (socketcall is i386's) is no warning
  t.same(compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["socketcall"], action: "SCMP_ACT_ERRNO" }] }).warnings, []);
});

t.test("every operator gives a different filter", async (t) => {
  const withArgs = (args: { index: number; op: string; value: number; valueTwo?: number }[]) =>
    compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", args }] }).bpf.toString("hex");
  const seen = new Map<string, string>([[withArgs([]), "no condition"]]);
  for (const op of ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"]) {
    const hex = withArgs([{ index: 1, op, value: 0o755 }]);
    t.notOk(seen.has(hex), `${op} differs from ${seen.get(hex) ?? "the others"}`);
    seen.set(hex, op);
  }
  t.not(withArgs([{ index: 1, op: "SCMP_CMP_MASKED_EQ", value: 0o700, valueTwo: 0o700 }]), withArgs([{ index: 1, op: "SCMP_CMP_MASKED_EQ", value: 0o700 }]), "valueTwo is used");
  t.not(withArgs([{ index: 0, op: "SCMP_CMP_EQ", value: 1 }]), withArgs([{ index: 1, op: "SCMP_CMP_EQ", value: 1 }]), "index is used");
  t.not(withArgs([{ index: 1, op: "SCMP_CMP_EQ", value: 2 ** 40 }]), withArgs([{ index: 1, op: "SCMP_CMP_EQ", value: 0 }]), "the high 32 bits are used");
});

t.test("architectures add their own sections", async (t) => {
  const one = compile({ ...mkdirEperm, architectures: ["SCMP_ARCH_X86_64"] });
  const three = compile({ ...mkdirEperm, architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"] });
  t.same(one.warnings, []);
  t.same(three.warnings, []);
  t.ok(instructions(three) > instructions(one), `${instructions(one)} -> ${instructions(three)} instructions`);
  const hex = three.bpf.toString("hex");
  for (const token of [0xc000003e, 0x40000003]) t.ok(hex.includes(Buffer.from(Uint32Array.of(token).buffer).toString("hex")), `arch 0x${token.toString(16)} is checked`);
  if (nativeArch === "x86_64") t.same(compile({ ...mkdirEperm, architectures: [] }).bpf, one.bpf, "the native arch is always there");
});

t.test("the compiler is injectable, and its output checked", async (t) => {
  let seen = "";
  const stub: SeccompCompiler = (d) => {
    seen = d;
    return { bpf: Buffer.alloc(16), unknownSyscalls: ["nope"], unknownArches: ["mips"] };
  };
  const c = compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_MIPS"], syscalls: [{ names: ["mkdir", "nope"], action: "SCMP_ACT_ERRNO" }] }, stub);
  t.same(JSON.parse(seen), { defaultAction: SCMP_ACT.ALLOW, arches: ["mips"], rules: [{ origin: "linux.seccomp.syscalls[0]", action: 0x50001, names: ["mkdir", "nope"], args: [] }] });
  t.match(c.warnings, [/syscalls\[0\]: unknown syscall "nope"/, /architectures: SCMP_ARCH_MIPS is unknown to libseccomp/]);
  t.throws(() => compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW" }, () => ({ bpf: Buffer.alloc(8 * 4097), unknownSyscalls: [], unknownArches: [] })), /4097 BPF instructions/);
  t.throws(() => compileSeccomp({ defaultAction: "SCMP_ACT_ALLOW" }, () => ({ bpf: Buffer.alloc(12), unknownSyscalls: [], unknownArches: [] })), /12 bytes/);
});

t.test("the caching compiler returns what libseccomp gave, without asking it again", async (t) => {
  const dir = join(work, "cache");
  let calls = 0;
  const counting: SeccompCompiler = (d) => (calls++, compiler(d));
  const cached = cachingCompiler(dir, counting, () => version);
  const docker = fixture("docker-default.json");
  const first = compileSeccomp(docker, cached);
  const second = compileSeccomp(docker, cached);
  t.equal(calls, 1);
  t.same(second, first);
  t.same(second.bpf, compile(docker).bpf);
  compileSeccomp(mkdirEperm, cached);
  t.equal(calls, 2, "another profile is another entry");
  t.equal(readdirSync(dir).length, 2);
  // another libseccomp is another entry too
  compileSeccomp(docker, cachingCompiler(dir, counting, () => "9.9.9"));
  t.equal(calls, 3);
  // a damaged entry is recompiled
  for (const f of readdirSync(dir)) writeFileSync(join(dir, f), "{");
  t.same(compileSeccomp(docker, cached).bpf, first.bpf);
  t.equal(calls, 4);
});

t.test("names newer than this libseccomp only warn", async (t) => {
  const docker = fixture("docker-default.json");
  const newer = ["mseal", "map_shadow_stack", "lsm_get_self_attr", "listmount", "uretprobe", "futex_waitv"];
  docker.syscalls![0].names.push(...newer);
  const c = compile(docker);
  for (const w of c.warnings) {
    const m = /unknown syscall "([a-z0-9_]+)"/.exec(w);
    t.ok(m && newer.includes(m[1]), w);
  }
  t.comment(`unknown to libseccomp ${version}: ${newer.filter((n) => nr(n) === -1).join(", ") || "none"}`);
  t.equal(c.warnings.length, newer.filter((n) => nr(n) === -1).length);
});

for (const [name, file] of [
  ["Docker", "docker-default.json"],
  ["Podman", "podman-default.json"],
] as const) {
  t.test(`${name}'s default profile compiles with only unknown-name warnings`, async (t) => {
    const s = fixture(file);
    const c = compile(s);
    for (const w of c.warnings) t.match(w, /unknown syscall "[a-z0-9_]+" \(libseccomp on this host does not know it\)/);
    t.comment(`${name}: ${s.syscalls!.reduce((n, r) => n + r.names.length, 0)} names, ${instructions(c)} instructions, ${c.warnings.length} warnings`);
    t.ok(instructions(c) < 4096, "within the kernel's BPF_MAXINSNS");
    t.equal(c.flags, 0);
    t.equal(c.needsNotify, false);
  });
}

// ---- the kernel's answer

t.test("without a filter everything works (the baseline)", async (t) => {
  const r = run(null, ["getpid", "open", "fork", "socket-unix"]);
  t.same(r.out, { mkdir: 0, getpid: 0, open: 0, fork: 0, "socket-unix": 0 }, r.stderr);
});

t.test("mkdir gets EPERM and everything else works", async (t) => {
  const r = run(compile(mkdirEperm), ["getpid", "open", "fork", "socket-unix", "personality-query"]);
  t.equal(r.status, 0, r.stderr);
  t.same(r.out, { load: 0, mkdir: EPERM, getpid: 0, open: 0, fork: 0, "socket-unix": 0, "personality-query": 0 });
});

t.test("each action does what it says", async (t) => {
  const on = (action: string, errnoRet?: number) => run(compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir", "mkdirat"], action, errnoRet }] }), ["getpid"]);
  t.same(on("SCMP_ACT_ERRNO", ENOSPC).out, { load: 0, mkdir: ENOSPC, getpid: 0 }, "ERRNO with errnoRet");
  t.same(on("SCMP_ACT_TRACE").out, { load: 0, mkdir: ENOSYS, getpid: 0 }, "TRACE without a tracer: ENOSYS");
  t.same(on("SCMP_ACT_LOG").out, { load: 0, mkdir: 0, getpid: 0 }, "LOG lets it through");
  for (const action of ["SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"]) {
    const r = on(action);
    t.equal(r.signal, "SIGSYS", `${action}: killed by SIGSYS`);
    t.same(r.out, { load: 0 }, `${action}: mkdir never returned`);
  }
  // a default other than ALLOW, with errnoRet
  const d = run(compile({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: ENOSPC, syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 0 }, { names: ["getpid"], action: "SCMP_ACT_ERRNO", errnoRet: EINVAL }, { names: ["write", "exit_group", "exit", "rt_sigreturn", "openat", "open", "close"], action: "SCMP_ACT_ALLOW" }] }), ["getpid", "open"]);
  t.same(d.out, { load: 0, mkdir: 0, getpid: EINVAL, open: 0 }, "errnoRet 0 is a fake success; the default answers the rest");
});

t.test("every operator, as the kernel evaluates it", async (t) => {
  // mkdir(dir, 0755): mode is argument 1
  const mode = 0o755;
  const cases: [string, number, number | undefined, number][] = [
    ["SCMP_CMP_EQ", mode, undefined, EPERM],
    ["SCMP_CMP_EQ", mode + 1, undefined, 0],
    ["SCMP_CMP_NE", mode, undefined, 0],
    ["SCMP_CMP_NE", mode + 1, undefined, EPERM],
    ["SCMP_CMP_LT", mode + 1, undefined, EPERM],
    ["SCMP_CMP_LT", mode, undefined, 0],
    ["SCMP_CMP_LE", mode, undefined, EPERM],
    ["SCMP_CMP_LE", mode - 1, undefined, 0],
    ["SCMP_CMP_GE", mode, undefined, EPERM],
    ["SCMP_CMP_GE", mode + 1, undefined, 0],
    ["SCMP_CMP_GT", mode - 1, undefined, EPERM],
    ["SCMP_CMP_GT", mode, undefined, 0],
    ["SCMP_CMP_MASKED_EQ", 0o700, 0o700, EPERM],
    ["SCMP_CMP_MASKED_EQ", 0o700, 0o500, 0],
    ["SCMP_CMP_MASKED_EQ", 0o7000, 0, EPERM],
  ];
  for (const [op, value, valueTwo, expect] of cases) {
    const c = compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", args: [{ index: 1, op, value, valueTwo }] }] });
    t.equal(run(c).out.mkdir, expect, `mode 0755 ${op} ${value.toString(8)}${valueTwo === undefined ? "" : `/${valueTwo.toString(8)}`}`);
  }
  // conditions on the same argument are ORed, on different ones ANDed
  const or = compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", args: [{ index: 1, op: "SCMP_CMP_EQ", value: 1 }, { index: 1, op: "SCMP_CMP_EQ", value: mode }] }] });
  t.equal(run(or).out.mkdir, EPERM, "same argument: OR");
  const and = compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_ERRNO", args: [{ index: 1, op: "SCMP_CMP_EQ", value: mode }, { index: 2, op: "SCMP_CMP_EQ", value: 12345 }] }] });
  t.equal(run(and).out.mkdir, 0, "different arguments: AND");
});

t.test("the flags are the kernel's", async (t) => {
  const c = compile({ ...mkdirEperm, flags: ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"] });
  t.equal(c.flags, 7);
  t.same(run(c, ["getpid"]).out, { load: 0, mkdir: EPERM, getpid: 0 });
  // a bit the kernel does not know is refused: the flags reach seccomp(2) as they are
  t.same(run(c, [], 1 << 20).out, { load: EINVAL });
});

t.test("NOTIFY: the listener sees the call and its answer is what the process gets", async (t) => {
  const c = compile({ defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"], syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY" }] });
  t.equal(c.needsNotify, true);
  t.equal(c.flags, SECCOMP_FILTER_FLAG.NEW_LISTENER | SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV);
  const r = run(c, ["getpid"]);
  t.same(r.out, { load: 0, notified: nr("mkdir"), mkdir: ENOSPC, getpid: 0 }, r.stderr);
  // with TSYNC the kernel wants TSYNC_ESRCH too, which the flags carry
  const tsync = compile({ defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_TSYNC"], syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY" }] });
  t.same(run(tsync).out, { load: 0, notified: nr("mkdir"), mkdir: ENOSPC });
  t.same(run(tsync, [], tsync.flags & ~SECCOMP_FILTER_FLAG.TSYNC_ESRCH).out, { load: EINVAL }, "without TSYNC_ESRCH the kernel refuses");
});

for (const binaryTree of [false, true]) {
  t.test(`Docker's default profile behaves${binaryTree ? " (binary-tree layout)" : ""}`, async (t) => {
    const c = compile(fixture("docker-default.json"), { binaryTree });
    const probes = ["getpid", "open", "fork", "socket-unix", "personality-query", "personality-no-randomize", "clone-newuts", "unshare-uts", "clone3"];
    const r = run(c, probes);
    t.equal(r.status, 0, r.stderr);
    t.same(r.out, {
      load: 0,
      mkdir: 0,
      getpid: 0,
      open: 0,
      fork: 0, // clone without namespace flags: MASKED_EQ
      "socket-unix": 0,
      "personality-query": 0, // personality(0xffffffff): EQ
      "personality-no-randomize": EPERM,
      "clone-newuts": EPERM, // clone with CLONE_NEWUTS: the mask catches it
      "unshare-uts": EPERM, // needs CAP_SYS_ADMIN, not in the default set
      clone3: ENOSYS, // errnoRet 38, so that glibc falls back to clone
    });
  });
}

t.test("Podman's default profile behaves", async (t) => {
  const c = compile(fixture("podman-default.json"));
  const r = run(c, ["getpid", "open", "fork", "socket-unix", "socket-netlink-audit", "personality-query", "personality-no-randomize", "clone-newuts"]);
  t.equal(r.status, 0, r.stderr);
  t.same(r.out, {
    load: 0,
    mkdir: 0,
    getpid: 0,
    open: 0,
    fork: 0,
    "socket-unix": 0,
    "socket-netlink-audit": EINVAL, // socket(AF_NETLINK, *, NETLINK_AUDIT): errnoRet 22, conditions ANDed
    "personality-query": 0,
    "personality-no-randomize": ENOSYS, // the default: defaultErrnoRet 38
    "clone-newuts": 0, // podman allows clone; the capability set is what stops namespaces
  });
});

t.test("an errno default: syscalls newer than the profile's newest answer ENOSYS", async (t) => {
  const archName = nativeArch === "x86_64" ? "SCMP_ARCH_X86_64" : nativeArch === "aarch64" ? "SCMP_ARCH_AARCH64" : undefined;
  if (!archName) {
    t.comment(`skipped: no ENOSYS prologue for native arch ${nativeArch}`);
    return;
  }
  const profile = (extra: Partial<Seccomp> = {}): Seccomp => ({
    defaultAction: "SCMP_ACT_ERRNO",
    architectures: [archName],
    syscalls: [{ names: ["mkdir", "mkdirat", "getpid", "exit_group", "exit", "write"], action: "SCMP_ACT_ALLOW" }],
    ...extra,
  });
  // the helper's own syscalls after loading: everything the probes below need is allowed
  const base = ["prctl", "seccomp", "read", "write", "close", "openat", "exit_group", "fstat", "newfstatat", "brk", "mmap", "munmap", "rt_sigprocmask", "clone", "wait4"];
  const allow = (names: string[]) => ({ names: [...new Set([...base, ...names])], action: "SCMP_ACT_ALLOW" });
  const withClone3 = compile(profile({ syscalls: [allow(["mkdir", "getpid"])] }));
  const r = run(withClone3, ["clone3", "unshare-uts"]);
  t.equal(r.out.clone3, ENOSYS, "clone3 (newer than every named syscall): ENOSYS");
  t.equal(r.out["unshare-uts"], EPERM, "unshare (older, unlisted): the default errno");
  const named = compile(profile({ syscalls: [allow(["mkdir", "getpid"]), { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSPC }] }));
  t.equal(run(named, ["clone3"]).out.clone3, ENOSPC, "a named clone3 keeps its own rule");
  const noArches = compile({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [allow(["mkdir", "getpid"])] });
  t.equal(run(noArches, ["clone3"]).out.clone3, EPERM, "no architectures listed: the default errno, as runc");
  const enosysDefault = compile(profile({ defaultErrnoRet: ENOSYS, syscalls: [allow(["mkdir"])] }));
  const plain = compile({ defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: ENOSYS, architectures: [archName], syscalls: [allow(["mkdir"])] });
  t.equal(enosysDefault.bpf.length, plain.bpf.length, "a default of ENOSYS needs no prologue");
  const allowDefault = compile({ defaultAction: "SCMP_ACT_ALLOW", architectures: [archName], syscalls: [{ names: ["getpid"], action: "SCMP_ACT_ERRNO" }] });
  t.equal(run(allowDefault, ["clone3"]).out.clone3, EINVAL, "an allow default lets clone3 through (EINVAL from its empty arguments)");
});
