// config.json's "org.systemd.property.NAME" annotations (runc's): extra properties of the systemd
// unit of a container run with --systemd-cgroup. Pure; checked at load, sent by the systemd driver.
import { parseGVariant, UINT64_MAX, type Variant } from "./gvariant.js";

export const SYSTEMD_PROPERTY_PREFIX = "org.systemd.property.";

/**
 * The unit properties config.json's annotations "org.systemd.property.NAME" give (runc's rules):
 * NAME is three or more latin letters, the value is in GVariant text format ("uint64 123456789",
 * "'inactive-or-failed'", "true"), and a NAME ending in a lower-case letter and "Sec" is given in
 * seconds and sent as NAME-USec in microseconds. Throws naming the annotation; sorted by key so
 * that a repeated property ends the same way every time.
 */
export function annotationProperties(annotations: Record<string, string> | undefined): Array<[string, Variant]> {
  const props: Array<[string, Variant]> = [];
  for (const key of Object.keys(annotations ?? {}).sort()) {
    if (!key.startsWith(SYSTEMD_PROPERTY_PREFIX)) continue;
    try {
      props.push(annotationProperty(key, annotations![key]!));
    } catch (e) {
      throw new Error(`config.json: annotation ${key}: ${(e as Error).message}`);
    }
  }
  return props;
}

/** One org.systemd.property.* annotation -> its unit property; throws with the reason (not naming the key). */
export function annotationProperty(key: string, value: string): [string, Variant] {
  let name = key.slice(SYSTEMD_PROPERTY_PREFIX.length);
  if (!/^[a-zA-Z]{3,}$/.test(name)) throw new Error(`${JSON.stringify(name)} is not a systemd property name (three or more latin letters)`);
  let v: Variant;
  try {
    v = parseGVariant(value);
  } catch (e) {
    throw new Error(`cannot parse ${JSON.stringify(value)} as GVariant text (${(e as Error).message}); numbers need a type, as in "uint64 5", strings quotes, as in "'text'"`);
  }
  if (/[a-z]Sec$/.test(name)) {
    name = `${name.slice(0, -3)}USec`;
    const [sig, x] = v;
    let usec: bigint;
    if (sig === "d") {
      if (!Number.isFinite(x as number) || (x as number) < 0) throw new Error(`seconds must be a finite number of 0 or more`);
      usec = BigInt(Math.trunc((x as number) * 1e6));
    } else if ("ynqiuxt".includes(sig) && sig.length === 1) {
      const n = BigInt(x as number | bigint);
      if (n < 0n) throw new Error(`seconds must not be negative`);
      usec = n * 1000000n;
    } else throw new Error(`a property in seconds needs a number, not type ${sig}`);
    if (usec > UINT64_MAX) throw new Error(`too many seconds`);
    v = ["t", usec];
  }
  return [name, v];
}
