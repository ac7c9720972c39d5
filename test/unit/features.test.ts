import t from "tap";
import { features } from "../../src/cli/features.js";
import { parseMountOptions } from "../../src/plan/mount-options.js";

t.test("features says what tsrun does, no more", async (t) => {
  const f = features();
  t.same(f.hooks, ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]);
  t.ok(f.linux.seccomp.enabled);
  t.ok(f.linux.seccomp.actions!.includes("SCMP_ACT_NOTIFY"));
  t.ok(f.mountOptions.includes("rro") && f.mountOptions.includes("rbind"));
  t.ok(f.mountOptions.includes("tmpcopyup") && f.mountOptions.includes("ridmap"));
  t.ok(f.linux.mountExtensions.idmap.enabled);
  for (const o of f.mountOptions) {
    const p = parseMountOptions([o]);
    t.same(p.data, [], `${o} is understood, not passed on to the filesystem`);
  }
});
