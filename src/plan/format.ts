// Human-readable listing of an init program (`tsrun plan`).
import type { Program } from "./ops.js";

export function formatProgram(program: Program): string {
  return program.ops.map((op, i) => `${String(i).padStart(3)}  ${op.op.padEnd(16)} ${op.what.padEnd(48)} ${op.origin}\n`).join("");
}
