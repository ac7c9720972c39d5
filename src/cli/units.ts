// Go-style units on the command line: sizes ("512m", like docker's RAMInBytes) and durations ("5s").
import { RuntimeError } from "../lifecycle/errors.js";

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

export function parseSize(text: string, flag: string): number {
  if (text === "-1") return -1;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(text.trim());
  if (!m) throw new RuntimeError(`invalid value for --${flag}: ${JSON.stringify(text)}`);
  return Math.floor(Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()]);
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go duration such as "5s", "1m30s" or "250ms". */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(-?\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join("") !== text) throw new RuntimeError(`invalid duration ${JSON.stringify(text)}`);
  return parts.reduce((ms, p) => ms + Number(p[1]) * DURATION_UNITS[p[2]], 0);
}
