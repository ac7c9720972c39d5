import { statSync } from "node:fs";
import { userInfo } from "node:os";
import type { ContainerState } from "../spec/types.js";
import { containerDir, listIds } from "../state/store.js";
import { loadContainer, specState } from "./container.js";

export function listContainers(root: string, onSkip: (id: string, err: Error) => void): ContainerState[] {
  const out: ContainerState[] = [];
  for (const id of listIds(root)) {
    try {
      const c = loadContainer(root, id);
      out.push({ ...specState(c), owner: ownerName(containerDir(root, id)) });
    } catch (e) {
      onSkip(id, e as Error);
    }
  }
  return out;
}

function ownerName(dir: string): string {
  const uid = statSync(dir).uid;
  try {
    const me = userInfo();
    if (me.uid === uid) return me.username;
  } catch {
    // no passwd entry
  }
  return uid === 0 ? "root" : `#${uid}`;
}

/** Go's text/tabwriter with runc's settings (minwidth 12, padding 3, spaces); the last cell is not padded. */
export function tabulate(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.slice(0, -1).forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length + 3, 12)));
  return rows.map((row) => row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]) : cell)).join("") + "\n").join("");
}
