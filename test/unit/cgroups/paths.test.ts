import t from "tap";
import { cleanCgroupPath, cgroupDir, defaultCgroupPath, resolveCgroupPath, resolvePaths } from "../../../src/cgroups/paths.js";
import {
  cgroup2MountFromMountInfo,
  hugePageSizesFromNames,
  modeFromFsTypes,
  parseMountInfo,
  parseProcCgroup,
  readHostCgroupInfo,
  v1HierarchiesFromMountInfo,
} from "../../../src/cgroups/host.js";
import { cgroupManagerFor, loadCgroupManager } from "../../../src/cgroups/index.js";

// mountinfo of the development host (hybrid: v1 controllers + controller-less cgroup2 at unified)
const HYBRID_MOUNTINFO = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const HYBRID_PROC_CGROUP = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/abc
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`;
// a typical distro v1 layout with co-mounted controllers
const COMOUNT_MOUNTINFO = `25 18 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio
31 25 0:28 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
`;
const V2_MOUNTINFO = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
99 22 0:37 / /sys/fs/cgroup rw,relatime - cgroup2 none rw
`;

t.test("cleanCgroupPath", async (t) => {
  t.equal(cleanCgroupPath("/a/b/../c/"), "/a/c");
  t.equal(cleanCgroupPath("/../../x"), "/x");
  t.equal(cleanCgroupPath("../../x"), "x", "relative paths cannot climb above their base");
  t.equal(cleanCgroupPath("a//b/./c"), "a/b/c");
  t.equal(cleanCgroupPath(".."), "");
  t.equal(cleanCgroupPath("/"), "/");
});

t.test("resolveCgroupPath follows the runtime-spec", async (t) => {
  t.equal(resolveCgroupPath(undefined, "c1", "/process_api/abc"), "/tsrun/c1", "absent: /tsrun/<id>");
  t.equal(resolveCgroupPath("", "c1", "/x"), defaultCgroupPath("c1"));
  t.equal(resolveCgroupPath("/machine/c1", "c1", "/process_api/abc"), "/machine/c1", "absolute: from the hierarchy root");
  t.equal(resolveCgroupPath("pod/c1", "c1", "/process_api/abc"), "/process_api/abc/pod/c1", "relative: under our own cgroup");
  t.equal(resolveCgroupPath("../../etc", "c1", "/own"), "/own/etc", "relative cannot escape");
  t.equal(resolveCgroupPath("x", "c1", "/"), "/x");
});

t.test("cgroupDir honours the mount root", async (t) => {
  t.equal(cgroupDir("/sys/fs/cgroup/memory", "/", "/tsrun/a"), "/sys/fs/cgroup/memory/tsrun/a");
  t.equal(cgroupDir("/sys/fs/cgroup/memory", "/docker/abc", "/docker/abc/x"), "/sys/fs/cgroup/memory/x");
  t.equal(cgroupDir("/sys/fs/cgroup/memory", "/docker/abc", "/docker/abc"), "/sys/fs/cgroup/memory");
  t.equal(cgroupDir("/sys/fs/cgroup", "/", "/"), "/sys/fs/cgroup");
});

t.test("mountinfo and /proc/self/cgroup parsing", async (t) => {
  const hybrid = parseMountInfo(HYBRID_MOUNTINFO);
  t.equal(hybrid.length, 11);
  const v1 = v1HierarchiesFromMountInfo(hybrid);
  t.same(v1.map((h) => h.controllers.join(",")).sort(), ["blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "name=systemd", "pids"]);
  t.same(cgroup2MountFromMountInfo(hybrid, "/sys/fs/cgroup/unified"), { mountPoint: "/sys/fs/cgroup/unified", root: "/" });
  const co = v1HierarchiesFromMountInfo(parseMountInfo(COMOUNT_MOUNTINFO));
  t.same(co.find((h) => h.controllers.includes("cpu"))?.controllers, ["cpu", "cpuacct"]);
  t.same(co.find((h) => h.controllers.includes("memory")), { controllers: ["memory"], mountPoint: "/sys/fs/cgroup/memory", root: "/docker/abc" });
  const own = parseProcCgroup(HYBRID_PROC_CGROUP);
  t.equal(own.get("memory"), "/process_api/abc");
  t.equal(own.get("name=systemd"), "/");
  t.equal(own.get(""), "/");
  const co2 = parseProcCgroup("2:cpu,cpuacct:/user.slice\n0::/init.scope\n");
  t.equal(co2.get("cpu"), "/user.slice");
  t.equal(co2.get("cpuacct"), "/user.slice");
  t.equal(co2.get(""), "/init.scope");
});

t.test("mode detection", async (t) => {
  t.equal(modeFromFsTypes(0x63677270, undefined), "v2");
  t.equal(modeFromFsTypes(0x01021994, 0x63677270), "hybrid");
  t.equal(modeFromFsTypes(0x01021994, undefined), "v1");
  t.equal(modeFromFsTypes(undefined, undefined, parseMountInfo(V2_MOUNTINFO)), "v2", "mountinfo fallback: topmost mount at /sys/fs/cgroup");
  t.equal(modeFromFsTypes(undefined, undefined, parseMountInfo(HYBRID_MOUNTINFO)), "hybrid");
});

t.test("resolvePaths: hybrid host", async (t) => {
  const host = readHostCgroupInfo({ mountInfoText: HYBRID_MOUNTINFO, procCgroupText: HYBRID_PROC_CGROUP, mode: "hybrid" });
  const abs = resolvePaths(host, "/ctr/a", "a");
  t.equal(abs.driver, "v1");
  t.equal(abs.paths.memory, "/sys/fs/cgroup/memory/ctr/a");
  t.equal(abs.paths["name=systemd"], "/sys/fs/cgroup/systemd/ctr/a");
  t.equal(abs.paths[""], "/sys/fs/cgroup/unified/ctr/a", "hybrid: the cgroup2 directory too");
  const rel = resolvePaths(host, "ctr/a", "a");
  t.equal(rel.paths.memory, "/sys/fs/cgroup/memory/process_api/abc/ctr/a", "relative: per hierarchy, under our own cgroup");
  t.equal(rel.paths.cpu, "/sys/fs/cgroup/cpu/ctr/a");
  const def = resolvePaths(host, undefined, "a");
  t.equal(def.paths.pids, "/sys/fs/cgroup/pids/tsrun/a");
});

t.test("resolvePaths: co-mounted controllers share a directory", async (t) => {
  const host = readHostCgroupInfo({ mountInfoText: COMOUNT_MOUNTINFO, procCgroupText: "3:memory:/docker/abc\n2:cpu,cpuacct:/\n1:name=systemd:/\n", mode: "v1" });
  const r = resolvePaths(host, "/x", "x");
  t.equal(r.paths.cpu, "/sys/fs/cgroup/cpu,cpuacct/x");
  t.equal(r.paths.cpuacct, "/sys/fs/cgroup/cpu,cpuacct/x");
  t.equal(r.paths.net_prio, "/sys/fs/cgroup/net_cls,net_prio/x");
  t.notOk("" in r.paths, "plain v1: no cgroup2 directory");
  const rel = resolvePaths(host, "x", "x");
  t.equal(rel.paths.memory, "/sys/fs/cgroup/memory/x", "own cgroup /docker/abc is the mount root");
});

t.test("resolvePaths: v2 host", async (t) => {
  const host = readHostCgroupInfo({ mountInfoText: V2_MOUNTINFO, procCgroupText: "0::/user.slice/session-1.scope\n", mode: "v2" });
  t.same(host.unified, { mountPoint: "/sys/fs/cgroup", root: "/" });
  t.same(resolvePaths(host, "/machine.slice/a", "a"), { driver: "v2", paths: { "": "/sys/fs/cgroup/machine.slice/a" }, cgroupPaths: { "": "/machine.slice/a" } });
  t.equal(resolvePaths(host, "a", "a").paths[""], "/sys/fs/cgroup/user.slice/session-1.scope/a");
});

t.test("cgroupManagerFor / loadCgroupManager", async (t) => {
  // --systemd-cgroup: the unit and its cgroup are known before systemd is asked; state round-trips
  const v2host = { mode: "v2" as const, v1: [], unified: { mountPoint: "/sys/fs/cgroup", root: "/" }, own: new Map([["", "/"]]) };
  const sd = cgroupManagerFor({ id: "a", cgroupsPath: "machine-app.slice:libpod:a", systemd: true, host: v2host });
  t.same(sd.saved, { driver: "v2", mode: "v2", paths: { "": "/sys/fs/cgroup/machine.slice/machine-app.slice/libpod-a.scope" }, systemd: { unit: "libpod-a.scope", slice: "machine-app.slice" } });
  t.same(loadCgroupManager(JSON.parse(JSON.stringify(sd.saved))).saved, sd.saved, "a systemd manager comes back from state.json");
  t.throws(() => cgroupManagerFor({ id: "a", cgroupsPath: "/not/systemd", systemd: true, host: v2host }), /linux.cgroupsPath: expected cgroupsPath to be of format "slice:prefix:name"/);
  const host = readHostCgroupInfo({ mountInfoText: HYBRID_MOUNTINFO, procCgroupText: HYBRID_PROC_CGROUP, mode: "hybrid" });
  const m = cgroupManagerFor({ id: "a", host });
  t.equal(m.mode, "hybrid");
  t.equal(m.saved.driver, "v1");
  t.equal(m.path("freezer"), "/sys/fs/cgroup/freezer/tsrun/a");
  const again = loadCgroupManager(JSON.parse(JSON.stringify(m.saved)));
  t.same(again.saved, m.saved, "saved state round-trips through JSON");
  const v2 = loadCgroupManager({ driver: "v2", paths: { "": "/sys/fs/cgroup/x" } });
  t.equal(v2.mode, "v2");
  t.equal(v2.path(""), "/sys/fs/cgroup/x");
  t.throws(() => loadCgroupManager({ driver: "v2", paths: {} }), /without a unified path/);
});

t.test("huge page sizes", async (t) => {
  t.same(hugePageSizesFromNames(["hugepages-2048kB", "hugepages-1048576kB", "hugepages-64kB", "junk"]), ["2MB", "1GB", "64KB"]);
});
