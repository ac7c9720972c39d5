// Mount options with behaviour of their own: tmpcopyup. As root, against the built dist/tsrun.
import t from "tap";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle, type OciConfig } from "../../bundle-fixtures/rootfs.js";
import { Runtime } from "../lib/tsrun.js";

const work = mkdtempSync(join(tmpdir(), "tsrun-mounts-"));
chmodSync(work, 0o755);
const rt = new Runtime();
t.teardown(() => {
  rt.cleanup();
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
const uid = (name: string) => `mnt-${name}-${process.pid}-${++n}`;

function bundleWithData(script: string, options: string[]) {
  const b = makeBundle(join(work, `b${++n}`), {
    args: ["sh", "-c", script],
    rootfs: "busybox",
    mutate: (c: OciConfig) => {
      c.mounts!.push({ destination: "/data", type: "tmpfs", source: "tmpfs", options });
    },
  });
  const data = join(b.rootfs, "data");
  mkdirSync(join(data, "sub/deep"), { recursive: true });
  writeFileSync(join(data, "sub/deep/file"), "hello\n");
  chownSync(join(data, "sub/deep/file"), 12, 34);
  chmodSync(join(data, "sub/deep/file"), 0o4755);
  utimesSync(join(data, "sub/deep/file"), new Date("2020-01-02T03:04:05Z"), new Date("2020-01-02T03:04:05Z"));
  symlinkSync("/", join(data, "to-root"));
  symlinkSync("../../../../../../etc/shadow", join(data, "escape"));
  execFileSync("mkfifo", [join(data, "fifo")]);
  return { ...b, data };
}

t.test("tmpcopyup: the tmpfs starts with what the directory held, links copied as links", async (t) => {
  const script = [
    "grep ' /data ' /proc/mounts",
    "cat /data/sub/deep/file",
    "stat -c '%a %u %g %Y %F' /data/sub/deep/file /data/fifo",
    "readlink /data/to-root; readlink /data/escape",
    "echo new > /data/new && echo writable",
  ].join("; ");
  const b = bundleWithData(script, ["tmpcopyup", "mode=755", "nosuid"]);
  const r = rt.run(["run", "--bundle", b.bundle, uid("copy")]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^tmpfs \/data tmpfs rw,nosuid/m, "a tmpfs on /data");
  t.match(r.stdout, /^hello$/m, "file contents copied");
  t.match(r.stdout, /^4755 12 34 1577934245 regular file$/m, "mode with set-uid, owner and mtime kept");
  t.match(r.stdout, /^644 0 0 \d+ fifo$/m, "a fifo stays a fifo");
  t.match(r.stdout, /^\/\n\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/etc\/shadow$/m, "symlinks are copied, never followed");
  t.match(r.stdout, /writable/, "the tmpfs is writable though the rootfs is read-only");
  t.same(readdirSync(b.data).sort(), ["escape", "fifo", "sub", "to-root"], "the directory under the tmpfs is untouched");
});

t.test("tmpcopyup with ro: the copy goes in first, then the mount turns read-only", async (t) => {
  const b = bundleWithData("grep ' /data ' /proc/mounts; cat /data/sub/deep/file; touch /data/x || echo refused", ["tmpcopyup", "ro"]);
  const r = rt.run(["run", "--bundle", b.bundle, uid("ro")]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^tmpfs \/data tmpfs ro/m);
  t.match(r.stdout, /^hello$/m);
  t.match(r.stdout, /refused/);
});

t.test("without tmpcopyup the tmpfs starts empty", async (t) => {
  const b = bundleWithData("ls -A /data | wc -l", ["mode=755"]);
  const r = rt.run(["run", "--bundle", b.bundle, uid("empty")]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), "0");
});

function idmappedBundle(name: string, mutate: (c: OciConfig, source: string) => void) {
  const source = join(work, `${name}-src`);
  mkdirSync(join(source, "sub"), { recursive: true });
  writeFileSync(join(source, "file"), "hi\n");
  chownSync(join(source, "file"), 1234, 1234);
  const b = makeBundle(join(work, `b${++n}`), {
    args: ["sh", "-c", "stat -c '%n %u %g' /ids/file /ids/sub; grep ' /ids ' /proc/self/mountinfo; touch /ids/new || echo refused"],
    rootfs: "busybox",
    mutate: (c) => mutate(c, source),
  });
  // made by the host's root: under a user namespace the container's root may not write the rootfs
  mkdirSync(join(b.rootfs, "ids"));
  return { ...b, source };
}

t.test("idmapped bind: the mount shows on-disk ids through its own mappings", async (t) => {
  const b = idmappedBundle("idmap", (c, source) => {
    c.mounts!.push({
      destination: "/ids", type: "bind", source, options: ["rbind", "idmap"],
      uidMappings: [{ containerID: 1234, hostID: 5000, size: 1 }],
      gidMappings: [{ containerID: 1234, hostID: 6000, size: 1 }],
    });
  });
  const r = rt.run(["run", "--bundle", b.bundle, uid("idmap")]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^\/ids\/file 5000 6000$/m, "on-disk 1234 shows as 5000/6000");
  t.match(r.stdout, /^\/ids\/sub 65534 65534$/m, "ids outside the mapping show as the overflow id");
  t.match(r.stdout, /\/ids \S+,idmapped /, "mountinfo says idmapped");
  t.match(r.stdout, /refused/, "root (unmapped in this mount) cannot create files there");
  t.equal(statSync(join(b.source, "file")).uid, 1234, "the files themselves are untouched");
});

t.test("idmapped bind in a container with its own user namespace, read-only", async (t) => {
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const b = idmappedBundle("idmap-userns", (c, source) => {
    c.linux!.namespaces!.push({ type: "user" });
    c.linux!.uidMappings = map;
    c.linux!.gidMappings = map;
    c.mounts!.push({ destination: "/ids", type: "bind", source, options: ["bind", "idmap", "ro"], uidMappings: map, gidMappings: map });
  });
  const r = rt.run(["run", "--bundle", b.bundle, uid("idmap-userns")]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^\/ids\/file 1234 1234$/m, "on-disk ids are the container's ids");
  t.match(r.stdout, /^\/ids\/sub 0 0$/m, "on-disk root is the container's root");
  t.match(r.stdout, /\/ids ro,\S*idmapped /);
  t.match(r.stdout, /refused/);
});

t.test("an idmapped mount the kernel refuses: one clear error, nothing left behind", async (t) => {
  const id = uid("idmap-bad");
  const b = idmappedBundle("idmap-bad", (c) => {
    c.mounts!.push({
      destination: "/ids", type: "bind", source: "/proc/self", options: ["rbind", "idmap"],
      uidMappings: [{ containerID: 0, hostID: 5000, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: 5000, size: 1 }],
    });
  });
  const r = rt.run(["run", "--bundle", b.bundle, id]);
  t.not(r.code, 0);
  t.match(r.stderr, /^mounts\[\d+\]: idmapped bind of \/proc\/self: idmap \/proc\/self: /m);
  t.same(rt.containers(), []);
});
