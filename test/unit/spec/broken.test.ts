// One broken config per rule: each is rejected with an error naming the JSON pointer and a
// plain sentence. The base is runc's default spec; each case breaks one thing.
import t from "tap";
import { loadBundleConfig, parseJson, validateConfig } from "../../../src/spec/load.js";
import { SpecError, type Problem } from "../../../src/spec/problems.js";
import { errors, FILE, fixtureText, hasProblem, runcSpec, tempBundle, warnings, type Json } from "./fixtures/helpers.js";

type Expect = [pointer: string, message: string | RegExp, severity?: "error" | "warning"];

interface Case {
  name: string;
  /** Breaks the default spec (a fresh copy). */
  mutate?: (d: Json) => void;
  /** Or: the raw config.json text. */
  text?: string;
  systemd?: boolean;
  expect: Expect[];
}

const base = fixtureText("runc-spec.json");

function problemsFor(c: Case): Problem[] {
  try {
    if (c.text !== undefined) {
      const doc = parseJson(c.text, FILE);
      return validateConfig(doc, FILE, { systemdCgroup: c.systemd });
    }
    const doc = runcSpec();
    c.mutate!(doc);
    // Round-trip through text like a real file (drops undefined, keeps Infinity out).
    return validateConfig(parseJson(JSON.stringify(doc), FILE), FILE, { systemdCgroup: c.systemd });
  } catch (e) {
    if (e instanceof SpecError) return e.problems;
    throw e;
  }
}

const nested = (depth: number, leaf: string) => "[".repeat(depth) + leaf + "]".repeat(depth);

const cases: Case[] = [
  // ---- JSON syntax: line and column ----
  {
    name: "truncated JSON",
    text: base.slice(0, 700),
    expect: [["/process/rlimits/0/hard", "invalid JSON at line 43, column 4: unexpected end of file: the object opened at line 40, column 4 is not closed (is the file truncated?)"]],
  },
  {
    name: "truncated inside a string",
    text: base.slice(0, base.indexOf("CAP_KILL") + 4),
    expect: [["/process/capabilities/bounding/1", "invalid JSON at line 20, column 10: unexpected end of file inside the string that starts at column 5 (is the file truncated?)"]],
  },
  {
    name: "truncated JSON at a structural boundary",
    text: '{\n  "ociVersion": "1.0.2",\n  "process": {\n    "cwd": "/"\n',
    expect: [["/process/cwd", "invalid JSON at line 5, column 1: unexpected end of file: the object opened at line 3, column 14 is not closed (is the file truncated?)"]],
  },
  { name: "empty file", text: "", expect: [["", "invalid JSON at line 1, column 1: the file is empty"]] },
  {
    name: "trailing comma",
    text: '{\n  "ociVersion": "1.0.2",\n  "root": {"path": "rootfs",}\n}',
    expect: [["/root/path", "invalid JSON at line 3, column 29: trailing comma before '}'"]],
  },
  {
    name: "single-quoted string",
    text: "{\n  'ociVersion': '1.0.2'\n}",
    expect: [["", `invalid JSON at line 2, column 3: expected a property name in double quotes, found "'" (JSON strings need double quotes)`]],
  },
  {
    name: "missing comma",
    text: '{"ociVersion": "1.0.2"\n "root": {"path": "rootfs"}}',
    expect: [["/ociVersion", "invalid JSON at line 2, column 2: expected ',' or '}', found '\"' (a comma is missing)"]],
  },
  {
    name: "bare word instead of a value",
    text: '{"ociVersion": "1.0.2", "root": {"path": "rootfs", "readonly": True}}',
    expect: [["/root/readonly", /^invalid JSON at line 1, column 64: unexpected word 'True'/]],
  },
  {
    name: "octal-looking number",
    text: '{"ociVersion": "1.0.2", "process": {"user": {"uid": 0, "gid": 0, "umask": 022}}}',
    expect: [["/process/user/umask", /leading zeros are not allowed in JSON/]],
  },
  {
    name: "data after the document",
    text: '{"ociVersion": "1.0.2", "root": {"path": "rootfs"}} }',
    expect: [["", "invalid JSON at line 1, column 53: unexpected '}' after the end of the JSON document"]],
  },
  {
    name: "byte order mark",
    text: "\ufeff{}",
    expect: [["", "invalid JSON at line 1, column 1: the file starts with a byte order mark (save it as UTF-8 without BOM)"]],
  },

  // ---- schema: wrong types, unknown enum values, huge numbers ----
  { name: "document is not an object", text: "[1, 2]", expect: [["", "must be a JSON object (the container configuration), not an array"]] },
  {
    name: "ociVersion missing",
    mutate: (d) => delete d.ociVersion,
    expect: [["/ociVersion", 'is required and must be a runtime-spec version string such as "1.2.0"']],
  },
  { name: "ociVersion is a number", mutate: (d) => (d.ociVersion = 1.2), expect: [["/ociVersion", 'must be a runtime-spec version string such as "1.2.0", not 1.2']] },
  { name: "root missing", mutate: (d) => delete d.root, expect: [["/root", "is required and must be an object {path, readonly}"]] },
  {
    name: "root.path missing",
    mutate: (d) => delete d.root.path,
    expect: [["/root/path", "is required and must be the root filesystem's path (absolute, or relative to the bundle)"]],
  },
  { name: "root.readonly is a string", mutate: (d) => (d.root.readonly = "yes"), expect: [["/root/readonly", 'must be true or false, not a string ("yes")']] },
  { name: "process.args empty", mutate: (d) => (d.process.args = []), expect: [["/process/args", "must be a non-empty array of strings"]] },
  { name: "process.args is a string", mutate: (d) => (d.process.args = "sh -c true"), expect: [["/process/args", 'must be a non-empty array of strings, not a string ("sh -c true")']] },
  { name: "process.args item is a number", mutate: (d) => (d.process.args = ["sleep", 5]), expect: [["/process/args/1", "must be a string, not 5"]] },
  { name: "process.user missing", mutate: (d) => delete d.process.user, expect: [["/process/user", "is required and must be an object {uid, gid, umask, additionalGids}"]] },
  { name: "process.cwd missing", mutate: (d) => delete d.process.cwd, expect: [["/process/cwd", "is required and must be an absolute path (the working directory)"]] },
  { name: "uid negative", mutate: (d) => (d.process.user.uid = -1), expect: [["/process/user/uid", "must be a user or group id from 0 to 4294967295, not -1"]] },
  { name: "uid huge", mutate: (d) => (d.process.user.gid = 4294967296), expect: [["/process/user/gid", "must be a user or group id from 0 to 4294967295, not 4294967296"]] },
  {
    name: "namespace type unknown",
    mutate: (d) => (d.linux.namespaces[2].type = "pidd"),
    expect: [["/linux/namespaces/2/type", '"pidd" is not one of pid, network, mount, ipc, uts, user, cgroup, time']],
  },
  {
    name: "seccomp defaultAction unknown",
    mutate: (d) => (d.linux.seccomp = { defaultAction: "SCMP_ACT_DENY" }),
    expect: [["/linux/seccomp/defaultAction", /^"SCMP_ACT_DENY" is not one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, .*SCMP_ACT_NOTIFY$/]],
  },
  {
    name: "seccomp architecture unknown",
    mutate: (d) => (d.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_AMD64"] }),
    expect: [["/linux/seccomp/architectures/1", /^"SCMP_ARCH_AMD64" is not one of SCMP_ARCH_X86, SCMP_ARCH_X86_64, /]],
  },
  {
    name: "seccomp flag unknown",
    mutate: (d) => (d.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_NEW_LISTENER"] }),
    expect: [["/linux/seccomp/flags/0", /^"SECCOMP_FILTER_FLAG_NEW_LISTENER" is not one of SECCOMP_FILTER_FLAG_TSYNC, /]],
  },
  {
    name: "seccomp argument operator and index",
    mutate: (d) =>
      (d.linux.seccomp = {
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ names: ["clone"], action: "SCMP_ACT_ERRNO", args: [{ index: 6, value: 1, op: "SCMP_CMP_MASKED" }] }],
      }),
    expect: [
      ["/linux/seccomp/syscalls/0/args/0/index", "must be a syscall argument index from 0 to 5, not 6"],
      ["/linux/seccomp/syscalls/0/args/0/op", /^"SCMP_CMP_MASKED" is not one of SCMP_CMP_NE, .*SCMP_CMP_MASKED_EQ$/],
    ],
  },
  {
    name: "seccomp rule without names",
    mutate: (d) => (d.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: [], action: "SCMP_ACT_ERRNO" }] }),
    expect: [["/linux/seccomp/syscalls/0/names", "must be a non-empty array of syscall names"]],
  },
  {
    name: "huge memory limit",
    mutate: (d) => (d.linux.resources.memory = { limit: 1e30 }),
    expect: [["/linux/resources/memory/limit", "must be an integer from -9223372036854775808 to 9223372036854775807, not 1e+30"]],
  },
  {
    name: "number too large for a double",
    text: base.replace('"hard": 1024', '"hard": 1e400'),
    expect: [["/process/rlimits/0/hard", "must be an integer from 0 to 18446744073709551615, not a number too large to represent"]],
  },
  {
    name: "fractional number",
    mutate: (d) => (d.linux.resources.pids = { limit: 10.5 }),
    expect: [["/linux/resources/pids/limit", "must be an integer from -9223372036854775808 to 9223372036854775807, not 10.5"]],
  },
  { name: "mounts is an object", mutate: (d) => (d.mounts = { "/proc": {} }), expect: [["/mounts", "must be an array of mount objects, not an object"]] },
  { name: "mount without destination", mutate: (d) => delete d.mounts[1].destination, expect: [["/mounts/1/destination", "is required and must be an absolute path inside the container"]] },
  {
    name: "device type unknown",
    mutate: (d) => (d.linux.devices = [{ path: "/dev/fuse", type: "x", major: 10, minor: 229 }]),
    expect: [["/linux/devices/0/type", '"x" is not one of c, b, u, p']],
  },
  {
    name: "rootfsPropagation unknown",
    mutate: (d) => (d.linux.rootfsPropagation = "sharedd"),
    expect: [["/linux/rootfsPropagation", /^"sharedd" is not one of "" \(empty\), private, rprivate, shared, /]],
  },
  {
    name: "hook timeout zero",
    mutate: (d) => (d.hooks = { poststart: [{ path: "/bin/true", timeout: 0 }] }),
    expect: [["/hooks/poststart/0/timeout", "must be a number of seconds greater than zero, not 0"]],
  },
  { name: "annotation value not a string", mutate: (d) => (d.annotations = { "org.example.n": 5 }), expect: [["/annotations/org.example.n", "must be a string, not 5"]] },
  {
    name: "hugepage size malformed",
    mutate: (d) => (d.linux.resources.hugepageLimits = [{ pageSize: "2M", limit: 1 }]),
    expect: [["/linux/resources/hugepageLimits/0/pageSize", 'must be a page size such as "2MB" or "1GB", not "2M"']],
  },
  {
    name: "cpu list malformed",
    mutate: (d) => (d.linux.resources.cpu = { cpus: "0-3,a" }),
    expect: [["/linux/resources/cpu/cpus", 'must be a list of numbers and ranges such as "0-3,8", not "0-3,a"']],
  },
  { name: "oomScoreAdj out of range", mutate: (d) => (d.process.oomScoreAdj = 2000), expect: [["/process/oomScoreAdj", "must be an integer from -1000 to 1000, not 2000"]] },
  {
    name: "ioPriority class unknown",
    mutate: (d) => (d.process.ioPriority = { class: "IOPRIO_CLASS_NONE", priority: 9 }),
    expect: [
      ["/process/ioPriority/class", '"IOPRIO_CLASS_NONE" is not one of IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE'],
      ["/process/ioPriority/priority", "must be an integer from 0 (highest) to 7 (lowest), not 9"],
    ],
  },
  {
    name: "scheduler policy unknown",
    mutate: (d) => (d.process.scheduler = { policy: "SCHED_NORMAL" }),
    expect: [["/process/scheduler/policy", /^"SCHED_NORMAL" is not one of SCHED_OTHER, /]],
  },
  {
    name: "memoryPolicy mode unknown",
    mutate: (d) => (d.linux.memoryPolicy = { mode: "MPOL_FOO" }),
    expect: [["/linux/memoryPolicy/mode", /^"MPOL_FOO" is not one of MPOL_DEFAULT, /]],
  },
  { name: "personality domain unknown", mutate: (d) => (d.linux.personality = { domain: "LINUX64" }), expect: [["/linux/personality/domain", '"LINUX64" is not one of LINUX, LINUX32']] },
  {
    name: "timeOffsets value of the wrong type",
    mutate: (d) => {
      d.linux.namespaces.push({ type: "time" });
      d.linux.timeOffsets = { monotonic: { secs: "10" } };
    },
    expect: [["/linux/timeOffsets/monotonic/secs", 'must be an integer from -9223372036854775808 to 9223372036854775807, not a string ("10")']],
  },
  { name: "intelRdt schemata wrong type", mutate: (d) => (d.linux.intelRdt = { schemata: 5 }), expect: [["/linux/intelRdt/schemata", "must be a string or an array of strings, not 5"]] },
  {
    name: "deep nesting in a spec field",
    text: base.replace('"args": [\n\t\t\t"sh"\n\t\t]', `"args": [${nested(5000, '"sh"')}]`),
    expect: [["/process/args/0", "must be a string, not an array"]],
  },

  // ---- semantic: absolute paths ----
  { name: "empty mount destination", mutate: (d) => (d.mounts[0].destination = ""), expect: [["/mounts/0/destination", "must be a path inside the container, not an empty string"]] },
  { name: "relative cwd", mutate: (d) => (d.process.cwd = "home/user"), expect: [["/process/cwd", 'must be an absolute path (the working directory), not "home/user"']] },
  {
    name: "relative hook path",
    mutate: (d) => (d.hooks = { createRuntime: [{ path: "hooks/netns" }] }),
    expect: [["/hooks/createRuntime/0/path", "must be an absolute path (the hook's executable on the host), not \"hooks/netns\""]],
  },
  {
    name: "relative device path",
    mutate: (d) => (d.linux.devices = [{ path: "dev/fuse", type: "c", major: 10, minor: 229 }]),
    expect: [["/linux/devices/0/path", 'must be an absolute path (inside the container), not "dev/fuse"']],
  },
  {
    name: "relative masked and readonly paths",
    mutate: (d) => {
      d.linux.maskedPaths[3] = "proc/keys";
      d.linux.readonlyPaths[0] = "";
    },
    expect: [
      ["/linux/maskedPaths/3", 'must be an absolute path (inside the container), not "proc/keys"'],
      ["/linux/readonlyPaths/0", "must be an absolute path (inside the container), not an empty string"],
    ],
  },
  {
    name: "relative namespace path",
    mutate: (d) => (d.linux.namespaces[1].path = "netns/blue"),
    expect: [["/linux/namespaces/1/path", 'must be an absolute path (a namespace file such as /proc/1234/ns/net), not "netns/blue"']],
  },

  // ---- semantic: namespaces and id mappings ----
  {
    name: "duplicate namespace type",
    mutate: (d) => d.linux.namespaces.push({ type: "network", path: "/var/run/netns/x" }),
    expect: [["/linux/namespaces/5/type", 'duplicate namespace type "network" (already listed at /linux/namespaces/1)']],
  },
  {
    name: "new user namespace without mappings",
    mutate: (d) => d.linux.namespaces.push({ type: "user" }),
    expect: [
      ["/linux/uidMappings", /^is required when the container gets a new user namespace/],
      ["/linux/gidMappings", /^is required when the container gets a new user namespace/],
    ],
  },
  {
    name: "mappings without a user namespace",
    mutate: (d) => (d.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]),
    expect: [["/linux/uidMappings", 'is set but the container has no user namespace: add {"type": "user"} to linux.namespaces or remove the mappings']],
  },
  {
    name: "overlapping and empty mappings",
    mutate: (d) => {
      d.linux.namespaces.push({ type: "user" });
      d.linux.uidMappings = [
        { containerID: 0, hostID: 100000, size: 1000 },
        { containerID: 500, hostID: 300000, size: 10 },
      ];
      d.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 0 }];
    },
    expect: [
      ["/linux/uidMappings/1", "container ids 500-509 overlap entry 0 (0-999); the kernel refuses overlapping mappings"],
      ["/linux/gidMappings/0/size", "must be at least 1"],
    ],
  },
  {
    name: "process uid not mapped",
    mutate: (d) => {
      d.linux.namespaces.push({ type: "user" });
      d.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }];
      d.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 1000 }];
      d.process.user.uid = 1000;
    },
    expect: [["/process/user/uid", "uid 1000 is not mapped by linux.uidMappings, so the process cannot run as it inside the user namespace"]],
  },
  {
    name: "no mount namespace",
    mutate: (d) => (d.linux.namespaces = d.linux.namespaces.filter((n: Json) => n.type !== "mount")),
    expect: [["/linux/namespaces", /^must include a mount namespace/]],
  },
  {
    name: "hostname without uts namespace",
    mutate: (d) => (d.linux.namespaces = d.linux.namespaces.filter((n: Json) => n.type !== "uts")),
    expect: [["/hostname", 'setting the hostname needs a uts namespace, or it would change the host\'s: add {"type": "uts"} to linux.namespaces']],
  },
  {
    name: "time offsets without a time namespace, unknown clock",
    mutate: (d) => (d.linux.timeOffsets = { realtime: { secs: 1 } }),
    expect: [
      ["/linux/timeOffsets", 'needs a new time namespace: add {"type": "time"} to linux.namespaces'],
      ["/linux/timeOffsets/realtime", '"realtime" is not a clock a time namespace can offset: use boottime or monotonic'],
    ],
  },

  // ---- semantic: ociVersion ----
  { name: "ociVersion 2.0.0", mutate: (d) => (d.ociVersion = "2.0.0"), expect: [["/ociVersion", "runtime-spec 2.0.0 is not supported: tsrun implements runtime-spec 1.x (1.0.0 to 1.3.x)"]] },
  { name: "ociVersion garbage", mutate: (d) => (d.ociVersion = "latest"), expect: [["/ociVersion", '"latest" is not a SemVer version such as "1.2.0"']] },
  { name: "ociVersion 0.x", mutate: (d) => (d.ociVersion = "0.5.0-dev"), expect: [["/ociVersion", /^runtime-spec 0\.5\.0-dev is not supported/]] },

  // ---- semantic: process ----
  { name: "process present without args", mutate: (d) => delete d.process.args, expect: [["/process/args", /^is required and must be a non-empty array of strings/]] },
  { name: "process missing", mutate: (d) => delete d.process, expect: [["/process", "is required: it says which program the container runs"]] },
  { name: "empty program name", mutate: (d) => (d.process.args = ["", "x"]), expect: [["/process/args/0", "must not be empty: it names the program to run"]] },
  { name: "env entry without =", mutate: (d) => d.process.env.push("DEBUG"), expect: [["/process/env/2", 'must have the form KEY=value, not "DEBUG"']] },
  { name: "NUL in an argument", mutate: (d) => d.process.args.push("a\u0000b"), expect: [["/process/args/1", "contains a NUL character (\\u0000), which cannot be passed to the kernel"]] },
  {
    name: "rlimit type unknown",
    mutate: (d) => (d.process.rlimits[0].type = "RLIMIT_NOFILES"),
    expect: [["/process/rlimits/0/type", /^"RLIMIT_NOFILES" is not a known rlimit \(did you mean "RLIMIT_NOFILE"\?\); known: RLIMIT_CPU, /]],
  },
  {
    name: "rlimit soft above hard",
    mutate: (d) => (d.process.rlimits[0].soft = 4096),
    expect: [["/process/rlimits/0/soft", "the soft limit (4096) must not be greater than the hard limit (1024)"]],
  },
  {
    name: "duplicate rlimit",
    mutate: (d) => d.process.rlimits.push({ type: "RLIMIT_NOFILE", soft: 1, hard: 2 }),
    expect: [["/process/rlimits/1/type", "duplicate rlimit RLIMIT_NOFILE (already set at /process/rlimits/0)"]],
  },
  {
    name: "capability unknown",
    mutate: (d) => d.process.capabilities.bounding.push("CAP_SYS_ADMN", "NET_ADMIN", "sys_admin", "CAP_FUTURE_THING"),
    expect: [
      ["/process/capabilities/bounding/3", '"CAP_SYS_ADMN" is not a known capability (did you mean "CAP_SYS_ADMIN"?)'],
      ["/process/capabilities/bounding/4", '"NET_ADMIN" is not a known capability (did you mean "CAP_NET_ADMIN"?)'],
      ["/process/capabilities/bounding/5", '"sys_admin" is not a known capability (did you mean "CAP_SYS_ADMIN"?)'],
      ["/process/capabilities/bounding/6", '"CAP_FUTURE_THING" is not a capability tsrun knows (newest known: CAP_CHECKPOINT_RESTORE): it is ignored', "warning"],
    ],
  },
  {
    name: "effective capability not permitted",
    mutate: (d) => d.process.capabilities.effective.push("CAP_CHOWN"),
    expect: [["/process/capabilities/effective/3", /^CAP_CHOWN is effective but not permitted/]],
  },
  {
    name: "scheduler values out of range",
    mutate: (d) => (d.process.scheduler = { policy: "SCHED_FIFO", priority: 0, nice: 30, runtime: 5 }),
    expect: [
      ["/process/scheduler/priority", "must be from 1 to 99 for SCHED_FIFO, not 0"],
      ["/process/scheduler/nice", "must be from -20 to 19, not 30"],
      ["/process/scheduler/runtime", "is only used with SCHED_DEADLINE, not with SCHED_FIFO"],
    ],
  },

  // ---- semantic: sysctls ----
  {
    name: "net sysctl without network namespace",
    mutate: (d) => {
      d.linux.namespaces = d.linux.namespaces.filter((n: Json) => n.type !== "network");
      d.linux.sysctl = { "net.ipv4.ip_forward": "1" };
    },
    expect: [["/linux/sysctl/net.ipv4.ip_forward", /^sysctl net\.ipv4\.ip_forward needs a network namespace/]],
  },
  {
    name: "ipc sysctls without ipc namespace",
    mutate: (d) => {
      d.linux.namespaces = d.linux.namespaces.filter((n: Json) => n.type !== "ipc");
      d.linux.sysctl = { "kernel.shmmax": "1", "fs.mqueue.msg_max": "10" };
    },
    expect: [
      ["/linux/sysctl/kernel.shmmax", /^sysctl kernel\.shmmax needs an ipc namespace/],
      ["/linux/sysctl/fs.mqueue.msg_max", /^sysctl fs\.mqueue\.msg_max needs an ipc namespace/],
    ],
  },
  {
    name: "host-wide and hostname sysctls",
    mutate: (d) => (d.linux.sysctl = { "vm.swappiness": "10", "kernel.hostname": "x", "net/../../etc": "1" }),
    expect: [
      ["/linux/sysctl/vm.swappiness", /^sysctl vm\.swappiness is not namespaced: setting it would change the whole host/],
      ["/linux/sysctl/kernel.hostname", 'sysctl kernel.hostname is not allowed: set the "hostname" field instead'],
      ["/linux/sysctl/net~1..~1..~1etc", /is not a valid sysctl name/],
    ],
  },

  // ---- semantic: cgroups path, devices, resources ----
  {
    name: "cgroupsPath not in systemd form",
    systemd: true,
    mutate: (d) => (d.linux.cgroupsPath = "/docker/abc"),
    expect: [["/linux/cgroupsPath", 'with --systemd-cgroup it must have the form slice:prefix:name, such as "system.slice:docker:abc123", not "/docker/abc"']],
  },
  { name: "cgroupsPath with ..", mutate: (d) => (d.linux.cgroupsPath = "../../escape"), expect: [["/linux/cgroupsPath", /^must not contain "\.\."/]] },
  {
    name: "char device without major/minor",
    mutate: (d) => (d.linux.devices = [{ path: "/dev/fuse", type: "c" }]),
    expect: [
      ["/linux/devices/0/major", "is required for a character device"],
      ["/linux/devices/0/minor", "is required for a character device"],
    ],
  },
  {
    name: "block IO weight device without weight",
    mutate: (d) => (d.linux.resources.blockIO = { weightDevice: [{ major: 8, minor: 0 }] }),
    expect: [["/linux/resources/blockIO/weightDevice/0", "must set weight, leafWeight or both"]],
  },
  {
    name: "unified key escaping the cgroup",
    mutate: (d) => (d.linux.resources.unified = { "../memory.max": "1" }),
    expect: [["/linux/resources/unified/..~1memory.max", /is not a cgroup file name/]],
  },

  // ---- semantic: mounts ----
  { name: "bind mount without source", mutate: (d) => d.mounts.push({ destination: "/data", type: "bind", options: ["rbind"] }), expect: [["/mounts/7/source", /^is required for a bind mount/]] },
  {
    name: "idmapped mount with only uid mappings",
    mutate: (d) => d.mounts.push({ destination: "/data", source: "/srv", type: "bind", uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }),
    expect: [["/mounts/7/gidMappings", "is required too: an idmapped mount needs both uidMappings and gidMappings"]],
  },

  // ---- semantic: seccomp ----
  {
    name: "errnoRet with an action that has no errno",
    mutate: (d) => (d.linux.seccomp = { defaultAction: "SCMP_ACT_KILL", defaultErrnoRet: 1, syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", errnoRet: 1 }] }),
    expect: [
      ["/linux/seccomp/defaultErrnoRet", "is only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not with SCMP_ACT_KILL"],
      ["/linux/seccomp/syscalls/0/errnoRet", "is only allowed with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not with SCMP_ACT_ALLOW"],
    ],
  },
  {
    name: "notify without a listener",
    mutate: (d) => (d.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", listenerMetadata: "x", syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }] }),
    expect: [
      ["/linux/seccomp/listenerPath", /^is required when a rule uses SCMP_ACT_NOTIFY/],
      ["/linux/seccomp/listenerMetadata", "must not be set without listenerPath"],
    ],
  },
  {
    name: "unknown syscall is a warning",
    mutate: (d) => (d.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["read", "mkdirr", "frobnicate"], action: "SCMP_ACT_ERRNO" }] }),
    expect: [
      ["/linux/seccomp/syscalls/0/names/1", 'unknown syscall "mkdirr" (did you mean "mkdir"?): the rule ignores it', "warning"],
      ["/linux/seccomp/syscalls/0/names/2", 'unknown syscall "frobnicate": the rule ignores it', "warning"],
    ],
  },

  // ---- semantic: other linux fields ----
  { name: "memoryPolicy bind without nodes", mutate: (d) => (d.linux.memoryPolicy = { mode: "MPOL_BIND" }), expect: [["/linux/memoryPolicy/nodes", 'is required with MPOL_BIND: list at least one memory node, such as "0"']] },
  {
    name: "netDevices without network namespace, bad name",
    mutate: (d) => {
      d.linux.namespaces = d.linux.namespaces.filter((n: Json) => n.type !== "network");
      d.linux.netDevices = { "eth/0": {} };
    },
    expect: [
      ["/linux/netDevices", 'moving network devices needs a network namespace: add {"type": "network"} to linux.namespaces'],
      ["/linux/netDevices/eth~10", /is not a valid network interface name/],
    ],
  },
  {
    name: "likely typos are warnings",
    mutate: (d) => {
      d.linux.namespace = [];
      d.procces = {};
      d.process.capabilities.bounds = [];
    },
    expect: [
      ["/linux/namespace", 'unknown property "namespace" is ignored (did you mean "namespaces"?)', "warning"],
      ["/procces", 'unknown property "procces" is ignored (did you mean "process"?)', "warning"],
      ["/process/capabilities/bounds", 'unknown property "bounds" is ignored', "warning"],
    ],
  },
  { name: "ociVersion newer minor is only a warning", mutate: (d) => (d.ociVersion = "1.5.0"), expect: [["/ociVersion", /^runtime-spec 1\.5\.0 is newer than the 1\.3 tsrun knows/, "warning"]] },
];

t.test("broken configs", async (t) => {
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const problems = problemsFor(c);
      for (const [pointer, message, severity] of c.expect) hasProblem(t, problems, pointer, message, severity ?? "error");
      if (c.expect.every(([, , s]) => s === "warning")) t.same(errors(problems), [], "only warnings");
      for (const p of problems) t.equal(p.file, FILE);
    });
  }
});

t.test("there are at least 40 broken-config cases with an error", async (t) => {
  t.ok(cases.filter((c) => c.expect.some(([, , s]) => s !== "warning")).length >= 40);
});

t.test("every problem at once", async (t) => {
  const d = runcSpec();
  d.ociVersion = "3";
  d.process.args = [];
  d.process.cwd = "relative";
  d.mounts[2].destination = "";
  d.linux.namespaces.push({ type: "pid" });
  d.linux.sysctl = { "vm.overcommit_memory": "1" };
  d.process.rlimits[0].type = "RLIMIT_BOGUS";
  const problems = validateConfig(d, FILE);
  t.same(
    errors(problems)
      .map((p) => p.pointer)
      .sort(),
    ["/linux/namespaces/5/type", "/linux/sysctl/vm.overcommit_memory", "/mounts/2/destination", "/ociVersion", "/process/args", "/process/cwd", "/process/rlimits/0/type"],
  );
});

t.test("ajv's anyOf/oneOf noise collapses into one message", async (t) => {
  const d = runcSpec();
  d.linux.intelRdt = { schemata: [1] };
  const problems = validateConfig(d, FILE);
  t.same(
    problems.map((p) => `${p.pointer}: ${p.message}`),
    ["/linux/intelRdt/schemata/0: must be a string, not 1"],
  );
});

t.test("loadBundleConfig throws a SpecError listing every error, and returns warnings", async (t) => {
  const d = runcSpec();
  d.process.cwd = "x";
  d.linux.namespaces.push({ type: "uts" });
  const dir = tempBundle(t, d);
  const e = t.throws(() => loadBundleConfig(dir)) as unknown as SpecError;
  t.ok(e instanceof SpecError);
  t.equal(errors(e.problems).length, 2);
  t.match(e.message, /config\.json: \/process\/cwd: must be an absolute path/);
  t.match(e.message, /config\.json: \/linux\/namespaces\/5\/type: duplicate namespace type "uts"/);

  const ok = runcSpec();
  ok.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["no_such_call"], action: "SCMP_ACT_ERRNO" }] };
  const loaded = loadBundleConfig(tempBundle(t, ok));
  t.equal(warnings(loaded.warnings).length, 1);
});

t.test("loadBundleConfig: missing config.json and bad JSON", async (t) => {
  const empty = tempBundle(t, undefined);
  const e1 = t.throws(() => loadBundleConfig(empty)) as unknown as SpecError;
  t.match(e1.problems[0].message, /^cannot read bundle's config\.json: no such file/);
  const bad = tempBundle(t, '{"ociVersion": "1.0.2",\n');
  const e2 = t.throws(() => loadBundleConfig(bad)) as unknown as SpecError;
  t.match(e2.problems[0].message, /^invalid JSON at line 2, column 1: unexpected end of file/);
});

t.test("systemd-looking cgroupsPath without --systemd-cgroup is a warning", async (t) => {
  const d = runcSpec();
  d.linux.cgroupsPath = "system.slice:docker:abc";
  const problems = validateConfig(d, FILE);
  t.same(errors(problems), []);
  hasProblem(t, problems, "/linux/cgroupsPath", /looks like systemd's slice:prefix:name form/, "warning");
});
