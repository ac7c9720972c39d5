// Count the leaf assertions of a TAP 14 stream (subtest summary lines are
// not assertions) and print "N passed, N failed, N skipped".
// TODO points are counted as skipped; a failing TODO is listed.
import { readFileSync } from "node:fs";

const lines = readFileSync(process.argv[2], "utf8").split("\n");
let passed = 0, failed = 0, skipped = 0;
const todos = [], failures = [];
const indentOf = (l) => l.length - l.trimStart().length;
let prevIndent = -1;
for (let i = 0; i < lines.length; i++) {
  const line = lines[i];
  if (!line.trim()) continue;
  const ind = indentOf(line);
  const m = /^(not ok|ok)\b\s*\d*\s*(?:-\s*)?(.*)$/.exec(line.trim());
  if (m) {
    // A point that follows deeper-indented lines closes a subtest: not an assertion.
    const closesSubtest = prevIndent > ind;
    if (!closesSubtest) {
      const ok = m[1] === "ok";
      const directive = /#\s*(SKIP|TODO)\b(.*)$/i.exec(m[2]);
      if (directive) {
        skipped++;
        if (directive[1].toUpperCase() === "TODO") todos.push(`${ok ? "ok" : "not ok"}: ${m[2]}`);
      } else if (ok) passed++;
      else {
        failed++;
        failures.push(m[2]);
      }
    } else if (m[1] === "not ok" && !/#\s*(SKIP|TODO)/i.test(m[2])) {
      // A subtest that failed without failing assertions (e.g. it threw or timed out)
      // is counted as one failure unless a failing leaf was already seen inside it.
      let sawFail = false;
      for (let j = i - 1; j >= 0; j--) {
        const l = lines[j];
        if (!l.trim()) continue;
        if (indentOf(l) <= ind) break;
        if (/^\s*not ok\b/.test(l) && !/#\s*(SKIP|TODO)/i.test(l)) { sawFail = true; break; }
      }
      if (!sawFail) {
        failed++;
        failures.push(m[2]);
      }
    }
  }
  prevIndent = ind;
}
for (const f of failures) console.log(`# failed: ${f}`);
for (const t of todos) console.log(`# todo: ${t}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed ? 1 : 0;
