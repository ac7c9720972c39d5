// The cgroup v2 device filter generator: instruction encoding, and what the programs decide.
// The programs are run by a small interpreter of the instructions the generator uses, checked the
// way the kernel's verifier would (every instruction reachable, registers written before read,
// jumps in range, ends in exit). test/integration/cgroups/v2.test.ts runs them in the kernel.
import t from "tap";
import {
  BPF_DEVCG_ACC_MKNOD as M,
  BPF_DEVCG_ACC_READ as R,
  BPF_DEVCG_ACC_WRITE as W,
  BPF_DEVCG_DEV_BLOCK,
  BPF_DEVCG_DEV_CHAR,
  OP,
  decodeInsns,
  deviceFilter,
  type Insn,
} from "../../../src/cgroups/device-bpf.js";
import { containerDeviceRules } from "../../../src/cgroups/devices.js";
import type { DeviceRule } from "../../../src/spec/types.js";

interface Request {
  type: "b" | "c";
  major: number;
  minor: number;
  access: number;
}

const U64 = (1n << 64n) - 1n;
const sext = (imm: number) => BigInt.asUintN(64, BigInt(imm));

/** Checks what the verifier checks of these programs; throws on a violation. */
function verify(prog: Insn[]): void {
  if (prog.length === 0) throw new Error("empty program");
  const last = prog[prog.length - 1]!;
  if (last.code !== OP.EXIT && last.code !== OP.JA) throw new Error("last insn is not an exit or jmp");
  const seen = new Set<number>();
  const todo = [0];
  while (todo.length) {
    const pc = todo.pop()!;
    if (seen.has(pc)) continue;
    if (pc < 0 || pc >= prog.length) throw new Error(`jump out of range to ${pc}`);
    seen.add(pc);
    const i = prog[pc]!;
    if (i.code === OP.EXIT) continue;
    const isJump = i.code === OP.JA || i.code === OP.JEQ_K || i.code === OP.JNE_K || i.code === OP.JSET_K;
    if (isJump) todo.push(pc + 1 + i.off);
    if (i.code !== OP.JA) todo.push(pc + 1);
    if (!isJump && i.off !== 0 && i.code !== OP.LDXW) throw new Error(`insn ${pc}: reserved off field set`);
    if (i.code === OP.LDXW && i.imm !== 0) throw new Error(`insn ${pc}: BPF_LDX uses reserved fields`);
  }
  for (let pc = 0; pc < prog.length; pc++) if (!seen.has(pc)) throw new Error(`unreachable insn ${pc}`);
}

/** Runs a device program on one request: true = allow. */
function run(prog: Insn[], req: Request): boolean {
  const ctx = [(req.access << 16) | (req.type === "b" ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR), req.major, req.minor];
  const reg: Array<bigint | undefined> = [];
  const CTX = -1n; // r1 holds the context pointer
  reg[1] = CTX;
  const get = (r: number, pc: number) => {
    const v = reg[r];
    if (v === undefined) throw new Error(`insn ${pc}: R${r} !read_ok`);
    if (v === CTX && r !== 1) throw new Error(`insn ${pc}: arithmetic on the context pointer`);
    return v;
  };
  for (let pc = 0, steps = 0; steps < 10000; steps++) {
    const i = prog[pc]!;
    switch (i.code) {
      case OP.LDXW:
        if (get(i.src, pc) !== CTX || ![0, 4, 8].includes(i.off)) throw new Error(`insn ${pc}: bad context load`);
        reg[i.dst] = BigInt(ctx[i.off / 4]! >>> 0);
        break;
      case OP.MOV_X:
        reg[i.dst] = get(i.src, pc);
        break;
      case OP.MOV_K:
        reg[i.dst] = sext(i.imm);
        break;
      case OP.AND_K:
        reg[i.dst] = get(i.dst, pc) & sext(i.imm);
        break;
      case OP.RSH_K:
        reg[i.dst] = (get(i.dst, pc) & U64) >> BigInt(i.imm);
        break;
      case OP.JA:
        pc += i.off;
        break;
      case OP.JEQ_K:
        if (get(i.dst, pc) === sext(i.imm)) pc += i.off;
        break;
      case OP.JNE_K:
        if (get(i.dst, pc) !== sext(i.imm)) pc += i.off;
        break;
      case OP.JSET_K:
        if ((get(i.dst, pc) & sext(i.imm)) !== 0n) pc += i.off;
        break;
      case OP.EXIT: {
        const r0 = get(0, pc);
        if (r0 !== 0n && r0 !== 1n) throw new Error(`returns ${r0}`);
        return r0 === 1n;
      }
      default:
        throw new Error(`insn ${pc}: unexpected opcode 0x${i.code.toString(16)}`);
    }
    pc++;
  }
  throw new Error("no exit");
}

/** The semantics, written the obvious way: per access bit, the last matching rule naming it decides. */
function reference(rules: DeviceRule[], req: Request): boolean {
  for (const bit of [M, R, W]) {
    if (!(req.access & bit)) continue;
    let allowed = false;
    for (const r of rules) {
      const type = r.type ?? "a";
      if (type !== "a" && type !== req.type) continue;
      if (r.major !== undefined && r.major !== null && r.major !== -1 && r.major !== req.major) continue;
      if (r.minor !== undefined && r.minor !== null && r.minor !== -1 && r.minor !== req.minor) continue;
      const acc = r.access ?? "rwm";
      const named = (bit === M && acc.includes("m")) || (bit === R && acc.includes("r")) || (bit === W && acc.includes("w"));
      if (named) allowed = !!r.allow;
    }
    if (!allowed) return false;
  }
  return true;
}

function compile(rules: DeviceRule[]) {
  const f = deviceFilter(rules);
  const prog = decodeInsns(f.insns);
  verify(prog);
  const ok = (type: "b" | "c", major: number, minor: number, access: string) =>
    run(prog, { type, major, minor, access: (access.includes("m") ? M : 0) | (access.includes("r") ? R : 0) | (access.includes("w") ? W : 0) });
  return { ...f, prog, ok };
}

const PROLOGUE = 6;

t.test("encoding: struct bpf_insn bytes", async (t) => {
  const { insns, prog } = compile([]);
  t.equal(insns.length, 8 * (PROLOGUE + 2), "8 bytes an instruction");
  // r2 = *(u32 *)(r1 + 0): BPF_LDX|BPF_MEM|BPF_W, dst r2 in the low nibble, src r1 in the high one
  t.same([...insns.subarray(0, 8)], [0x61, 0x12, 0, 0, 0, 0, 0, 0]);
  // r3 &= 0xffff: BPF_ALU64|BPF_AND|BPF_K
  t.same([...insns.subarray(16, 24)], [0x57, 0x03, 0, 0, 0xff, 0xff, 0, 0]);
  // r2 >>= 16
  t.same([...insns.subarray(24, 32)], [0x77, 0x02, 0, 0, 16, 0, 0, 0]);
  // r5 = *(u32 *)(r1 + 8): the offset goes in off, not imm
  t.same([...insns.subarray(40, 48)], [0x61, 0x15, 8, 0, 0, 0, 0, 0]);
  // r0 = 0; exit
  t.same([...insns.subarray(48)], [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
  t.same(prog[1], { code: OP.MOV_X, dst: 3, src: 2, off: 0, imm: 0 });

  // a jump backwards-encoded value: deny c 1:3 r -> jne r3,2; jne r4,1; jne r5,3; jset r2,2 -> DENY
  const one = compile([{ allow: false, type: "c", major: 1, minor: 3, access: "r" }]);
  t.same(one.prog.slice(PROLOGUE), [
    { code: OP.JNE_K, dst: 3, src: 0, off: 3, imm: BPF_DEVCG_DEV_CHAR },
    { code: OP.JNE_K, dst: 4, src: 0, off: 2, imm: 1 },
    { code: OP.JNE_K, dst: 5, src: 0, off: 1, imm: 3 },
    { code: OP.JSET_K, dst: 2, src: 0, off: 0, imm: R },
    { code: OP.MOV_K, dst: 0, src: 0, off: 0, imm: 0 },
    { code: OP.EXIT, dst: 0, src: 0, off: 0, imm: 0 },
  ]);
  t.same([...one.insns.subarray(8 * PROLOGUE, 8 * PROLOGUE + 8)], [0x55, 0x03, 3, 0, 2, 0, 0, 0], "jne r3, 2, +3");

  // an allow: r2 &= ~access (imm sign-extended by the kernel), if r2 == 0 goto ALLOW
  const allow = compile([{ allow: true, type: "b", major: 8, minor: 0, access: "rw" }]);
  t.same(allow.prog.slice(PROLOGUE + 3, PROLOGUE + 5), [
    { code: OP.AND_K, dst: 2, src: 0, off: 0, imm: ~(R | W) },
    { code: OP.JEQ_K, dst: 2, src: 0, off: 2, imm: 0 },
  ]);
  t.same([...allow.insns.subarray(8 * (PROLOGUE + 3), 8 * (PROLOGUE + 4))], [0x57, 0x02, 0, 0, 0xf9, 0xff, 0xff, 0xff]);
  t.same(allow.prog.slice(-4).map((i) => [i.code, i.imm]), [[OP.MOV_K, 0], [OP.EXIT, 0], [OP.MOV_K, 1], [OP.EXIT, 0]], "DENY falls through, ALLOW after it");

  // big-endian machines: register nibbles swapped, off and imm big-endian
  const be = deviceFilter([{ allow: false, type: "c", major: 1, minor: 3, access: "r" }], "BE").insns;
  t.same([...be.subarray(0, 8)], [0x61, 0x21, 0, 0, 0, 0, 0, 0]);
  t.same([...be.subarray(40, 48)], [0x61, 0x51, 0, 8, 0, 0, 0, 0]);
  t.same([...be.subarray(8 * PROLOGUE, 8 * PROLOGUE + 8)], [0x55, 0x30, 0, 3, 0, 0, 0, 2]);
  t.same(decodeInsns(be, "BE"), one.prog);
});

t.test("an empty list denies everything", async (t) => {
  const p = compile([]);
  t.equal(p.allowsAll, false);
  t.equal(p.prog.length, PROLOGUE + 2);
  t.notOk(p.ok("c", 1, 3, "r"));
  t.notOk(p.ok("b", 8, 0, "m"));
});

t.test("allow all", async (t) => {
  for (const rules of [
    [{ allow: true, access: "rwm" }],
    [{ allow: true, type: "a" as const }],
    [{ allow: false, access: "rwm" }, { allow: true, type: "c" as const, major: 1, minor: 3, access: "r" }, { allow: true, access: "rwm" }],
  ]) {
    const p = compile(rules);
    t.equal(p.allowsAll, true, JSON.stringify(rules));
    t.same(p.prog.slice(PROLOGUE).map((i) => [i.code, i.imm]), [[OP.MOV_K, 1], [OP.EXIT, 0]], "the rules before it are unreachable and not emitted");
    t.ok(p.ok("c", 1, 3, "rwm") && p.ok("b", 8, 0, "rw") && p.ok("c", 4095, 1048575, "m"));
  }
  // allow all, then a deny: not allow-all any more
  const p = compile([{ allow: true, access: "rwm" }, { allow: false, type: "c", major: 1, minor: 3, access: "rwm" }]);
  t.equal(p.allowsAll, false);
  t.notOk(p.ok("c", 1, 3, "r"));
  t.ok(p.ok("c", 1, 5, "r"));
  t.ok(p.ok("b", 1, 3, "r"), "the deny names char devices only");
  // allow everything but only some access: not allow-all
  const partial = compile([{ allow: true, access: "rw" }]);
  t.equal(partial.allowsAll, false);
  t.ok(partial.ok("c", 1, 3, "rw"));
  t.notOk(partial.ok("c", 1, 3, "m"));
});

t.test("rule order: the last matching rule wins", async (t) => {
  const dn: DeviceRule = { allow: false, type: "c", major: 1, minor: 3, access: "rwm" };
  const up: DeviceRule = { allow: true, type: "c", major: 1, minor: 3, access: "rwm" };
  t.notOk(compile([up, dn]).ok("c", 1, 3, "r"), "allow then deny: denied");
  t.ok(compile([dn, up]).ok("c", 1, 3, "r"), "deny then allow: allowed");
  // a blanket deny after specific allows wipes them out, and makes them unreachable
  const wiped = compile([up, { allow: false, access: "rwm" }]);
  t.notOk(wiped.ok("c", 1, 3, "r"));
  t.equal(wiped.prog.length, PROLOGUE + 2, "nothing before a blanket deny is emitted");
  // blanket deny first (what runc spec configs start with), then allows
  const usual = compile([{ allow: false, access: "rwm" }, up]);
  t.ok(usual.ok("c", 1, 3, "rw"));
  t.notOk(usual.ok("c", 1, 5, "r"));
});

t.test("wildcards: type a, absent or -1 major/minor", async (t) => {
  const deny: DeviceRule = { allow: false, access: "rwm" };
  const anyChar = compile([deny, { allow: true, type: "c", access: "m" }]);
  t.ok(anyChar.ok("c", 7, 9, "m"), "c *:* m allows mknod of any char device");
  t.notOk(anyChar.ok("c", 7, 9, "r"), "but not reading it");
  t.notOk(anyChar.ok("b", 7, 9, "m"), "nor block devices");

  const pts = compile([deny, { allow: true, type: "c", major: 136, access: "rwm" }]);
  t.ok(pts.ok("c", 136, 0, "rw") && pts.ok("c", 136, 99, "rw"), "c 136:* (minor absent)");
  t.notOk(pts.ok("c", 137, 0, "rw"));
  t.equal(pts.prog.filter((i) => i.code === OP.JNE_K && i.dst === 5).length, 0, "no minor compare for a wildcard minor");

  const minus = compile([deny, { allow: true, type: "b", major: -1, minor: 0, access: "r" }]);
  t.ok(minus.ok("b", 8, 0, "r") && minus.ok("b", 259, 0, "r"), "b *:0 (major -1)");
  t.notOk(minus.ok("b", 8, 1, "r"));
  t.notOk(minus.ok("c", 8, 0, "r"));

  const typeA = compile([deny, { allow: true, type: "a", major: 1, access: "r" }]);
  t.ok(typeA.ok("c", 1, 3, "r") && typeA.ok("b", 1, 0, "r"), "a 1:* matches both types");
  t.notOk(typeA.ok("c", 2, 3, "r"));
  t.equal(typeA.prog.filter((i) => i.code === OP.JNE_K && i.dst === 3).length, 0, "no type compare for type a");

  t.same(compile([{ allow: true, type: "c", major: null as unknown as number, minor: 3, access: "r" }]).ok("c", 9, 3, "r"), true, "null major = wildcard");
});

t.test("access is decided bit by bit", async (t) => {
  const two = compile([
    { allow: false, access: "rwm" },
    { allow: true, type: "c", major: 1, minor: 3, access: "r" },
    { allow: true, type: "c", major: 1, minor: 3, access: "w" },
  ]);
  t.ok(two.ok("c", 1, 3, "rw"), "r from one rule and w from another");
  t.notOk(two.ok("c", 1, 3, "rwm"), "m was never allowed");

  const denyRead = compile([{ allow: true, access: "rwm" }, { allow: false, type: "c", major: 1, minor: 3, access: "r" }]);
  t.notOk(denyRead.ok("c", 1, 3, "r"));
  t.notOk(denyRead.ok("c", 1, 3, "rw"), "a deny of r stops an rw open");
  t.ok(denyRead.ok("c", 1, 3, "w"));
  t.ok(denyRead.ok("c", 1, 3, "m"));
});

t.test("the default container rules", async (t) => {
  const p = compile(containerDeviceRules([{ allow: false, access: "rwm" }], [{ path: "/dev/fuse", type: "c", major: 10, minor: 229 }]));
  for (const [maj, min] of [[1, 3], [1, 5], [1, 7], [1, 8], [1, 9], [5, 0], [5, 2], [136, 4], [10, 200], [10, 229]]) {
    t.ok(p.ok("c", maj!, min!, "rw"), `c ${maj}:${min} rw`);
  }
  t.ok(p.ok("b", 8, 0, "m"), "mknod of any block device");
  t.notOk(p.ok("b", 8, 0, "r"), "but not reading one");
  t.notOk(p.ok("c", 10, 1, "r"));
  t.notOk(p.ok("c", 4, 1, "rw"), "a tty that was not listed");
});

t.test("numbers no device can have are dropped, invalid rules name their index", async (t) => {
  const big = compile([{ allow: false, access: "rwm" }, { allow: true, type: "c", major: 2 ** 32, minor: 1, access: "rwm" }]);
  t.equal(big.prog.length, PROLOGUE + 2);
  t.throws(() => deviceFilter([{ allow: true, access: "rwm" }, { allow: true, type: "x" as "c", access: "r" }]), /^devices\[1\]: invalid cgroup device type "x"/);
  t.throws(() => deviceFilter([{ allow: true, access: "rwx" }]), /^devices\[0\]: invalid cgroup device access "rwx"/);
  t.throws(() => deviceFilter([{ allow: true, major: 1.5, access: "r" }]), /^devices\[0\]: invalid major number 1.5/);
});

t.test("random rule lists agree with the obvious semantics", async (t) => {
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = <T>(xs: T[]) => xs[rnd(xs.length)]!;
  const accesses = ["r", "w", "m", "rw", "rm", "wm", "rwm"];
  let checked = 0;
  for (let n = 0; n < 300; n++) {
    const rules: DeviceRule[] = [];
    for (let k = rnd(8); k > 0; k--) {
      const r: DeviceRule = { allow: rnd(2) === 0, type: pick(["a", "b", "c"] as const), access: pick(accesses) };
      if (rnd(3)) r.major = pick([-1, 1, 5]);
      if (rnd(3)) r.minor = pick([-1, 3, 0]);
      rules.push(r);
    }
    const p = compile(rules);
    for (const type of ["b", "c"] as const)
      for (const major of [1, 5, 7])
        for (const minor of [0, 3, 4])
          for (let access = 1; access <= 7; access++) {
            const req = { type, major, minor, access };
            if (run(p.prog, req) !== reference(rules, req)) {
              t.fail("disagrees", { rules, req });
              return;
            }
            checked++;
          }
  }
  t.pass(`${checked} requests over 300 rule lists`);
});
