// The --root default and the --rootless flag: what changes when tsrun runs without real root.
import { chmodSync, mkdirSync, statSync } from "node:fs";
import { DEFAULT_ROOT } from "../state/store.js";
import { RuntimeError } from "../lifecycle/errors.js";
import { inUserNamespace } from "../lifecycle/idmap.js";

export { inUserNamespace };

/** Facts the defaults depend on (tests pass their own). */
export interface RootHost {
  env: NodeJS.ProcessEnv;
  euid: number;
  inUserNamespace: boolean;
  /** uid owning a directory, or undefined when it is not a directory */
  dirOwner(path: string): number | undefined;
}

export function currentHost(): RootHost {
  return {
    env: process.env,
    euid: process.geteuid?.() ?? 0,
    inUserNamespace: inUserNamespace(),
    dirOwner: (p) => {
      try {
        const st = statSync(p);
        return st.isDirectory() ? st.uid : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

export interface DefaultRoot {
  /** "" when no usable default exists (then `reason` says why) */
  root: string;
  /** the default lives in $XDG_RUNTIME_DIR: created 0700 with the sticky bit, as runc does */
  xdg: boolean;
  reason?: string;
}

/**
 * runc's rule: `$XDG_RUNTIME_DIR/<name>` when it is set and we are not real root (euid != 0, or in a
 * user namespace as a user other than root); /run/<name> otherwise. When an unprivileged caller has no
 * XDG_RUNTIME_DIR, /run/user/<uid> is used if it is that user's own directory, as pam_systemd makes it.
 */
export function defaultRoot(host: RootHost = currentHost()): DefaultRoot {
  const xdg = host.env.XDG_RUNTIME_DIR;
  const notRealRoot = host.euid !== 0 || (host.inUserNamespace && host.env.USER !== "root");
  if (!notRealRoot) return { root: DEFAULT_ROOT, xdg: false };
  if (xdg) return { root: `${xdg.replace(/\/+$/, "")}/tsrun`, xdg: true };
  if (host.euid === 0) return { root: DEFAULT_ROOT, xdg: false };
  const runUser = `/run/user/${host.euid}`;
  if (host.dirOwner(runUser) === host.euid) return { root: `${runUser}/tsrun`, xdg: true };
  return {
    root: "",
    xdg: false,
    reason: `no state directory for uid ${host.euid}: XDG_RUNTIME_DIR is not set and ${runUser} does not exist or is not yours; set XDG_RUNTIME_DIR to a directory you own, or pass --root`,
  };
}

/** Create the XDG default root (0700 and sticky, so XDG_RUNTIME_DIR clean-ups leave it alone). */
export function prepareXdgRoot(root: string): void {
  try {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    chmodSync(root, 0o1700);
  } catch (e) {
    throw new RuntimeError(`cannot create the state directory ${root} (the directory in $XDG_RUNTIME_DIR must be writable by you): ${(e as Error).message}`);
  }
}

/**
 * --rootless true|false|auto, with Go's boolean spellings. auto: not real root (euid != 0, or in a
 * user namespace), where cgroups the caller may not write are skipped with a warning.
 */
export function parseRootless(value: string | boolean | undefined, host: Pick<RootHost, "euid" | "inUserNamespace"> = currentHost()): boolean {
  const v = value === undefined ? "auto" : String(value);
  if (v === "auto" || v === "") return host.euid !== 0 || host.inUserNamespace;
  if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  throw new RuntimeError(`invalid value for --rootless: ${JSON.stringify(v)} (use true, false or auto)`);
}
