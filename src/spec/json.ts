// JSON reading with useful errors. JSON.parse does the work (it is native and fast); when
// it fails, `scanJson` walks the text again to say where and why, with line and column
// (Bun's JSON.parse reports no position at all, Node's only an offset). `scanJson` also
// finds duplicate keys and integers that lose precision as doubles, which `tsrun check`
// reports as warnings. It is iterative, so deep nesting cannot overflow the stack.

import { SpecError, type Problem } from "./problems.js";

export interface Position {
  offset: number;
  line: number;
  column: number;
}

export interface ScanIssue {
  /** JSON pointer of the value where the issue is. */
  pointer: string;
  pos: Position;
  message: string;
}

export interface ScanResult {
  /** The first syntax error, if any. */
  error?: ScanIssue;
  duplicateKeys: ScanIssue[];
  impreciseNumbers: ScanIssue[];
}

/** Escapes one JSON pointer segment (RFC 6901). */
export function escapePointer(segment: string | number): string {
  return String(segment).replace(/~/g, "~0").replace(/\//g, "~1");
}

export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const scan = scanJson(text);
    if (scan.error) {
      const { pointer, pos, message } = scan.error;
      throw new SpecError([{ file, pointer, message: `invalid JSON at line ${pos.line}, column ${pos.column}: ${message}`, severity: "error" }]);
    }
    // The scanner accepted what JSON.parse rejected: only resource limits get here.
    const reason = e instanceof RangeError ? "the document is nested too deeply" : (e as Error).message;
    throw new SpecError([{ file, pointer: "", message: `invalid JSON: ${reason}`, severity: "error" }]);
  }
}

/** Problems (warnings) about valid JSON that probably does not mean what its author thinks. */
export function jsonWarnings(text: string, file: string): Problem[] {
  const scan = scanJson(text);
  const out: Problem[] = [];
  for (const d of scan.duplicateKeys)
    out.push({ file, pointer: d.pointer, message: `${d.message} (line ${d.pos.line}, column ${d.pos.column})`, severity: "warning" });
  for (const n of scan.impreciseNumbers)
    out.push({ file, pointer: n.pointer, message: `${n.message} (line ${n.pos.line}, column ${n.pos.column})`, severity: "warning" });
  return out;
}

const MAX_POINTER_DEPTH = 64;

const enum Ctx {
  Object,
  Array,
}

interface Frame {
  ctx: Ctx;
  open: Position;
  keys?: Set<string>;
  /** Pointer of the container itself. */
  pointer: string;
  /** Current key (object) or index (array). */
  /** the key or index being read; undefined in an object before its first key */
  child: string | undefined;
  count: number;
}

function describeChar(c: string | undefined): string {
  if (c === undefined) return "end of file";
  const code = c.charCodeAt(0);
  if (code < 0x20) return `control character U+${code.toString(16).padStart(4, "0").toUpperCase()}`;
  if (c === "'") return `"'" (JSON strings need double quotes)`;
  return `'${c}'`;
}

/** Walks JSON text, reporting the first syntax error, duplicate keys and imprecise integers. */
export function scanJson(text: string): ScanResult {
  const result: ScanResult = { duplicateKeys: [], impreciseNumbers: [] };
  const len = text.length;
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const stack: Frame[] = [];
  const pos = (at = i): Position => {
    // Recompute line/column for positions behind the cursor on the same line only.
    return { offset: at, line, column: at - lineStart + 1 };
  };
  // Pointers stop growing past MAX_POINTER_DEPTH levels (they then name an ancestor), so a
  // pathologically deep document cannot produce a megabyte-long message.
  const here = (): string => {
    if (stack.length === 0) return "";
    const f = stack[Math.min(stack.length, MAX_POINTER_DEPTH) - 1];
    return f.child === undefined ? f.pointer : `${f.pointer}/${escapePointer(f.child)}`;
  };
  const fail = (message: string, at = i, pointer = here()): ScanResult => {
    result.error = { pointer, pos: pos(at), message };
    return result;
  };
  const skipWs = (): void => {
    while (i < len) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0d) i++;
      else if (c === 0x0a) {
        i++;
        line++;
        lineStart = i;
      } else break;
    }
  };
  const truncated = (): ScanResult => {
    const top = stack[stack.length - 1];
    if (top) {
      const what = top.ctx === Ctx.Object ? "object" : "array";
      return fail(
        `unexpected end of file: the ${what} opened at line ${top.open.line}, column ${top.open.column} is not closed (is the file truncated?)`,
      );
    }
    return fail("unexpected end of file (is the file truncated?)");
  };

  // Reads a string starting at text[i] === '"'; returns its value or undefined on error.
  const readString = (): string | undefined => {
    const start = i;
    i++;
    let out = "";
    let chunk = i;
    while (i < len) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(chunk, i);
        i++;
        return out;
      }
      if (c === 0x5c) {
        out += text.slice(chunk, i);
        const e = text[i + 1];
        if (e === undefined) break;
        if (e === "u") {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
            fail(`invalid \\u escape in string: \\u must be followed by 4 hex digits`);
            return undefined;
          }
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else {
          const map: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
          if (!(e in map)) {
            fail(`invalid escape '\\${e}' in string (allowed: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`);
            return undefined;
          }
          out += map[e];
          i += 2;
        }
        chunk = i;
        continue;
      }
      if (c < 0x20) {
        fail(
          c === 0x0a
            ? "line break inside a string (a string is not closed, or needs \\n)"
            : `${describeChar(text[i])} inside a string (escape it)`,
        );
        return undefined;
      }
      i++;
    }
    i = len;
    fail(`unexpected end of file inside the string that starts at column ${start - lineStart + 1} (is the file truncated?)`);
    return undefined;
  };

  const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  const readNumber = (): boolean => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m || m[0] === "-" || m[0].length === 0) {
      fail(`invalid number`);
      return false;
    }
    const lit = m[0];
    const next = text[i + lit.length];
    if (next !== undefined && /[0-9.eE+\-a-zA-Z]/.test(next)) {
      const token = /[-+0-9.a-zA-Z]*/y;
      token.lastIndex = i;
      const tok = token.exec(text)?.[0] ?? lit;
      if (/^-?0[0-9]/.test(tok)) fail(`invalid number '${tok}': leading zeros are not allowed in JSON (use a decimal number, not octal)`);
      else fail(`invalid number '${tok}'`);
      return false;
    }
    if (/^-?[0-9]{16,}$/.test(lit)) {
      const exact = BigInt(lit);
      const asDouble = Number(lit);
      if (!Number.isFinite(asDouble) || BigInt(asDouble) !== exact) {
        result.impreciseNumbers.push({
          pointer: here(),
          pos: pos(),
          message: `the integer ${lit} cannot be represented exactly and is read as ${Number.isFinite(asDouble) ? BigInt(asDouble).toString() : String(asDouble)}`,
        });
      }
    } else if (!Number.isFinite(Number(lit))) {
      result.impreciseNumbers.push({ pointer: here(), pos: pos(), message: `the number ${lit} is too large and is read as Infinity` });
    }
    i += lit.length;
    return true;
  };

  // Parser states: expecting a value; after a value (expecting , or close).
  skipWs();
  if (len === 0 || i >= len) return fail(len === 0 ? "the file is empty" : "the file contains only whitespace");
  if (text.charCodeAt(0) === 0xfeff) return fail("the file starts with a byte order mark (save it as UTF-8 without BOM)", 0, "");

  let expectValue = true;
  for (;;) {
    if (expectValue) {
      skipWs();
      if (i >= len) return truncated();
      const c = text[i];
      if (c === "{" || c === "[") {
        const frame: Frame = {
          ctx: c === "{" ? Ctx.Object : Ctx.Array,
          open: pos(),
          pointer: here(),
          child: c === "{" ? undefined : "0",
          count: 0,
        };
        if (c === "{") frame.keys = new Set();
        stack.push(frame);
        i++;
        skipWs();
        if (i >= len) return truncated();
        if ((c === "{" && text[i] === "}") || (c === "[" && text[i] === "]")) {
          i++;
          stack.pop();
          expectValue = false;
          continue;
        }
        if (c === "{") {
          // Read the first key.
          if (text[i] !== '"') return fail(`expected a property name in double quotes, found ${describeChar(text[i])}`, i, frame.pointer);
          const key = readString();
          if (key === undefined) return result;
          frame.child = key;
          frame.keys!.add(key);
          skipWs();
          if (i >= len) return truncated();
          if (text[i] !== ":") return fail(`expected ':' after property name "${key}", found ${describeChar(text[i])}`);
          i++;
        }
        expectValue = true;
        continue;
      }
      if (c === '"') {
        if (readString() === undefined) return result;
      } else if (c === "-" || (c >= "0" && c <= "9")) {
        if (!readNumber()) return result;
      } else if (text.startsWith("true", i)) i += 4;
      else if (text.startsWith("false", i)) i += 5;
      else if (text.startsWith("null", i)) i += 4;
      else {
        const top = stack[stack.length - 1];
        if ((c === "}" || c === "]") && top && top.count > 0) return fail(`trailing comma before '${c}'`);
        const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 32))?.[0];
        if (word) return fail(`unexpected word '${word}': expected a value (strings need double quotes; true, false and null are lowercase)`);
        return fail(`expected a value, found ${describeChar(c)}`);
      }
      expectValue = false;
      continue;
    }
    // After a value.
    skipWs();
    const top = stack[stack.length - 1];
    if (!top) {
      if (i < len) return fail(`unexpected ${describeChar(text[i])} after the end of the JSON document`, i, "");
      return result;
    }
    if (i >= len) return truncated();
    const c = text[i];
    const close = top.ctx === Ctx.Object ? "}" : "]";
    if (c === close) {
      i++;
      stack.pop();
      continue;
    }
    if (c !== ",") {
      const hint = c === '"' ? " (a comma is missing)" : "";
      return fail(`expected ',' or '${close}', found ${describeChar(c)}${hint}`);
    }
    i++;
    top.count++;
    if (top.ctx === Ctx.Array) {
      top.child = String(top.count);
      expectValue = true;
      continue;
    }
    skipWs();
    if (i >= len) return truncated();
    if (text[i] === "}") return fail("trailing comma before '}'");
    if (text[i] !== '"') return fail(`expected a property name in double quotes, found ${describeChar(text[i])}`, i, top.pointer);
    const keyPos = pos();
    const key = readString();
    if (key === undefined) return result;
    if (top.keys!.has(key)) {
      result.duplicateKeys.push({
        pointer: `${top.pointer}/${escapePointer(key)}`,
        pos: keyPos,
        message: `duplicate property "${key}": only the last one counts`,
      });
    }
    top.keys!.add(key);
    top.child = key;
    skipWs();
    if (i >= len) return truncated();
    if (text[i] !== ":") return fail(`expected ':' after property name "${key}", found ${describeChar(text[i])}`);
    i++;
    expectValue = true;
  }
}
