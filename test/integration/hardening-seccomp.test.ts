// Seccomp and syscalls newer than the profile (issue 19, item 10): with an errno default action, a
// syscall numbered above every syscall the profile names answers ENOSYS, so that libc falls back to
// the older call (clone3 -> clone, faccessat2 -> faccessat); an unlisted older syscall still gets
// the default errno. As root, side by side with runc.
import t from "tap";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeBundle } from "../../bundle-fixtures/rootfs.js";
import { Runtime } from "../lib/tsrun.js";
import { runcIfInstalled } from "../lib/runc.js";

const work = mkdtempSync(join(tmpdir(), "tsrun-hardening-seccomp-"));
chmodSync(work, 0o755);
const rt = new Runtime();
const runc = runcIfInstalled();
t.teardown(() => {
  rt.cleanup();
  runc?.cleanup();
  rmSync(work, { recursive: true, force: true });
});

const EPERM = 1;
const ENOSYS = 38;
const x86_64 = process.arch === "x64";

t.test("an errno default answers ENOSYS for syscalls newer than the profile", { skip: !x86_64 && "the syscall numbers below are x86_64's" }, async (t) => {
  // What the static probe needs to start, print and exit, and what runc's init (Go) does after
  // loading the filter; nothing newer than getrandom (318).
  const allowed = [
    "execve", "open", "openat", "statfs", "fstatfs", "close", "fstat", "newfstatat", "fcntl", "futex", "read",
    "nanosleep", "arch_prctl", "set_tid_address", "write", "writev", "exit", "exit_group", "rt_sigreturn", "brk",
    "mmap", "munmap", "mprotect", "madvise", "getdents64", "readlinkat", "lseek", "getpid", "gettid", "tgkill",
    "sched_yield", "rt_sigprocmask", "rt_sigaction", "sigaltstack", "clone", "epoll_ctl", "epoll_pwait",
    "epoll_create1", "pipe2", "dup3", "prlimit64", "getrandom", "capget", "capset", "prctl", "setresuid", "setresgid",
  ];
  const getpid = 111; // getpgrp: older than getrandom, not allowed: the default errno
  const probes = [getpid, 332 /* statx */, 435 /* clone3 */, 439 /* faccessat2 */, 231 /* exit_group itself is allowed */];
  const b = makeBundle(join(work, "enosys"), {
    rootfs: "probe",
    args: ["/probe", "--syscalls", ...probes.slice(0, 4).map(String)],
    mutate: (c) => {
      c.linux!.seccomp = {
        defaultAction: "SCMP_ACT_ERRNO",
        defaultErrnoRet: EPERM,
        architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        syscalls: [{ names: allowed, action: "SCMP_ACT_ALLOW" }],
      };
    },
  });
  const parse = (out: string) => Object.fromEntries(out.trim().split("\n").filter(Boolean).map((l) => l.split("=").map(Number)));
  const id = `enosys-${process.pid}`;
  const r = rt.run(["run", "--bundle", b.bundle, id]);
  t.equal(r.code, 0, r.stderr);
  const got = parse(r.stdout);
  t.equal(got[getpid], EPERM, "getpgrp (older than the profile's newest, not allowed): the default errno EPERM");
  t.equal(got[332], ENOSYS, "statx (newer than getrandom): ENOSYS");
  t.equal(got[435], ENOSYS, "clone3: ENOSYS, so libc falls back to clone");
  t.equal(got[439], ENOSYS, "faccessat2: ENOSYS, so libc falls back to faccessat");

  // A profile that names a new syscall moves the line: faccessat2 named (denied by its own rule)
  // makes everything up to 439 "known", so clone3 (435) gets the default errno.
  const b2 = makeBundle(join(work, "enosys-named"), {
    rootfs: "probe",
    args: ["/probe", "--syscalls", "435", "439", "448"],
    mutate: (c) => {
      c.linux!.seccomp = {
        defaultAction: "SCMP_ACT_ERRNO",
        architectures: ["SCMP_ARCH_X86_64"],
        syscalls: [
          { names: allowed, action: "SCMP_ACT_ALLOW" },
          { names: ["faccessat2"], action: "SCMP_ACT_ERRNO", errnoRet: 13 },
        ],
      };
    },
  });
  const r2 = rt.run(["run", "--bundle", b2.bundle, `${id}-2`]);
  t.equal(r2.code, 0, r2.stderr);
  const got2 = parse(r2.stdout);
  t.equal(got2[435], EPERM, "clone3, older than the newest named syscall: the default errno");
  t.equal(got2[439], 13, "faccessat2: its own rule's errno");
  t.equal(got2[448], ENOSYS, "process_mrelease (448), newer than faccessat2: ENOSYS");

  // Without `architectures` runc compares nothing (every unlisted syscall gets the default errno):
  // the same here.
  const b3 = makeBundle(join(work, "enosys-no-arches"), {
    rootfs: "probe",
    args: ["/probe", "--syscalls", "435", "439"],
    mutate: (c) => {
      c.linux!.seccomp = { defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: allowed, action: "SCMP_ACT_ALLOW" }] };
    },
  });
  const r3 = rt.run(["run", "--bundle", b3.bundle, `${id}-3`]);
  t.equal(r3.code, 0, r3.stderr);
  const got3 = parse(r3.stdout);
  t.same(got3, { 435: EPERM, 439: EPERM }, "no architectures: clone3 and faccessat2 get the default errno");

  if (runc) {
    for (const [bundle, name, want] of [[b, "first", got], [b2, "second", got2], [b3, "third", got3]] as const) {
      const rr = runc.run(["run", "--bundle", bundle.bundle, `${id}-runc-${name}`]);
      runc.run(["delete", "--force", `${id}-runc-${name}`]);
      t.same(rr.code === 0 ? parse(rr.stdout) : rr.stderr, want, `runc 1.1.5 answers the same (${name} profile): ${rr.stdout.trim().replace(/\n/g, " ")}`);
    }
  }
});

t.test("other default actions are left as they are", async (t) => {
  // ALLOW default: nothing to fall back from; ERRNO with ENOSYS itself: already ENOSYS.
  const b = makeBundle(join(work, "allow"), {
    rootfs: "probe",
    args: ["/probe", "--syscalls", "439"],
    mutate: (c) => {
      c.linux!.seccomp = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["getpid"], action: "SCMP_ACT_ERRNO" }] };
    },
  });
  const r = rt.run(["run", "--bundle", b.bundle, `allow-${process.pid}`]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), "439=14", "faccessat2 runs (EFAULT from its NULL path) under an allow default");
});
