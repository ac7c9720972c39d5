// The systemd cgroup driver (--systemd-cgroup): the container's cgroup is a transient scope that
// systemd creates over D-Bus (sd-bus through the addon) with Delegate=yes and the resource
// properties systemd knows; everything else goes to the scope's cgroup files through the cgroupfs
// driver (v2, or v1 where systemd runs on the v1 controllers), as runc does. Unit naming and
// property conversion: systemd-units.ts.
import { readFileSync } from "node:fs";
import type { Resources } from "../spec/types.js";
import { native } from "../syscalls/index.js";
import { CgroupError, isPermission, sleepMs, writeCgroupFile } from "./fsutil.js";
import { readHostCgroupInfo, type HostCgroupInfo } from "./host.js";
import type { CgroupStats } from "./stats.js";
import type { CgroupManager, FreezerState, SavedCgroup } from "./types.js";
import { cgroupDir, resolvePaths } from "./paths.js";
import { V1Manager } from "./v1.js";
import { V2Manager } from "./v2.js";
import { annotationProperties } from "../spec/systemd-properties.js";
import {
  baseUnitProperties,
  parseProcDevices,
  parseSystemdCgroupsPath,
  parseSystemdVersion,
  resourceProperties,
  unitCgroupPath,
  userInstanceOwner,
  type UnitProperty,
} from "./systemd-units.js";

const DEST = "org.freedesktop.systemd1";
const PATH = "/org/freedesktop/systemd1";
const MANAGER = "org.freedesktop.systemd1.Manager";
const PROPS = "org.freedesktop.DBus.Properties";
const CALL_TIMEOUT_USEC = 25_000_000;
/** runc waits 30 s for a unit's job */
const JOB_TIMEOUT_MS = 30_000;

interface DbusError extends Error {
  dbusName?: string;
}

function dbusName(e: unknown): string | undefined {
  return (e as DbusError)?.dbusName;
}

/** The systemd manager on the system bus, or the user's own instance on the user bus. */
export class SystemdBus {
  private matched = false;
  private version?: number;

  constructor(readonly user: boolean) {}

  private what(): string {
    return this.user ? "the user's systemd instance (user bus)" : "systemd (system bus)";
  }

  call(member: string, signature: string, args: unknown[], iface = MANAGER, path = PATH): unknown[] {
    try {
      return native.sdbusCall(this.user, DEST, path, iface, member, signature, args, CALL_TIMEOUT_USEC);
    } catch (e) {
      if (dbusName(e) || (e as Error).message.startsWith(member)) throw e;
      // no bus, no systemd on it: one clear reason
      throw new CgroupError(`systemd cgroup driver (--systemd-cgroup): cannot reach ${this.what()}: ${(e as Error).message}; ${this.user ? userBusHint() : "is systemd running on this host?"}`, (e as NodeJS.ErrnoException).code);
    }
  }

  /** A property of the manager. */
  managerProperty(name: string): unknown {
    return this.call("Get", "ss", [MANAGER, name], PROPS)[0];
  }

  systemdVersion(): number {
    this.version ??= parseSystemdVersion(String(this.managerProperty("Version") ?? ""));
    return this.version;
  }

  /** Checks that systemd answers; its own cgroup ("/" for the system instance). */
  managerCgroup(): string {
    try {
      return String(this.managerProperty("ControlGroup") ?? "");
    } catch (e) {
      if (e instanceof CgroupError) throw e;
      throw new CgroupError(`systemd cgroup driver (--systemd-cgroup): ${this.what()} does not answer as systemd: ${(e as Error).message}`);
    }
  }

  private ensureMatch(): void {
    if (this.matched) return;
    native.sdbusAddMatch(this.user, `type='signal',sender='${DEST}',path='${PATH}',interface='${MANAGER}',member='JobRemoved'`);
    this.matched = true;
  }

  /** Calls member (which returns a job path) and waits for that job's JobRemoved; its result ("done", "failed"...). */
  private runJob(member: string, signature: string, args: unknown[]): string {
    this.ensureMatch();
    const job = String(this.call(member, signature, args)[0]);
    const deadline = Date.now() + JOB_TIMEOUT_MS;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new CgroupError(`timed out after ${JOB_TIMEOUT_MS / 1000}s waiting for systemd job ${job} (${member} ${String(args[0])})`);
      const sig = native.sdbusNextSignal(this.user, left * 1000);
      if (!sig) continue;
      if (sig.member === "JobRemoved" && sig.args[1] === job) return String(sig.args[3]);
    }
  }

  startTransientUnit(unit: string, props: UnitProperty[]): string {
    return this.runJob("StartTransientUnit", "ssa(sv)a(sa(sv))", [unit, "replace", props, []]);
  }

  stopUnit(unit: string): string {
    return this.runJob("StopUnit", "ss", [unit, "replace"]);
  }

  resetFailedUnit(unit: string): void {
    this.call("ResetFailedUnit", "s", [unit]);
  }

  /** Moves pids into the unit's cgroup (systemd 238+; a user instance asks the system manager where the kernel refuses it). */
  attachProcessesToUnit(unit: string, pids: number[]): void {
    this.call("AttachProcessesToUnit", "ssau", [unit, "", pids]);
  }

  setUnitProperties(unit: string, props: UnitProperty[]): void {
    this.call("SetUnitProperties", "sba(sv)", [unit, true, props]);
  }

  /** The unit's cgroup path (systemd's view), undefined when systemd does not know the unit. */
  unitCgroup(unit: string): string | undefined {
    let path: string;
    try {
      path = String(this.call("GetUnit", "s", [unit])[0]);
    } catch (e) {
      if (dbusName(e) === "org.freedesktop.systemd1.NoSuchUnit") return undefined;
      throw e;
    }
    const iface = unit.endsWith(".slice") ? "org.freedesktop.systemd1.Slice" : "org.freedesktop.systemd1.Scope";
    return String(this.call("Get", "ss", [iface, "ControlGroup"], PROPS, path)[0] ?? "");
  }
}

/** Why the user bus may be out of reach (sd_bus_open_user finds it through these two variables). */
function userBusHint(): string {
  const uid = process.geteuid?.() ?? 0;
  if (!process.env.DBUS_SESSION_BUS_ADDRESS && !process.env.XDG_RUNTIME_DIR)
    return `neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set, so the user bus cannot be found (a login session sets XDG_RUNTIME_DIR=/run/user/${uid})`;
  return `is the user's systemd instance running (user@${uid}.service: a login session, or loginctl enable-linger)?`;
}

/**
 * Rootless as uid 0 of a user namespace (rootless Podman runs the runtime so): the user bus, when
 * there is one and a user's own instance answers on it (not root's); the system bus otherwise
 * (systemd running as root inside the user namespace). runc decides the same by the user bus's owner.
 */
function userBusOfAUser(): boolean {
  if (!process.env.DBUS_SESSION_BUS_ADDRESS && !process.env.XDG_RUNTIME_DIR) return false;
  try {
    return (userInstanceOwner(busFor(true).managerCgroup()) ?? 0) !== 0;
  } catch {
    return false;
  }
}

const buses: Partial<Record<"system" | "user", SystemdBus>> = {};
function busFor(user: boolean): SystemdBus {
  return (buses[user ? "user" : "system"] ??= new SystemdBus(user));
}

function deviceNames() {
  try {
    return parseProcDevices(readFileSync("/proc/devices", "utf8"));
  } catch {
    return () => undefined;
  }
}

export interface SystemdManagerOptions {
  id: string;
  cgroupsPath?: string;
  rootless?: boolean;
  host?: HostCgroupInfo;
  /** org.systemd.property.* among them are given to StartTransientUnit after everything else */
  annotations?: Record<string, string>;
}

export class SystemdManager implements CgroupManager {
  private readonly bus: SystemdBus;
  private readonly unit: string;
  private readonly slice: string;
  private readonly user: boolean;
  private readonly rootless: boolean;
  /** the cgroupfs driver on the unit's cgroup: v2, or every v1 hierarchy (systemd makes only those it manages) */
  private fs: V1Manager | V2Manager;
  private started: boolean;
  /** resources set before the unit exists: they go into StartTransientUnit */
  private pending: Resources = {};
  private notes: string[] = [];
  /** StartTransientUnit was called (a job may have made the unit even if we saw no answer) */
  private tried = false;
  /** the unit existed already and is someone else's */
  private foreign = false;
  /** from org.systemd.property.* annotations */
  private extraProps: UnitProperty[] = [];

  private constructor(o: { unit: string; slice: string; user: boolean; rootless: boolean; fs: V1Manager | V2Manager; started: boolean }) {
    this.unit = o.unit;
    this.slice = o.slice;
    this.user = o.user;
    this.rootless = o.rootless;
    this.bus = busFor(o.user);
    this.fs = o.fs;
    this.started = o.started;
  }

  get mode(): "v1" | "v2" | "hybrid" {
    return this.fs.mode;
  }

  /** The cgroupfs driver for a cgroup path in every hierarchy of this host. */
  private static fsAt(host: HostCgroupInfo, cgPath: string, rootless: boolean): V1Manager | V2Manager {
    const r = resolvePaths(host, cgPath, "");
    if (r.driver === "v2") return new V2Manager(r.paths[""]!, { rootless });
    return new V1Manager(r.paths, { hybrid: host.mode === "hybrid", rootless });
  }

  /** A new container's manager: names from cgroupsPath; nothing is asked of systemd until create(). */
  static forNew(opts: SystemdManagerOptions): SystemdManager {
    const user = !!opts.rootless && (process.geteuid?.() !== 0 || userBusOfAUser());
    let n;
    try {
      n = parseSystemdCgroupsPath(opts.cgroupsPath, opts.id, user);
    } catch (e) {
      throw new CgroupError(`linux.cgroupsPath: ${(e as Error).message}`);
    }
    const host = opts.host ?? readHostCgroupInfo();
    const rootless = !!opts.rootless;
    const fs = SystemdManager.fsAt(host, unitCgroupPath("/", n.slice, n.unit), rootless);
    const m = new SystemdManager({ unit: n.unit, slice: n.slice, user, rootless, fs, started: false });
    m.host = host;
    try {
      m.extraProps = annotationProperties(opts.annotations);
    } catch (e) {
      throw new CgroupError((e as Error).message);
    }
    return m;
  }

  /** The manager of an existing container (state.json). */
  static load(saved: SavedCgroup): SystemdManager {
    const s = saved.systemd!;
    const rootless = !!saved.rootless;
    let fs: V1Manager | V2Manager;
    if (saved.driver === "v2") {
      const dir = saved.paths[""];
      if (!dir) throw new Error("invalid saved cgroup state: systemd driver without a cgroup path");
      fs = new V2Manager(dir, { rootless });
    } else fs = new V1Manager(saved.paths, { hybrid: saved.mode === "hybrid" || "" in saved.paths, rootless });
    return new SystemdManager({ unit: s.unit, slice: s.slice, user: !!s.user, rootless, fs, started: true });
  }

  private host?: HostCgroupInfo;
  /** the scope's cgroup path inside the hierarchy, as systemd names it (known from create() on) */
  private cgPath?: string;

  get saved(): SavedCgroup {
    const s = this.fs.saved;
    s.systemd = { unit: this.unit, slice: this.slice };
    if (this.user) s.systemd.user = true;
    return s;
  }

  /** Asks systemd (it must answer) and places the cgroup under its own; the scope itself starts with apply(). */
  create(): void {
    const managerCg = this.bus.managerCgroup();
    const host = this.host ?? readHostCgroupInfo();
    if (this.user && host.mode !== "v2") {
      throw new CgroupError(`systemd cgroup driver (--systemd-cgroup) as an ordinary user: this host runs cgroup ${host.mode}; only cgroup v2 delegates a cgroup to a user's systemd instance`);
    }
    this.host = host;
    this.cgPath = unitCgroupPath(managerCg, this.slice, this.unit);
    this.fs = SystemdManager.fsAt(host, this.cgPath, this.rootless);
  }

  /**
   * The first pid starts the scope (StartTransientUnit with the pid and the pending resources, as
   * runc does); later pids (exec) join the scope's cgroup directly.
   */
  apply(pid: number): void {
    if (this.started) return this.user ? this.joinUserScope(pid) : this.fs.apply(pid);
    const { props, warnings } = this.propsFor(this.pending);
    this.notes.push(...warnings);
    const v1 = this.fs instanceof V1Manager;
    const all = [...baseUnitProperties(pid, this.slice, `tsrun container ${this.unit}`, v1), ...props, ...this.extraProps];
    this.start(all, true);
    this.started = true;
    // where systemd really put it (the manager's own cgroup may not be what it said at create())
    const cg = this.bus.unitCgroup(this.unit);
    if (cg && this.host && cg !== this.cgPath) {
      this.cgPath = cg;
      this.fs = SystemdManager.fsAt(this.host, cg, this.rootless);
    }
    if (v1) {
      // systemd made the unit's cgroup in the hierarchies it manages (memory, pids, cpu, devices...);
      // the others (freezer, cpuset, hugetlb...) are made here and joined, as runc does
      this.fs.create();
      this.notes.push(...this.fs.takeWarnings().filter((w) => !w.includes("is not empty")));
      this.fs.apply(pid);
    }
    // what systemd does not manage, and the exact values of what it rounds (CPU quota)
    for (const w of this.fs.set(this.pending)) this.notes.push(w);
    this.pending = {};
  }

  /**
   * For restore: criu rebuilds the tree inside the scope, so the scope must exist first, and systemd
   * starts no scope without a process in it. The calling process holds it meanwhile (runc has its
   * criu hold it): it joins the new scope now, and the returned leave() takes it back to its own
   * cgroup. The scope starts without resources; set() them after leave(), so that tsrun's own
   * threads and memory never count against the container's limits.
   */
  holdScope(): { cgroupPaths: Record<string, string>; leave: () => void } {
    const host = this.host;
    if (this.started || !host || this.cgPath === undefined) throw new Error("holdScope: call it once, after create()");
    if (Object.keys(this.pending).length) throw new Error("holdScope: set() the resources after leave()");
    const home = ownCgroupDirs(host);
    this.apply(process.pid);
    let left = false;
    const leave = (): void => {
      if (left) return;
      left = true;
      const errors: string[] = [];
      for (const dir of home) {
        try {
          writeCgroupFile(dir, "cgroup.procs", String(process.pid));
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      if (errors.length) throw new CgroupError(`cannot leave the container's scope ${this.unit}: ${errors.join("; ")}`);
    };
    return { cgroupPaths: resolvePaths(host, this.cgPath, "").cgroupPaths, leave };
  }

  /**
   * A later pid (exec) in a scope of the user's instance. The kernel lets a process move only where
   * the writer may write the cgroup.procs of the common ancestor of both cgroups: from the user's
   * own subtree (user@UID.service) a direct write works; from anywhere else (a login session, a
   * system service) systemd moves it, as it moved the init, the user's instance asking the system
   * manager. runc 1.1 leaves such a process outside the container's cgroup.
   */
  private joinUserScope(pid: number): void {
    if (!(this.fs instanceof V2Manager)) return this.fs.apply(pid);
    try {
      return new V2Manager(this.fs.dir).apply(pid);
    } catch (e) {
      if (!isPermission(e)) throw e;
    }
    try {
      this.bus.attachProcessesToUnit(this.unit, [pid]);
    } catch (e) {
      throw new CgroupError(`cannot move pid ${pid} into systemd unit ${this.unit} of the user's instance: ${(e as Error).message}`);
    }
  }

  private start(props: UnitProperty[], retry: boolean): void {
    this.tried = true;
    let result: string;
    try {
      result = this.bus.startTransientUnit(this.unit, props);
    } catch (e) {
      if (dbusName(e) !== "org.freedesktop.systemd1.UnitExists") throw new CgroupError(`cannot create systemd unit ${this.unit}: ${(e as Error).message}`);
      if (!retry) {
        this.foreign = true; // not ours: destroy() must leave it alone
        throw new CgroupError(`cannot create systemd unit ${this.unit}: it already exists (${(e as Error).message}): another container or program uses this name; choose another linux.cgroupsPath`);
      }
      // maybe a failed leftover of an earlier crash: have systemd drop it, then try once more
      try {
        this.bus.resetFailedUnit(this.unit);
      } catch {
        /* not failed: the retry reports the unit as existing */
      }
      return this.start(props, false);
    }
    if (result !== "done") {
      try {
        this.bus.resetFailedUnit(this.unit);
      } catch {
        /* gone already */
      }
      throw new CgroupError(`error creating systemd unit ${this.unit}: the job ended with "${result}"`);
    }
  }

  private propsFor(r: Resources): { props: UnitProperty[]; warnings: string[] } {
    try {
      return resourceProperties(r, { systemdVersion: this.bus.systemdVersion(), deviceName: deviceNames(), v1: this.fs instanceof V1Manager });
    } catch (e) {
      if (e instanceof CgroupError) throw e;
      throw new CgroupError(`invalid resources: ${(e as Error).message}`);
    }
  }

  set(resources: Resources): string[] {
    if (!this.started) {
      // before the scope exists: check now, apply at StartTransientUnit
      resourceProperties(resources, { systemdVersion: 999 });
      this.pending = mergeResources(this.pending, resources);
      return [];
    }
    const { props, warnings } = this.propsFor(resources);
    if (props.length) {
      try {
        this.bus.setUnitProperties(this.unit, props);
      } catch (e) {
        throw new CgroupError(`unable to set unit properties of ${this.unit}: ${(e as Error).message}`);
      }
    }
    return [...warnings, ...this.fs.set(resources)];
  }

  freeze(): void {
    this.fs.freeze();
  }
  thaw(): void {
    this.fs.thaw();
  }
  isFrozen(): boolean {
    return this.fs.isFrozen();
  }
  freezerState(): FreezerState {
    return this.fs.freezerState();
  }
  pids(): number[] {
    return this.fs.pids();
  }
  killAll(signal: number): void {
    this.fs.killAll(signal);
  }
  waitEmpty(timeoutMs: number): boolean {
    return this.fs.waitEmpty(timeoutMs);
  }
  exists(): boolean {
    return this.fs.exists();
  }
  stats(): CgroupStats {
    return this.fs.stats();
  }
  oomKillCount(): number | undefined {
    return this.started ? this.fs.oomKillCount() : undefined;
  }
  path(controller: string): string | undefined {
    return this.fs.path(controller);
  }
  takeWarnings(): string[] {
    return [...this.notes.splice(0), ...this.fs.takeWarnings()];
  }

  /** Stops the scope (a dead container's too), lets systemd forget a failed one, removes what is left. */
  destroy(): void {
    // a create that never started the scope, or found someone else's: nothing of ours to remove
    if (!this.started && (this.foreign || !this.tried)) return;
    const errors: string[] = [];
    try {
      const result = this.bus.stopUnit(this.unit);
      if (result !== "done" && result !== "canceled") errors.push(`stopping systemd unit ${this.unit}: the job ended with "${result}"`);
    } catch (e) {
      if (dbusName(e) !== "org.freedesktop.systemd1.NoSuchUnit") errors.push(`stopping systemd unit ${this.unit}: ${(e as Error).message}`);
    }
    try {
      this.bus.resetFailedUnit(this.unit);
    } catch {
      /* not failed, or gone: nothing to reset */
    }
    // systemd removes the scope's cgroup, but not sub-cgroups made inside the delegated one
    for (let i = 0; i < 50 && this.fs.exists(); i++) {
      try {
        this.fs.destroy();
        break;
      } catch (e) {
        if (i === 49) errors.push((e as Error).message);
        sleepMs(20);
      }
    }
    if (errors.length) throw new CgroupError(errors.join("; "));
  }
}

/** The directories of this process's own cgroup, one per hierarchy. */
function ownCgroupDirs(host: HostCgroupInfo): string[] {
  const dirs = new Set<string>();
  if (host.unified && host.mode !== "v1") dirs.add(cgroupDir(host.unified.mountPoint, host.unified.root, host.own.get("") ?? "/"));
  for (const h of host.v1) dirs.add(cgroupDir(h.mountPoint, h.root, host.own.get(h.controllers[0] ?? "") ?? "/"));
  return [...dirs];
}

/** Resources given in two set() calls before the scope starts: the later call wins per group. */
function mergeResources(a: Resources, b: Resources): Resources {
  const out: Resources = { ...a };
  for (const [k, v] of Object.entries(b)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
