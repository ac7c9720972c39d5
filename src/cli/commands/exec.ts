import { readFileSync } from "node:fs";
import type { CommandModule } from "yargs";
import { RuntimeError } from "../../lifecycle/errors.js";
import { warn } from "../../lifecycle/log.js";
import { formatProblem, SpecError } from "../../spec/problems.js";
import { capabilityProblem, processIdProblem } from "../../spec/semantic.js";
import type { Process } from "../../spec/types.js";
import { bool, minArgs, str, type Args } from "../args.js";
import { setupGlobals } from "../globals.js";
import { trailingArgs } from "../trailing.js";

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

export const execCommand: CommandModule<object, Args> = {
  command: "exec",
  describe: "execute new process inside the container",
  builder: (y) =>
    y.options({
      "console-socket": { type: "string", describe: "path to an AF_UNIX socket which will receive the pty master" },
      "pidfd-socket": { type: "string", describe: "path to an AF_UNIX socket which will receive a pidfd of the process" },
      cwd: { type: "string", describe: "current working directory in the container" },
      env: { alias: "e", type: "string", describe: "set environment variables (repeatable)" },
      tty: { alias: "t", type: "boolean", describe: "allocate a pseudo-TTY" },
      user: { alias: "u", type: "string", describe: "UID (format: <uid>[:<gid>])" },
      "additional-gids": { alias: "g", type: "string", describe: "additional gids (repeatable)" },
      process: { alias: "p", type: "string", describe: "path to the process.json" },
      detach: { alias: "d", type: "boolean", describe: "detach from the container's process" },
      "pid-file": { type: "string", describe: "specify the file to write the process id to" },
      "process-label": { type: "string", describe: "set the asm process label for the process commonly used with selinux" },
      apparmor: { type: "string", describe: "set the apparmor profile for the process" },
      "no-new-privs": { type: "boolean", describe: "set the no new privileges value for the process" },
      cap: { alias: "c", type: "string", describe: "add a capability to the bounding set for the process (repeatable)" },
      "preserve-fds": { type: "number", default: 0, describe: "pass N additional file descriptors to the container" },
      cgroup: { type: "string", describe: "run the process in an (existing) sub-cgroup(s) (repeatable)" },
      "ignore-paused": { type: "boolean", describe: "allow exec in a paused container" },
    }) as never,
  handler: async (argv) => {
    setupGlobals(argv);
    const [id] = minArgs(argv, "exec", 1);
    try {
      await execCommandIn(argv, id);
    } catch (e) {
      // every failure of exec itself is 255 (runc), so callers tell it from the process's status
      if (e instanceof RuntimeError && e.exitCode === EXEC_FAILED) throw e;
      throw new RuntimeError(`exec failed: ${(e as Error).message}`, EXEC_FAILED);
    }
  },
};

const EXEC_FAILED = 255;

async function execCommandIn(argv: Args, id: string): Promise<void> {
  const { loadContainer } = await import("../../lifecycle/container.js");
  const { execProcess } = await import("../../lifecycle/exec.js");
  const processFile = str(argv.process);
  let proc: Process;
  if (processFile) {
    proc = await loadProcessFile(processFile);
  } else {
    const base = loadContainer(argv.root, id).state.process;
    if (!base) throw new RuntimeError("exec failed: the container has no process to start from; use --process", EXEC_FAILED);
    proc = overrideProcess(structuredClone(base), argv, trailingArgs());
  }
  if (!proc.args?.length) throw new RuntimeError("exec failed: args must not be empty", EXEC_FAILED);
  process.exitCode = await execProcess({
    root: argv.root,
    id,
    process: proc,
    detach: bool(argv.detach),
    pidFile: str(argv["pid-file"]),
    consoleSocket: str(argv["console-socket"]),
    pidfdSocket: str(argv["pidfd-socket"]),
    preserveFds: Number(str(argv["preserve-fds"]) ?? 0),
    ignorePaused: bool(argv["ignore-paused"]),
  });
}

async function loadProcessFile(file: string): Promise<Process> {
  const { parseJson, validateProcess } = await import("../../spec/load.js");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new RuntimeError(`exec failed: ${file}: ${(e as Error).message}`, EXEC_FAILED);
  }
  try {
    const doc = parseJson(text, file) as Process;
    const problems = validateProcess(doc, file, "");
    if (problems.some((p) => p.severity === "error")) throw new SpecError(problems);
    for (const p of problems) warn(formatProblem(p));
    return doc;
  } catch (e) {
    if (e instanceof SpecError) throw new RuntimeError(`exec failed: ${e.message}`, EXEC_FAILED);
    throw e;
  }
}

/** config.json's process with the command line's changes, as runc applies them. */
function overrideProcess(p: Process, argv: Args, args: string[]): Process {
  p.args = args;
  p.terminal = bool(argv.tty);
  const cwd = str(argv.cwd);
  if (cwd) p.cwd = cwd;
  const env = list(argv.env);
  if (env.length) p.env = [...(p.env ?? []), ...env];
  const user = str(argv.user);
  if (user) {
    const [uid, gid] = user.split(":");
    if (!/^\d+$/.test(uid) || (gid !== undefined && !/^\d+$/.test(gid))) throw new RuntimeError(`exec failed: invalid --user ${JSON.stringify(user)}: want UID[:GID]`, EXEC_FAILED);
    p.user = { ...p.user, uid: Number(uid), gid: gid === undefined ? p.user.gid : Number(gid) };
    const problem = processIdProblem(p.user.uid, "uid") ?? processIdProblem(p.user.gid, "gid");
    if (problem) throw new RuntimeError(`exec failed: --user ${user}: ${problem}`, EXEC_FAILED);
  }
  const gids = list(argv["additional-gids"]);
  if (gids.length) {
    if (gids.some((g) => !/^\d+$/.test(g))) throw new RuntimeError(`exec failed: invalid --additional-gids: ${gids.join(",")}`, EXEC_FAILED);
    p.user.additionalGids = gids.map(Number);
    for (const g of p.user.additionalGids) {
      const problem = processIdProblem(g, "gid");
      if (problem) throw new RuntimeError(`exec failed: --additional-gids ${g}: ${problem}`, EXEC_FAILED);
    }
  }
  if (bool(argv["no-new-privs"])) p.noNewPrivileges = true;
  const caps = list(argv.cap).filter((cap) => {
    const problem = capabilityProblem(cap);
    if (problem?.severity === "error") throw new RuntimeError(`exec failed: --cap ${problem.message}`, EXEC_FAILED);
    if (problem) warn(`--cap ${problem.message}`);
    return !problem;
  });
  if (caps.length) {
    const c = (p.capabilities ??= {});
    // never the inheritable set (the CVE-2022-29162 class): file capabilities could then be gained
    for (const set of ["bounding", "effective", "permitted", "ambient"] as const)
      c[set] = [...new Set([...(c[set] ?? []), ...caps])];
  }
  const apparmor = str(argv.apparmor);
  if (apparmor) p.apparmorProfile = apparmor;
  const label = str(argv["process-label"]);
  if (label) p.selinuxLabel = label;
  return p;
}
