import { runCheck } from "../src/spec/check.js";
const r = runCheck(process.argv[2], (process.argv[3] as any) ?? "text");
process.stdout.write(r.output); console.log("exit", r.exitCode);
