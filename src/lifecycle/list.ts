import { readFileSync, statSync } from "node:fs";
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

/** The user owning the state directory, as runc prints it: the name from /etc/passwd, else #uid. */
function ownerName(dir: string): string {
  const uid = statSync(dir).uid;
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f.length > 2 && Number(f[2]) === uid && f[2] !== "") return f[0];
    }
  } catch {
    // no passwd database
  }
  return `#${uid}`;
}

/** Go's text/tabwriter with runc's settings (minwidth 12, padding 3, spaces); the last cell is not padded. */
export function tabulate(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.slice(0, -1).forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length + 3, 12)));
  return rows.map((row) => row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]) : cell)).join("") + "\n").join("");
}
