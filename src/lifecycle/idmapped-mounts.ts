// Idmapped bind mounts (mounts[].uidMappings/gidMappings with idmap or ridmap). The kernel lets
// only the host's namespaces give a mount an idmapping, so tsrun makes each one as a detached mount
// and the init moves it into place (OP_MOUNT_FD).
import { MS } from "../plan/constants.js";
import { mountAttrOf, parseMountOptions } from "../plan/mount-options.js";
import type { Mount, Spec } from "../spec/types.js";
import { resolveSource } from "../plan/compile.js";
import { mapLines } from "./idmap.js";
import { native } from "../syscalls/index.js";
import { RuntimeError } from "./errors.js";
import type { Undo } from "./init-process.js";


export function isIdmapped(m: Mount): boolean {
  return !!(m.uidMappings || m.gidMappings || m.options?.some((o) => o === "idmap" || o === "ridmap"));
}

/** Detached idmapped mounts for every such mount of spec: mount index -> fd (closed by undo). */
export function makeIdmappedMounts(spec: Spec, bundle: string, undo: Undo): Map<number, number> {
  const trees = new Map<number, number>();
  const namespaces = new Map<string, number>();
  try {
    (spec.mounts ?? []).forEach((m, i) => {
      if (!isIdmapped(m)) return;
      const origin = `mounts[${i}]`;
      const parsed = parseMountOptions(m.options);
      if (!(parsed.bind || m.type === "bind")) throw new RuntimeError(`${origin}: only bind mounts can be idmapped by tsrun`);
      const key = mapLines(m.uidMappings) + "/" + mapLines(m.gidMappings);
      let userns = namespaces.get(key);
      if (userns === undefined) {
        try {
          userns = native.userNamespace(mapLines(m.uidMappings), mapLines(m.gidMappings));
        } catch (e) {
          throw new RuntimeError(`${origin}.uidMappings: cannot make a user namespace with these mappings: ${(e as Error).message}`);
        }
        namespaces.set(key, userns);
      }
      const source = resolveSource(m.source ?? "", bundle);
      const attrs = mountAttrOf(parsed.flags & ~(MS.BIND | MS.REC | MS.REMOUNT));
      try {
        const tree = native.idmappedTree(source, userns, parsed.recursive, parsed.recursiveIdmap, attrs | parsed.attrSet, parsed.attrClr);
        undo.push(() => native.close(tree));
        trees.set(i, tree);
      } catch (e) {
        throw new RuntimeError(`${origin}: idmapped bind of ${source}: ${(e as Error).message}`);
      }
    });
  } finally {
    // the mounts keep their namespaces alive
    for (const fd of namespaces.values()) native.close(fd);
  }
  return trees;
}
