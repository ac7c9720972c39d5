// CPU lists ("0-3,7") as the kernel's affinity mask.
import { parseCpuList } from "../spec/cpu-list.js";

/** The bytes of a cpu_set_t with the listed CPUs set: at least 128 bytes and a multiple of 8, as
 * sched_setaffinity(2) wants. Throws on a malformed list. */
export function cpuMask(list: string): Buffer {
  const cpus = parseCpuList(list);
  const bytes = Math.max(128, Math.ceil((Math.max(0, ...cpus) + 1) / 64) * 8);
  const mask = Buffer.alloc(bytes);
  for (const cpu of cpus) mask[cpu >> 3] |= 1 << (cpu & 7);
  return mask;
}
