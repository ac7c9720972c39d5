// Encodes an init program into the binary format tsrun-init reads (native/wire/wire.h).
import { OpCode, type Program } from "./ops.js";

export const WIRE_MAGIC = 0x50525354;
export const WIRE_VERSION = 1;
const MAX_INTS = 16;
const MAX_STRS = 8;

export function encodeProgram(program: Program): Buffer {
  const parts: Buffer[] = [];
  let body = 0;
  for (const op of program.ops) {
    const ints = op.ints ?? [];
    const strs = (op.strs ?? []).map((s) => (typeof s === "string" ? Buffer.from(s) : s));
    if (ints.length > MAX_INTS || strs.length > MAX_STRS) throw new Error(`op ${op.op} has too many arguments`);
    const payload = ints.length * 8 + strs.reduce((n, s) => n + 4 + s.length + 1, 0);
    const buf = Buffer.alloc(8 + payload);
    buf.writeUInt16LE(OpCode[op.op], 0);
    buf.writeUInt8(ints.length, 2);
    buf.writeUInt8(strs.length, 3);
    buf.writeUInt32LE(payload, 4);
    let off = 8;
    for (const v of ints) {
      buf.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), off);
      off += 8;
    }
    for (const s of strs) {
      buf.writeUInt32LE(s.length, off);
      s.copy(buf, off + 4);
      off += 4 + s.length + 1;
    }
    parts.push(buf);
    body += buf.length;
  }
  const header = Buffer.alloc(16);
  header.writeUInt32LE(WIRE_MAGIC, 0);
  header.writeUInt32LE(WIRE_VERSION, 4);
  header.writeUInt32LE(program.ops.length, 8);
  header.writeUInt32LE(body, 12);
  return Buffer.concat([header, ...parts]);
}
