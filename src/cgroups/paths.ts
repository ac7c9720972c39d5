// cgroupsPath resolution (runtime-spec config-linux.md "Cgroups path"):
//  - absolute: relative to the root of each hierarchy;
//  - relative: relative to the runtime's own cgroup in each hierarchy;
//  - absent:   implementation-defined; tsrun uses /tsrun/<id>.
import { posix } from "node:path";
import type { HostCgroupInfo } from "./host.js";

export const DEFAULT_PARENT = "/tsrun";

export function defaultCgroupPath(id: string): string {
  return `${DEFAULT_PARENT}/${id}`;
}

/**
 * Lexically clean a cgroup path. Relative paths cannot climb above their base: "../../x" becomes
 * "x" (the same rule runc applies), so a relative cgroupsPath always lands under the runtime's cgroup.
 */
export function cleanCgroupPath(p: string): string {
  if (p === "") return "";
  if (p.startsWith("/")) return posix.normalize(p).replace(/(.)\/+$/, "$1");
  const abs = posix.normalize("/" + p);
  return abs === "/" ? "" : abs.slice(1).replace(/\/+$/, "");
}

/** The cgroup path (inside one hierarchy) of the container, given the runtime's own cgroup there. */
export function resolveCgroupPath(cgroupsPath: string | undefined, id: string, ownCgroup: string): string {
  if (cgroupsPath === undefined || cgroupsPath === "") return defaultCgroupPath(id);
  const clean = cleanCgroupPath(cgroupsPath);
  if (clean.startsWith("/")) return clean;
  const base = ownCgroup && ownCgroup.startsWith("/") ? ownCgroup : "/";
  return posix.join(base, clean);
}

/** Directory of cgroup path `cgPath` in a hierarchy mounted at `mountPoint` whose mount root is `mountRoot`. */
export function cgroupDir(mountPoint: string, mountRoot: string, cgPath: string): string {
  let rel = cgPath;
  if (mountRoot !== "/" && mountRoot !== "") {
    if (cgPath === mountRoot) rel = "/";
    else if (cgPath.startsWith(mountRoot + "/")) rel = cgPath.slice(mountRoot.length);
  }
  return rel === "/" ? mountPoint : posix.join(mountPoint, rel);
}

export interface ResolvedPaths {
  driver: "v1" | "v2";
  /** controller key -> absolute directory ("" = cgroup2 directory) */
  paths: Record<string, string>;
  /** controller key -> cgroup path inside its hierarchy */
  cgroupPaths: Record<string, string>;
}

/** Every directory this container's cgroup has on this host. */
export function resolvePaths(info: HostCgroupInfo, cgroupsPath: string | undefined, id: string): ResolvedPaths {
  const paths: Record<string, string> = {};
  const cgroupPaths: Record<string, string> = {};
  if (info.mode === "v2") {
    const u = info.unified!;
    const p = resolveCgroupPath(cgroupsPath, id, info.own.get("") ?? "/");
    paths[""] = cgroupDir(u.mountPoint, u.root, p);
    cgroupPaths[""] = p;
    return { driver: "v2", paths, cgroupPaths };
  }
  for (const h of info.v1) {
    for (const c of h.controllers) {
      const p = resolveCgroupPath(cgroupsPath, id, info.own.get(c) ?? "/");
      paths[c] = cgroupDir(h.mountPoint, h.root, p);
      cgroupPaths[c] = p;
    }
  }
  if (info.mode === "hybrid" && info.unified) {
    const p = resolveCgroupPath(cgroupsPath, id, info.own.get("") ?? "/");
    paths[""] = cgroupDir(info.unified.mountPoint, info.unified.root, p);
    cgroupPaths[""] = p;
  }
  return { driver: "v1", paths, cgroupPaths };
}
