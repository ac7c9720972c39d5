// Property test: thousands of seeded random mutations of valid configs. Validation never
// throws anything but SpecError, and whenever the schema rejects a document (the generated
// validator, and ajv compiling the schema files directly as an independent oracle), tsrun
// reports at least one error.
import t from "tap";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv } from "ajv";
import { validateConfigSchema } from "../../../src/spec/generated/validators.js";
import { runCheck } from "../../../src/spec/check.js";
import { checkHostWith, type HostFacts } from "../../../src/spec/host-check.js";
import { loadBundleConfig, parseJson, validateConfig } from "../../../src/spec/load.js";
import { SpecError, type Problem } from "../../../src/spec/problems.js";
import { fixture, tempBundle, type Json } from "./fixtures/helpers.js";

const ITERATIONS = Number(process.env.TSRUN_PROPERTY_ITERATIONS ?? 3000);
const SEED = Number(process.env.TSRUN_PROPERTY_SEED ?? 20261123);

// mulberry32: small, seedable, good enough to drive mutations.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

// The schema, compiled directly by ajv (test-time only) as an oracle for the generated code.
const schemaDir = fileURLToPath(new URL("../../../src/spec/schema/", import.meta.url));
const strip = (s: unknown) => JSON.parse(JSON.stringify(s, (k, v) => (k === "x-expect" ? undefined : v)));
const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
for (const f of ["defs", "config"]) ajv.addSchema(strip(JSON.parse(readFileSync(join(schemaDir, `${f}.schema.json`), "utf8"))));
const oracle = ajv.getSchema("https://tsrun.dev/schema/config.json")!;

const FACTS: HostFacts = {
  namespaces: new Set(["pid", "net", "mnt", "ipc", "uts", "user", "cgroup"]),
  maxUserNamespaces: 0,
  cgroup: { mode: "v1", v1Controllers: new Set(["memory", "pids"]), v2Controllers: new Set() },
  seccomp: { available: true, actions: new Set(["allow", "errno"]) },
  capLastCap: 38,
  apparmorEnabled: false,
  selinuxEnabled: false,
  resctrlMounted: false,
  hardRlimits: { RLIMIT_NOFILE: 20000 },
  capSysResource: false,
  statPath: (p) => (p.endsWith("rootfs") ? "dir" : undefined),
  isExecutable: () => false,
};

const bases = ["runc-spec.json", "runc-spec-rootless.json", "docker-containerd-like.handwritten.json", "podman-like.handwritten.json"].map(fixture);

const ENUM_STRINGS = ["pid", "pidd", "SCMP_ACT_ALLOW", "SCMP_ACT_NOTIFY", "SCMP_ARCH_X86_64", "RLIMIT_NOFILE", "RLIMIT_X", "CAP_KILL", "CAP_NOPE", "c", "b", "p", "x", "user", "time", "MPOL_BIND", "LINUX32", "shared", ""];
const STRINGS = ["", "/", "relative/path", "/abs/path", "a\u0000b", "net.ipv4.ip_forward", "kernel.shmmax", "vm.swappiness", "system.slice:docker:x", "../..", "KEY=value", "NOEQ", "0-3", "2MB", "☃", "x".repeat(300)];
const NUMBERS = [0, 1, -1, 5, 1.5, -1000, 1000, 1001, 65535, 65536, 4294967295, 4294967296, 2 ** 53, 9223372036854775807, 18446744073709551615, 1e30, -1e30, 7];
const KEYS = ["type", "path", "names", "action", "args", "cwd", "uid", "gid", "limit", "unknownField", "namespace", "", "__proto__", "constructor", "a/b~c"];

function randomValue(r: () => number, depth = 0): unknown {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const k = Math.floor(r() * 10);
  switch (k) {
    case 0:
      return pick(STRINGS);
    case 1:
      return pick(ENUM_STRINGS);
    case 2:
    case 3:
      return pick(NUMBERS);
    case 4:
      return r() < 0.5;
    case 5:
      return null;
    case 6:
      return depth > 3 ? [] : Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    case 7:
      return depth > 3 ? {} : Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, () => [pick(KEYS), randomValue(r, depth + 1)]));
    case 8: {
      // deep nesting
      let v: unknown = pick(STRINGS);
      const n = Math.floor(r() * 200);
      for (let i = 0; i < n; i++) v = r() < 0.5 ? [v] : { x: v };
      return v;
    }
    default:
      return pick(ENUM_STRINGS);
  }
}

/** Every container (object/array) path in a document. */
function containers(doc: unknown): { parent: Json; key: string | number }[] {
  const out: { parent: Json; key: string | number }[] = [];
  const stack: unknown[] = [doc];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) v.forEach((x, i) => (out.push({ parent: v, key: i }), stack.push(x)));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) out.push({ parent: v, key: k }), stack.push(x);
  }
  return out;
}

function mutate(doc: Json, r: () => number): Json {
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const places = containers(doc);
    if (places.length === 0) return randomValue(r);
    const { parent, key } = places[Math.floor(r() * places.length)];
    const op = Math.floor(r() * 6);
    if (op === 0) {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
    } else if (op === 1 || op === 2) {
      parent[key] = randomValue(r);
    } else if (op === 3) {
      const v = parent[key];
      if (Array.isArray(v)) v.push(structuredClone(v[0] ?? randomValue(r)));
      else if (v && typeof v === "object") v[KEYS[Math.floor(r() * KEYS.length)]] = randomValue(r);
      else parent[key] = typeof v === "string" ? `${v}x` : typeof v === "number" ? -v - 1 : !v;
    } else if (op === 4) {
      const v = parent[key];
      parent[key] = Array.isArray(v) ? [] : v && typeof v === "object" ? {} : "";
    } else {
      parent[key] = ENUM_STRINGS[Math.floor(r() * ENUM_STRINGS.length)];
    }
  }
  return doc;
}

function corruptText(text: string, r: () => number): string {
  const at = Math.floor(r() * text.length);
  switch (Math.floor(r() * 4)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + text.slice(at + 1);
    case 2:
      return text.slice(0, at) + ",}]\"'\u0000{"[Math.floor(r() * 8)] + text.slice(at);
    default:
      return text.slice(0, at) + "\n" + text.slice(at);
  }
}

t.test(`${ITERATIONS} random mutations (seed ${SEED})`, async (t) => {
  const r = rng(SEED);
  let rejected = 0;
  let parseErrors = 0;
  let failures = 0;
  const fail = (what: string, detail: unknown) => {
    failures++;
    if (failures <= 5) t.fail(what, { detail });
  };
  for (let i = 0; i < ITERATIONS; i++) {
    const doc = mutate(structuredClone(bases[i % bases.length]), r);
    let text = JSON.stringify(doc, null, i % 2 ? 2 : undefined);
    if (text === undefined) text = "null";
    if (r() < 0.1) text = corruptText(text, r);
    let problems: Problem[];
    let parsed: unknown;
    try {
      parsed = parseJson(text, "config.json");
      problems = validateConfig(parsed, "config.json", { systemdCgroup: r() < 0.2 });
      checkHostWith(parsed, FACTS, "/bundle", "config.json");
    } catch (e) {
      if (e instanceof SpecError) {
        parseErrors++;
        if (!e.problems.some((p) => p.severity === "error")) fail("a SpecError without an error", { text: text.slice(0, 500) });
        continue;
      }
      fail(`threw ${(e as Error)?.name}: ${(e as Error)?.message}`, { text: text.slice(0, 2000) });
      continue;
    }
    const generated = validateConfigSchema(parsed);
    const direct = oracle(parsed);
    if (generated !== direct) fail("the generated validator disagrees with ajv compiling the schema", { text: text.slice(0, 2000) });
    if (!generated || !direct) {
      rejected++;
      if (!problems.some((p) => p.severity === "error")) fail("the schema rejected the document but no error was reported", { text: text.slice(0, 2000) });
    }
    for (const p of problems) {
      if (typeof p.pointer !== "string" || (p.pointer !== "" && !p.pointer.startsWith("/")) || typeof p.message !== "string" || p.message === "") {
        fail("malformed problem", p);
      }
    }
  }
  t.equal(failures, 0, "no failures");
  t.ok(rejected > ITERATIONS / 10, `the schema rejected a good share of the mutants (${rejected})`);
  t.ok(parseErrors > 0, `some mutants were invalid JSON (${parseErrors})`);
});

t.test("on disk: loadBundleConfig throws only SpecError, runCheck never reports success on a rejected config", async (t) => {
  const r = rng(SEED + 1);
  for (let i = 0; i < 60; i++) {
    const doc = mutate(structuredClone(bases[i % bases.length]), r);
    let text = JSON.stringify(doc) ?? "null";
    if (i % 4 === 0) text = corruptText(text, r);
    const dir = tempBundle(t, text);
    let loaded = true;
    try {
      loadBundleConfig(dir);
    } catch (e) {
      loaded = false;
      t.ok(e instanceof SpecError, `SpecError, not ${(e as Error)?.name}`);
    }
    const check = runCheck(dir, "json", { facts: { ...FACTS, statPath: () => "dir" } });
    const out = JSON.parse(check.output);
    let schemaOk = false;
    try {
      schemaOk = validateConfigSchema(JSON.parse(text));
    } catch {
      schemaOk = false; // not JSON at all
    }
    if (!schemaOk || !loaded) t.equal(out.ok, false, "check reports the rejection");
    t.equal(check.exitCode, out.ok ? 0 : 1);
  }
});
