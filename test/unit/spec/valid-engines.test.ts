// The config.json that containerd (ctr run), Docker (docker run) and Podman (podman run)
// really generate for a busybox image (captured by test/fixtures/configs/capture-engines.sh)
// passes validation with no errors and no warnings. `tsrun check` on bundles made from them
// is tested against the built binary in test/integration/spec-rejection.test.ts.
import t from "tap";
import { loadBundleConfig, validateConfig } from "../../../src/spec/load.js";
import { validateConfigSchema } from "../../../src/spec/generated/validators.js";
import { FILE, fixture, fixtureText, tempBundle } from "./fixtures/helpers.js";

const ENGINES = ["containerd", "docker", "podman"] as const;

for (const engine of ENGINES) {
  const name = `${engine}-busybox.json`;
  t.test(name, async (t) => {
    const doc = fixture(name);
    t.equal(validateConfigSchema(doc), true, "the schema accepts it", { errors: validateConfigSchema.errors });
    t.same(validateConfig(doc, FILE), [], "validateConfig: no errors, no warnings");
    // loadBundleConfig reads the file as the engine wrote it (byte for byte).
    const loaded = loadBundleConfig(tempBundle(t, fixtureText(name)));
    t.same(loaded.warnings, [], "loadBundleConfig: no warnings");
    t.equal(loaded.spec.ociVersion, doc.ociVersion);
    t.same(loaded.spec.process?.args, ["true"], "the captured container ran `true`");
  });
}

t.test("the captures are what each engine characteristically generates", async (t) => {
  const ctr = fixture("containerd-busybox.json");
  t.equal(ctr.root.path, "rootfs", "containerd: rootfs relative to the bundle");
  t.equal(ctr.linux.seccomp, undefined, "ctr run: no seccomp profile unless asked");
  t.match(ctr.linux.cgroupsPath, /^\/tsrun-capture\//, "ctr: cgroupsPath /<namespace>/<id>");

  const docker = fixture("docker-busybox.json");
  t.equal(docker.linux.seccomp.defaultAction, "SCMP_ACT_ERRNO", "docker: default seccomp profile");
  t.ok(docker.linux.seccomp.syscalls.some((r: { args?: unknown[] }) => Array.isArray(r.args) && r.args.length > 0), "docker: argument filters");
  t.match(docker.hooks.prestart[0], { path: /^\/proc\/\d+\/exe$/, args: ["libnetwork-setkey"] }, "docker: libnetwork prestart hook");
  t.ok(docker.mounts.some((m: { destination: string; type: string }) => m.destination === "/etc/resolv.conf" && m.type === "bind"));
  t.ok(docker.linux.sysctl["net.ipv4.ip_unprivileged_port_start"] !== undefined, "docker: namespaced sysctls");

  const podman = fixture("podman-busybox.json");
  t.equal(podman.linux.seccomp.defaultAction, "SCMP_ACT_ERRNO", "podman: default seccomp profile");
  t.equal(podman.linux.seccomp.defaultErrnoRet, 38, "podman: ENOSYS for unknown syscalls");
  t.equal(podman.annotations["io.container.manager"], "libpod");
  t.ok(podman.mounts.some((m: { destination: string }) => m.destination === "/run/.containerenv"));
});
