// Usage: node last-error.mjs LOGFILE
// Prints the msg of the last record with level "error" in a runtime's
// --log-format json log (one JSON object a line), the way containerd's shim
// reads it. Exits 1 when there is none; 2 when a line is not JSON (containerd
// would then say "unable to retrieve OCI runtime error").
import { readFileSync } from 'node:fs';

let text = '';
try {
  text = readFileSync(process.argv[2], 'utf8');
} catch (e) {
  console.error(`cannot read ${process.argv[2]}: ${e.message}`);
  process.exit(1);
}
let last = null;
let bad = 0;
for (const line of text.split('\n')) {
  if (!line.trim()) continue;
  try {
    const rec = JSON.parse(line);
    const level = Object.entries(rec).find(([k]) => k.toLowerCase() === 'level')?.[1];
    const msg = Object.entries(rec).find(([k]) => k.toLowerCase() === 'msg')?.[1];
    if (level === 'error' && typeof msg === 'string') last = msg;
  } catch {
    bad++;
    console.error(`not a JSON log line: ${line}`);
  }
}
if (bad) process.exit(2);
if (last === null) process.exit(1);
process.stdout.write(last);
