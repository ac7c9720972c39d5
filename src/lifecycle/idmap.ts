// Writing a new user namespace's uid/gid maps. Root writes /proc/<pid>/{uid,gid}_map itself. An
// unprivileged caller may write only a single line mapping its own id (and, for gids, only after
// denying setgroups); anything more goes through the setuid helpers newuidmap/newgidmap (package
// uidmap), which check the ranges against /etc/subuid and /etc/subgid.
import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync, writeFileSync } from "node:fs";
import type { IdMapping, Spec } from "../spec/types.js";
import { RuntimeError } from "./errors.js";

let inUserNs: boolean | undefined;

/** Not in the initial user namespace: uid_map is something else than the identity of all ids. */
export function inUserNamespace(): boolean {
  if (inUserNs !== undefined) return inUserNs;
  try {
    const fields = readFileSync("/proc/self/uid_map", "utf8").trim().split(/\s+/);
    inUserNs = !(fields.length === 3 && fields[0] === "0" && fields[1] === "0" && fields[2] === "4294967295");
  } catch {
    inUserNs = false;
  }
  return inUserNs;
}

export type MapWriter = "direct" | "helper";

export interface IdMapPlan {
  creds: Credentials;
  uid: MapWriter;
  gid: MapWriter;
  /** /proc/<pid>/setgroups gets "deny" before the gid map: the container can never call setgroups. */
  denySetgroups: boolean;
}

export interface Credentials {
  euid: number;
  egid: number;
}

export function currentCredentials(): Credentials {
  return { euid: process.geteuid?.() ?? 0, egid: process.getegid?.() ?? 0 };
}

/** Only our own id, once: what the kernel lets an unprivileged process map by itself. */
function onlyOwnId(maps: readonly IdMapping[] | undefined, own: number): boolean {
  return maps?.length === 1 && maps[0].size === 1 && maps[0].hostID === own;
}

/** Without real root, namespaces (and everything after them) are only possible inside a user namespace. */
export function requireUserNamespace(spec: Spec, creds: Credentials): void {
  if (creds.euid === 0 || (spec.linux?.namespaces ?? []).some((n) => n.type === "user")) return;
  throw new RuntimeError(
    `config.json: /linux/namespaces: tsrun runs as uid ${creds.euid}, not root, so the container needs a user namespace ` +
      '(type "user", with linux.uidMappings and linux.gidMappings); `tsrun spec --rootless` writes such a config',
  );
}

export function planIdMaps(spec: Spec, creds: Credentials): IdMapPlan {
  if (creds.euid === 0) return { creds, uid: "direct", gid: "direct", denySetgroups: false };
  const uid = onlyOwnId(spec.linux?.uidMappings, creds.euid) ? "direct" : "helper";
  const gid = onlyOwnId(spec.linux?.gidMappings, creds.egid) ? "direct" : "helper";
  return { creds, uid, gid, denySetgroups: gid === "direct" };
}

/** create's checks and plan: undefined when the container makes no user namespace of its own. */
export function prepareIdMaps(spec: Spec, creds: Credentials = currentCredentials()): IdMapPlan | undefined {
  requireUserNamespace(spec, creds);
  if (!(spec.linux?.namespaces ?? []).some((n) => n.type === "user" && !n.path)) return undefined;
  const plan = planIdMaps(spec, creds);
  checkSetgroups(plan, spec.process?.user.additionalGids, "process");
  return plan;
}

/** The supplementary groups a process needs but cannot get when setgroups is denied. */
export function checkSetgroups(plan: IdMapPlan, additionalGids: readonly number[] | undefined, where: string): void {
  if (!plan.denySetgroups || !additionalGids?.length) return;
  throw new RuntimeError(
    `${where}.user.additionalGids: supplementary groups cannot be set: an unprivileged user writes a gid map of only its own gid, ` +
      "which requires setgroups to be denied; give linux.gidMappings ranges from /etc/subgid (written with newgidmap) or drop additionalGids",
  );
}

/** uid_map/gid_map text: one `containerID hostID size` line per mapping. */
export function mapLines(maps: readonly IdMapping[] = []): string {
  return maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");
}

function findHelper(name: string): string | undefined {
  const dirs = (process.env.PATH || "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(":");
  for (const d of [...dirs, "/usr/bin", "/usr/sbin"]) {
    if (!d) continue;
    try {
      accessSync(`${d}/${name}`, constants.X_OK);
      return `${d}/${name}`;
    } catch {
      // next
    }
  }
  return undefined;
}

function writeMap(pid: number, kind: "uid" | "gid", maps: readonly IdMapping[] | undefined, writer: MapWriter, creds: Credentials): void {
  const field = kind === "uid" ? "linux.uidMappings" : "linux.gidMappings";
  if (writer === "direct") {
    try {
      writeFileSync(`/proc/${pid}/${kind}_map`, mapLines(maps));
    } catch (e) {
      throw new RuntimeError(`${field}: write /proc/${pid}/${kind}_map: ${(e as Error).message}`);
    }
    return;
  }
  const name = kind === "uid" ? "newuidmap" : "newgidmap";
  const own = kind === "uid" ? creds.euid : creds.egid;
  const helper = findHelper(name);
  if (!helper)
    throw new RuntimeError(
      `${field}: mapping more than your own ${kind} ${own} needs ${name} (package uidmap) and ranges in /etc/sub${kind}, but ${name} was not found`,
    );
  const args = [String(pid), ...(maps ?? []).flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)])];
  const r = spawnSync(helper, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || `exit status ${r.status ?? r.signal}`).trim().replace(/\s*\n\s*/g, "; ");
    throw new RuntimeError(`${field}: ${name} ${args.join(" ")}: ${why} (the ranges must be in /etc/sub${kind} for this user)`);
  }
}

export function writeIdMaps(pid: number, spec: Spec, plan: IdMapPlan): void {
  const creds = plan.creds;
  writeMap(pid, "uid", spec.linux?.uidMappings, plan.uid, creds);
  if (plan.denySetgroups) {
    try {
      writeFileSync(`/proc/${pid}/setgroups`, "deny");
    } catch (e) {
      throw new RuntimeError(`linux.gidMappings: write /proc/${pid}/setgroups: ${(e as Error).message}`);
    }
  }
  writeMap(pid, "gid", spec.linux?.gidMappings, plan.gid, creds);
}

/** Whether processes in the user namespace of pid may never call setgroups (an exec must not try). */
export function setgroupsDenied(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/setgroups`, "utf8").trim() === "deny";
  } catch {
    return false;
  }
}
