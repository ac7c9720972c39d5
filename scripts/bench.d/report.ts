// The benchmark's results as a JSON document (schema tsrun-bench/1) and the table printed from it.
// The table is a pure function of the document, so a saved document can be printed again.
import { round, type Summary } from "./stats.js";

export const SCHEMA = "tsrun-bench/1";

export interface DocRuntime {
  name: string;
  role: "runtime" | "reference" | "extra";
  path: string;
  /** every line `--version` printed, joined with "; " */
  version: string;
  /** the line naming the runtime (tsrun prints runc's version first, for engines) */
  versionShort: string;
  sizeBytes: number | null;
  /** the command line every call starts with (wrapper, runtime, global options; --root follows) */
  command: string[];
  notes: string[];
}

export interface DocMetric extends Summary {
  samples: number[];
}

export interface DocBench {
  id: string;
  title: string;
  unit: string;
  iterations: number;
  warmup: number;
  seconds: number;
  note?: string;
  metrics: { key: string; label: string }[];
  /** runtime -> metric -> summary and samples, in iteration order (sample i of each runtime ran back to back) */
  results: Record<string, Record<string, DocMetric>>;
  /** "runtime/reference" -> metric -> median of the per-pair ratios */
  ratios: Record<string, Record<string, number>>;
  /** runtime -> why it was not measured */
  skipped: Record<string, string>;
}

export interface Doc {
  schema: string;
  date: string;
  seconds: number;
  host: { kernel: string; cpus: number; cpuModel?: string; loadavgStart: number[]; loadavgEnd: number[] };
  settings: {
    iterations: number;
    warmup: number;
    concurrency: number;
    budgetSeconds: number | null;
    interleaved: boolean;
    bundle: Record<string, string>;
  };
  harness: {
    spawnTrueMs: number;
    nsenterMs?: number;
    /** a Bun hello-world built with dist/tsrun's flags, and each runtime's --version, side by side */
    floor?: { flags: string; results: Record<string, { ms: number; pageFaults: number | null }> };
  };
  runtimes: DocRuntime[];
  sizes: Record<string, number | null>;
  benchmarks: DocBench[];
  notes: string[];
}

export function roundSummary(s: Summary, samples: number[]): DocMetric {
  const out = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === "n" ? v : round(v)])) as unknown as Summary;
  return { ...out, samples: samples.map((x) => round(x)) };
}

export function fmt(x: number | null | undefined, unit: string): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "-";
  if (unit === "MiB") return x.toFixed(1);
  if (unit === "x") return x.toFixed(2);
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function human(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "missing";
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** The table of a run; with `before`, each ratio of the run is followed by the same ratio in `before`. */
export function table(doc: Doc, before?: Doc): string {
  const rts = doc.runtimes;
  const ref = rts.find((r) => r.role === "reference");
  const pairs = ref ? rts.filter((r) => r !== ref).map((r) => `${r.name}/${ref.name}`) : [];
  const head = ["benchmark", ...rts.map((r) => `${r.name} median [p10-p90]`), ...pairs.flatMap((p) => (before ? [p, "before"] : [p]))];
  const rows: string[][] = [];
  const skips: string[] = [];
  for (const b of doc.benchmarks) {
    b.metrics.forEach((m, mi) => {
      const label = mi === 0 ? `${m.label} (${b.unit}, n=${b.iterations})` : `  ${m.label}`;
      const cells = rts.map((rt) => {
        if (b.skipped[rt.name]) return mi === 0 ? "skipped" : "";
        const s = b.results[rt.name]?.[m.key];
        if (!s) return "-";
        return `${fmt(s.median, b.unit)} [${fmt(s.p10, b.unit)}-${fmt(s.p90, b.unit)}]`;
      });
      const was = before?.benchmarks.find((x) => x.id === b.id);
      const ratios = pairs.flatMap((p) => {
        const v = b.ratios[p]?.[m.key];
        const now = v === undefined ? (mi === 0 ? "n/a" : "") : fmt(v, "x");
        if (!before) return [now];
        const w = was?.ratios[p]?.[m.key];
        return [now, w === undefined ? "-" : fmt(w, "x")];
      });
      rows.push([label, ...cells, ...ratios]);
    });
    for (const [n, why] of Object.entries(b.skipped)) skips.push(`${b.id}: ${n} skipped: ${why}`);
  }
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join("  ").trimEnd();

  const out: string[] = [];
  const h = doc.host;
  out.push(
    `tsrun bench  ${doc.date}  ${doc.seconds.toFixed(0)} s  kernel ${h.kernel}, ${h.cpus} CPUs, ` +
      `load ${h.loadavgStart[0]} -> ${h.loadavgEnd[0]}`,
  );
  out.push(
    `n = measured iterations (after ${doc.settings.warmup} warm-up)` +
      (doc.settings.budgetSeconds ? `, fitted to a ${doc.settings.budgetSeconds} s budget` : "") +
      `; interleaved A B A B, one --root per runtime; busybox bundle, \`runc spec\` config`,
  );
  out.push("runtimes:");
  const nw = Math.max(...rts.map((r) => r.name.length));
  for (const rt of rts) {
    const wrapped = rt.command.length > 1 ? `  as: ${rt.command.map((a, i) => (a === rt.path ? rt.path.split("/").pop() : i === 0 ? a.split("/").pop() : a)).join(" ")}` : "";
    out.push(
      `  ${rt.name.padEnd(nw)}  ${rt.path}  ${human(rt.sizeBytes)}  ${rt.versionShort}${rt.role === "reference" ? "  (reference)" : ""}${wrapped}`,
    );
  }
  out.push(
    `harness: spawn+wait of /bin/true costs ${fmt(doc.harness.spawnTrueMs, "ms")} ms (included in every time below)` +
      (doc.harness.nsenterMs !== undefined ? `; nsenter adds ${fmt(doc.harness.nsenterMs, "ms")} ms to each crun call` : ""),
  );
  const floor = doc.harness.floor;
  if (floor) {
    const hello = floor.results["hello-world"];
    const cell = (r: { ms: number; pageFaults: number | null }) =>
      `${fmt(r.ms, "ms")} ms${r.pageFaults === null ? "" : `, ${r.pageFaults} page faults`}`;
    out.push(`floor: a Bun hello-world built with dist/tsrun's flags: ${hello ? cell(hello) : "-"}; --version of ` +
      rts.filter((r) => floor.results[r.name]).map((r) => `${r.name} ${cell(floor.results[r.name])}`).join(", "));
  }
  if (before) out.push(`before: ${before.date} (load ${before.host.loadavgStart[0]} -> ${before.host.loadavgEnd[0]})`);
  out.push("");
  out.push(line(head));
  out.push(line(head.map((_, i) => "-".repeat(w[i]))));
  for (const row of rows) out.push(line(row));
  out.push("");
  out.push("ratio = median over iterations of (runtime's i-th sample / reference's i-th sample); < 1 is faster");
  out.push(
    `sizes: ${Object.entries(doc.sizes)
      .map(([p, s]) => `${p} ${human(s)}${s === null ? "" : ` (${s} B)`}`)
      .join(", ")}`,
  );
  for (const s of skips) out.push(`note: ${s}`);
  for (const b of doc.benchmarks) if (b.note) out.push(`note: ${b.id}: ${b.note}`);
  for (const n of doc.notes) out.push(`note: ${n}`);
  return out.join("\n") + "\n";
}
