// root.path must name the root filesystem itself, not a symlink to it: a link is resolved on the
// host, so an image or bundle could point the runtime's mounts at any host directory (runc
// refuses it too: "not an absolute path, or a symlink").
import { isAbsolute, resolve } from "node:path";

/**
 * Why root.path cannot be used, or undefined. A relative path is taken from the bundle's real
 * directory (as runc does: it changes into the bundle first), so only root.path's own components
 * must be free of symlinks. realPath: the host's realpath(3), undefined when the path is missing.
 */
export function rootPathProblem(rootPath: string, bundle: string, realPath: (p: string) => string | undefined): string | undefined {
  const base = isAbsolute(rootPath) ? "/" : realPath(bundle);
  if (base === undefined) return undefined; // a missing bundle is reported where it is read
  const wanted = resolve(base, rootPath);
  const real = realPath(wanted);
  if (real === undefined || real === wanted) return undefined;
  return `${rootPath} is a symlink or passes through one (it leads to ${real}): give the root filesystem's real path`;
}
