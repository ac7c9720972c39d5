// linux.seccomp -> a classic BPF program for tsrun-init to load with seccomp(2).
//
// The policy is here: spec action names to seccomp return values (errno data included),
// architectures to libseccomp's names, spec flags to seccomp(2) flag bits, argument
// conditions to libseccomp comparisons, which rules to skip. libseccomp, reached through the
// addon (native/shim/seccomp.cc), only builds and exports the filter. `describeSeccomp` is
// pure; `compileSeccomp` runs the description through an injectable compiler.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Seccomp, SeccompArg } from "../spec/types.js";
import { native } from "../syscalls/index.js";

/** seccomp(2) SECCOMP_SET_MODE_FILTER flag bits. */
export const SECCOMP_FILTER_FLAG = Object.freeze({
  TSYNC: 1,
  LOG: 2,
  SPEC_ALLOW: 4,
  NEW_LISTENER: 8,
  TSYNC_ESRCH: 16,
  WAIT_KILLABLE_RECV: 32,
});

/** The flags config.json may name, and their bits. */
export const SPEC_SECCOMP_FLAGS: Readonly<Record<string, number>> = Object.freeze({
  SECCOMP_FILTER_FLAG_TSYNC: SECCOMP_FILTER_FLAG.TSYNC,
  SECCOMP_FILTER_FLAG_LOG: SECCOMP_FILTER_FLAG.LOG,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: SECCOMP_FILTER_FLAG.SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV,
});

/** Seccomp return values (SECCOMP_RET_*), as libseccomp's SCMP_ACT_* produce them. */
export const SCMP_ACT = Object.freeze({
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000, // | errno
  NOTIFY: 0x7fc00000,
  TRACE: 0x7ff00000, // | message for the tracer
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
});

/** libseccomp's enum scmp_compare. */
export const SCMP_CMP: Readonly<Record<string, number>> = Object.freeze({
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
});

/** Spec architecture names -> libseccomp's (seccomp_arch_resolve_name). */
export const SECCOMP_ARCHES: Readonly<Record<string, string>> = Object.freeze({
  SCMP_ARCH_X86: "x86",
  SCMP_ARCH_X86_64: "x86_64",
  SCMP_ARCH_X32: "x32",
  SCMP_ARCH_ARM: "arm",
  SCMP_ARCH_AARCH64: "aarch64",
  SCMP_ARCH_MIPS: "mips",
  SCMP_ARCH_MIPS64: "mips64",
  SCMP_ARCH_MIPS64N32: "mips64n32",
  SCMP_ARCH_MIPSEL: "mipsel",
  SCMP_ARCH_MIPSEL64: "mipsel64",
  SCMP_ARCH_MIPSEL64N32: "mipsel64n32",
  SCMP_ARCH_PPC: "ppc",
  SCMP_ARCH_PPC64: "ppc64",
  SCMP_ARCH_PPC64LE: "ppc64le",
  SCMP_ARCH_S390: "s390",
  SCMP_ARCH_S390X: "s390x",
  SCMP_ARCH_PARISC: "parisc",
  SCMP_ARCH_PARISC64: "parisc64",
  SCMP_ARCH_RISCV64: "riscv64",
  SCMP_ARCH_LOONGARCH64: "loongarch64",
  SCMP_ARCH_M68K: "m68k",
  SCMP_ARCH_SH: "sh",
  SCMP_ARCH_SHEB: "sheb",
});

const EPERM = 1;
/** The kernel's limit on one classic BPF program. */
export const BPF_MAXINSNS = 4096;
const UINT64_MAX = (1n << 64n) - 1n;

/** What the addon's seccompCompile takes (as JSON). */
export interface NativeSeccompDescription {
  defaultAction: number;
  badArchAction?: number;
  optimize?: 1 | 2;
  arches: string[];
  removeNative?: boolean;
  rules: NativeSeccompRule[];
}

export interface NativeSeccompRule {
  /** "linux.seccomp.syscalls[3]", for error messages. */
  origin: string;
  action: number;
  names: string[];
  /** ANDed; at most one per argument index (libseccomp's rule). */
  args: { index: number; op: number; value: string; valueTwo: string }[];
}

export interface NativeSeccompResult {
  bpf: Buffer;
  unknownSyscalls: string[];
  unknownArches: string[];
}

/** The addon's seccompCompile, or a stand-in for tests. */
export type SeccompCompiler = (description: string) => NativeSeccompResult;

export interface SeccompOptions {
  /** libseccomp's binary-tree layout (SCMP_FLTATR_CTL_OPTIMIZE=2): faster on long allowlists. */
  binaryTree?: boolean;
  /** Syscall numbers per architecture (libseccomp's tables through the addon, or a stand-in). */
  syscalls?: SyscallTable;
}

/** libseccomp's syscall tables: a name's number on an arch (negative: none there), and the native arch. */
export interface SyscallTable {
  resolve(name: string, arch: string): number;
  nativeArch(): string;
}

export interface SeccompDescription {
  description: NativeSeccompDescription;
  /** seccomp(2) flags for tsrun-init (SECCOMP_FILTER_FLAG_*). */
  flags: number;
  warnings: string[];
  /** A rule uses SCMP_ACT_NOTIFY: the flags ask for a listener fd, which seccomp(2) returns. */
  needsNotify: boolean;
}

export interface CompiledSeccomp {
  /** struct sock_filter[] as the kernel takes it (8 bytes per instruction). */
  bpf: Buffer;
  flags: number;
  warnings: string[];
  needsNotify: boolean;
}

/** A profile tsrun cannot compile; `origin` says where in config.json. */
export class SeccompError extends Error {
  constructor(
    readonly origin: string,
    message: string,
  ) {
    super(`${origin}: ${message}`);
    this.name = "SeccompError";
  }
}

const ORIGIN = "linux.seccomp";

/** map[key] for the map's own keys only ("toString" is no architecture). */
function lookup<T>(map: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

function actionValue(action: string, errnoRet: number | undefined, origin: string): number {
  const data = (): number => {
    const v = errnoRet ?? EPERM;
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new SeccompError(origin, `errnoRet ${v} is not an integer from 0 to 65535`);
    return v;
  };
  switch (action) {
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return SCMP_ACT.KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return SCMP_ACT.KILL_PROCESS;
    case "SCMP_ACT_TRAP":
      return SCMP_ACT.TRAP;
    case "SCMP_ACT_ERRNO":
      return (SCMP_ACT.ERRNO | data()) >>> 0;
    case "SCMP_ACT_TRACE":
      return (SCMP_ACT.TRACE | data()) >>> 0;
    case "SCMP_ACT_ALLOW":
      return SCMP_ACT.ALLOW;
    case "SCMP_ACT_LOG":
      return SCMP_ACT.LOG;
    case "SCMP_ACT_NOTIFY":
      return SCMP_ACT.NOTIFY;
    default:
      throw new SeccompError(origin, `unknown action ${JSON.stringify(action)}`);
  }
}

/** A uint64 argument value as a decimal string (JSON numbers above 2^53 are already rounded). */
function datum(v: unknown, origin: string, warnings: string[]): string {
  if (v === undefined || v === null) return "0";
  let n: bigint;
  if (typeof v === "bigint") n = v;
  else if (typeof v === "number" && Number.isInteger(v)) n = BigInt(v);
  else if (typeof v === "string" && /^(0|[1-9][0-9]*|0x[0-9a-fA-F]+)$/.test(v)) n = BigInt(v);
  else throw new SeccompError(origin, `${JSON.stringify(v)} is not an unsigned 64-bit integer`);
  if (n < 0n) throw new SeccompError(origin, `${n} is negative: argument values are unsigned 64-bit integers`);
  if (n > UINT64_MAX) {
    // Only a JSON number rounded by the double conversion gets here (2^64 for 0xffffffffffffffff).
    if (typeof v === "number" && n === 1n << 64n) {
      warnings.push(`${origin}: ${v} is above 2^64-1 once read as a double; using 18446744073709551615`);
      return UINT64_MAX.toString();
    }
    throw new SeccompError(origin, `${n} does not fit in 64 bits`);
  }
  return n.toString();
}

function conditions(args: SeccompArg[], origin: string, warnings: string[]): NativeSeccompRule["args"] {
  return args.map((a, k) => {
    const where = `${origin}.args[${k}]`;
    if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw new SeccompError(where, `index ${a.index} is not a syscall argument (0 to 5)`);
    const op = lookup(SCMP_CMP, a.op);
    if (op === undefined) throw new SeccompError(where, `unknown operator ${JSON.stringify(a.op)} (one of ${Object.keys(SCMP_CMP).join(", ")})`);
    return { index: a.index, op, value: datum(a.value, `${where}.value`, warnings), valueTwo: datum(a.valueTwo, `${where}.valueTwo`, warnings) };
  });
}

/** The libseccomp description of a profile, and the seccomp(2) flags; pure. */
export function describeSeccomp(seccomp: Seccomp, options: SeccompOptions = {}): SeccompDescription {
  const warnings: string[] = [];
  if (seccomp.defaultAction === "SCMP_ACT_NOTIFY")
    throw new SeccompError(`${ORIGIN}.defaultAction`, "SCMP_ACT_NOTIFY cannot be the default action");
  const defaultAction = actionValue(seccomp.defaultAction, seccomp.defaultErrnoRet, `${ORIGIN}.defaultAction`);

  const arches: string[] = [];
  (seccomp.architectures ?? []).forEach((a, i) => {
    const name = lookup(SECCOMP_ARCHES, a);
    if (!name) throw new SeccompError(`${ORIGIN}.architectures[${i}]`, `unknown architecture ${JSON.stringify(a)}`);
    if (!arches.includes(name)) arches.push(name);
  });

  const rules: NativeSeccompRule[] = [];
  let needsNotify = false;
  (seccomp.syscalls ?? []).forEach((s, i) => {
    const origin = `${ORIGIN}.syscalls[${i}]`;
    const action = actionValue(s.action, s.errnoRet, origin);
    // libseccomp refuses a rule that does what the default does; it would change nothing.
    if (action === defaultAction) return;
    if (action === SCMP_ACT.NOTIFY) needsNotify = true;
    const names = s.names ?? [];
    const args = conditions(s.args ?? [], origin, warnings);
    const indexes = new Set(args.map((a) => a.index));
    if (indexes.size === args.length) {
      rules.push({ origin, action, names, args });
    } else {
      // libseccomp takes one comparison per argument in a rule. When conditions repeat an
      // index, each becomes a rule of its own, so they are ORed: what runc does, and what
      // profiles written for it mean.
      for (const a of args) rules.push({ origin, action, names, args: [a] });
    }
  });

  let flags = 0;
  (seccomp.flags ?? []).forEach((f, i) => {
    const bit = lookup(SPEC_SECCOMP_FLAGS, f);
    if (bit === undefined) throw new SeccompError(`${ORIGIN}.flags[${i}]`, `unknown flag ${JSON.stringify(f)} (one of ${Object.keys(SPEC_SECCOMP_FLAGS).join(", ")})`);
    flags |= bit;
  });
  if (needsNotify) {
    flags |= SECCOMP_FILTER_FLAG.NEW_LISTENER;
    // the kernel refuses TSYNC with NEW_LISTENER unless TSYNC failures report ESRCH
    if (flags & SECCOMP_FILTER_FLAG.TSYNC) flags |= SECCOMP_FILTER_FLAG.TSYNC_ESRCH;
  } else if (flags & SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV) {
    // the kernel refuses it without a listener, and it only matters with one
    flags &= ~SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV;
    warnings.push(`${ORIGIN}.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV only applies to SCMP_ACT_NOTIFY rules, and there are none: ignored`);
  }

  const description: NativeSeccompDescription = { defaultAction, arches, rules };
  if (options.binaryTree) description.optimize = 2;
  return { description, flags, warnings, needsNotify };
}

/** The addon's compiler (native/shim/seccomp.cc through src/syscalls). */
export const defaultCompiler: SeccompCompiler = (description) => {
  const addon = native as unknown as { seccompCompile?: SeccompCompiler };
  if (typeof addon.seccompCompile !== "function") throw new Error("this build of the tsrun addon has no seccomp support (seccompCompile): rebuild it");
  return addon.seccompCompile(description);
};

/** libseccomp's syscall tables, through the addon. */
export const defaultSyscallTable: SyscallTable = {
  resolve: (name, arch) => native.seccompResolveSyscall(name, arch),
  nativeArch: () => native.seccompNativeArch(),
};

/** AUDIT_ARCH_* of the arches whose syscall numbers the ENOSYS prologue compares (x32 shares x86_64's). */
const AUDIT_ARCH: Readonly<Record<string, number>> = Object.freeze({
  x86_64: 0xc000003e,
  x86: 0x40000003,
  aarch64: 0xc00000b7,
  arm: 0x40000028,
  ppc64le: 0xc0000015,
  s390x: 0x80000016,
  riscv64: 0xc00000f3,
});
/** x32 syscalls reach the filter as x86_64 ones with this bit set in the number. */
const X32_SYSCALL_BIT = 0x40000000;
const ENOSYS = 38;

// classic BPF (linux/filter.h)
const BPF_LD_W_ABS = 0x20;
const BPF_JMP_JEQ_K = 0x15;
const BPF_JMP_JGT_K = 0x25;
const BPF_JMP_JGE_K = 0x35;
const BPF_JMP_JA = 0x05;
const BPF_RET_K = 0x06;
const SECCOMP_DATA_NR = 0;
const SECCOMP_DATA_ARCH = 4;

interface Insn { code: number; jt: number; jf: number; k: number }

/**
 * What runc does so that libc falls back from a syscall the profile predates (clone3 -> clone,
 * faccessat2 -> faccessat): with an errno default, a syscall numbered above every syscall the
 * profile names on that arch answers ENOSYS ("not implemented") instead of the default errno, for
 * each arch `architectures` lists (without the list runc adds nothing, and neither do we). A
 * prologue in front of libseccomp's program compares the number per arch; anything else, and x32
 * syscalls, go on to libseccomp's program unchanged. Empty when no syscall needs it.
 */
export function enosysPrologue(seccomp: Seccomp, defaultAction: number, arches: string[], table: SyscallTable): Buffer {
  const errnoDefault = (defaultAction & 0xffff0000) >>> 0 === SCMP_ACT.ERRNO && (defaultAction & 0xffff) !== ENOSYS;
  if (!errnoDefault) return Buffer.alloc(0);
  const names = new Set((seccomp.syscalls ?? []).flatMap((s) => s.names ?? []));
  const limits: { audit: number; max: number; x32: boolean }[] = [];
  for (const arch of arches) {
    const audit = lookup(AUDIT_ARCH, arch);
    if (audit === undefined) continue;
    let max = -1;
    for (const name of names) max = Math.max(max, table.resolve(name, arch));
    if (max >= 0) limits.push({ audit, max, x32: arch === "x86_64" });
  }
  if (!limits.length) return Buffer.alloc(0);

  // layout: ld arch; per arch [jeq arch; ld nr; (jge x32 bit -> program;) jgt max -> enosys, else program]; ja program; enosys: ret
  const insns: (Insn & { to?: { jt?: "enosys" | "program" | "next"; jf?: "enosys" | "program" | "next" } })[] = [];
  insns.push({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: SECCOMP_DATA_ARCH });
  const blockEnds: number[] = [];
  for (const l of limits) {
    insns.push({ code: BPF_JMP_JEQ_K, jt: 0, jf: 0, k: l.audit, to: { jf: "next" } });
    insns.push({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: SECCOMP_DATA_NR });
    if (l.x32) insns.push({ code: BPF_JMP_JGE_K, jt: 0, jf: 0, k: X32_SYSCALL_BIT, to: { jt: "program" } });
    insns.push({ code: BPF_JMP_JGT_K, jt: 0, jf: 0, k: l.max, to: { jt: "enosys", jf: "program" } });
    blockEnds.push(insns.length);
  }
  insns.push({ code: BPF_JMP_JA, jt: 0, jf: 0, k: 1 });
  const enosys = insns.length;
  insns.push({ code: BPF_RET_K, jt: 0, jf: 0, k: (SCMP_ACT.ERRNO | ENOSYS) >>> 0 });
  const program = insns.length;
  let block = 0;
  insns.forEach((insn, i) => {
    if (i >= blockEnds[block]) block++;
    const target = (to: "enosys" | "program" | "next") => (to === "enosys" ? enosys : to === "program" ? program : blockEnds[block]) - i - 1;
    if (insn.to?.jt) insn.jt = target(insn.to.jt);
    if (insn.to?.jf) insn.jf = target(insn.to.jf);
  });
  const out = Buffer.alloc(insns.length * 8);
  insns.forEach((insn, i) => {
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(insn.jt, i * 8 + 2);
    out.writeUInt8(insn.jf, i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return out;
}

/** libseccomp's version ("2.5.4"), through the addon. */
export function libseccompVersion(): string {
  const addon = native as unknown as { seccompVersion?: () => string };
  if (typeof addon.seccompVersion !== "function") throw new Error("this build of the tsrun addon has no seccomp support (seccompVersion): rebuild it");
  return addon.seccompVersion();
}

/**
 * A compiler that keeps what `inner` produced in `dir`, keyed by the description and the
 * libseccomp version: engines pass the same profile every time, and libseccomp takes tens of
 * milliseconds on Docker's (three x86 arches). `dir` must be as private as tsrun's state
 * (root-owned, 0700): whoever can write it chooses the filters of future containers.
 */
export function cachingCompiler(dir: string, inner: SeccompCompiler = defaultCompiler, version: () => string = libseccompVersion): SeccompCompiler {
  return (description) => {
    const key = createHash("sha256").update(`libseccomp ${version()}\n${process.arch}\n${description}`).digest("hex");
    const file = join(dir, `${key}.json`);
    try {
      const c = JSON.parse(readFileSync(file, "utf8")) as { bpf: string; unknownSyscalls: string[]; unknownArches: string[] };
      const bpf = Buffer.from(c.bpf, "base64");
      if (bpf.length > 0 && bpf.length % 8 === 0 && Array.isArray(c.unknownSyscalls) && Array.isArray(c.unknownArches))
        return { bpf, unknownSyscalls: c.unknownSyscalls, unknownArches: c.unknownArches };
    } catch {
      // absent or unreadable: compile
    }
    const out = inner(description);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify({ bpf: out.bpf.toString("base64"), unknownSyscalls: out.unknownSyscalls, unknownArches: out.unknownArches }), { mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      // a cache that cannot be written only costs time
    }
    return out;
  };
}

/** Compiles linux.seccomp to BPF. Names libseccomp does not know are warnings, as runc has them. */
export function compileSeccomp(seccomp: Seccomp, compiler: SeccompCompiler = defaultCompiler, options: SeccompOptions = {}): CompiledSeccomp {
  const d = describeSeccomp(seccomp, options);
  const out = compiler(JSON.stringify(d.description));
  const warnings = [...d.warnings];
  for (const name of new Set(out.unknownSyscalls)) {
    const i = (seccomp.syscalls ?? []).findIndex((s) => s.names?.includes(name));
    const origin = i >= 0 ? `${ORIGIN}.syscalls[${i}]` : `${ORIGIN}.syscalls`;
    warnings.push(`${origin}: unknown syscall ${JSON.stringify(name)} (libseccomp on this host does not know it): the rule ignores it`);
  }
  for (const arch of out.unknownArches) {
    const spec = Object.keys(SECCOMP_ARCHES).find((k) => SECCOMP_ARCHES[k] === arch) ?? arch;
    warnings.push(`${ORIGIN}.architectures: ${spec} is unknown to libseccomp on this host: the filter does not cover it`);
  }
  if (out.bpf.length === 0 || out.bpf.length % 8 !== 0) throw new Error(`libseccomp exported a filter of ${out.bpf.length} bytes, not a whole number of instructions`);
  const bpf = Buffer.concat([enosysPrologue(seccomp, d.description.defaultAction, d.description.arches, options.syscalls ?? defaultSyscallTable), out.bpf]);
  if (bpf.length / 8 > BPF_MAXINSNS)
    throw new SeccompError(ORIGIN, `the profile compiles to ${bpf.length / 8} BPF instructions; the kernel loads at most ${BPF_MAXINSNS} per filter`);
  return { bpf, flags: d.flags, warnings, needsNotify: d.needsNotify };
}
