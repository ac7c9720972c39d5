// Hardening of the process's ids, device numbers and root.path (issue 19, items 8, 15, 16):
// refused by validation with the JSON pointer (in `check` too), never run as root, nothing left.
import t, { type Test } from "tap";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle, type OciConfig } from "../../bundle-fixtures/rootfs.js";
import { cgroupDirsOf, mountsMentioning, processesMentioning, Runtime } from "../lib/tsrun.js";

const work = mkdtempSync(join(tmpdir(), "tsrun-hardproc-"));
chmodSync(work, 0o755);
const rt = new Runtime();
t.teardown(() => {
  rt.cleanup();
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
const bundle = (args: string[], mutate?: (c: OciConfig) => void) => makeBundle(join(work, `b${++n}`), { args, rootfs: "busybox", mutate });

interface CheckReport {
  ok: boolean;
  problems: { pointer: string; message: string; severity: string }[];
}
function check(dir: string): CheckReport {
  return JSON.parse(rt.run(["check", "--bundle", dir, "--format", "json"]).stdout) as CheckReport;
}

/** create and run of the bundle fail, naming the pointer, run nothing and leave nothing behind. */
function refused(t: Test, dir: string, pointer: string, why: RegExp): void {
  const ck = check(dir);
  t.notOk(ck.ok, "check: not ok");
  const p = ck.problems.find((x) => x.pointer === pointer);
  t.ok(p, `check names ${pointer}`, { problems: ck.problems });
  t.equal(p?.severity, "error", "as an error");
  t.match(p?.message ?? "", why, "and says why");
  for (const cmd of ["create", "run"]) {
    const id = `hp-${process.pid}-${++n}`;
    const r = rt.detached([cmd, "--bundle", dir, id]);
    t.not(r.code, 0, `${cmd} fails`);
    t.match(r.stderr, pointer.replace(/^\//, ""), `${cmd}: the error names ${pointer}`);
    t.equal(r.stdout, "", `${cmd}: the process never ran`);
    t.same(rt.containers(), [], `${cmd}: no state left`);
    t.same(cgroupDirsOf(id), [], `${cmd}: no cgroup left`);
    t.same(processesMentioning(id), [], `${cmd}: no process left`);
  }
  t.same(mountsMentioning(dir), [], "no mount of the bundle left");
}

t.test("process.user ids above 2147483647 are refused (4294967295 would keep root)", (t) => {
  const cases: [string, NonNullable<OciConfig["process"]>["user"], string][] = [
    ["uid 4294967295", { uid: 4294967295, gid: 0 }, "/process/user/uid"],
    ["gid 4294967295", { uid: 1000, gid: 4294967295 }, "/process/user/gid"],
    ["uid 2147483648", { uid: 2147483648, gid: 1000 }, "/process/user/uid"],
    ["additionalGids", { uid: 1000, gid: 1000, additionalGids: [5, 4294967295] }, "/process/user/additionalGids/1"],
  ];
  for (const [what, user, pointer] of cases) {
    t.test(what, (t) => {
      const b = bundle(["id"], (c) => (c.process!.user = user));
      refused(t, b.bundle, pointer, /out of range: uids and gids must be from 0 to 2147483647/);
      t.end();
    });
  }
  t.test("2147483647 is allowed", (t) => {
    const b = bundle(["id", "-u"], (c) => (c.process!.user = { uid: 2147483647, gid: 2147483647 }));
    t.ok(check(b.bundle).ok, "check: ok");
    t.equal(rt.run(["run", "--bundle", b.bundle, `hp-max-${process.pid}`]).stdout, "2147483647\n");
    t.end();
  });
  t.end();
});

t.test("uid/gid mappings that reach 4294967295 are refused", (t) => {
  for (const [kind, field, m] of [
    ["uidMappings", "hostID", { containerID: 0, hostID: 4294967290, size: 6 }],
    ["gidMappings", "containerID", { containerID: 4294967200, hostID: 100000, size: 96 }],
  ] as const) {
    const b = bundle(["id"], (c) => {
      c.linux!.namespaces!.push({ type: "user" });
      c.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux![kind] = [{ ...m }];
    });
    const ck = check(b.bundle);
    const p = ck.problems.find((x) => x.pointer === `/linux/${kind}/0/size`);
    t.ok(p, `${kind} ${field} + size reaching 4294967295: check names /linux/${kind}/0/size`, { problems: ck.problems });
    t.match(p?.message ?? "", /4294967295/);
  }
  const fine = bundle(["true"], (c) => {
    c.linux!.namespaces!.push({ type: "user" });
    c.linux!.uidMappings = [{ containerID: 0, hostID: 4294967290, size: 5 }];
    c.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  });
  t.notOk(check(fine.bundle).problems.some((p) => p.pointer === "/linux/uidMappings/0/size"), "a range ending at 4294967294 is fine");
  t.end();
});

t.test("exec --user / --additional-gids / process.json ids above 2147483647 are refused", (t) => {
  const b = bundle(["sleep", "1000"]);
  const id = `hp-exec-${process.pid}`;
  t.equal(rt.detached(["run", "-d", "--bundle", b.bundle, id]).code, 0);
  for (const args of [["--user", "4294967295"], ["--user", "1000:4294967295"], ["--additional-gids", "4294967295"]]) {
    const r = rt.run(["exec", ...args, id, "id"]);
    t.equal(r.code, 255, `${args.join(" ")}: exit 255`);
    t.equal(r.stdout, "", `${args.join(" ")}: never ran`);
    t.match(r.stderr, new RegExp(`${args[0]} .*out of range`), `${args.join(" ")}: the error names the flag`);
  }
  const proc = join(work, "process.json");
  writeFileSync(proc, JSON.stringify({ args: ["id"], cwd: "/", user: { uid: 4294967295, gid: 0 } }));
  const r = rt.run(["exec", "--process", proc, id]);
  t.equal(r.code, 255, "--process: exit 255");
  t.equal(r.stdout, "", "--process: never ran");
  t.match(r.stderr, /\/user\/uid: uid 4294967295 is out of range/, "--process: the error names /user/uid");
  rt.run(["delete", "--force", id]);
  t.end();
});

t.test("linux.devices numbers out of range (-1 above all) are refused", (t) => {
  for (const [field, value, max] of [["major", -1, 4095], ["minor", -1, 1048575], ["major", 4096, 4095], ["minor", 1048576, 1048575]] as const) {
    t.test(`${field} ${value}`, (t) => {
      const b = bundle(["ls", "-l", "/dev/x"], (c) => (c.linux!.devices = [{ path: "/dev/x", type: "c", major: 1, minor: 3, [field]: value }]));
      refused(t, b.bundle, `/linux/devices/0/${field}`, new RegExp(`must be from 0 to ${max}`));
      t.end();
    });
  }
  const wild = bundle(["true"], (c) => {
    c.linux!.resources = { devices: [{ allow: false, access: "rwm" }, { allow: true, type: "c", major: -1, minor: -1, access: "rwm" }] };
  });
  t.ok(check(wild.bundle).ok, "linux.resources.devices -1 (a wildcard) passes check");
  t.end();
});

t.test("a symlinked root.path is refused, with nothing touched", (t) => {
  // a victim directory shaped like a rootfs: a followed link would get proc, tmpfs, sysfs mounts
  const victim = join(work, "victim");
  for (const d of ["proc", "dev", "sys", "etc"]) mkdirSync(join(victim, d), { recursive: true });
  const before = readdirSync(victim).sort();
  for (const [what, path] of [
    ["a relative link", "rootlink"],
    ["an absolute path through a linked directory", "/ABS"],
  ] as const) {
    t.test(what, (t) => {
      const b = bundle(["true"]);
      symlinkSync(victim, join(b.bundle, "rootlink"));
      mkdirSync(join(b.bundle, "dir"));
      symlinkSync(victim, join(b.bundle, "dir", "l"));
      b.config.root = { path: path === "/ABS" ? join(b.bundle, "dir", "l") : path };
      writeFileSync(b.configPath, JSON.stringify(b.config));
      refused(t, b.bundle, "/root/path", /symlink/);
      t.same(mountsMentioning(victim), [], "nothing mounted on the link's target");
      t.same(readdirSync(victim).sort(), before, "the target is unchanged");
      t.end();
    });
  }
  t.test("a real directory given through a relative path with .. is fine", (t) => {
    const b = bundle(["true"]);
    mkdirSync(join(b.bundle, "sub"));
    b.config.root = { path: "sub/../rootfs" };
    writeFileSync(b.configPath, JSON.stringify(b.config));
    t.equal(rt.run(["run", "--bundle", b.bundle, `hp-dots-${process.pid}`]).code, 0);
    t.end();
  });
  t.end();
});
