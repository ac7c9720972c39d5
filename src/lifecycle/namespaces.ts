// Which namespaces of a container's init a new process must join.
import { readlinkSync } from "node:fs";
import { NAMESPACE_FLAG, NAMESPACE_PROC_NAME } from "../plan/constants.js";

/** The namespaces of the container's init that tsrun is not already in. */
export function namespacesToJoin(initPid: number): number {
  let flags = 0;
  for (const [type, file] of Object.entries(NAMESPACE_PROC_NAME)) {
    let theirs: string;
    try {
      theirs = readlinkSync(`/proc/${initPid}/ns/${file}`);
    } catch {
      continue; // the kernel lacks this namespace type
    }
    let ours = "";
    try {
      ours = readlinkSync(`/proc/self/ns/${file}`);
    } catch {
      // ignore
    }
    if (theirs !== ours) flags |= NAMESPACE_FLAG[type];
  }
  return flags;
}
