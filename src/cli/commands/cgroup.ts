// pause, resume, ps, update, events: runc's commands over the container's cgroup.
import { readFileSync } from "node:fs";
import type { CommandModule } from "yargs";
import { RuntimeError } from "../../lifecycle/errors.js";
const ops = () => import("../../lifecycle/cgroup-ops.js");
import type { Resources } from "../../spec/types.js";
import { bool, exactArgs, minArgs, str, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";
import { trailingArgs } from "../trailing.js";
import { parseDuration, parseSize } from "../units.js";
import { printOut } from "../output.js";

export const pauseCommand: CommandModule<object, Args> = {
  command: "pause",
  describe: "pause suspends all processes inside the container",
  handler: async (argv) => {
    setupGlobals(argv);
    (await ops()).pauseContainer(argv.root, exactArgs(argv, "pause", 1)[0]);
  },
};

export const resumeCommand: CommandModule<object, Args> = {
  command: "resume",
  describe: "resumes all processes that have been previously paused",
  handler: async (argv) => {
    setupGlobals(argv);
    (await ops()).resumeContainer(argv.root, exactArgs(argv, "resume", 1)[0]);
  },
};

export const psCommand: CommandModule<object, Args> = {
  command: "ps",
  describe: "ps displays the processes running inside a container",
  builder: (y) => y.options({ format: { alias: "f", type: "string", default: "table", describe: "select one of: table or json" } }) as never,
  handler: async (argv) => {
    setupGlobals(argv);
    const [id] = minArgs(argv, "ps", 1);
    const pids = (await ops()).containerPids(argv.root, id);
    const format = str(argv.format) ?? "table";
    if (format === "json") {
      printOut(JSON.stringify(pids.length ? pids : null) + "\n");
      return;
    }
    if (format !== "table") throw new RuntimeError(`invalid format option`);
    const psArgs = trailingArgs().length ? trailingArgs() : ["-ef"];
    const { execFileSync } = await import("node:child_process");
    const out = execFileSync("ps", psArgs, { encoding: "utf8" });
    const lines = out.split("\n");
    const column = lines[0].trim().split(/\s+/).indexOf("PID");
    if (column < 0) throw new RuntimeError("couldn't find PID field in ps output");
    const keep = new Set(pids);
    const rows = lines.slice(1).filter((l) => l.trim() && keep.has(Number(l.trim().split(/\s+/)[column])));
    printOut([lines[0], ...rows].join("\n") + "\n");
  },
};

const UPDATE_FLAGS = {
  resources: { alias: "r", type: "string", describe: "path to a file holding the resources to update (\"-\" for stdin)" },
  "blkio-weight": { type: "number", describe: "specifies per cgroup weight, range is from 10 to 1000" },
  "cpu-period": { type: "number", describe: "CPU CFS period to be used for hardcapping (in usecs)" },
  "cpu-quota": { type: "number", describe: "CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period" },
  "cpu-burst": { type: "number", describe: "CPU CFS burst (in usecs)" },
  "cpu-share": { type: "number", describe: "CPU shares (relative weight vs. other containers)" },
  "cpu-rt-period": { type: "number", describe: "CPU realtime period to be used for hardcapping (in usecs)" },
  "cpu-rt-runtime": { type: "number", describe: "CPU realtime hardcap limit (in usecs)" },
  "cpuset-cpus": { type: "string", describe: "CPU(s) to use" },
  "cpuset-mems": { type: "string", describe: "memory node(s) to use" },
  "cpu-idle": { type: "number", describe: "set cgroup SCHED_IDLE or not, 0: default behavior, 1: SCHED_IDLE" },
  memory: { type: "string", describe: "memory limit (in bytes, or with a unit: 512m)" },
  "memory-reservation": { type: "string", describe: "memory reservation or soft_limit (in bytes)" },
  "memory-swap": { type: "string", describe: "total memory usage (memory + swap); set '-1' to enable unlimited swap" },
  "pids-limit": { type: "number", describe: "maximum number of pids allowed in the container" },
  "l3-cache-schema": { type: "string", describe: "the string of Intel RDT/CAT L3 cache schema" },
  "mem-bw-schema": { type: "string", describe: "the string of Intel RDT/MBA memory bandwidth schema" },
  "kernel-memory": { type: "string", hidden: true, describe: "ignored (the kernel removed it)" },
  "kernel-memory-tcp": { type: "string", hidden: true, describe: "ignored (the kernel removed it)" },
} as const;

export const updateCommand: CommandModule<object, Args> = {
  command: "update",
  describe: "update container resource constraints",
  builder: (y) => y.options(UPDATE_FLAGS) as never,
  handler: async (argv) => {
    setupGlobals(argv);
    const [id] = exactArgs(argv, "update", 1);
    (await ops()).updateContainer(argv.root, id, await resourcesFromArgs(argv));
  },
};

async function resourcesFromArgs(argv: Args): Promise<Resources> {
  const file = str(argv.resources);
  if (file !== undefined) {
    const { parseJson } = await import("../../spec/load.js");
    const name = file === "-" ? "<stdin>" : file;
    const text = readFileSync(file === "-" ? 0 : file, "utf8");
    return parseJson(text, name) as Resources;
  }
  const num = (k: string) => (argv[k] === undefined ? undefined : Number(str(argv[k])));
  const size = (k: string) => (argv[k] === undefined ? undefined : parseSize(str(argv[k])!, k));
  const r: Resources = {};
  const cpu: NonNullable<Resources["cpu"]> = {};
  if (num("cpu-period") !== undefined) cpu.period = num("cpu-period");
  if (num("cpu-quota") !== undefined) cpu.quota = num("cpu-quota");
  if (num("cpu-burst") !== undefined) cpu.burst = num("cpu-burst");
  if (num("cpu-share") !== undefined) cpu.shares = num("cpu-share");
  if (num("cpu-rt-period") !== undefined) cpu.realtimePeriod = num("cpu-rt-period");
  if (num("cpu-rt-runtime") !== undefined) cpu.realtimeRuntime = num("cpu-rt-runtime");
  if (num("cpu-idle") !== undefined) cpu.idle = num("cpu-idle");
  if (str(argv["cpuset-cpus"]) !== undefined) cpu.cpus = str(argv["cpuset-cpus"]);
  if (str(argv["cpuset-mems"]) !== undefined) cpu.mems = str(argv["cpuset-mems"]);
  if (Object.keys(cpu).length) r.cpu = cpu;
  const memory: NonNullable<Resources["memory"]> = {};
  if (size("memory") !== undefined) memory.limit = size("memory");
  if (size("memory-reservation") !== undefined) memory.reservation = size("memory-reservation");
  if (size("memory-swap") !== undefined) memory.swap = size("memory-swap");
  if (memory.limit === -1 && memory.swap === undefined) memory.swap = -1;
  if (Object.keys(memory).length) r.memory = memory;
  if (num("pids-limit") !== undefined) r.pids = { limit: num("pids-limit") };
  if (num("blkio-weight") !== undefined) r.blockIO = { weight: num("blkio-weight") };
  if (argv["l3-cache-schema"] !== undefined || argv["mem-bw-schema"] !== undefined)
    throw new RuntimeError("Intel RDT is not supported by tsrun yet");
  return r;
}

export const eventsCommand: CommandModule<object, Args> = {
  command: "events",
  describe: "display container events such as OOM notifications, cpu, memory, and IO usage statistics",
  builder: (y) =>
    y.options({
      interval: { type: "string", default: "5s", describe: "set the stats collection interval" },
      stats: { type: "boolean", describe: "display the container's stats then exit" },
    }) as never,
  handler: async (argv) => {
    setupGlobals(argv);
    const [id] = exactArgs(argv, "events", 1);
    const interval = parseDuration(str(argv.interval) ?? "5s");
    if (interval <= 0) throw new RuntimeError("duration interval must be greater than 0");
    const { statsEvent, streamEvents } = await ops();
    if (bool(argv.stats)) {
      printOut(statsEvent(argv.root, id) + "\n");
      return;
    }
    await streamEvents(argv.root, id, interval, (line) => printOut(line));
  },
};
