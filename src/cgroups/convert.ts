// Pure conversions between runtime-spec (cgroup v1 flavoured) values and cgroup v2 values,
// following what runc does so that containers behave the same under either runtime.

export const CPU_SHARES_MIN = 2;
export const CPU_SHARES_MAX = 262144;
export const CPU_WEIGHT_MIN = 1;
export const CPU_WEIGHT_MAX = 10000;

/**
 * cpu.shares [2..262144] -> cpu.weight [1..10000], the quadratic-in-log2 mapping runc uses since
 * 1.3.2 (it maps min->min, the default 1024->100 and max->max):
 *   l = log2(shares); weight = ceil(10^((l^2 + 125 l) / 612 - 7/34))
 * 0 means "unset" and stays 0; out-of-range values clamp.
 */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= CPU_SHARES_MIN) return CPU_WEIGHT_MIN;
  if (shares >= CPU_SHARES_MAX) return CPU_WEIGHT_MAX;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612 - 7 / 34;
  return Math.ceil(Math.pow(10, exponent));
}

/** The linear mapping runc used before 1.3.2 (1 + (shares-2)*9999/262142); kept for reference/compat checks. */
export function cpuSharesToWeightLinear(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight [10..1000] -> io.weight [1..10000], linearly: 1 + (w-10)*9999/990. 0 = unset. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * runtime-spec memory.swap is the memory+swap limit (cgroup v1 memsw semantics). cgroup v2 has a
 * separate swap limit, so memory.swap.max = swap - limit. -1 means unlimited, 0 means unset.
 * Returns the memory.swap.max value (-1 = "max", 0 = leave alone) or throws on nonsense.
 */
export function memorySwapToV2(swap: number, limit: number): number {
  // memory unlimited and swap not given: both unlimited (same as v1 behaviour).
  if (limit === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (swap < -1) throw new RangeError(`invalid memory+swap value: ${swap}`);
  if (limit === -1) return swap;
  if (limit === 0) throw new RangeError("unable to set swap limit without memory limit");
  if (limit < 0) throw new RangeError(`invalid memory value: ${limit}`);
  if (swap < limit) throw new RangeError("memory+swap limit should be >= memory limit");
  return swap - limit;
}

/** Value for a v2 "max"-style file: -1 (or any negative) = "max". */
export function v2Limit(n: number): string {
  return n < 0 ? "max" : String(n);
}

/** cpu.max content for quota/period; undefined when neither is set. `currentPeriod` keeps the old period when only quota changes. */
export function cpuMaxValue(quota: number | undefined, period: number | undefined): string | undefined {
  const q = quota ?? 0;
  const p = period ?? 0;
  if (q === 0 && p === 0) return undefined;
  let s = q > 0 ? String(q) : q < 0 ? "max" : "";
  if (s === "") {
    // Only the period is given: the kernel wants "$MAX $PERIOD"; the caller must pass the
    // current quota in that case (see V2 driver), default to "max".
    s = "max";
  }
  return p > 0 ? `${s} ${p}` : s;
}

/** pids.max value, runc style: 0 = leave alone (undefined), negative = "max". */
export function pidsMaxValue(limit: number | undefined): string | undefined {
  if (limit === undefined || limit === 0) return undefined;
  return limit > 0 ? String(limit) : "max";
}

export { parseCpuList } from "../spec/cpu-list.js";

/** "2MB" -> bytes. */
export function hugePageSizeBytes(size: string): number | undefined {
  const m = /^(\d+)([KMG])B$/.exec(size);
  if (!m) return undefined;
  const mult = m[2] === "K" ? 1024 : m[2] === "M" ? 1024 * 1024 : 1024 * 1024 * 1024;
  return Number(m[1]) * mult;
}
