// CPU and memory node lists as the kernel writes them: "0-3,7".

/** Expand a cpuset list ("0-3,5") into numbers; throws on malformed input. */
export function parseCpuList(s: string): number[] {
  const out: number[] = [];
  const t = s.trim();
  if (t === "") return out;
  for (const part of t.split(",")) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new RangeError(`invalid list element ${JSON.stringify(part)}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new RangeError(`invalid range ${JSON.stringify(part)}`);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}
