/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/unit/compile.test.ts > TAP > runc's default config compiles to the expected program > plan listing 1`] = `
  0  OPEN_FIFO        open /run/tsrun/x/exec.fifo                      exec.fifo
  1  CLONE            create namespaces                                linux.namespaces
  2  WAIT_GO          wait for uid/gid maps and cgroup                 runtime
  3  SETSID           create a session                                 runtime
  4  MOUNT            set propagation of /                             linux.rootfsPropagation
  5  MOUNT            bind /b/rootfs onto itself                       root.path
  6  OPEN_ROOT        open /b/rootfs                                   root.path
  7  MOUNT            mount proc on /proc                              mounts[0]
  8  MOUNT            mount tmpfs on /dev                              mounts[1]
  9  MOUNT            mount devpts on /dev/pts                         mounts[2]
 10  MOUNT            mount tmpfs on /sys/fs/cgroup                    mounts[3]
 11  MOUNT            bind cgroup memory on /sys/fs/cgroup/memory      mounts[3]
 12  MOUNT            bind cgroup pids on /sys/fs/cgroup/pids          mounts[3]
 13  MOUNT            remount /sys/fs/cgroup read-only                 mounts[3]
 14  MKNOD_IN_ROOT    mknod /dev/null                                  default devices
 15  MKNOD_IN_ROOT    mknod /dev/zero                                  default devices
 16  MKNOD_IN_ROOT    mknod /dev/full                                  default devices
 17  MKNOD_IN_ROOT    mknod /dev/random                                default devices
 18  MKNOD_IN_ROOT    mknod /dev/urandom                               default devices
 19  MKNOD_IN_ROOT    mknod /dev/tty                                   default devices
 20  SYMLINK_IN_ROOT  symlink /dev/fd -> /proc/self/fd                 default devices
 21  SYMLINK_IN_ROOT  symlink /dev/stdin -> /proc/self/fd/0            default devices
 22  SYMLINK_IN_ROOT  symlink /dev/stdout -> /proc/self/fd/1           default devices
 23  SYMLINK_IN_ROOT  symlink /dev/stderr -> /proc/self/fd/2           default devices
 24  SYMLINK_IN_ROOT  symlink /dev/core -> /proc/kcore                 default devices
 25  SYMLINK_IN_ROOT  symlink /dev/ptmx -> pts/ptmx                    default devices
 26  REPORT           apply the device cgroup rules                    linux.resources.devices
 27  WAIT_ACK         wait for the device cgroup rules                 linux.resources.devices
 28  PIVOT_ROOT       pivot_root to /b/rootfs                          root.path
 29  READONLY_PATH    make /proc/sys read-only                         linux.readonlyPaths[0]
 30  MASK_PATH        mask /proc/kcore                                 linux.maskedPaths[0]
 31  MOUNT            remount / read-only                              root.readonly
 32  SETHOSTNAME      set hostname "box"                               hostname
 33  SETRLIMIT        set RLIMIT_NOFILE to 1024:1024                   process.rlimits[0]
 34  HOME             set HOME to uid 0's home in /etc/passwd (or /)   process.env
 35  CHDIR            change directory to /                            process.cwd
 36  FIND_EXEC        find "sh"                                        process.args[0]
 37  CLOSE_FDS        close inherited fds                              runtime
 38  CAPBSET          drop bounding capabilities                       process.capabilities.bounding
 39  KEEPCAPS         keep capabilities across the uid change          process.user
 40  STDIO_OWNER      give the terminal or stdio to uid 0              process.user.uid
 41  SETGROUPS        set supplementary groups                         process.user.additionalGids
 42  SETRESGID        set gid 0                                        process.user.gid
 43  SETRESUID        set uid 0                                        process.user.uid
 44  KEEPCAPS         stop keeping capabilities                        process.user
 45  CAPSET           set capabilities                                 process.capabilities
 46  NO_NEW_PRIVS     set no_new_privs                                 process.noNewPrivileges
 47  READY            report ready                                     runtime
 48  WAIT_FIFO        wait for start                                   exec.fifo
 49  EXEC             exec "sh"                                        process.args

`
