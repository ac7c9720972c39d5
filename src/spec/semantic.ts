// Checks the schemas cannot express: absolute paths, duplicates, rules that span fields,
// known names, and the sysctl/namespace rules runc applies. Every function here takes the
// document as `unknown` and checks each value's type before using it, so it can run on a
// document that failed the schema and still report everything else at once.

import {
  CAPABILITIES,
  CAPABILITY_SETS,
  IPC_SYSCTLS,
  MAX_ID_MAPPINGS,
  MAX_DEVICE_MAJOR,
  MAX_DEVICE_MINOR,
  MAX_PROCESS_ID,
  NEWEST_KNOWN_SPEC_MINOR,
  RLIMITS,
  SCHED_POLICIES_WITH_PRIORITY,
  SECCOMP_ERRNO_ACTIONS,
  SUPPORTED_SPEC_MAJOR,
  TIME_NAMESPACE_CLOCKS,
} from "./constants.js";
import type { ShapeNode } from "./generated/validators.js";
import { escapePointer } from "./json.js";
import type { Problem } from "./problems.js";
import { isKnownSyscall, knownSyscalls } from "./syscalls.js";
import { parseCpuList } from "./cpu-list.js";
import { annotationProperty, SYSTEMD_PROPERTY_PREFIX } from "./systemd-properties.js";

export interface ValidateOptions {
  /** `--systemd-cgroup` was given: cgroupsPath must be slice:prefix:name. */
  systemdCgroup?: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isArr = (v: unknown): v is unknown[] => Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === "string";
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const has = (o: Obj, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k) && o[k] !== undefined;
const q = (s: string): string => JSON.stringify(s);
const byteLength = (s: string): number => new TextEncoder().encode(s).length;

export class Collector {
  readonly problems: Problem[] = [];
  constructor(readonly file: string) {}
  error(pointer: string, message: string): void {
    this.problems.push({ file: this.file, pointer, message, severity: "error" });
  }
  warn(pointer: string, message: string): void {
    this.problems.push({ file: this.file, pointer, message, severity: "warning" });
  }
}

// ---- small helpers -----------------------------------------------------------------------

function checkAbsolute(c: Collector, pointer: string, v: unknown, what: string): void {
  if (!isStr(v)) return;
  if (v === "") c.error(pointer, `must be an absolute path (${what}), not an empty string`);
  else if (!v.startsWith("/")) c.error(pointer, `must be an absolute path (${what}), not ${q(v)}`);
}

/** Levenshtein distance, capped: enough to suggest a likely intended name. */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

/** The closest known name, when one is close enough to be a likely typo. */
export function suggest(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = 99;
  const lower = name.toLowerCase();
  for (const k of known) {
    if (k.toLowerCase() === lower) return k;
    const d = distance(lower, k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  const limit = name.length <= 4 ? 1 : 2;
  return bestD <= limit ? best : undefined;
}

const didYouMean = (s: string | undefined): string => (s ? ` (did you mean ${q(s)}?)` : "");

// ---- ociVersion --------------------------------------------------------------------------

const SEMVER =
  /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:-((?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;

export function checkOciVersion(c: Collector, v: unknown, pointer = "/ociVersion"): void {
  if (!isStr(v)) return;
  const m = SEMVER.exec(v);
  if (!m) {
    c.error(pointer, `${q(v)} is not a SemVer version such as "1.2.0"`);
    return;
  }
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const pre = m[4];
  if (major !== SUPPORTED_SPEC_MAJOR) {
    c.error(pointer, `runtime-spec ${v} is not supported: tsrun implements runtime-spec 1.x (1.0.0 to 1.${NEWEST_KNOWN_SPEC_MINOR}.x)`);
    return;
  }
  if (minor === 0 && patch === 0 && pre !== undefined) {
    c.warn(pointer, `${v} is a pre-release of runtime-spec 1.0.0; configs from before 1.0.0 may not be read as intended`);
  } else if (minor > NEWEST_KNOWN_SPEC_MINOR) {
    c.warn(pointer, `runtime-spec ${v} is newer than the 1.${NEWEST_KNOWN_SPEC_MINOR} tsrun knows: fields added since are ignored`);
  }
}

// ---- NUL characters ----------------------------------------------------------------------

/** Every string the spec defines (following the shape tree) must be free of NUL: C cannot pass it on. */
function checkNul(c: Collector, doc: unknown, shape: ShapeNode | undefined, base: string, skip: ReadonlySet<string>): void {
  const stack: { v: unknown; node: ShapeNode | undefined; p: string }[] = [{ v: doc, node: shape, p: base }];
  while (stack.length > 0) {
    const { v, node, p } = stack.pop()!;
    if (!node || skip.has(p)) continue;
    if (isStr(v)) {
      if (v.includes("\u0000")) c.error(p, "contains a NUL character (\\u0000), which cannot be passed to the kernel");
    } else if (isArr(v)) {
      if (node.any) v.forEach((item, i) => stack.push({ v: item, node: node.any, p: `${p}/${i}` }));
    } else if (isObj(v)) {
      for (const [k, child] of Object.entries(v)) {
        const sub = node.props && Object.prototype.hasOwnProperty.call(node.props, k) ? node.props[k] : node.any;
        if (!sub) continue;
        const cp = `${p}/${escapePointer(k)}`;
        if (node.map && k.includes("\u0000")) c.error(cp, "the key contains a NUL character (\\u0000)");
        stack.push({ v: child, node: sub, p: cp });
      }
    }
  }
}

// ---- unknown properties ------------------------------------------------------------------

/** Platform sections of config.json that tsrun (Linux) ignores without comment. */
const OTHER_PLATFORMS = new Set(["windows", "solaris", "vm", "zos"]);

/**
 * Unknown properties are allowed (the spec's extensibility rule), but a misspelt field is
 * silently ignored, which is rarely what was meant. Warn: at the top level only about
 * likely typos (extensions live there), below it about every unknown property.
 */
export function unknownPropertyWarnings(c: Collector, doc: unknown, shape: ShapeNode, base: string, topLevelIsExtensible: boolean): void {
  const stack: { v: unknown; node: ShapeNode; p: string; top: boolean }[] = [{ v: doc, node: shape, p: base, top: true }];
  while (stack.length > 0) {
    const { v, node, p, top } = stack.pop()!;
    if (isArr(v)) {
      if (node.any) v.forEach((item, i) => stack.push({ v: item, node: node.any!, p: `${p}/${i}`, top: false }));
      continue;
    }
    if (!isObj(v)) continue;
    for (const [k, child] of Object.entries(v)) {
      const cp = `${p}/${escapePointer(k)}`;
      const sub = node.props && Object.prototype.hasOwnProperty.call(node.props, k) ? node.props[k] : node.map ? node.any : undefined;
      if (sub) {
        stack.push({ v: child, node: sub, p: cp, top: false });
        continue;
      }
      if (!node.keys || node.map) continue;
      const s = suggest(k, node.keys);
      if (top && topLevelIsExtensible) {
        if (s && !OTHER_PLATFORMS.has(k)) c.warn(cp, `unknown property ${q(k)} is ignored${didYouMean(s)}`);
      } else {
        c.warn(cp, `unknown property ${q(k)} is ignored${didYouMean(s)}`);
      }
    }
  }
}

// ---- process -----------------------------------------------------------------------------

export interface ProcessContext {
  /** The container's uid/gid mappings when it has a new user namespace. */
  uidMappings?: unknown;
  gidMappings?: unknown;
}

export function checkProcess(c: Collector, proc: unknown, base: string, ctx: ProcessContext = {}): void {
  if (!isObj(proc)) return;
  // args
  if (!has(proc, "args")) {
    c.error(`${base}/args`, "is required and must be a non-empty array of strings (the program to run and its arguments)");
  } else if (isArr(proc.args) && proc.args.length > 0 && proc.args[0] === "") {
    c.error(`${base}/args/0`, "must not be empty: it names the program to run");
  }
  // cwd
  checkAbsolute(c, `${base}/cwd`, proc.cwd, "the working directory");
  // env
  if (isArr(proc.env)) {
    proc.env.forEach((e, i) => {
      if (!isStr(e)) return;
      const eq = e.indexOf("=");
      if (eq < 0) c.error(`${base}/env/${i}`, `must have the form KEY=value, not ${q(e)}`);
      else if (eq === 0) c.error(`${base}/env/${i}`, `must have the form KEY=value: the name before "=" is empty in ${q(e)}`);
    });
  }
  // rlimits
  if (isArr(proc.rlimits)) {
    const seen = new Map<string, number>();
    proc.rlimits.forEach((r, i) => {
      if (!isObj(r)) return;
      const p = `${base}/rlimits/${i}`;
      if (isStr(r.type)) {
        if (!Object.prototype.hasOwnProperty.call(RLIMITS, r.type)) {
          c.error(`${p}/type`, `${q(r.type)} is not a known rlimit${didYouMean(suggest(r.type, Object.keys(RLIMITS)))}; known: ${Object.keys(RLIMITS).join(", ")}`);
        } else if (seen.has(r.type)) {
          c.error(`${p}/type`, `duplicate rlimit ${r.type} (already set at ${base}/rlimits/${seen.get(r.type)})`);
        } else seen.set(r.type, i);
      }
      if (isNum(r.soft) && isNum(r.hard) && r.soft > r.hard) {
        c.error(`${p}/soft`, `the soft limit (${r.soft}) must not be greater than the hard limit (${r.hard})`);
      }
    });
  }
  // capabilities
  if (isObj(proc.capabilities)) {
    const caps = proc.capabilities;
    const sets: Record<string, Set<string>> = {};
    for (const set of CAPABILITY_SETS) {
      const list = caps[set];
      sets[set] = new Set();
      if (!isArr(list)) continue;
      list.forEach((name, i) => {
        if (!isStr(name)) return;
        const problem = capabilityProblem(name);
        if (problem?.severity === "warning") c.warn(`${base}/capabilities/${set}/${i}`, problem.message);
        else if (problem) c.error(`${base}/capabilities/${set}/${i}`, problem.message);
        else sets[set].add(name);
      });
    }
    if (isArr(caps.effective)) {
      caps.effective.forEach((name, i) => {
        if (isStr(name) && Object.prototype.hasOwnProperty.call(CAPABILITIES, name) && !sets.permitted.has(name)) {
          c.error(`${base}/capabilities/effective/${i}`, `${name} is effective but not permitted: the kernel refuses an effective capability outside the permitted set (add it to permitted)`);
        }
      });
    }
  }
  // user
  if (isObj(proc.user)) {
    const u = proc.user;
    for (const [k, what] of [["uid", "uid"], ["gid", "gid"]] as const) {
      const problem = isNum(u[k]) ? processIdProblem(u[k], what) : undefined;
      if (problem) c.error(`${base}/user/${k}`, problem);
    }
    if (isArr(u.additionalGids)) {
      u.additionalGids.forEach((g, i) => {
        const problem = isNum(g) ? processIdProblem(g, "gid") : undefined;
        if (problem) c.error(`${base}/user/additionalGids/${i}`, problem);
      });
    }
    if (isNum(u.umask) && u.umask > 0o777) {
      c.warn(`${base}/user/umask`, `${u.umask} has bits above 0777 (octal ${u.umask.toString(8)}); only the permission bits are used`);
    }
    if (ctx.uidMappings !== undefined && isNum(u.uid) && !idMapped(ctx.uidMappings, u.uid)) {
      c.error(`${base}/user/uid`, `uid ${u.uid} is not mapped by linux.uidMappings, so the process cannot run as it inside the user namespace`);
    }
    if (ctx.gidMappings !== undefined) {
      if (isNum(u.gid) && !idMapped(ctx.gidMappings, u.gid)) {
        c.error(`${base}/user/gid`, `gid ${u.gid} is not mapped by linux.gidMappings, so the process cannot run as it inside the user namespace`);
      }
      if (isArr(u.additionalGids)) {
        u.additionalGids.forEach((g, i) => {
          if (isNum(g) && !idMapped(ctx.gidMappings, g)) {
            c.error(`${base}/user/additionalGids/${i}`, `gid ${g} is not mapped by linux.gidMappings`);
          }
        });
      }
    }
  }
  // scheduler
  if (isObj(proc.scheduler)) checkScheduler(c, proc.scheduler, `${base}/scheduler`);
  if (isObj(proc.execCPUAffinity)) {
    for (const k of ["initial", "final"]) {
      const list = proc.execCPUAffinity[k];
      if (!isStr(list)) continue;
      try {
        parseCpuList(list);
      } catch (e) {
        c.error(`${base}/execCPUAffinity/${k}`, `${(e as Error).message}: expected a CPU list such as "0-3,7"`);
      }
    }
  }
}

/** Why a process's uid or gid cannot be used, or undefined when it can (exec --user shares it). */
export function processIdProblem(id: number, what: "uid" | "gid"): string | undefined {
  if (id <= MAX_PROCESS_ID) return undefined;
  const why = id === 4294967295 ? ` (4294967295 is (${what}_t)-1, which the kernel reads as "leave unchanged": the process would keep root's ${what})` : "";
  return `${what} ${id} is out of range: uids and gids must be from 0 to ${MAX_PROCESS_ID}${why}`;
}

/** What is wrong with a capability name (config.json or exec --cap: one rule), or undefined. */
export function capabilityProblem(name: string): { severity: "error" | "warning"; message: string } | undefined {
  if (Object.prototype.hasOwnProperty.call(CAPABILITIES, name)) return undefined;
  const prefixed = `CAP_${name.toUpperCase()}`;
  const guess = suggest(name, Object.keys(CAPABILITIES)) ?? (Object.prototype.hasOwnProperty.call(CAPABILITIES, prefixed) ? prefixed : undefined);
  // Well-formed but unknown: perhaps newer than CAP_CHECKPOINT_RESTORE. runc ignores such names
  // with a warning; so does tsrun, rather than refuse an engine's config.
  if (!guess && /^CAP_[A-Z0-9_]+$/.test(name))
    return { severity: "warning", message: `${q(name)} is not a capability tsrun knows (newest known: CAP_CHECKPOINT_RESTORE): it is ignored` };
  return { severity: "error", message: `${q(name)} is not a known capability${didYouMean(guess)}` };
}

function idMapped(mappings: unknown, id: number): boolean {
  if (!isArr(mappings)) return true; // reported elsewhere
  return mappings.some((m) => isObj(m) && isNum(m.containerID) && isNum(m.size) && id >= m.containerID && id < m.containerID + m.size);
}

function checkScheduler(c: Collector, s: Obj, p: string): void {
  const policy = isStr(s.policy) ? s.policy : undefined;
  if (isNum(s.nice) && (s.nice < -20 || s.nice > 19)) c.error(`${p}/nice`, `must be from -20 to 19, not ${s.nice}`);
  if (policy && isNum(s.priority)) {
    if (SCHED_POLICIES_WITH_PRIORITY.has(policy)) {
      if (s.priority < 1 || s.priority > 99) c.error(`${p}/priority`, `must be from 1 to 99 for ${policy}, not ${s.priority}`);
    } else if (s.priority !== 0) {
      c.error(`${p}/priority`, `must be 0 for ${policy} (only SCHED_FIFO and SCHED_RR use a priority), not ${s.priority}`);
    }
  }
  if (policy && policy !== "SCHED_DEADLINE") {
    for (const k of ["runtime", "deadline", "period"]) {
      if (isNum(s[k]) && s[k] !== 0) c.error(`${p}/${k}`, `is only used with SCHED_DEADLINE, not with ${policy}`);
    }
  }
  if (policy === "SCHED_DEADLINE") {
    const { runtime, deadline, period } = s;
    if (isNum(runtime) && isNum(deadline) && deadline !== 0 && runtime > deadline) {
      c.error(`${p}/runtime`, `must not be greater than deadline (${runtime} > ${deadline})`);
    }
    if (isNum(deadline) && isNum(period) && period !== 0 && deadline > period) {
      c.error(`${p}/deadline`, `must not be greater than period (${deadline} > ${period})`);
    }
  }
}

// ---- the whole config --------------------------------------------------------------------

interface NsInfo {
  /** Namespace types listed, with whether a path is given. */
  types: Map<string, { path?: string; index: number }>;
}

function namespaces(c: Collector, linux: Obj | undefined): NsInfo {
  const info: NsInfo = { types: new Map() };
  if (!linux || !isArr(linux.namespaces)) return info;
  linux.namespaces.forEach((ns, i) => {
    if (!isObj(ns) || !isStr(ns.type)) return;
    const p = `/linux/namespaces/${i}`;
    const prev = info.types.get(ns.type);
    if (prev) {
      c.error(`${p}/type`, `duplicate namespace type ${q(ns.type)} (already listed at /linux/namespaces/${prev.index})`);
      return;
    }
    if (has(ns, "path")) checkAbsolute(c, `${p}/path`, ns.path, "a namespace file such as /proc/1234/ns/net");
    info.types.set(ns.type, { path: isStr(ns.path) && ns.path !== "" ? ns.path : undefined, index: i });
  });
  return info;
}

const isNew = (ns: NsInfo, type: string): boolean => ns.types.has(type) && ns.types.get(type)!.path === undefined;
const addNs = (type: string): string => `add {"type": "${type}"} to linux.namespaces`;

function checkIdMappings(c: Collector, list: unknown, p: string): void {
  if (!isArr(list)) return;
  if (list.length > MAX_ID_MAPPINGS) c.error(p, `has ${list.length} entries; the kernel accepts at most ${MAX_ID_MAPPINGS}`);
  const ranges: { from: number; to: number; hostFrom: number; hostTo: number; i: number }[] = [];
  list.forEach((m, i) => {
    if (!isObj(m) || !isNum(m.containerID) || !isNum(m.hostID) || !isNum(m.size)) return;
    if (m.size === 0) {
      c.error(`${p}/${i}/size`, "must be at least 1");
      return;
    }
    // 4294967295 is (uid_t)-1: no mapping may reach it (the kernel refuses it too, less clearly)
    if (m.containerID + m.size > 4294967295) c.error(`${p}/${i}/size`, `maps ids up to ${m.containerID + m.size - 1} (containerID ${m.containerID} + size ${m.size}); ids must stay below 4294967295, which is (uid_t)-1`);
    if (m.hostID + m.size > 4294967295) c.error(`${p}/${i}/size`, `maps ids up to ${m.hostID + m.size - 1} (hostID ${m.hostID} + size ${m.size}); ids must stay below 4294967295, which is (uid_t)-1`);
    const r = { from: m.containerID, to: m.containerID + m.size, hostFrom: m.hostID, hostTo: m.hostID + m.size, i };
    for (const o of ranges) {
      if (r.from < o.to && o.from < r.to) {
        c.error(`${p}/${i}`, `container ids ${r.from}-${r.to - 1} overlap entry ${o.i} (${o.from}-${o.to - 1}); the kernel refuses overlapping mappings`);
        break;
      }
      if (r.hostFrom < o.hostTo && o.hostFrom < r.hostTo) {
        c.error(`${p}/${i}`, `host ids ${r.hostFrom}-${r.hostTo - 1} overlap entry ${o.i} (${o.hostFrom}-${o.hostTo - 1}); the kernel refuses overlapping mappings`);
        break;
      }
    }
    ranges.push(r);
  });
}

function isBindMount(m: Obj): boolean {
  if (m.type === "bind") return true;
  return isArr(m.options) && m.options.some((o) => o === "bind" || o === "rbind");
}

function checkMounts(c: Collector, mounts: unknown): void {
  if (!isArr(mounts)) return;
  mounts.forEach((m, i) => {
    if (!isObj(m)) return;
    const p = `/mounts/${i}`;
    // runtime-spec 1.1+: destination SHOULD be absolute, MAY be relative (then relative to "/")
    if (m.destination === "") c.error(`${p}/destination`, "must be a path inside the container, not an empty string");
    else if (isStr(m.destination) && !m.destination.startsWith("/"))
      c.warn(`${p}/destination`, `${q(m.destination)} is relative: it is mounted at ${q("/" + m.destination)} (the spec allows this for compatibility; prefer an absolute path)`);
    if (isBindMount(m) && (!isStr(m.source) || m.source === "")) {
      c.error(`${p}/source`, "is required for a bind mount: it names the file or directory to bind");
    }
    const hasU = has(m, "uidMappings");
    const hasG = has(m, "gidMappings");
    if (hasU !== hasG) {
      c.error(`${p}/${hasU ? "gidMappings" : "uidMappings"}`, "is required too: an idmapped mount needs both uidMappings and gidMappings");
    }
    if (hasU) checkIdMappings(c, m.uidMappings, `${p}/uidMappings`);
    if (hasG) checkIdMappings(c, m.gidMappings, `${p}/gidMappings`);
    const idmapOpt = isArr(m.options) ? m.options.find((o) => o === "idmap" || o === "ridmap") : undefined;
    if (idmapOpt && !hasU && !hasG)
      c.error(`${p}/options`, `${q(idmapOpt)} needs uidMappings and gidMappings on the mount to say how ids are mapped`);
  });
}

function checkHooks(c: Collector, hooks: unknown): void {
  if (!isObj(hooks)) return;
  for (const [stage, list] of Object.entries(hooks)) {
    if (!isArr(list)) continue;
    list.forEach((h, i) => {
      if (isObj(h)) checkAbsolute(c, `/hooks/${escapePointer(stage)}/${i}/path`, h.path, "the hook's executable on the host");
    });
  }
}

function sysctlRule(c: Collector, name: string, p: string, ns: NsInfo): void {
  if (name === "" || name.startsWith("/") || name.startsWith(".") || name.split(/[./]/).some((s) => s === "" || s === "..")) {
    c.error(p, `${q(name)} is not a valid sysctl name (dotted, such as net.ipv4.ip_forward)`);
    return;
  }
  const key = name.replace(/\//g, ".");
  if (IPC_SYSCTLS.has(key) || key.startsWith("fs.mqueue.")) {
    if (!ns.types.has("ipc")) c.error(p, `sysctl ${key} needs an ipc namespace, or it would change the host's setting: ${addNs("ipc")}`);
    return;
  }
  if (key.startsWith("net.")) {
    if (!ns.types.has("network")) c.error(p, `sysctl ${key} needs a network namespace, or it would change the host's setting: ${addNs("network")}`);
    return;
  }
  if (key === "kernel.hostname") {
    c.error(p, `sysctl kernel.hostname is not allowed: set the "hostname" field instead`);
    return;
  }
  if (key === "kernel.domainname") {
    if (!ns.types.has("uts")) c.error(p, `sysctl kernel.domainname needs a uts namespace, or it would change the host's setting: ${addNs("uts")}`);
    return;
  }
  c.error(p, `sysctl ${key} is not namespaced: setting it would change the whole host (only net.*, the ipc sysctls kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* and kernel.domainname are allowed)`);
}

function checkSeccomp(c: Collector, s: unknown): void {
  if (!isObj(s)) return;
  const p = "/linux/seccomp";
  if (s.defaultAction === "SCMP_ACT_NOTIFY") c.error(`${p}/defaultAction`, "SCMP_ACT_NOTIFY cannot be the default action (the runtime itself could not finish starting the container)");
  if (has(s, "defaultErrnoRet") && isStr(s.defaultAction) && !SECCOMP_ERRNO_ACTIONS.has(s.defaultAction)) {
    c.error(`${p}/defaultErrnoRet`, `is only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not with ${s.defaultAction}`);
  }
  let notify = false;
  if (isArr(s.syscalls)) {
    s.syscalls.forEach((rule, i) => {
      if (!isObj(rule)) return;
      const rp = `${p}/syscalls/${i}`;
      if (rule.action === "SCMP_ACT_NOTIFY") notify = true;
      if (has(rule, "errnoRet") && isStr(rule.action) && !SECCOMP_ERRNO_ACTIONS.has(rule.action)) {
        c.error(`${rp}/errnoRet`, `is only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not with ${rule.action}`);
      }
      if (isArr(rule.names)) {
        rule.names.forEach((n, j) => {
          if (isStr(n) && n !== "" && !isKnownSyscall(n)) {
            c.warn(`${rp}/names/${j}`, `unknown syscall ${q(n)}${didYouMean(suggest(n, knownSyscalls()))}: the rule ignores it`);
          }
        });
      }
    });
  }
  if (s.defaultAction === "SCMP_ACT_NOTIFY") notify = true;
  const listener = isStr(s.listenerPath) && s.listenerPath !== "" ? s.listenerPath : undefined;
  if (notify && !listener) c.error(`${p}/listenerPath`, "is required when a rule uses SCMP_ACT_NOTIFY: it names the unix socket of the seccomp agent");
  if (listener && !listener.startsWith("/")) c.warn(`${p}/listenerPath`, `${q(listener)} is relative: it is resolved against the bundle directory`);
  if (has(s, "listenerMetadata") && !listener) c.error(`${p}/listenerMetadata`, "must not be set without listenerPath");
}

const IFNAME = /^[^\s/:]{1,15}$/;

export function checkConfig(c: Collector, doc: unknown, shape: ShapeNode | undefined, opts: ValidateOptions = {}): void {
  if (!isObj(doc)) return;
  checkOciVersion(c, doc.ociVersion);
  const linux = isObj(doc.linux) ? doc.linux : undefined;
  const ns = namespaces(c, linux);

  // root
  if (isObj(doc.root) && doc.root.path === "") c.error("/root/path", "must not be empty: it is the root filesystem's path (absolute, or relative to the bundle)");

  // process
  if (!has(doc, "process")) {
    c.error("/process", "is required: it says which program the container runs");
  } else {
    const userNs = isNew(ns, "user");
    checkProcess(c, doc.process, "/process", userNs && linux ? { uidMappings: linux.uidMappings, gidMappings: linux.gidMappings } : {});
  }

  // hostname / domainname
  for (const field of ["hostname", "domainname"] as const) {
    const v = doc[field];
    if (!isStr(v) || v === "") continue;
    if (!ns.types.has("uts")) c.error(`/${field}`, `setting the ${field} needs a uts namespace, or it would change the host's: ${addNs("uts")}`);
    if (byteLength(v) > 64) c.error(`/${field}`, `must be at most 64 bytes long (the kernel's limit), not ${byteLength(v)}`);
  }

  checkMounts(c, doc.mounts);
  checkHooks(c, doc.hooks);

  if (isObj(doc.annotations) && has(doc.annotations, "")) c.error("/annotations/", "annotation keys must not be empty");
  if (isObj(doc.annotations) && opts.systemdCgroup) {
    for (const [key, value] of Object.entries(doc.annotations)) {
      if (!key.startsWith(SYSTEMD_PROPERTY_PREFIX) || !isStr(value)) continue;
      try {
        annotationProperty(key, value);
      } catch (e) {
        c.error(`/annotations/${escapePointer(key)}`, (e as Error).message);
      }
    }
  }

  // Without a mount namespace the rootfs would be set up in the host's.
  if (!ns.types.has("mount")) {
    c.error("/linux/namespaces", `must include a mount namespace: tsrun cannot set up the root filesystem in the host's mount namespace (${addNs("mount")})`);
  }

  if (linux) checkLinux(c, linux, ns, opts);

  if (shape) {
    checkNul(c, doc, shape, "", new Set(["/annotations"]));
    unknownPropertyWarnings(c, doc, shape, "", true);
  }
}

function checkLinux(c: Collector, linux: Obj, ns: NsInfo, opts: ValidateOptions): void {
  // user namespace and mappings
  const userNs = ns.types.get("user");
  const hasU = has(linux, "uidMappings") && !(isArr(linux.uidMappings) && linux.uidMappings.length === 0);
  const hasG = has(linux, "gidMappings") && !(isArr(linux.gidMappings) && linux.gidMappings.length === 0);
  if (userNs && userNs.path === undefined) {
    if (!hasU) c.error("/linux/uidMappings", "is required when the container gets a new user namespace: map at least one uid, such as [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]");
    if (!hasG) c.error("/linux/gidMappings", "is required when the container gets a new user namespace: map at least one gid, such as [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]");
  } else if (userNs) {
    if (hasU) c.warn("/linux/uidMappings", "is ignored: the joined user namespace already has its mappings");
    if (hasG) c.warn("/linux/gidMappings", "is ignored: the joined user namespace already has its mappings");
  } else {
    if (hasU) c.error("/linux/uidMappings", `is set but the container has no user namespace: ${addNs("user")} or remove the mappings`);
    if (hasG) c.error("/linux/gidMappings", `is set but the container has no user namespace: ${addNs("user")} or remove the mappings`);
  }
  checkIdMappings(c, linux.uidMappings, "/linux/uidMappings");
  checkIdMappings(c, linux.gidMappings, "/linux/gidMappings");

  // time namespace offsets
  if (isObj(linux.timeOffsets)) {
    for (const [clock, off] of Object.entries(linux.timeOffsets)) {
      const p = `/linux/timeOffsets/${escapePointer(clock)}`;
      if (!TIME_NAMESPACE_CLOCKS.has(clock)) c.error(p, `${q(clock)} is not a clock a time namespace can offset: use boottime or monotonic`);
      if (isObj(off) && isNum(off.nanosecs) && off.nanosecs >= 1e9) c.error(`${p}/nanosecs`, `must be less than 1000000000, not ${off.nanosecs}`);
    }
    if (Object.keys(linux.timeOffsets).length > 0 && !isNew(ns, "time")) {
      c.error("/linux/timeOffsets", `needs a new time namespace: ${addNs("time")}`);
    }
  }

  // devices
  if (isArr(linux.devices)) {
    const paths = new Map<string, number>();
    linux.devices.forEach((d, i) => {
      if (!isObj(d)) return;
      const p = `/linux/devices/${i}`;
      checkAbsolute(c, `${p}/path`, d.path, "inside the container");
      if (isStr(d.path)) {
        if (paths.has(d.path)) c.warn(`${p}/path`, `duplicate device path ${q(d.path)} (also at /linux/devices/${paths.get(d.path)}): the last one wins`);
        else paths.set(d.path, i);
      }
      if (d.type === "c" || d.type === "b" || d.type === "u") {
        const kind = d.type === "b" ? "a block device" : "a character device";
        if (!has(d, "major")) c.error(`${p}/major`, `is required for ${kind}`);
        if (!has(d, "minor")) c.error(`${p}/minor`, `is required for ${kind}`);
      }
      // a node has one number each: -1 is a wildcard only in linux.resources.devices (here it
      // would make node 4095:1048575 and a device cgroup rule allowing every device)
      for (const [k, max] of [["major", MAX_DEVICE_MAJOR], ["minor", MAX_DEVICE_MINOR]] as const) {
        const v = d[k];
        if (isNum(v) && (v < 0 || v > max)) c.error(`${p}/${k}`, `must be from 0 to ${max} (the kernel's ${k} numbers), not ${v}${v === -1 ? ": -1 means \"any\" only in linux.resources.devices" : ""}`);
      }
      if (isNum(d.fileMode) && d.fileMode > 0o7777) c.warn(`${p}/fileMode`, `${d.fileMode} (octal ${d.fileMode.toString(8)}) has bits above 07777; only the permission bits are used`);
    });
  }

  // cgroupsPath
  if (isStr(linux.cgroupsPath)) {
    const cp = linux.cgroupsPath;
    const p = "/linux/cgroupsPath";
    if (opts.systemdCgroup) {
      const parts = cp.split(":");
      if (parts.length !== 3 || parts[2] === "" || (parts[0] !== "" && !parts[0].endsWith(".slice")) || parts.some((s) => s.includes("/"))) {
        c.error(p, `with --systemd-cgroup it must have the form slice:prefix:name, such as "system.slice:docker:abc123", not ${q(cp)}`);
      } else if (parts[0] !== "" && !/^(-|[^-]+(-[^-]+)*)\.slice$/.test(parts[0])) {
        c.error(p, `${q(parts[0])} is not a valid systemd slice name (parts separated by single "-", as in "machine-app.slice")`);
      } else if (parts[2]!.endsWith(".slice")) {
        // runc makes the unit a slice then, and systemd refuses to put the container's process in it
        c.error(p, `the name ${q(parts[2])} ends in ".slice", which makes the container's unit a slice, and a slice cannot hold processes (systemd refuses PIDs for it); give a name for a scope, such as ${q(parts[2].slice(0, -".slice".length) || "ctr")}`);
      }
    } else {
      if (/^[^:/]*\.slice:[^:]*:[^:]+$/.test(cp)) {
        c.warn(p, `${q(cp)} looks like systemd's slice:prefix:name form, but --systemd-cgroup was not given: it is used as a plain cgroup path`);
      }
      if (cp.split("/").includes("..")) c.error(p, `must not contain ".." (it could point outside the cgroup hierarchy): ${q(cp)}`);
    }
  }

  // resources
  if (isObj(linux.resources)) checkResources(c, linux.resources);

  // intelRdt
  if (isObj(linux.intelRdt)) {
    const r = linux.intelRdt;
    const p = "/linux/intelRdt";
    if (isStr(r.closID) && (r.closID === "." || r.closID === ".." || r.closID.includes("/"))) c.error(`${p}/closID`, `${q(r.closID)} is not a valid resctrl group name (no "/", not "." or "..")`);
    if (isStr(r.memBwSchema)) {
      if (!r.memBwSchema.startsWith("MB:")) c.error(`${p}/memBwSchema`, `must start with "MB:", not ${q(r.memBwSchema)}`);
      if (r.memBwSchema.includes("\n")) c.error(`${p}/memBwSchema`, "must not contain line breaks");
    }
    if (isStr(r.l3CacheSchema) && !r.l3CacheSchema.startsWith("L3:")) c.warn(`${p}/l3CacheSchema`, `should start with "L3:", not ${q(r.l3CacheSchema)}`);
  }

  // sysctl
  if (isObj(linux.sysctl)) {
    for (const name of Object.keys(linux.sysctl)) sysctlRule(c, name, `/linux/sysctl/${escapePointer(name)}`, ns);
  }

  checkSeccomp(c, linux.seccomp);

  // masked / readonly paths
  for (const field of ["maskedPaths", "readonlyPaths"] as const) {
    const list = linux[field];
    if (!isArr(list)) continue;
    list.forEach((v, i) => checkAbsolute(c, `/linux/${field}/${i}`, v, "inside the container"));
  }

  // personality
  if (isObj(linux.personality) && isArr(linux.personality.flags) && linux.personality.flags.length > 0) {
    c.warn("/linux/personality/flags", "is ignored: the runtime-spec defines no personality flags yet");
  }

  // memoryPolicy
  if (isObj(linux.memoryPolicy)) {
    const m = linux.memoryPolicy;
    const p = "/linux/memoryPolicy";
    const nodes = isStr(m.nodes) && m.nodes.trim() !== "" ? m.nodes : undefined;
    if (isStr(m.mode)) {
      if ((m.mode === "MPOL_DEFAULT" || m.mode === "MPOL_LOCAL") && nodes) c.error(`${p}/nodes`, `must not be set with ${m.mode}`);
      if (["MPOL_BIND", "MPOL_INTERLEAVE", "MPOL_WEIGHTED_INTERLEAVE", "MPOL_PREFERRED_MANY"].includes(m.mode) && !nodes) {
        c.error(`${p}/nodes`, `is required with ${m.mode}: list at least one memory node, such as "0"`);
      }
    }
    if (isArr(m.flags) && m.flags.includes("MPOL_F_STATIC_NODES") && m.flags.includes("MPOL_F_RELATIVE_NODES")) {
      c.error(`${p}/flags`, "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES cannot be used together");
    }
  }

  // netDevices
  if (isObj(linux.netDevices)) {
    const p = "/linux/netDevices";
    const entries = Object.entries(linux.netDevices);
    if (entries.length > 0 && !ns.types.has("network")) {
      c.error(p, `moving network devices needs a network namespace: ${addNs("network")}`);
    }
    const targets = new Map<string, string>();
    for (const [hostName, dev] of entries) {
      const dp = `${p}/${escapePointer(hostName)}`;
      if (!IFNAME.test(hostName) || hostName === "." || hostName === "..") c.error(dp, `${q(hostName)} is not a valid network interface name (1 to 15 characters, no "/", ":" or spaces)`);
      const target = isObj(dev) && isStr(dev.name) && dev.name !== "" ? dev.name : hostName;
      if (isObj(dev) && isStr(dev.name) && dev.name !== "" && (!IFNAME.test(dev.name) || dev.name === "." || dev.name === "..")) {
        c.error(`${dp}/name`, `${q(dev.name)} is not a valid network interface name (1 to 15 characters, no "/", ":" or spaces)`);
      }
      if (targets.has(target)) c.error(dp, `two devices would be named ${q(target)} in the container (also ${targets.get(target)})`);
      else targets.set(target, dp);
    }
  }
}

function checkResources(c: Collector, r: Obj): void {
  const p = "/linux/resources";
  if (isObj(r.blockIO) && isArr(r.blockIO.weightDevice)) {
    r.blockIO.weightDevice.forEach((w, i) => {
      if (isObj(w) && !has(w, "weight") && !has(w, "leafWeight")) c.error(`${p}/blockIO/weightDevice/${i}`, "must set weight, leafWeight or both");
    });
  }
  if (isObj(r.rdma)) {
    for (const [dev, lim] of Object.entries(r.rdma)) {
      if (isObj(lim) && !has(lim, "hcaHandles") && !has(lim, "hcaObjects")) c.error(`${p}/rdma/${escapePointer(dev)}`, "must set hcaHandles, hcaObjects or both");
    }
  }
  if (isObj(r.unified)) {
    for (const key of Object.keys(r.unified)) {
      const kp = `${p}/unified/${escapePointer(key)}`;
      if (key === "" || key === "." || key === ".." || key.includes("/")) c.error(kp, `${q(key)} is not a cgroup file name (such as "memory.max"; no "/")`);
      else if (!key.includes(".")) c.warn(kp, `${q(key)} does not look like a cgroup v2 file name (controller.file, such as "memory.max")`);
    }
  }
  if (isArr(r.devices)) {
    r.devices.forEach((d, i) => {
      if (!isObj(d)) return;
      if ((d.type === "a" || !has(d, "type")) && (has(d, "major") || has(d, "minor"))) {
        c.warn(`${p}/devices/${i}`, "major and minor are ignored for type \"a\" (all devices)");
      }
    });
  }
  if (isArr(r.hugepageLimits)) {
    const seen = new Map<string, number>();
    r.hugepageLimits.forEach((h, i) => {
      if (!isObj(h) || !isStr(h.pageSize)) return;
      if (seen.has(h.pageSize)) c.error(`${p}/hugepageLimits/${i}/pageSize`, `duplicate page size ${h.pageSize} (already at ${p}/hugepageLimits/${seen.get(h.pageSize)})`);
      else seen.set(h.pageSize, i);
    });
  }
}
