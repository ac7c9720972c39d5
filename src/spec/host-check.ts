// `tsrun check`'s host half: can this host honour the config? Namespaces, cgroup
// controllers, seccomp, LSMs, rlimits, capabilities and the files the config names.
// The checks are pure functions of a HostFacts object (so tests can describe any host);
// readHostFacts() reads the real one. Like the semantic checks, they look at each value's
// type before use and so run on any parsed document.

import { accessSync, constants, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { CAPABILITIES, CAPABILITY_SETS, NAMESPACE_PROC_NAMES, SECCOMP_ACTION_KERNEL_NAMES } from "./constants.js";
import { escapePointer } from "./json.js";
import { apparmorEnabled, selinuxEnabled } from "./lsm-host.js";
import type { Problem } from "./problems.js";
import { rootPathProblem } from "./rootfs.js";
import { Collector } from "./semantic.js";
import type { NamespaceType } from "./types.js";

export type PathKind = "dir" | "file" | "socket" | "other";

export interface HostFacts {
  /** Namespace kinds the kernel has, by /proc/self/ns name (pid, net, mnt, ipc, uts, user, cgroup, time). */
  namespaces: ReadonlySet<string>;
  /** /proc/sys/user/max_user_namespaces, when readable. */
  maxUserNamespaces?: number;
  cgroup: {
    mode: "v1" | "hybrid" | "v2" | "none";
    /** v1 controllers mounted under /sys/fs/cgroup/<name>. */
    v1Controllers: ReadonlySet<string>;
    /** Controllers listed in the v2 root's cgroup.controllers. */
    v2Controllers: ReadonlySet<string>;
  };
  seccomp: {
    available: boolean;
    /** /proc/sys/kernel/seccomp/actions_avail, when readable. */
    actions?: ReadonlySet<string>;
  };
  /** /proc/sys/kernel/cap_last_cap. */
  capLastCap?: number;
  apparmorEnabled?: boolean;
  selinuxEnabled?: boolean;
  resctrlMounted?: boolean;
  /** This process's hard rlimits by RLIMIT_* name (Infinity for unlimited). */
  hardRlimits?: Readonly<Record<string, number>>;
  /** Whether this process has CAP_SYS_RESOURCE (needed to raise a hard rlimit). */
  capSysResource?: boolean;
  /** What is at a host path (following symlinks), or undefined when nothing is. */
  statPath(path: string): PathKind | undefined;
  /** realpath(3) of a host path, undefined when it is missing. */
  realPath?(path: string): string | undefined;
  /** Whether a host path is an executable file. */
  isExecutable(path: string): boolean;
}

export interface HostCheckOptions {
  /** Host facts; read from this host when omitted. */
  facts?: HostFacts;
  /** The bundle directory relative paths are resolved against (default: the current directory). */
  bundle?: string;
  /** The file named in problems (default: <bundle>/config.json). */
  file?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isArr = (v: unknown): v is unknown[] => Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === "string";
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** True when a resources object sets anything (null, 0, false and "" mean "unset" to runc). */
function setsAnything(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (isArr(v)) return v.length > 0;
  if (isObj(v)) return Object.values(v).some(setsAnything);
  return true;
}

interface ControllerNeed {
  pointer: string;
  v1: string | undefined;
  v2: string | undefined;
  what: string;
}

/** Which cgroup controllers the resources need, per cgroup version. */
function controllerNeeds(r: Obj): ControllerNeed[] {
  const p = "/linux/resources";
  const needs: ControllerNeed[] = [];
  if (setsAnything(r.memory)) needs.push({ pointer: `${p}/memory`, v1: "memory", v2: "memory", what: "memory limits" });
  if (isObj(r.cpu)) {
    const { cpus, mems, ...rest } = r.cpu;
    if (setsAnything(rest)) needs.push({ pointer: `${p}/cpu`, v1: "cpu", v2: "cpu", what: "cpu limits" });
    if (setsAnything(cpus) || setsAnything(mems)) needs.push({ pointer: `${p}/cpu`, v1: "cpuset", v2: "cpuset", what: "cpu and memory node pinning" });
  }
  if (setsAnything(r.pids)) needs.push({ pointer: `${p}/pids`, v1: "pids", v2: "pids", what: "the pids limit" });
  if (setsAnything(r.blockIO)) needs.push({ pointer: `${p}/blockIO`, v1: "blkio", v2: "io", what: "block IO limits" });
  if (setsAnything(r.hugepageLimits)) needs.push({ pointer: `${p}/hugepageLimits`, v1: "hugetlb", v2: "hugetlb", what: "huge page limits" });
  if (isObj(r.network)) {
    if (setsAnything(r.network.classID)) needs.push({ pointer: `${p}/network/classID`, v1: "net_cls", v2: undefined, what: "the network class id" });
    if (setsAnything(r.network.priorities)) needs.push({ pointer: `${p}/network/priorities`, v1: "net_prio", v2: undefined, what: "network priorities" });
  }
  if (setsAnything(r.rdma)) needs.push({ pointer: `${p}/rdma`, v1: "rdma", v2: "rdma", what: "RDMA limits" });
  // v2 enforces device rules with an eBPF program, not a controller.
  if (setsAnything(r.devices)) needs.push({ pointer: `${p}/devices`, v1: "devices", v2: "", what: "device rules" });
  return needs;
}

function checkCgroups(c: Collector, linux: Obj, facts: HostFacts): void {
  const r = linux.resources;
  if (!isObj(r)) return;
  const { mode, v1Controllers, v2Controllers } = facts.cgroup;
  const needs = controllerNeeds(r);
  const unified = isObj(r.unified) ? Object.keys(r.unified) : [];
  if (mode === "none") {
    if (needs.length > 0 || unified.length > 0) c.error("/linux/resources", "sets cgroup limits, but no cgroup filesystem is mounted at /sys/fs/cgroup");
    return;
  }
  for (const n of needs) {
    if (mode === "v2") {
      if (n.v2 === undefined) c.error(n.pointer, `${n.what} need cgroup v1 (${n.v1}); cgroup v2, which this host uses, has no such controller`);
      else if (n.v2 !== "" && !v2Controllers.has(n.v2)) c.error(n.pointer, `${n.what} need the ${n.v2} controller, which /sys/fs/cgroup/cgroup.controllers does not list`);
    } else if (n.v1 && !v1Controllers.has(n.v1)) {
      c.error(n.pointer, `${n.what} need the ${n.v1} cgroup controller, which is not mounted (no /sys/fs/cgroup/${n.v1})`);
    }
  }
  if (unified.length > 0) {
    if (mode !== "v2") {
      c.error("/linux/resources/unified", `needs cgroup v2, but this host uses cgroup ${mode === "hybrid" ? "v1 (hybrid: its cgroup2 hierarchy has no controllers)" : "v1"}`);
    } else {
      for (const key of unified) {
        const ctrl = key.split(".")[0];
        if (ctrl !== "cgroup" && ctrl !== "" && !v2Controllers.has(ctrl)) {
          c.error(`/linux/resources/unified/${escapePointer(key)}`, `needs the ${ctrl} controller, which /sys/fs/cgroup/cgroup.controllers does not list`);
        }
      }
    }
  }
}

/** Pure host checks of a parsed config against the given host facts. */
export function checkHostWith(doc: unknown, facts: HostFacts, bundle: string, file: string): Problem[] {
  const c = new Collector(file);
  if (!isObj(doc)) return c.problems;
  const linux = isObj(doc.linux) ? doc.linux : {};

  // root filesystem
  if (isObj(doc.root) && isStr(doc.root.path) && doc.root.path !== "") {
    const rootfs = isAbsolute(doc.root.path) ? doc.root.path : resolve(bundle, doc.root.path);
    const kind = facts.statPath(rootfs);
    if (kind === undefined) c.error("/root/path", `the root filesystem ${rootfs} does not exist`);
    else if (kind !== "dir") c.error("/root/path", `the root filesystem ${rootfs} is not a directory`);
    else {
      const problem = facts.realPath && rootPathProblem(doc.root.path, bundle, facts.realPath);
      if (problem) c.error("/root/path", problem);
    }
  }

  // namespaces
  if (isArr(linux.namespaces)) {
    linux.namespaces.forEach((ns, i) => {
      if (!isObj(ns) || !isStr(ns.type) || !Object.prototype.hasOwnProperty.call(NAMESPACE_PROC_NAMES, ns.type)) return;
      const procName = NAMESPACE_PROC_NAMES[ns.type as NamespaceType];
      const p = `/linux/namespaces/${i}`;
      if (!facts.namespaces.has(procName)) {
        c.error(`${p}/type`, `this kernel has no ${ns.type} namespaces (/proc/self/ns/${procName} is missing)`);
        return;
      }
      if (isStr(ns.path) && ns.path !== "") {
        if (ns.path.startsWith("/") && facts.statPath(ns.path) === undefined) c.error(`${p}/path`, `${ns.path} does not exist`);
      } else if (ns.type === "user" && facts.maxUserNamespaces === 0) {
        c.error(`${p}/type`, "user namespaces are disabled on this host (/proc/sys/user/max_user_namespaces is 0)");
      }
    });
  }

  checkCgroups(c, linux, facts);

  // seccomp
  if (isObj(linux.seccomp)) {
    const s = linux.seccomp;
    if (!facts.seccomp.available) {
      c.error("/linux/seccomp", "this kernel has no seccomp filter support (no Seccomp line in /proc/self/status)");
    } else if (facts.seccomp.actions) {
      const used = new Map<string, string>();
      if (isStr(s.defaultAction)) used.set(s.defaultAction, "/linux/seccomp/defaultAction");
      if (isArr(s.syscalls)) {
        s.syscalls.forEach((rule, i) => {
          if (isObj(rule) && isStr(rule.action) && !used.has(rule.action)) used.set(rule.action, `/linux/seccomp/syscalls/${i}/action`);
        });
      }
      for (const [action, pointer] of used) {
        const kernelName = SECCOMP_ACTION_KERNEL_NAMES[action];
        if (kernelName && !facts.seccomp.actions.has(kernelName)) {
          c.error(pointer, `${action} needs the kernel's seccomp "${kernelName}" action, which this kernel lacks (/proc/sys/kernel/seccomp/actions_avail)`);
        }
      }
    }
  }

  // process: LSMs, capabilities, rlimits
  const proc = isObj(doc.process) ? doc.process : undefined;
  if (proc) {
    if (isStr(proc.apparmorProfile) && proc.apparmorProfile !== "" && facts.apparmorEnabled === false) {
      c.error("/process/apparmorProfile", "is set, but AppArmor is not enabled on this host");
    }
    if (isStr(proc.selinuxLabel) && proc.selinuxLabel !== "" && facts.selinuxEnabled === false) {
      c.error("/process/selinuxLabel", "is set, but SELinux is disabled or not supported on this host");
    }
    if (isObj(proc.capabilities) && facts.capLastCap !== undefined) {
      for (const set of CAPABILITY_SETS) {
        const list = proc.capabilities[set];
        if (!isArr(list)) continue;
        list.forEach((name, i) => {
          if (!isStr(name) || !Object.prototype.hasOwnProperty.call(CAPABILITIES, name)) return;
          if (CAPABILITIES[name] > facts.capLastCap!) {
            c.warn(`/process/capabilities/${set}/${i}`, `${name} is not supported by this kernel (/proc/sys/kernel/cap_last_cap is ${facts.capLastCap}): it is ignored`);
          }
        });
      }
    }
    if (isArr(proc.rlimits) && facts.hardRlimits && facts.capSysResource === false) {
      proc.rlimits.forEach((r, i) => {
        if (!isObj(r) || !isStr(r.type) || !isNum(r.hard)) return;
        const hostHard = facts.hardRlimits![r.type];
        if (hostHard !== undefined && r.hard > hostHard) {
          c.error(
            `/process/rlimits/${i}/hard`,
            `${r.hard} is above this host's hard ${r.type} limit (${hostHard}), and raising it needs CAP_SYS_RESOURCE, which tsrun does not have here`,
          );
        }
      });
    }
  }

  // files on the host the config names
  if (isObj(doc.hooks)) {
    for (const [stage, list] of Object.entries(doc.hooks)) {
      if (!isArr(list)) continue;
      list.forEach((h, i) => {
        if (!isObj(h) || !isStr(h.path) || !h.path.startsWith("/")) return;
        const p = `/hooks/${escapePointer(stage)}/${i}/path`;
        const kind = facts.statPath(h.path);
        if (kind === undefined) c.error(p, `${h.path} does not exist on the host`);
        else if (kind !== "file" || !facts.isExecutable(h.path)) c.error(p, `${h.path} is not an executable file`);
      });
    }
  }
  if (isArr(doc.mounts)) {
    doc.mounts.forEach((m, i) => {
      if (!isObj(m) || !isStr(m.source) || m.source === "") return;
      const bind = m.type === "bind" || (isArr(m.options) && m.options.some((o) => o === "bind" || o === "rbind"));
      if (!bind) return;
      const src = isAbsolute(m.source) ? m.source : resolve(bundle, m.source);
      if (facts.statPath(src) === undefined) c.error(`/mounts/${i}/source`, `${src} does not exist on the host`);
    });
  }
  if (isObj(linux.intelRdt) && facts.resctrlMounted === false) {
    c.error("/linux/intelRdt", "is set, but no resctrl filesystem is mounted (mount -t resctrl resctrl /sys/fs/resctrl)");
  }
  return c.problems;
}

/** Host checks against this host. */
export function checkHost(doc: unknown, opts: HostCheckOptions = {}): Problem[] {
  const bundle = resolve(opts.bundle ?? ".");
  const file = opts.file ?? join(bundle, "config.json");
  return checkHostWith(doc, opts.facts ?? readHostFacts(), bundle, file);
}

// ---- reading the real host ---------------------------------------------------------------

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function statKind(path: string): PathKind | undefined {
  try {
    const st = statSync(path);
    if (st.isDirectory()) return "dir";
    if (st.isFile()) return "file";
    if (st.isSocket()) return "socket";
    return "other";
  } catch {
    return undefined;
  }
}

const V1_CONTROLLERS = ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio", "blkio", "perf_event", "hugetlb", "pids", "rdma", "misc"];

const RLIMIT_LABELS: Record<string, string> = {
  "Max cpu time": "RLIMIT_CPU",
  "Max file size": "RLIMIT_FSIZE",
  "Max data size": "RLIMIT_DATA",
  "Max stack size": "RLIMIT_STACK",
  "Max core file size": "RLIMIT_CORE",
  "Max resident set": "RLIMIT_RSS",
  "Max processes": "RLIMIT_NPROC",
  "Max open files": "RLIMIT_NOFILE",
  "Max locked memory": "RLIMIT_MEMLOCK",
  "Max address space": "RLIMIT_AS",
  "Max file locks": "RLIMIT_LOCKS",
  "Max pending signals": "RLIMIT_SIGPENDING",
  "Max msgqueue size": "RLIMIT_MSGQUEUE",
  "Max nice priority": "RLIMIT_NICE",
  "Max realtime priority": "RLIMIT_RTPRIO",
  "Max realtime timeout": "RLIMIT_RTTIME",
};

/** Parses /proc/self/limits into hard limits by RLIMIT_* name. */
export function parseProcLimits(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n").slice(1)) {
    const label = Object.keys(RLIMIT_LABELS).find((l) => line.startsWith(l));
    if (!label) continue;
    const fields = line.slice(label.length).trim().split(/\s+/);
    const hard = fields[1];
    if (hard === undefined) continue;
    out[RLIMIT_LABELS[label]] = hard === "unlimited" ? Infinity : Number(hard);
  }
  return out;
}

/** Reads the facts checkHostWith needs from this host (/proc, /sys). */
export function readHostFacts(): HostFacts {
  let nsNames: string[] = [];
  try {
    nsNames = readdirSync("/proc/self/ns");
  } catch {
    // no /proc: every namespace check will fail, which is what the host can do
  }
  const namespaces = new Set(nsNames.filter((n) => !n.endsWith("_for_children")));

  const maxUserNs = readText("/proc/sys/user/max_user_namespaces");
  const v2Root = readText("/sys/fs/cgroup/cgroup.controllers");
  const hybrid = statKind("/sys/fs/cgroup/unified/cgroup.controllers") !== undefined;
  const v1Controllers = new Set(V1_CONTROLLERS.filter((c) => statKind(`/sys/fs/cgroup/${c}`) === "dir"));
  const mode: HostFacts["cgroup"]["mode"] = v2Root !== undefined ? "v2" : v1Controllers.size > 0 ? (hybrid ? "hybrid" : "v1") : "none";
  const v2Controllers = new Set((v2Root ?? "").split(/\s+/).filter(Boolean));

  const status = readText("/proc/self/status") ?? "";
  const actions = readText("/proc/sys/kernel/seccomp/actions_avail");
  const seccompAvailable = /^Seccomp:/m.test(status) || statKind("/proc/sys/kernel/seccomp") === "dir";
  const capEff = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1];
  const capLast = readText("/proc/sys/kernel/cap_last_cap");
  const limits = readText("/proc/self/limits");
  const mountinfo = readText("/proc/self/mountinfo") ?? "";

  return {
    namespaces,
    maxUserNamespaces: maxUserNs !== undefined ? Number(maxUserNs.trim()) : undefined,
    cgroup: { mode, v1Controllers, v2Controllers },
    seccomp: {
      available: seccompAvailable,
      actions: actions !== undefined ? new Set(actions.trim().split(/\s+/)) : undefined,
    },
    capLastCap: capLast !== undefined ? Number(capLast.trim()) : undefined,
    apparmorEnabled: apparmorEnabled(),
    selinuxEnabled: selinuxEnabled(),
    resctrlMounted: / - resctrl /.test(mountinfo),
    hardRlimits: limits !== undefined ? parseProcLimits(limits) : undefined,
    capSysResource: capEff !== undefined ? (BigInt(`0x${capEff}`) >> BigInt(CAPABILITIES.CAP_SYS_RESOURCE)) % 2n === 1n : undefined,
    statPath: statKind,
    realPath: (p) => {
      try {
        return realpathSync(p);
      } catch {
        return undefined;
      }
    },
    isExecutable(path: string): boolean {
      try {
        accessSync(path, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
  };
}
