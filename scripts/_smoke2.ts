import { writeDefaultSpec } from "../src/spec/default.js";
const [dir, rl] = process.argv.slice(2);
try { console.log(writeDefaultSpec(dir, rl === "1")); } catch (e) { console.log("ERR", (e as Error).message); }
