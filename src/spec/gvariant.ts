// GVariant text format (the syntax of `busctl`/`gdbus` values, which runc's org.systemd.property.*
// annotations use) -> a D-Bus variant for the addon: [signature, value]. Pure. Supports what unit
// properties take: booleans, numbers (typed with a keyword such as "uint64 5" or "@t 5"; an untyped
// integer is int32, an untyped fraction a double), strings, object paths, signatures, arrays,
// tuples, dictionaries and variants. 64-bit integers are bigints.

/** A D-Bus variant as the addon sends it: [signature, value]. */
export type Variant = [string, unknown];

export class GVariantError extends Error {}

/** The largest uint64 (D-Bus "t"): systemd's "infinity" for limits and times. */
export const UINT64_MAX = (1n << 64n) - 1n;

const KEYWORDS: Record<string, string> = {
  boolean: "b", byte: "y", int16: "n", uint16: "q", int32: "i", uint32: "u", handle: "h",
  int64: "x", uint64: "t", double: "d", string: "s", objectpath: "o", signature: "g",
};

const INT_RANGE: Record<string, [bigint, bigint]> = {
  y: [0n, 255n], n: [-(1n << 15n), (1n << 15n) - 1n], q: [0n, (1n << 16n) - 1n],
  i: [-(1n << 31n), (1n << 31n) - 1n], h: [-(1n << 31n), (1n << 31n) - 1n], u: [0n, (1n << 32n) - 1n],
  x: [-(1n << 63n), (1n << 63n) - 1n], t: [0n, UINT64_MAX],
};

/** Parses one GVariant text value; the whole text must be that value. */
export function parseGVariant(text: string): Variant {
  const p = new Parser(text);
  const v = p.value(undefined);
  p.space();
  if (!p.done()) p.fail(`unexpected ${JSON.stringify(text.slice(p.at, p.at + 10))} after the value`);
  return v;
}

/** Length of the complete D-Bus type at the start of sig (0 when there is none). */
export function completeType(sig: string, at = 0): number {
  const c = sig[at];
  if (c === undefined) return 0;
  if (c === "a") {
    const n = completeType(sig, at + 1);
    return n ? n + 1 : 0;
  }
  if (c === "(" || c === "{") {
    const close = c === "(" ? ")" : "}";
    let i = at + 1;
    while (i < sig.length && sig[i] !== close) {
      const n = completeType(sig, i);
      if (!n) return 0;
      i += n;
    }
    return sig[i] === close ? i + 1 - at : 0;
  }
  return "ybnqiuxtdhsogv".includes(c) ? 1 : 0;
}

/** The member types of a tuple or dict-entry signature "(sib)" -> ["s", "i", "b"]. */
function members(sig: string): string[] {
  const out: string[] = [];
  for (let i = 1; i < sig.length - 1; ) {
    const n = completeType(sig, i);
    out.push(sig.slice(i, i + n));
    i += n;
  }
  return out;
}

class Parser {
  at = 0;
  constructor(private readonly s: string) {}

  fail(why: string): never {
    throw new GVariantError(`at offset ${this.at}: ${why}`);
  }
  done(): boolean {
    return this.at >= this.s.length;
  }
  space(): void {
    while (/\s/.test(this.s[this.at] ?? "")) this.at++;
  }
  private eat(c: string): boolean {
    this.space();
    if (this.s[this.at] !== c) return false;
    this.at++;
    return true;
  }
  private expect(c: string): void {
    if (!this.eat(c)) this.fail(`expected "${c}"`);
  }

  /** One value; `type` is the signature it must have when the context knows it. */
  value(type: string | undefined): Variant {
    this.space();
    const rest = this.s.slice(this.at);
    if (rest.startsWith("@")) {
      this.at++;
      const n = completeType(this.s, this.at);
      if (!n) this.fail("expected a type after @");
      const t = this.s.slice(this.at, this.at + n);
      this.at += n;
      if (type !== undefined && t !== type) this.fail(`type @${t} where ${type} is expected`);
      return this.value(t);
    }
    const kw = /^([a-z]+[0-9]*)\b/.exec(rest);
    if (kw && KEYWORDS[kw[1]!] !== undefined) {
      const t = KEYWORDS[kw[1]!]!;
      if (type !== undefined && t !== type) this.fail(`${kw[1]} where ${type} is expected`);
      this.at += kw[1]!.length;
      return this.value(t);
    }
    const c = this.s[this.at];
    if (c === "[") return this.array(type);
    if (c === "(") return this.tuple(type);
    if (c === "{") return this.dict(type);
    if (c === "<") {
      if (type !== undefined && type !== "v") this.fail(`a variant where ${type} is expected`);
      this.at++;
      const inner = this.value(undefined);
      this.expect(">");
      return ["v", inner];
    }
    if (c === "'" || c === '"') {
      const str = this.string();
      const t = type ?? "s";
      if (t === "s" || t === "o" || t === "g") return [t, str];
      this.fail(`a string where ${t} is expected`);
    }
    if (rest.startsWith("true") || rest.startsWith("false")) {
      const b = rest.startsWith("true");
      this.at += b ? 4 : 5;
      if (type !== undefined && type !== "b") this.fail(`a boolean where ${type} is expected`);
      return ["b", b];
    }
    return this.number(type);
  }

  private number(type: string | undefined): Variant {
    const m = /^([+-]?)(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf|nan)/.exec(this.s.slice(this.at));
    if (!m) this.fail(type ? `expected a value of type ${type}` : "expected a value");
    const [lit, sign, body] = m as unknown as [string, string, string];
    this.at += lit.length;
    const integral = /^(0[xX][0-9a-fA-F]+|\d+)$/.test(body);
    const int = integral ? (sign === "-" ? -BigInt(body) : BigInt(body)) : undefined;
    const t = type ?? (integral ? "i" : "d");
    if (t === "d") {
      if (int !== undefined) return ["d", Number(int)];
      const special: Record<string, number> = { inf: Infinity, nan: NaN };
      const f = special[body] ?? Number(body);
      return ["d", sign === "-" ? -f : f];
    }
    const range = INT_RANGE[t];
    if (!range) this.fail(`a number where ${t} is expected`);
    if (int === undefined) this.fail(`${lit} is not an integer (type ${t})`);
    if (int < range[0] || int > range[1]) this.fail(`${lit} is out of range for type ${t} (${range[0]} to ${range[1]})`);
    return [t, t === "x" || t === "t" ? int : Number(int)];
  }

  private string(): string {
    const q = this.s[this.at++];
    let out = "";
    for (;;) {
      const c = this.s[this.at++];
      if (c === undefined) this.fail("unterminated string");
      if (c === q) return out;
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = this.s[this.at++];
      const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", v: "\v", a: "\x07", "\\": "\\", "'": "'", '"': '"' };
      if (e !== undefined && simple[e] !== undefined) out += simple[e];
      else if (e === "u" || e === "U") {
        const len = e === "u" ? 4 : 8;
        const hex = this.s.slice(this.at, this.at + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail(`\\${e} needs ${len} hex digits`);
        out += String.fromCodePoint(parseInt(hex, 16));
        this.at += len;
      } else this.fail(`unknown escape \\${e ?? ""}`);
    }
  }

  private array(type: string | undefined): Variant {
    if (type !== undefined && type[0] !== "a") this.fail(`an array where ${type} is expected`);
    this.at++;
    let elem = type?.slice(1);
    const items: unknown[] = [];
    if (!this.eat("]")) {
      do {
        const [t, v] = this.value(elem);
        if (elem === undefined) elem = t;
        items.push(v);
      } while (this.eat(","));
      this.expect("]");
    }
    if (elem === undefined) this.fail("the type of an empty array is unknown: write it as @as [] (or the array type it is)");
    return [`a${elem}`, items];
  }

  private tuple(type: string | undefined): Variant {
    if (type !== undefined && type[0] !== "(") this.fail(`a tuple where ${type} is expected`);
    this.at++;
    const want = type ? members(type) : undefined;
    const sigs: string[] = [];
    const items: unknown[] = [];
    if (!this.eat(")")) {
      do {
        this.space();
        if (this.s[this.at] === ")") break; // "(x,)"
        const [t, v] = this.value(want?.[items.length]);
        sigs.push(t);
        items.push(v);
      } while (this.eat(","));
      this.expect(")");
    }
    if (want && want.length !== items.length) this.fail(`a tuple of ${items.length} where ${type} is expected`);
    return [`(${sigs.join("")})`, items];
  }

  private dict(type: string | undefined): Variant {
    if (type !== undefined && !type.startsWith("a{")) this.fail(`a dictionary where ${type} is expected`);
    this.at++;
    let [kt, vt] = type ? members(type.slice(1)) : [undefined, undefined];
    const items: unknown[] = [];
    if (!this.eat("}")) {
      do {
        const [k, kv] = this.value(kt);
        this.expect(":");
        const [v, vv] = this.value(vt);
        kt ??= k;
        vt ??= v;
        items.push([kv, vv]);
      } while (this.eat(","));
      this.expect("}");
    }
    if (kt === undefined || vt === undefined) this.fail("the type of an empty dictionary is unknown: write it as @a{sv} {} (or the type it is)");
    return [`a{${kt}${vt}}`, items];
  }
}
