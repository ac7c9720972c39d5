// cgroup v2 device rules: the ordered rule list -> a BPF_PROG_TYPE_CGROUP_DEVICE program.
//
// Pure: returns the bytes of the `struct bpf_insn` array; the native addon only loads and attaches
// them. Written from the kernel's uapi (include/uapi/linux/bpf.h): the program gets a pointer to
//   struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
// with access_type = (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*, and returns 1 (allow) or 0 (deny).
//
// Semantics, as in the v1 devices cgroup and runc: the LAST rule that matches decides, and nothing
// matching means deny. A rule matches a request when the device type ("a" = any), major and minor
// (-1 or absent = any) match; access is decided bit by bit, so for every access bit the request
// asks for, the last matching rule that names that bit decides it:
//   - a deny rule sharing any requested bit denies (deny "c 1:3 r" also stops an "rw" open);
//   - an allow rule settles the bits it names; once every requested bit is settled, allow
//     (so allow "c 1:3 r" then allow "c 1:3 w" permits "rw", as v1's merged exceptions do).
//
// The program walks the rules last to first:
//   r2 = access bits still undecided, r3 = device type, r4 = major, r5 = minor
//   per rule: skip unless type/major/minor match, then
//     deny:  if (r2 & access) goto DENY
//     allow: r2 &= ~access; if (r2 == 0) goto ALLOW
//   DENY: r0 = 0; exit      ALLOW: r0 = 1; exit
// A rule that matches every device with all of "rwm" decides everything still undecided, so it
// ends the walk: the rules before it can never be reached, and the verifier rejects unreachable
// instructions.
import { endianness } from "node:os";
import type { DeviceRule } from "../spec/types.js";
import { normalizeDeviceRule } from "./devices.js";

export const BPF_DEVCG_ACC_MKNOD = 1;
export const BPF_DEVCG_ACC_READ = 2;
export const BPF_DEVCG_ACC_WRITE = 4;
export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;

/** bpf(2) needs a license string; no GPL-only helper is called, so any string works. */
export const DEVICE_FILTER_LICENSE = "Apache-2.0";
/** prog_name of every program tsrun attaches: how `update` finds the one to replace. */
export const DEVICE_FILTER_NAME = "tsrun_devices";

// instruction classes, operations and sources (include/uapi/linux/bpf_common.h, bpf.h)
const BPF_LDX = 0x01, BPF_JMP = 0x05, BPF_ALU64 = 0x07;
const BPF_W = 0x00, BPF_MEM = 0x60;
const BPF_K = 0x00, BPF_X = 0x08;
const BPF_AND = 0x50, BPF_RSH = 0x70, BPF_MOV = 0xb0;
const BPF_JA = 0x00, BPF_JEQ = 0x10, BPF_JSET = 0x40, BPF_JNE = 0x50, BPF_EXIT = 0x90;

export const OP = {
  LDXW: BPF_LDX | BPF_MEM | BPF_W,
  AND_K: BPF_ALU64 | BPF_AND | BPF_K,
  RSH_K: BPF_ALU64 | BPF_RSH | BPF_K,
  MOV_K: BPF_ALU64 | BPF_MOV | BPF_K,
  MOV_X: BPF_ALU64 | BPF_MOV | BPF_X,
  JA: BPF_JMP | BPF_JA,
  JEQ_K: BPF_JMP | BPF_JEQ | BPF_K,
  JNE_K: BPF_JMP | BPF_JNE | BPF_K,
  JSET_K: BPF_JMP | BPF_JSET | BPF_K,
  EXIT: BPF_JMP | BPF_EXIT,
} as const;

/** One decoded `struct bpf_insn` { u8 code; u8 dst_reg:4, src_reg:4; s16 off; s32 imm; }. */
export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

export interface DeviceFilter {
  /** struct bpf_insn[] in this machine's byte order, as the kernel reads it */
  insns: Buffer;
  /** the program allows every request: equivalent to attaching nothing */
  allowsAll: boolean;
}

const ALL_ACCESS = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
/** Linux majors have 12 bits and minors 20: larger numbers name no device (and do not fit an s32 imm). */
const MAX_DEVICE_NUMBER = 0x7fffffff;

export function accessBits(access: string): number {
  let bits = 0;
  for (const ch of access) bits |= ch === "m" ? BPF_DEVCG_ACC_MKNOD : ch === "r" ? BPF_DEVCG_ACC_READ : ch === "w" ? BPF_DEVCG_ACC_WRITE : 0;
  return bits;
}

/** A jump whose target is a label resolved once the layout is known. */
type Pending = Insn & { to?: "deny" | "allow" | number };

/**
 * Compiles the ordered rule list (as containerDeviceRules returns it) to a device filter.
 * Throws an Error naming the rule (`devices[2]: ...`) on an invalid one.
 */
export function deviceFilter(rules: DeviceRule[], byteOrder: "LE" | "BE" = endianness()): DeviceFilter {
  const normalized = rules.map((r, i) => {
    try {
      return normalizeDeviceRule(r);
    } catch (e) {
      throw new Error(`devices[${i}]: ${(e as Error).message}`);
    }
  });

  const prog: Pending[] = [
    ins(OP.LDXW, 2, 1, 0, 0), // r2 = ctx->access_type
    ins(OP.MOV_X, 3, 2, 0, 0), // r3 = r2
    ins(OP.AND_K, 3, 0, 0, 0xffff), // r3 = device type
    ins(OP.RSH_K, 2, 0, 0, 16), // r2 = requested access
    ins(OP.LDXW, 4, 1, 4, 0), // r4 = ctx->major
    ins(OP.LDXW, 5, 1, 8, 0), // r5 = ctx->minor
  ];
  const prologue = prog.length;
  let fallThrough: "deny" | "allow" = "deny";

  for (let i = normalized.length - 1; i >= 0; i--) {
    const r = normalized[i]!;
    if (r.major > MAX_DEVICE_NUMBER || r.minor > MAX_DEVICE_NUMBER) continue;
    const access = accessBits(r.access);
    const matchAll = r.type === "a" && r.major < 0 && r.minor < 0;
    if (matchAll && access === ALL_ACCESS) {
      fallThrough = r.allow ? "allow" : "deny";
      break;
    }
    const block: Pending[] = [];
    if (r.type !== "a") block.push(ins(OP.JNE_K, 3, 0, 0, r.type === "b" ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
    if (r.major >= 0) block.push(ins(OP.JNE_K, 4, 0, 0, r.major));
    if (r.minor >= 0) block.push(ins(OP.JNE_K, 5, 0, 0, r.minor));
    const guards = block.length;
    if (r.allow) {
      block.push(ins(OP.AND_K, 2, 0, 0, ~access), { ...ins(OP.JEQ_K, 2, 0, 0, 0), to: "allow" });
    } else {
      block.push({ ...ins(OP.JSET_K, 2, 0, 0, access), to: "deny" });
    }
    // the guards skip to the next rule: the instruction after this block
    const next = prog.length + block.length;
    for (let g = 0; g < guards; g++) block[g]!.to = next;
    prog.push(...block);
  }

  // Layout: the fall-through decision first, then the other exit if some jump needs it.
  const exits: Record<"deny" | "allow", number | undefined> = { deny: undefined, allow: undefined };
  const emitExit = (which: "deny" | "allow") => {
    exits[which] = prog.length;
    prog.push(ins(OP.MOV_K, 0, 0, 0, which === "allow" ? 1 : 0), ins(OP.EXIT, 0, 0, 0, 0));
  };
  emitExit(fallThrough);
  const other = fallThrough === "deny" ? "allow" : "deny";
  if (prog.some((p) => p.to === other)) emitExit(other);

  const out = Buffer.alloc(prog.length * 8);
  prog.forEach((p, pc) => {
    let off = p.off;
    if (p.to !== undefined) {
      const target = typeof p.to === "number" ? p.to : exits[p.to]!;
      off = target - pc - 1;
      if (off > 0x7fff) throw new Error(`device rule list too long for one BPF program (${normalized.length} rules)`);
    }
    encode(out, pc, { ...p, off }, byteOrder);
  });
  return { insns: out, allowsAll: fallThrough === "allow" && prog.length === prologue + 2 };
}

function ins(code: number, dst: number, src: number, off: number, imm: number): Pending {
  return { code, dst, src, off, imm };
}

function encode(buf: Buffer, pc: number, i: Insn, order: "LE" | "BE"): void {
  const at = pc * 8;
  buf.writeUInt8(i.code, at);
  // the dst_reg:4, src_reg:4 bit-fields: dst is the low nibble on little-endian machines
  const regs = order === "LE" ? ((i.src & 0xf) << 4) | (i.dst & 0xf) : ((i.dst & 0xf) << 4) | (i.src & 0xf);
  buf.writeUInt8(regs, at + 1);
  if (order === "LE") {
    buf.writeInt16LE(i.off, at + 2);
    buf.writeInt32LE(i.imm | 0, at + 4);
  } else {
    buf.writeInt16BE(i.off, at + 2);
    buf.writeInt32BE(i.imm | 0, at + 4);
  }
}

/** The instructions of a program, for tests and debugging. */
export function decodeInsns(buf: Buffer, order: "LE" | "BE" = endianness()): Insn[] {
  const out: Insn[] = [];
  for (let at = 0; at + 8 <= buf.length; at += 8) {
    const regs = buf.readUInt8(at + 1);
    const le = order === "LE";
    out.push({
      code: buf.readUInt8(at),
      dst: le ? regs & 0xf : regs >> 4,
      src: le ? regs >> 4 : regs & 0xf,
      off: le ? buf.readInt16LE(at + 2) : buf.readInt16BE(at + 2),
      imm: le ? buf.readInt32LE(at + 4) : buf.readInt32BE(at + 4),
    });
  }
  return out;
}
