// Commands that act on a running container's cgroup: pause, resume, ps, update, events.
import { encodeEvent, validateResources } from "../cgroups/index.js";
import type { Resources } from "../spec/types.js";
import { SpecError } from "../spec/problems.js";
import { lockContainer } from "../state/store.js";
import { loadContainer, type Container } from "./container.js";
import { RuntimeError } from "./errors.js";
import { warn } from "./log.js";

function cgroupOf(c: Container) {
  const cg = c.cgroup();
  if (!cg) throw new RuntimeError(c.state.rootless ? "container has no cgroup: it is rootless and could not create or join one" : "container has no cgroup");
  return cg;
}

export function pauseContainer(root: string, id: string): void {
  const c = loadContainer(root, id);
  const release = lockContainer(root, id);
  try {
    const status = c.status();
    if (status !== "running" && status !== "created") throw new RuntimeError("container not running");
    cgroupOf(c).freeze();
  } finally {
    release();
  }
}

export function resumeContainer(root: string, id: string): void {
  const c = loadContainer(root, id);
  const release = lockContainer(root, id);
  try {
    if (c.status() !== "paused") throw new RuntimeError("container not paused");
    cgroupOf(c).thaw();
  } finally {
    release();
  }
}

export function containerPids(root: string, id: string): number[] {
  const c = loadContainer(root, id);
  return cgroupOf(c).pids();
}

export function updateContainer(root: string, id: string, resources: Resources): void {
  const c = loadContainer(root, id);
  const release = lockContainer(root, id);
  try {
    if (c.status() === "stopped") throw new RuntimeError("container not running");
    const { devices: _ignored, ...rest } = resources; // update never changes device rules, as in runc
    const cg = cgroupOf(c);
    const problems = validateResources(rest, { mode: cg.saved.driver === "v2" ? "v2" : "v1", pointer: "", file: "resources" });
    if (problems.some((p) => p.severity === "error")) throw new SpecError(problems);
    for (const w of cg.set(rest)) warn(w);
  } finally {
    release();
  }
}

export function statsEvent(root: string, id: string): string {
  const c = loadContainer(root, id);
  if (c.status() === "stopped") throw new RuntimeError(`container with id ${id} is not running`);
  return encodeEvent("stats", id, cgroupOf(c).stats());
}

/** Streams a stats event every interval and an oom event per OOM kill, until the cgroup is gone. */
export async function streamEvents(root: string, id: string, intervalMs: number, write: (line: string) => void): Promise<void> {
  const c = loadContainer(root, id);
  if (c.status() === "stopped") throw new RuntimeError(`container with id ${id} is not running`);
  const cg = cgroupOf(c);
  let ooms = cg.oomKillCount() ?? 0;
  let nextStats = Date.now();
  while (cg.exists()) {
    const now = Date.now();
    const count = cg.oomKillCount() ?? ooms;
    for (; ooms < count; ooms++) write(encodeEvent("oom", id) + "\n");
    if (now >= nextStats) {
      try {
        write(encodeEvent("stats", id, cg.stats()) + "\n");
      } catch {
        if (!cg.exists()) break;
      }
      nextStats = now + intervalMs;
    }
    await new Promise((r) => setTimeout(r, Math.min(200, intervalMs)));
  }
}
