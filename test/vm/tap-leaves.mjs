// Flattens a TAP 14 stream (a conformance file run by node) into one top-level line per leaf
// assertion, named "PREFIX: subtest > assertion", with its SKIP/TODO directive kept, so that
// test/vm/run counts assertions the way conformance/summary.mjs does. A subtest that failed
// without a failing assertion inside it (it threw, or timed out) is one failing line; a stream
// that ends without its plan (node died) is one more. Prints "# leaves: P passed, F failed, S skipped".
// Usage: node tap-leaves.mjs PREFIX FILE
import { readFileSync } from "node:fs";

const [prefix, file] = process.argv.slice(2);
const lines = readFileSync(file, "utf8").split("\n");
const indentOf = (l) => l.length - l.trimStart().length;
const out = [];
let passed = 0, failed = 0, skipped = 0;
const names = []; // the open subtests' names by indent level
let prev = -1;
let plan = false;
const emit = (ok, text) => {
  const d = /#\s*(SKIP|TODO)\b/i.exec(text);
  if (d) skipped++;
  else if (ok) passed++;
  else failed++;
  out.push(`${ok ? "ok" : "not ok"} ${out.length + 1} - ${prefix}: ${text}`);
};
for (let i = 0; i < lines.length; i++) {
  const line = lines[i];
  if (!line.trim()) continue;
  const ind = indentOf(line);
  const t = line.trim();
  if (ind === 0 && /^1\.\.\d+/.test(t)) plan = true;
  const sub = /^# Subtest: (.*)$/.exec(t);
  if (sub) {
    names[ind] = sub[1];
    names.length = ind + 1;
    continue;
  }
  const m = /^(not ok|ok)\b\s*\d*\s*(?:-\s*)?(.*)$/.exec(t);
  if (m) {
    const ok = m[1] === "ok";
    const text = m[2].replace(/\s*#\s*time=[\d.]+m?s\s*$/, "");
    if (prev > ind) {
      // closes a subtest: not an assertion, unless it failed with no failing assertion in it
      if (!ok && !/#\s*(SKIP|TODO)/i.test(text)) {
        let sawFail = false;
        for (let j = i - 1; j >= 0; j--) {
          const l = lines[j];
          if (!l.trim()) continue;
          if (indentOf(l) <= ind) break;
          if (/^\s*not ok\b/.test(l) && !/#\s*(SKIP|TODO)/i.test(l)) { sawFail = true; break; }
        }
        if (!sawFail) emit(false, text);
      }
    } else {
      const path = names.slice(0, ind).filter(Boolean);
      emit(ok, [...path, text].join(" > "));
    }
  }
  prev = ind;
}
if (!plan) emit(false, "the TAP stream ended without its plan (the file did not run to the end)");
console.log(out.join("\n"));
console.log(`# leaves: ${passed} passed, ${failed} failed, ${skipped} skipped`);
