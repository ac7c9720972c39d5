// What a runtime must refuse so that a container's /proc cannot be faked or sidestepped, and the
// seccomp ENOSYS rule libc relies on: behaviours runc has (runc 1.1.5 on the development machine)
// that the specification leaves to the runtime, kept here so both columns show them.
//   - a mount whose destination leads to /proc (any spelling, a symlink in the rootfs) that is not
//     a procfs is refused; so is a mount inside /proc through a symlink
//   - proc and sysfs are not mounted over a symlink
//   - with --no-pivot a process in the container cannot mount a fresh (unmasked) proc
//   - seccomp: with an errno default, syscalls newer than the profile's newest answer ENOSYS
import t from "tap";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Env, type OciConfig } from "./lib.js";

const env = new Env("security");
t.teardown(() => env.cleanup());

const fake = env.dir("fakeproc");
writeFileSync(join(fake, "keys"), "FAKE\n");

t.test("a bind whose destination leads to /proc is refused", (t) => {
  const cases: { dest: string; link?: [string, string] }[] = [
    { dest: "/x/../proc" }, { dest: "/proc/." }, { dest: "//proc" }, { dest: "/proc/" },
    { dest: "/myproc", link: ["/proc", "myproc"] },
    { dest: "/kernel", link: ["/proc/sys/kernel", "kernel"] },
  ];
  for (const c of cases) {
    const b = env.bundle({ args: ["/probe", "read", "/proc/keys"], mutate: (cfg: OciConfig) => cfg.mounts!.push({ destination: c.dest, type: "bind", source: fake, options: ["rbind"] }) });
    if (c.link) symlinkSync(c.link[0], join(b.rootfs, c.link[1]));
    const { res, report } = env.run(b);
    t.not(res.status, 0, `${c.dest}${c.link ? ` (${c.link[1]} -> ${c.link[0]})` : ""}: refused (${res.stderr.trim().split("\n").pop()})`);
    t.equal(report, null, "the process did not run");
  }
  t.end();
});

t.test("proc and sysfs are not mounted over a symlink", (t) => {
  for (const dir of ["proc", "sys"]) {
    const b = env.bundle({ args: ["/probe"] });
    rmSync(join(b.rootfs, dir), { recursive: true, force: true });
    mkdirSync(join(b.rootfs, `my${dir}`));
    symlinkSync(`/my${dir}`, join(b.rootfs, dir));
    const { res } = env.run(b);
    t.not(res.status, 0, `/${dir} -> /my${dir}: refused`);
    t.match(res.stderr, /ordinary directory/, "the error says it must be an ordinary directory");
  }
  t.end();
});

t.test("--no-pivot: a process in the container cannot mount a fresh proc", (t) => {
  const b = env.bundle({
    rootfs: "busybox",
    args: ["sh", "-c", 'busybox unshare -mrpf sh -c "busybox mount -t proc none /proc && echo mounted" 2>&1; echo rc=$?'],
    mutate: (cfg: OciConfig) => {
      for (const set of ["bounding", "permitted", "effective"] as const) cfg.process!.capabilities![set]!.push("CAP_SETFCAP");
    },
  });
  const { res } = env.run(b, env.id("nopivot"), ["--no-pivot"]);
  t.equal(res.status, 0, res.stderr);
  t.match(res.stdout, /permission denied/, "mount: permission denied");
  t.notMatch(res.stdout, /mounted/);
  t.end();
});

t.test("seccomp: an errno default answers ENOSYS for syscalls newer than the profile", { skip: process.arch !== "x64" && "x86_64 syscall numbers" }, (t) => {
  const allowed = [
    "execve", "open", "openat", "statfs", "fstatfs", "close", "fstat", "newfstatat", "fcntl", "futex", "read",
    "nanosleep", "arch_prctl", "set_tid_address", "write", "writev", "exit", "exit_group", "rt_sigreturn", "brk",
    "mmap", "munmap", "mprotect", "madvise", "getdents64", "readlinkat", "lseek", "getpid", "gettid", "tgkill",
    "sched_yield", "rt_sigprocmask", "rt_sigaction", "sigaltstack", "clone", "epoll_ctl", "epoll_pwait",
    "epoll_create1", "pipe2", "dup3", "prlimit64", "getrandom", "capget", "capset", "prctl", "setresuid", "setresgid",
  ];
  const b = env.bundle({
    args: ["/probe", "--syscalls", "111", "435", "439"],
    mutate: (cfg: OciConfig) => {
      cfg.linux!.seccomp = { defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64"], syscalls: [{ names: allowed, action: "SCMP_ACT_ALLOW" }] };
    },
  });
  const { res } = env.run(b);
  t.equal(res.status, 0, res.stderr);
  t.equal(res.stdout.trim(), "111=1\n435=38\n439=38", "getpgrp (older, unlisted): EPERM; clone3 and faccessat2 (newer than getrandom): ENOSYS");
  t.end();
});
