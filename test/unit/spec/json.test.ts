// JSON reading: line/column for every kind of syntax error, duplicate keys, precision.
import t from "tap";
import { jsonWarnings, parseJsonText, scanJson } from "../../../src/spec/json.js";
import { SpecError } from "../../../src/spec/problems.js";

function parseError(text: string): { pointer: string; message: string } {
  try {
    parseJsonText(text, "f.json");
  } catch (e) {
    if (e instanceof SpecError) return { pointer: e.problems[0].pointer, message: e.problems[0].message };
    throw e;
  }
  throw new Error("parsed");
}

t.test("valid JSON parses like JSON.parse and scans clean", async (t) => {
  for (const text of ['{"a":[1,2,{"b":null}],"c":"\\u00e9\\n","d":-1.5e3,"e":true}', "[]", "0", '"x"', ' \n{ } \n']) {
    t.same(parseJsonText(text, "f"), JSON.parse(text));
    const scan = scanJson(text);
    t.equal(scan.error, undefined, text);
  }
});

t.test("syntax errors name line, column and pointer", async (t) => {
  const cases: [string, string, string][] = [
    ['{"a": 1,\n "b": [1, 2,,]}', "/b/2", "invalid JSON at line 2, column 13: expected a value, found ','"],
    ['{"a": 1,\n "b": [1, 2,]}', "/b/2", "invalid JSON at line 2, column 13: trailing comma before ']'"],
    ['{"a": "x\ny"}', "/a", "invalid JSON at line 1, column 9: line break inside a string (a string is not closed, or needs \\n)"],
    ['{"a": "\\q"}', "/a", "invalid JSON at line 1, column 8: invalid escape '\\q' in string (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"],
    ['{"a": "\\u12G4"}', "/a", "invalid JSON at line 1, column 8: invalid \\u escape in string: \\u must be followed by 4 hex digits"],
    ['{"a" 1}', "/a", "invalid JSON at line 1, column 6: expected ':' after property name \"a\", found '1'"],
    ["{a: 1}", "", "invalid JSON at line 1, column 2: expected a property name in double quotes, found 'a'"],
    ['{"a": -}', "/a", "invalid JSON at line 1, column 7: invalid number"],
    ['{"a": 1.}', "/a", "invalid JSON at line 1, column 7: invalid number '1.'"],
    ["   ", "", "invalid JSON at line 1, column 4: the file contains only whitespace"],
    ['{"a": [\n\n', "/a/0", "invalid JSON at line 3, column 1: unexpected end of file: the array opened at line 1, column 7 is not closed (is the file truncated?)"],
    ['{"a": 1}\n{"b": 2}', "", "invalid JSON at line 2, column 1: unexpected '{' after the end of the JSON document"],
    ['{"a": "\u0001"}', "/a", "invalid JSON at line 1, column 8: control character U+0001 inside a string (escape it)"],
  ];
  for (const [text, pointer, message] of cases) {
    t.same(parseError(text), { pointer, message }, JSON.stringify(text));
  }
});

t.test("duplicate keys and imprecise numbers are warnings", async (t) => {
  const text = '{\n  "a": 1,\n  "b": {"x": 1, "x": 2},\n  "a": 18446744073709551615,\n  "n": 1e999\n}';
  const w = jsonWarnings(text, "f.json");
  t.same(
    w.map((p) => `${p.severity} ${p.pointer}: ${p.message}`),
    [
      'warning /b/x: duplicate property "x": only the last one counts (line 3, column 17)',
      'warning /a: duplicate property "a": only the last one counts (line 4, column 3)',
      "warning /a: the integer 18446744073709551615 cannot be represented exactly and is read as 18446744073709551616 (line 4, column 8)",
      "warning /n: the number 1e999 is too large and is read as Infinity (line 5, column 8)",
    ],
  );
  t.same(jsonWarnings('{"big": 9007199254740992, "ok": 18446744073709551616}', "f"), [], "exact integers are fine");
});

t.test("pointers escape ~ and /", async (t) => {
  t.same(parseError('{"a/b": {"c~d": [}}'), { pointer: "/a~1b/c~0d/0", message: "invalid JSON at line 1, column 18: expected a value, found '}'" });
});

t.test("very deep nesting neither crashes nor yields giant pointers", async (t) => {
  const depth = 200000;
  const e = parseError(`{"a": ${"[".repeat(depth)}`);
  t.match(e.message, /^invalid JSON at line 1, column \d+: unexpected end of file: the array opened at line 1, column \d+ is not closed/);
  t.ok(e.pointer.length < 400, "pointer stays short");
});
