import t from "tap";
import { completeType, parseGVariant } from "../../../src/spec/gvariant.js";
import { annotationProperties, annotationProperty } from "../../../src/spec/systemd-properties.js";

t.test("GVariant text: basic values, typed and untyped", async (t) => {
  t.same(parseGVariant("uint64 123456789"), ["t", 123456789n]);
  t.same(parseGVariant("@t 5"), ["t", 5n]);
  t.throws(() => parseGVariant("18446744073709551615"), /out of range for type i/, "an untyped integer is int32");
  t.same(parseGVariant("uint64 18446744073709551615"), ["t", (1n << 64n) - 1n]);
  t.throws(() => parseGVariant("uint64 18446744073709551616"), /out of range for type t/);
  t.throws(() => parseGVariant("uint64 -1"), /out of range/);
  t.same(parseGVariant("int64 -7"), ["x", -7n]);
  t.same(parseGVariant("42"), ["i", 42]);
  t.same(parseGVariant("-0x10"), ["i", -16]);
  t.same(parseGVariant("byte 255"), ["y", 255]);
  t.throws(() => parseGVariant("byte 256"), /out of range for type y/);
  t.same(parseGVariant("uint32 7"), ["u", 7]);
  t.same(parseGVariant("int16 -3"), ["n", -3]);
  t.same(parseGVariant("uint16 3"), ["q", 3]);
  t.same(parseGVariant("1.5"), ["d", 1.5]);
  t.same(parseGVariant("double 2"), ["d", 2]);
  t.same(parseGVariant("1e3"), ["d", 1000]);
  t.throws(() => parseGVariant("uint64 1.5"), /not an integer/);
  t.same(parseGVariant("true"), ["b", true]);
  t.same(parseGVariant(" false "), ["b", false]);
  t.same(parseGVariant("'inactive-or-failed'"), ["s", "inactive-or-failed"]);
  t.same(parseGVariant('"it\'s \\"q\\"\\n\\u00e9"'), ["s", "it's \"q\"\n\u00e9"]);
  t.same(parseGVariant("objectpath '/org/x'"), ["o", "/org/x"]);
  t.same(parseGVariant("@g 'as'"), ["g", "as"]);
  t.throws(() => parseGVariant("'open"), /unterminated string/);
  t.throws(() => parseGVariant("uint64 'x'"), /a string where t is expected/);
  t.throws(() => parseGVariant("bogus"), /expected a value/);
  t.throws(() => parseGVariant("1 2"), /after the value/);
  t.throws(() => parseGVariant(""), /expected a value/);
});

t.test("GVariant text: containers", async (t) => {
  t.same(parseGVariant("['a.service', 'b.service']"), ["as", ["a.service", "b.service"]]);
  t.same(parseGVariant("@as []"), ["as", []]);
  t.throws(() => parseGVariant("[]"), /empty array is unknown/);
  t.same(parseGVariant("[uint64 1, 2]"), ["at", [1n, 2n]], "the first element types the rest");
  t.throws(() => parseGVariant("[1, 'x']"), /a string where i is expected/);
  t.same(parseGVariant("[('/dev/null', 'rw'), ('/dev/zero', 'r')]"), ["a(ss)", [["/dev/null", "rw"], ["/dev/zero", "r"]]]);
  t.same(parseGVariant("(1,)"), ["(i)", [1]]);
  t.same(parseGVariant("@a(st) [('x', 5)]"), ["a(st)", [["x", 5n]]]);
  t.same(parseGVariant("{'a': <uint64 1>, 'b': <'s'>}"), ["a{sv}", [["a", ["t", 1n]], ["b", ["s", "s"]]]]);
  t.same(parseGVariant("@a{sv} {}"), ["a{sv}", []]);
  t.same(parseGVariant("<true>"), ["v", ["b", true]]);
  t.throws(() => parseGVariant("[1, 2"), /expected "\]"/);
});

t.test("completeType measures one D-Bus type", async (t) => {
  t.equal(completeType("a(ss)x"), 5);
  t.equal(completeType("a{sv}"), 5);
  t.equal(completeType("t"), 1);
  t.equal(completeType("(s"), 0);
  t.equal(completeType("z"), 0);
});

t.test("org.systemd.property.* annotations -> unit properties, as runc reads them", async (t) => {
  t.same(annotationProperty("org.systemd.property.TimeoutStopUSec", "uint64 123456789"), ["TimeoutStopUSec", ["t", 123456789n]]);
  t.same(annotationProperty("org.systemd.property.CollectMode", "'inactive-or-failed'"), ["CollectMode", ["s", "inactive-or-failed"]]);
  // a lower-case letter then "Sec": seconds, sent as ...USec in microseconds
  t.same(annotationProperty("org.systemd.property.TimeoutStopSec", "5"), ["TimeoutStopUSec", ["t", 5000000n]]);
  t.same(annotationProperty("org.systemd.property.RuntimeMaxSec", "uint64 2"), ["RuntimeMaxUSec", ["t", 2000000n]]);
  t.same(annotationProperty("org.systemd.property.TimeoutStopSec", "1.5"), ["TimeoutStopUSec", ["t", 1500000n]]);
  t.throws(() => annotationProperty("org.systemd.property.TimeoutStopSec", "-1"), /must not be negative/);
  t.throws(() => annotationProperty("org.systemd.property.TimeoutStopSec", "'x'"), /needs a number, not type s/);
  // "USec" itself is not converted (the letter before "Sec" is upper-case)
  t.same(annotationProperty("org.systemd.property.RuntimeMaxUSec", "uint64 9"), ["RuntimeMaxUSec", ["t", 9n]]);
  t.throws(() => annotationProperty("org.systemd.property.ab", "true"), /three or more latin letters/);
  t.throws(() => annotationProperty("org.systemd.property.Memory.Max", "true"), /is not a systemd property name/);
  t.throws(() => annotationProperty("org.systemd.property.CollectMode", "inactive"), /cannot parse "inactive" as GVariant text/);
  const all = annotationProperties({ "org.systemd.property.Zeta": "true", other: "x", "org.systemd.property.Alpha": "'a'" });
  t.same(all, [["Alpha", ["s", "a"]], ["Zeta", ["b", true]]], "only the prefixed ones, in key order");
  t.throws(() => annotationProperties({ "org.systemd.property.X1": "true" }), /^config\.json: annotation org\.systemd\.property\.X1: /);
  t.same(annotationProperties(undefined), []);
});
