import t from "tap";
import { deriveStatus } from "../../src/state/status.js";
import { isValidId } from "../../src/state/id.js";

const probe = (over: Partial<{ stat: { state: string; startTime: string } | undefined; fifo: boolean; frozen: boolean }>) => ({
  procStat: () => ("stat" in over ? over.stat : { state: "S", startTime: "100" }),
  fifoExists: () => over.fifo ?? false,
  isFrozen: () => over.frozen ?? false,
});

t.test("status derivation", async (t) => {
  t.equal(deriveStatus(42, "100", probe({ fifo: true })), "created", "alive + fifo");
  t.equal(deriveStatus(42, "100", probe({})), "running", "alive, no fifo");
  t.equal(deriveStatus(42, "100", probe({ frozen: true, fifo: true })), "paused", "frozen wins over fifo");
  t.equal(deriveStatus(42, "100", probe({ stat: undefined, fifo: true })), "stopped", "no such pid");
  t.equal(deriveStatus(42, "100", probe({ stat: { state: "Z", startTime: "100" } })), "stopped", "zombie");
  t.equal(deriveStatus(42, "100", probe({ stat: { state: "X", startTime: "100" } })), "stopped", "dead");
  t.equal(deriveStatus(42, "100", probe({ stat: { state: "S", startTime: "999" } })), "stopped", "pid reused by another process");
  t.equal(deriveStatus(0, "100", probe({})), "stopped", "no pid recorded");
  t.equal(deriveStatus(42, "100", probe({ stat: undefined, frozen: true })), "stopped", "a dead init is stopped even if the cgroup is frozen");
});

t.test("container ids", async (t) => {
  for (const ok of ["a", "abc-DEF_1.2+3", "0", "x..y"]) t.ok(isValidId(ok), ok);
  for (const bad of ["", ".", "..", "a/b", "../x", "a b", "a\nb", "é", "a:b"]) t.notOk(isValidId(bad), JSON.stringify(bad));
});
