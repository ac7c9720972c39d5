import t from "tap";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MountTarget, MsgType, OpCode, type Program } from "../../src/plan/ops.js";
import { encodeProgram, WIRE_MAGIC, WIRE_VERSION } from "../../src/plan/wire.js";

const header = readFileSync(join(import.meta.dirname, "../../native/wire/wire.h"), "utf8");
const cEnum = (prefix: string) =>
  Object.fromEntries([...header.matchAll(new RegExp(`\\b${prefix}_([A-Z_]+) = (\\d+)`, "g"))].map((m) => [m[1], Number(m[2])]));

t.test("op codes match native/wire/wire.h", async (t) => {
  const c = cEnum("OP");
  delete c.MAX;
  t.same(c, OpCode);
});

t.test("message types and mount targets match", async (t) => {
  t.same(cEnum("MSG"), MsgType);
  t.same(cEnum("TARGET"), MountTarget);
  t.match(header, new RegExp(`WIRE_MAGIC 0x${WIRE_MAGIC.toString(16)}u`, "i"));
  t.match(header, new RegExp(`WIRE_VERSION ${WIRE_VERSION}u`));
});

t.test("encoding layout", async (t) => {
  const program: Program = {
    ops: [
      { op: "SETHOSTNAME", strs: ["box"], origin: "hostname", what: "" },
      { op: "SETRLIMIT", ints: [7, 1024n, (1n << 64n) - 1n], origin: "x", what: "" },
    ],
  };
  const buf = encodeProgram(program);
  t.equal(buf.readUInt32LE(0), WIRE_MAGIC);
  t.equal(buf.readUInt32LE(8), 2, "op count");
  t.equal(buf.readUInt32LE(12), buf.length - 16, "body length");
  // op 1: code, nints 0, nstrs 1, payload = 4 + 3 + 1
  t.equal(buf.readUInt16LE(16), OpCode.SETHOSTNAME);
  t.equal(buf.readUInt8(18), 0);
  t.equal(buf.readUInt8(19), 1);
  t.equal(buf.readUInt32LE(20), 8);
  t.equal(buf.readUInt32LE(24), 3);
  t.equal(buf.toString("utf8", 28, 31), "box");
  t.equal(buf[31], 0, "strings are NUL terminated");
  // op 2 starts at 32: three u64s
  t.equal(buf.readUInt16LE(32), OpCode.SETRLIMIT);
  t.equal(buf.readUInt8(34), 3);
  t.equal(buf.readBigUInt64LE(40), 7n);
  t.equal(buf.readBigUInt64LE(48), 1024n);
  t.equal(buf.readBigUInt64LE(56), (1n << 64n) - 1n);
});

t.test("too many arguments is refused", async (t) => {
  t.throws(() => encodeProgram({ ops: [{ op: "EXEC", strs: Array(9).fill("x"), origin: "", what: "" }] }));
});
