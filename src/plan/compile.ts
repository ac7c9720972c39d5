// Compiles a validated Spec into the init program tsrun-init executes. Pure: every fact about the
// host comes in through `host`, so the whole translation is testable without root.
import type { Hook, Mount, Process, Scheduler, Spec } from "../spec/types.js";
import {
  CAPABILITIES, CLONE, DEFAULT_PATH, IOPRIO_CLASS, IOPRIO_CLASS_SHIFT, MS, NAMESPACE_FLAG, normalDestination,
  PROC_BIND_ALLOWED, RLIMITS, S_IFBLK, S_IFCHR, S_IFIFO, SCHED_FLAG, SCHED_POLICY,
} from "./constants.js";
import { parseMountOptions, propagationFlag } from "./mount-options.js";
import { MOUNT_IN_PROC_OK, MountTarget, WRITE_IN_PROC, type Op, type Program } from "./ops.js";

export interface HostFacts {
  /** What a host path is, for bind mount sources and devices. */
  statKind(path: string): "dir" | "file" | "missing";
  /** Container cgroup directory per hierarchy name, for a "cgroup" mount (v1: controller -> dir). */
  cgroupPaths?: Record<string, string>;
  cgroupV2?: boolean;
  /** tsrun itself runs in a user namespace (rootless Podman's): no mknod, devices are bound as in a new one */
  inUserNamespace?: boolean;
  /** cgroup v2: the container's own cgroup directory, bound for a "cgroup" mount the kernel refuses. */
  cgroup2Path?: string;
  /** The mount point of the mount a host path is on (from tsrun's own mountinfo). */
  mountPointOf?(path: string): string;
}

/** The container's process settings (ProcessOptions) and what only a whole container has. */
export interface PlanOptions extends Omit<ProcessOptions, "finalAffinity" | "startHooks"> {
  bundle: string;
  rootfs: string;
  noPivot?: boolean;
  /** Idmapped binds tsrun made as detached mounts: mount index -> the fd number in the init. */
  idmappedMountFds?: Record<number, number>;
  /** NOTIFY_SOCKET: the host directory of the container's notify socket, bound at /run/notify. */
  notifySocketDir?: string;
}

/** The LSMs a process's labels go to (only set when the host runs them). */
export interface LsmFacts {
  /** the file under /proc/thread-self/attr that takes "exec <profile>" */
  apparmorAttr?: string;
  selinux?: boolean;
}

/** linux.seccomp compiled to BPF (src/plan/seccomp.ts). */
export interface SeccompProgram {
  bpf: Buffer;
  flags: number;
  /** SCMP_ACT_NOTIFY is used: the init hands the listener fd to tsrun (Step.SECCOMP_LISTENER). */
  listener?: boolean;
}

/** A marker the init reports (OP_REPORT) where tsrun has work to do mid-program. */
export const Step = { CREATE_HOOKS: 2, DEVICE_RULES: 3, SECCOMP_LISTENER: 4 } as const;

const DEFAULT_DEVICES = [
  { path: "/dev/null", major: 1, minor: 3 },
  { path: "/dev/zero", major: 1, minor: 5 },
  { path: "/dev/full", major: 1, minor: 7 },
  { path: "/dev/random", major: 1, minor: 8 },
  { path: "/dev/urandom", major: 1, minor: 9 },
  { path: "/dev/tty", major: 5, minor: 0 },
];

const MAX_U64 = (1n << 64n) - 1n;

/** personality(2) execution domains the spec names. */
const PERSONALITY_DOMAINS: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };

export function u64(n: number): bigint {
  if (n >= 18446744073709551615) return MAX_U64;
  if (n < 0) return MAX_U64;
  return BigInt(Math.floor(n));
}

export function capMask(names: readonly string[] | undefined): bigint {
  let mask = 0n;
  for (const name of names ?? []) {
    const bit = CAPABILITIES.indexOf(name as (typeof CAPABILITIES)[number]);
    if (bit >= 0) mask |= 1n << BigInt(bit);
  }
  return mask;
}

function nsFlags(spec: Spec): number {
  let flags = 0;
  for (const ns of spec.linux?.namespaces ?? []) if (!ns.path) flags |= NAMESPACE_FLAG[ns.type] ?? 0;
  return flags;
}

export function createsNamespace(spec: Spec, type: string): boolean {
  return (spec.linux?.namespaces ?? []).some((ns) => ns.type === type && !ns.path);
}

export function hasNamespace(spec: Spec, type: string): boolean {
  return (spec.linux?.namespaces ?? []).some((ns) => ns.type === type);
}

export function compile(spec: Spec, opts: PlanOptions, host: HostFacts): Program {
  const ops: Op[] = [];
  const warnings: string[] = [];
  const add = (op: Op) => ops.push(op);
  const process = spec.process;
  if (!process) throw new Error("config.json has no process");
  const flags = nsFlags(spec);
  const newUser = (flags & CLONE.NEWUSER) !== 0;
  const newMount = (flags & CLONE.NEWNS) !== 0;

  // --- stage 0: in tsrun's namespaces
  if (opts.fifoPath) add({ op: "OPEN_FIFO", strs: [opts.fifoPath], origin: "exec.fifo", what: `open ${opts.fifoPath}` });
  // with the runtime's privileges, before any user namespace (in one, raising it is refused); the
  // container init inherits it
  if (process.oomScoreAdj !== undefined)
    add({ op: "WRITE_FILE", strs: ["self/oom_score_adj", String(process.oomScoreAdj)], ints: [WRITE_IN_PROC], origin: "process.oomScoreAdj", what: "set oom_score_adj" });
  const joins = (spec.linux?.namespaces ?? []).map((ns, i) => ({ ns, i })).filter(({ ns }) => ns.path);
  joins.sort((a, b) => Number(b.ns.type === "user") - Number(a.ns.type === "user"));
  for (const { ns, i } of joins)
    add({ op: "SETNS", strs: [ns.path!], ints: [NAMESPACE_FLAG[ns.type]], origin: `linux.namespaces[${i}]`, what: `join ${ns.type} namespace ${ns.path}` });
  if (flags & CLONE.NEWTIME) {
    const origin = "linux.timeOffsets";
    add({ op: "UNSHARE", ints: [CLONE.NEWTIME], origin: "linux.namespaces (time)", what: "create time namespace" });
    const offsets = Object.entries(spec.linux?.timeOffsets ?? {})
      .map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`).join("");
    if (offsets) add({ op: "WRITE_FILE", strs: ["self/timens_offsets", offsets], ints: [WRITE_IN_PROC], origin, what: "set time offsets" });
  }
  const cloneFlags = flags & ~CLONE.NEWTIME & ~CLONE.NEWCGROUP;
  add({ op: "CLONE", ints: [cloneFlags], origin: "linux.namespaces", what: "create namespaces" });

  // --- stage 1: the container init
  add({ op: "WAIT_GO", origin: "runtime", what: "wait for uid/gid maps and cgroup" });
  if (newUser) {
    add({ op: "SETRESGID", ints: [0], origin: "linux.gidMappings", what: "become root gid in the user namespace" });
    add({ op: "SETRESUID", ints: [0], origin: "linux.uidMappings", what: "become root in the user namespace" });
  }
  if (flags & CLONE.NEWCGROUP)
    add({ op: "UNSHARE", ints: [CLONE.NEWCGROUP], origin: "linux.namespaces (cgroup)", what: "create cgroup namespace" });
  add({ op: "SETSID", origin: "runtime", what: "create a session" });

  if (newMount) compileRootfs(spec, opts, host, newUser, add);
  else {
    add({ op: "OPEN_ROOT", strs: ["/"], origin: "root", what: "open /" });
    addCreateHooksPoint(spec, add);
  }

  if (!newMount) compileSysctls(spec, add);
  const persona = spec.linux?.personality;
  if (persona) {
    const domain = PERSONALITY_DOMAINS[persona.domain];
    if (domain !== undefined) add({ op: "PERSONALITY", ints: [domain], origin: "linux.personality", what: `set personality ${persona.domain}` });
  }
  if (spec.hostname !== undefined)
    add({ op: "SETHOSTNAME", strs: [spec.hostname], origin: "hostname", what: `set hostname ${JSON.stringify(spec.hostname)}` });
  if (spec.domainname !== undefined)
    add({ op: "SETDOMAINNAME", strs: [spec.domainname], origin: "domainname", what: `set domainname ${JSON.stringify(spec.domainname)}` });
  compileProcess(process, "process", { ...opts, startHooks: spec.hooks?.startContainer }, add);
  return { ops, warnings };
}

export interface ProcessOptions {
  /** exec.fifo the init blocks on until `start`; absent when the process should run at once. */
  fifoPath?: string;
  /** fds 3.. the process inherits (LISTEN_FDS + --preserve-fds). */
  preservedFds?: number;
  /** Extra environment entries appended to process.env (LISTEN_FDS...). */
  extraEnv?: string[];
  /** fd (in the init) of the console socket to send a pty master on, when process.terminal. */
  consoleFd?: number;
  /** tsrun itself proxies the terminal: its own terminal translates newlines (runc clears ONLCR too) */
  foregroundTerminal?: boolean;
  seccomp?: SeccompProgram;
  lsm?: LsmFacts;
  /** process.execCPUAffinity.final, for exec: applied once the process is in the container's cgroup. */
  finalAffinity?: Buffer;
  /** hooks.startContainer: run by the init inside the container, before the process. */
  startHooks?: Hook[];
  /** The user namespace denies setgroups (an unprivileged caller wrote the gid map): skip SETGROUPS. */
  setgroupsDenied?: boolean;
}

/** The part every process shares, container init or exec: limits, cwd, user, caps, then execve. */
export function compileProcess(process: Process, base: string, opts: ProcessOptions, add: (op: Op) => void): void {
  if (opts.consoleFd !== undefined)
    add({
      op: "CONSOLE",
      ints: [opts.consoleFd, process.consoleSize?.height ?? 0, process.consoleSize?.width ?? 0, opts.foregroundTerminal ? 1 : 0],
      origin: `${base}.terminal`,
      what: "create the terminal and send it to the console socket",
    });
  (process.rlimits ?? []).forEach((r, i) =>
    add({ op: "SETRLIMIT", ints: [RLIMITS[r.type], u64(r.soft), u64(r.hard)], origin: `${base}.rlimits[${i}]`, what: `set ${r.type} to ${r.soft}:${r.hard}` }));
  let env = [...(process.env ?? []), ...(opts.extraEnv ?? [])];
  // as runc: without HOME (or with an empty one), the user's home from the container's /etc/passwd
  const home = env.filter((e) => e.startsWith("HOME=")).pop();
  if (home === undefined || home === "HOME=") {
    env = env.filter((e) => !e.startsWith("HOME="));
    add({ op: "HOME", ints: [process.user.uid], origin: `${base}.env`, what: `set HOME to uid ${process.user.uid}'s home in /etc/passwd (or /)` });
  }
  add({ op: "CHDIR", strs: [process.cwd], origin: `${base}.cwd`, what: `change directory to ${process.cwd}` });

  const pathVar = env.filter((e) => e.startsWith("PATH=")).pop()?.slice(5) ?? DEFAULT_PATH;
  const args = process.args ?? [];
  add({ op: "FIND_EXEC", strs: [args[0], pathVar], origin: `${base}.args[0]`, what: `find ${JSON.stringify(args[0])}` });

  if (opts.finalAffinity)
    add({ op: "SCHED_AFFINITY", strs: [opts.finalAffinity], origin: `${base}.execCPUAffinity.final`, what: `set the CPU affinity to ${process.execCPUAffinity?.final}` });
  // with the runtime's privileges, before any filter or capability drop could refuse them
  if (process.scheduler) add(schedulerOp(process.scheduler, base));
  if (process.apparmorProfile && opts.lsm?.apparmorAttr)
    add({ op: "PROC_ATTR", strs: [opts.lsm.apparmorAttr, `exec ${process.apparmorProfile}`], origin: `${base}.apparmorProfile`, what: `confine the process to AppArmor profile ${process.apparmorProfile}` });
  if (process.selinuxLabel && opts.lsm?.selinux)
    add({ op: "PROC_ATTR", strs: ["exec", process.selinuxLabel], origin: `${base}.selinuxLabel`, what: `label the process ${process.selinuxLabel}` });
  if (process.ioPriority) {
    const { class: cls, priority = 0 } = process.ioPriority;
    add({ op: "IOPRIO", ints: [(IOPRIO_CLASS[cls] << IOPRIO_CLASS_SHIFT) | priority], origin: `${base}.ioPriority`, what: `set the I/O priority to ${cls} ${priority}` });
  }

  // Loading a filter needs no_new_privs or CAP_SYS_ADMIN: without no_new_privs it goes in while we
  // still hold every capability; with it, as late as possible, so the filter sees only execve. A
  // filter with a listener must load while tsrun still listens (before READY) to pass the fd on.
  const seccomp = opts.seccomp && {
    op: "SECCOMP" as const,
    strs: [opts.seccomp.bpf],
    ints: [opts.seccomp.flags, opts.seccomp.listener ? Step.SECCOMP_LISTENER : 0],
    origin: "linux.seccomp",
    what: `load the seccomp filter (${opts.seccomp.bpf.length / 8} instructions)`,
  };
  const seccompEarly = !process.noNewPrivileges;
  const seccompBeforeReady = !!opts.seccomp?.listener && !seccompEarly;
  // Inherited fds are marked close-on-exec before any filter loads: a profile need not allow close_range
  add({ op: "CLOSE_FDS", ints: [3 + (opts.preservedFds ?? 0)], origin: "runtime", what: "close inherited fds" });
  if (seccomp && seccompEarly) add(seccomp);
  compileUser(process, base, add, !!opts.setgroupsDenied);
  if (seccomp && seccompBeforeReady) add(seccomp);

  add({ op: "READY", origin: "runtime", what: "report ready" });
  if (opts.fifoPath) add({ op: "WAIT_FIFO", origin: "exec.fifo", what: "wait for start" });
  (opts.startHooks ?? []).forEach((h, i) => {
    const args = h.args ?? [h.path];
    add({
      op: "HOOK",
      strs: [h.path, nulJoin(args), nulJoin(h.env ?? [])],
      ints: [args.length, (h.env ?? []).length, h.timeout ?? 0],
      origin: `hooks.startContainer[${i}]`,
      what: `run ${h.path}`,
    });
  });
  if (seccomp && !seccompEarly && !seccompBeforeReady) add(seccomp);
  add({
    op: "EXEC",
    strs: [nulJoin(args), nulJoin(env)],
    ints: [args.length, env.length],
    origin: `${base}.args`,
    what: `exec ${JSON.stringify(args[0])}`,
  });
}

function schedulerOp(s: Scheduler, base: string): Op {
  const flags = (s.flags ?? []).reduce((m, f) => m | SCHED_FLAG[f], 0);
  return {
    op: "SCHED_SETATTR",
    ints: [SCHED_POLICY[s.policy], flags, s.nice ?? 0, s.priority ?? 0, u64(s.runtime ?? 0), u64(s.deadline ?? 0), u64(s.period ?? 0)],
    origin: `${base}.scheduler`,
    what: `set the scheduling policy ${s.policy}`,
  };
}

/** argv/envp for the init: the strings one after another, each NUL-terminated. */
export function nulJoin(list: readonly string[]): Buffer {
  return Buffer.concat(list.map((s) => Buffer.from(s + "\0")));
}

function compileUser(process: Process, base: string, add: (op: Op) => void, setgroupsDenied: boolean): void {
  const caps = process.capabilities;
  const user = process.user;
  add({ op: "CAPBSET", ints: [capMask(caps?.bounding)], origin: `${base}.capabilities.bounding`, what: "drop bounding capabilities" });
  add({ op: "KEEPCAPS", ints: [1], origin: `${base}.user`, what: "keep capabilities across the uid change" });
  add({ op: "STDIO_OWNER", ints: [user.uid], origin: `${base}.user.uid`, what: `give the terminal or stdio to uid ${user.uid}` });
  const gids = Buffer.alloc(4 * (user.additionalGids?.length ?? 0));
  (user.additionalGids ?? []).forEach((g, i) => gids.writeUInt32LE(g, i * 4));
  if (!setgroupsDenied) add({ op: "SETGROUPS", strs: [gids], origin: `${base}.user.additionalGids`, what: "set supplementary groups" });
  add({ op: "SETRESGID", ints: [user.gid], origin: `${base}.user.gid`, what: `set gid ${user.gid}` });
  add({ op: "SETRESUID", ints: [user.uid], origin: `${base}.user.uid`, what: `set uid ${user.uid}` });
  add({ op: "KEEPCAPS", ints: [0], origin: `${base}.user`, what: "stop keeping capabilities" });
  add({
    op: "CAPSET",
    ints: [capMask(caps?.effective), capMask(caps?.permitted), capMask(caps?.inheritable)],
    origin: `${base}.capabilities`,
    what: "set capabilities",
  });
  if (caps?.ambient?.length) {
    // the kernel raises an ambient capability only when it is permitted and inheritable too
    const raisable = capMask(caps.ambient) & capMask(caps.permitted) & capMask(caps.inheritable);
    if (raisable) add({ op: "AMBIENT", ints: [raisable], origin: `${base}.capabilities.ambient`, what: "raise ambient capabilities" });
  }
  // unset: keep the caller's umask, as the spec says (runc forces 0022 here)
  if (user.umask !== undefined) add({ op: "UMASK", ints: [user.umask], origin: `${base}.user.umask`, what: "set umask" });
  if (process.noNewPrivileges) add({ op: "NO_NEW_PRIVS", origin: `${base}.noNewPrivileges`, what: "set no_new_privs" });
}

function compileRootfs(spec: Spec, opts: PlanOptions, host: HostFacts, newUser: boolean, add: (op: Op) => void): void {
  const rootProp = spec.linux?.rootfsPropagation ? propagationFlag(spec.linux.rootfsPropagation) : undefined;
  // Never let the container's mounts reach the host: / starts as a slave (or private), and a
  // shared or unbindable rootfsPropagation is applied only after pivot_root, which refuses both.
  const lateProp = rootProp !== undefined && (rootProp & (MS.SHARED | MS.UNBINDABLE)) !== 0;
  // Shared (Kubernetes' Bidirectional): the host's mounts stay shared, so that a shared bind volume
  // joins its source's peer group (mounts propagate both ways); only the mount holding the rootfs
  // turns private, so the rootfs bind and every container mount made on it stay in the container.
  // --no-pivot keeps / private: its old root stays under the new one.
  const keepPeers = rootProp !== undefined && (rootProp & MS.SHARED) !== 0 && !(rootProp & MS.UNBINDABLE) && !opts.noPivot && !!host.mountPointOf;
  const earlyProp = rootProp === undefined ? MS.SLAVE : keepPeers ? MS.SHARED : lateProp ? MS.PRIVATE : rootProp;
  add({ op: "MOUNT", strs: ["", "/", "", ""], ints: [MS.REC | earlyProp, MountTarget.HOST], origin: "linux.rootfsPropagation", what: "set propagation of /" });
  const rootfsParent = keepPeers ? host.mountPointOf!(opts.rootfs) : undefined;
  if (rootfsParent !== undefined)
    add({ op: "MOUNT", strs: ["", rootfsParent, "", ""], ints: [MS.PRIVATE, MountTarget.HOST], origin: "linux.rootfsPropagation", what: `make ${rootfsParent} (holding the rootfs) private` });
  add({ op: "MOUNT", strs: [opts.rootfs, opts.rootfs, "", ""], ints: [MS.BIND | MS.REC, MountTarget.HOST], origin: "root.path", what: `bind ${opts.rootfs} onto itself` });
  add({ op: "OPEN_ROOT", strs: [opts.rootfs], origin: "root.path", what: `open ${opts.rootfs}` });

  const mounts = spec.mounts ?? [];
  let devBound = false;
  let devpts = false;
  mounts.forEach((m, i) => {
    if (m.destination.replace(/\/+$/, "") === "/dev" && parseMountOptions(m.options).bind) devBound = true;
    if (m.type === "devpts" && m.destination.replace(/\/+$/, "") === "/dev/pts") devpts = true;
    const km = kernelMountFor(m, spec, host);
    for (const op of compileMount(km, i, opts, host, m.type === "proc" || m.type === "sysfs")) add(km.type === "cgroup2" && op.op === "MOUNT" && op.strs?.[2] === "cgroup2" ? withCgroup2Fallback(op, spec, host) : op);
  });
  if (opts.notifySocketDir) {
    const notify: Mount = { destination: "/run/notify", type: "bind", source: opts.notifySocketDir, options: ["bind", "nosuid", "noexec", "nodev", "ro"] };
    for (const op of compileMount(notify, -1, opts, host)) add({ ...op, origin: "NOTIFY_SOCKET" });
  }

  if (!devBound) {
    const devices = [
      ...DEFAULT_DEVICES.map((d) => ({ ...d, type: "c", fileMode: 0o666, uid: 0, gid: 0, origin: "default devices" })),
      ...(spec.linux?.devices ?? []).map((d, i) => ({ ...d, origin: `linux.devices[${i}]` })),
    ];
    for (const d of devices) {
      const typeBits = d.type === "b" ? S_IFBLK : d.type === "p" ? S_IFIFO : S_IFCHR;
      if (newUser || host.inUserNamespace) {
        add({ op: "MOUNT", strs: [d.path, d.path, "", ""], ints: [MS.BIND, MountTarget.FILE], origin: d.origin, what: `bind host ${d.path}` });
      } else {
        add({
          op: "MKNOD_IN_ROOT",
          strs: [d.path],
          ints: [typeBits | ((d.fileMode ?? 0o666) & 0o7777), d.major ?? 0, d.minor ?? 0, d.uid ?? 0, d.gid ?? 0],
          origin: d.origin,
          what: `mknod ${d.path}`,
        });
      }
    }
    const links: [string, string][] = [
      ["/proc/self/fd", "/dev/fd"],
      ["/proc/self/fd/0", "/dev/stdin"],
      ["/proc/self/fd/1", "/dev/stdout"],
      ["/proc/self/fd/2", "/dev/stderr"],
    ];
    if (host.statKind("/proc/kcore") !== "missing") links.push(["/proc/kcore", "/dev/core"]);
    if (devpts) links.push(["pts/ptmx", "/dev/ptmx"]);
    for (const [target, link] of links)
      add({ op: "SYMLINK_IN_ROOT", strs: [target, link], origin: "default devices", what: `symlink ${link} -> ${target}` });
  }
  // The device cgroup rules apply once the nodes exist: a rule may deny mknod of a listed device.
  add({ op: "REPORT", ints: [Step.DEVICE_RULES], origin: "linux.resources.devices", what: "apply the device cgroup rules" });
  add({ op: "WAIT_ACK", origin: "linux.resources.devices", what: "wait for the device cgroup rules" });

  addCreateHooksPoint(spec, add);
  // as runc: a missing working directory is made (as root, mode 0755 less the umask), in the root;
  // one that cannot be (such as /proc/self/fd/N, a magic link) is for CHDIR to report
  const cwd = spec.process?.cwd;
  if (cwd && cwd !== "/")
    add({ op: "MKDIR_IN_ROOT", strs: [cwd], ints: [0o755, 1], origin: "process.cwd", what: `create ${cwd} when it is missing` });
  if (opts.noPivot) add({ op: "MOVE_ROOT", origin: "--no-pivot", what: "move the rootfs to / and chroot" });
  else {
    // pivot_root refuses a shared / (the mount it leaves); the binds that needed it are made
    if (rootfsParent !== undefined && rootfsParent !== "/")
      add({ op: "MOUNT", strs: ["", "/", "", ""], ints: [MS.PRIVATE, MountTarget.HOST], origin: "linux.rootfsPropagation", what: "make / private for pivot_root" });
    add({ op: "PIVOT_ROOT", origin: "root.path", what: `pivot_root to ${opts.rootfs}` });
  }
  if (lateProp)
    add({ op: "MOUNT", strs: ["", "/", "", ""], ints: [rootProp!, MountTarget.HOST], origin: "linux.rootfsPropagation", what: `make / ${spec.linux!.rootfsPropagation}` });

  // sysctls go in before readonlyPaths can make /proc/sys read-only
  compileSysctls(spec, add);
  (spec.linux?.readonlyPaths ?? []).forEach((p, i) =>
    add({ op: "READONLY_PATH", strs: [p], origin: `linux.readonlyPaths[${i}]`, what: `make ${p} read-only` }));
  (spec.linux?.maskedPaths ?? []).forEach((p, i) =>
    add({ op: "MASK_PATH", strs: [p], origin: `linux.maskedPaths[${i}]`, what: `mask ${p}` }));
  if (spec.root?.readonly)
    add({ op: "MOUNT", strs: ["", "/", "", ""], ints: [0, MountTarget.HOST, 0, MS.RDONLY], origin: "root.readonly", what: "remount / read-only" });
}

/** Where prestart, createRuntime and createContainer hooks run: set up, not yet pivoted. */
function addCreateHooksPoint(spec: Spec, add: (op: Op) => void): void {
  const h = spec.hooks ?? {};
  if (!h.prestart?.length && !h.createRuntime?.length && !h.createContainer?.length) return;
  add({ op: "REPORT", ints: [Step.CREATE_HOOKS], origin: "hooks", what: "run the prestart, createRuntime and createContainer hooks" });
  add({ op: "WAIT_ACK", origin: "hooks", what: "wait for the hooks" });
}

function compileSysctls(spec: Spec, add: (op: Op) => void): void {
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {}))
    add({ op: "WRITE_FILE", strs: [`sys/${key.replace(/\./g, "/")}`, value], ints: [WRITE_IN_PROC], origin: `linux.sysctl["${key}"]`, what: `set sysctl ${key}` });
}

/**
 * ordinaryDir: a procfs or sysfs (or the bind standing for one) goes only on a directory reached
 * through no symlink, as with runc. Whatever the spelling of a destination, the init refuses a
 * mount inside /proc unless it is one of PROC_BIND_ALLOWED (told by i7 / MOUNT_FD's i2).
 */
function compileMount(m: Mount, i: number, opts: PlanOptions, host: HostFacts, ordinaryDir = false): Op[] {
  const origin = `mounts[${i}]`;
  const parsed = parseMountOptions(m.options);
  const type = m.type ?? "";
  const inProc = PROC_BIND_ALLOWED.has(normalDestination(m.destination)) ? [MOUNT_IN_PROC_OK] : [];
  if (parsed.bind || type === "bind") {
    const source = resolveSource(m.source ?? "", opts.bundle);
    const kind = host.statKind(source);
    const target = kind === "dir" ? (ordinaryDir ? MountTarget.DIR_NOFOLLOW : MountTarget.DIR) : MountTarget.FILE;
    const treeFd = opts.idmappedMountFds?.[i];
    if (treeFd !== undefined) {
      // made by tsrun with its flags already set: the kernel only idmaps from the host's namespaces
      const fdTarget = target === MountTarget.FILE ? MountTarget.FILE : MountTarget.DIR;
      const ops: Op[] = [{ op: "MOUNT_FD", strs: [m.destination], ints: [treeFd, fdTarget, ...inProc], origin, what: `bind ${source} idmapped on ${m.destination}` }];
      if (parsed.propagation)
        ops.push({ op: "MOUNT", strs: ["", m.destination, "", ""], ints: [0, MountTarget.EXISTING, parsed.propagation], origin, what: `set propagation of ${m.destination}` });
      return ops;
    }
    const remount = parsed.flags & ~MS.REMOUNT;
    return [{
      op: "MOUNT",
      strs: [source, m.destination, "", ""],
      ints: [MS.BIND | (parsed.recursive ? MS.REC : 0), target, parsed.propagation, remount, parsed.attrSet, parsed.attrClr, ...(inProc.length ? [0, ...inProc] : [])],
      origin,
      what: `bind ${source} on ${m.destination}`,
    }];
  }
  if (type === "cgroup" && !host.cgroupV2) return compileCgroupV1Mount(m, origin, parsed.flags, host);
  const copyUp = parsed.copyUp && type === "tmpfs";
  const dirTarget = ordinaryDir ? MountTarget.DIR_NOFOLLOW : MountTarget.DIR;
  return [{
    op: "MOUNT",
    strs: [m.source ?? type, m.destination, type, parsed.data.join(",")],
    // with a copy to make, read-only comes after it, as a remount
    ints: copyUp
      ? [parsed.flags & ~MS.RDONLY, dirTarget, parsed.propagation, parsed.flags & MS.RDONLY, parsed.attrSet, parsed.attrClr, 1, ...inProc]
      : [parsed.flags, dirTarget, parsed.propagation, 0, parsed.attrSet, parsed.attrClr, ...(inProc.length ? [0, ...inProc] : [])],
    origin,
    what: `mount ${type || m.source} on ${m.destination}${copyUp ? " with a copy of what it held (tmpcopyup)" : ""}`,
  }];
}

/** cgroup v1: a tmpfs with the container's own directory of each hierarchy bound into it. */
function compileCgroupV1Mount(m: Mount, origin: string, flags: number, host: HostFacts): Op[] {
  const ops: Op[] = [{
    op: "MOUNT",
    strs: ["tmpfs", m.destination, "tmpfs", "mode=755"],
    ints: [MS.NOSUID | MS.NODEV | MS.NOEXEC, MountTarget.DIR, 0, 0],
    origin,
    what: `mount tmpfs on ${m.destination}`,
  }];
  for (const [name, dir] of Object.entries(host.cgroupPaths ?? {})) {
    const dest = `${m.destination.replace(/\/+$/, "")}/${name}`;
    ops.push({
      op: "MOUNT",
      strs: [dir, dest, "", ""],
      ints: [MS.BIND, MountTarget.DIR, 0, (flags & MS.RDONLY) | MS.NOSUID | MS.NODEV | MS.NOEXEC],
      origin,
      what: `bind cgroup ${name} on ${dest}`,
    });
  }
  if (flags & MS.RDONLY)
    ops.push({ op: "MOUNT", strs: ["", m.destination, "", ""], ints: [0, MountTarget.EXISTING, 0, MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC], origin, what: `remount ${m.destination} read-only` });
  return ops;
}

/**
 * sysfs can be mounted only by the owner of the network namespace, cgroup2 only by the owner of the
 * cgroup namespace: a new user namespace without its own (rootless) gets the host's directory bound
 * instead, with the mount's options, as runc does. A "cgroup" mount on a cgroup2 host is cgroup2.
 */
function kernelMountFor(m: Mount, spec: Spec, host: HostFacts): Mount {
  const userOnly = (ns: string) => createsNamespace(spec, "user") && !createsNamespace(spec, ns);
  const bind = (source: string): Mount => ({ ...m, type: "bind", source, options: ["rbind", ...(m.options ?? [])] });
  if (m.type === "sysfs" && userOnly("network")) return bind("/sys");
  if (m.type === "cgroup" && host.cgroupV2) return userOnly("cgroup") ? bind("/sys/fs/cgroup") : { ...m, type: "cgroup2", source: "cgroup2" };
  return m;
}

/**
 * cgroup2 is refused where the host's cgroup2 is mounted already (an rbind of /sys brings it: EBUSY)
 * or the cgroup namespace is not the container's own (EPERM): the init binds, in its place, the
 * container's own cgroup directory when it has a cgroup namespace (what its cgroup2 would show),
 * the host's whole /sys/fs/cgroup otherwise, as runc does.
 */
function withCgroup2Fallback(op: Op, spec: Spec, host: HostFacts): Op {
  const alt = createsNamespace(spec, "cgroup") && host.cgroup2Path ? host.cgroup2Path : "/sys/fs/cgroup";
  const strs = [...(op.strs ?? [])];
  while (strs.length < 4) strs.push("");
  return { ...op, strs: [...strs, alt], what: `${op.what} (where the kernel refuses it: bind ${alt})` };
}

/** A bind mount's source on the host: relative ones are relative to the bundle. */
export function resolveSource(source: string, bundle: string): string {
  if (source.startsWith("/")) return source;
  return `${bundle.replace(/\/+$/, "")}/${source}`;
}
