# A small TAP library for the tests that run inside the guest (see test/vm/run).
# Each test file sources it, calls ok/is/like/skip, and ends with done_testing.
# Bundles are busybox root filesystems under a private work directory in the guest's /tmp.
set -u
TAP_N=0
TAP_FAILED=0
TAP_TODO= # when set, the next assertions are TODO with this reason: reported, counted as skipped
ok() { # ok CONDITION-STATUS DESCRIPTION [DIAGNOSTIC]
  TAP_N=$((TAP_N + 1))
  local todo=${TAP_TODO:+ # TODO $TAP_TODO}
  if [ "$1" -eq 0 ]; then echo "ok $TAP_N - $2$todo"; else
    echo "not ok $TAP_N - $2$todo"
    [ -z "$todo" ] && TAP_FAILED=$((TAP_FAILED + 1))
    [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/  # /'
  fi
  return 0
}
is() { # is GOT EXPECTED DESCRIPTION
  [ "$1" = "$2" ]; ok $? "$3" "got: '$1' expected: '$2'"
}
like() { # like GOT EXTENDED-REGEX DESCRIPTION
  printf '%s' "$1" | grep -Eq -- "$2"; ok $? "$3" "got: '$1' expected to match: /$2/"
}
cmp_ok() { # cmp_ok A OP B DESCRIPTION (numeric: -gt -ge -lt -le -eq -ne)
  [ -n "$1" ] && [ "$1" "$2" "$3" ] 2>/dev/null; ok $? "$4" "got: '$1' expected $2 '$3'"
}
skip() { # skip DESCRIPTION REASON
  TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP $2"
}
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
done_testing() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; }

WORK=$(mktemp -d /tmp/vmtest.XXXXXX)
ROOT="$WORK/state"
# the runtime under test: tsrun copied to the guest's tmpfs (running it from the 9p share costs
# seconds per call under TCG) or runc; RUNTIME names it (a path or "runc")
rt_name() { basename "$RUNTIME"; }
rt() { "$RUNTIME" --root "$ROOT" "$@"; }

APPLETS="sh sleep cat dd head seq echo ls true false kill grep wc mkdir test [ printf tr cut"
base_rootfs() { # a busybox rootfs, made once per file
  local r="$WORK/rootfs"
  if [ ! -d "$r" ]; then
    mkdir -p "$r"/{bin,proc,sys,dev,tmp,etc,root}
    cp /bin/busybox "$r/bin/busybox"
    local a; for a in $APPLETS; do ln -s busybox "$r/bin/$a"; done
    echo "root:x:0:0:root:/root:/bin/sh" > "$r/etc/passwd"
    echo "root:x:0:" > "$r/etc/group"
  fi
  echo "$r"
}

# PROCESS_EXTRA: more members of "process" (JSON, without braces) for the next bundles
PROCESS_EXTRA=
# bundle ID RESOURCES-JSON ARGS-JSON [EXTRA-LINUX-JSON] [EXTRA-MOUNT-JSON] -> prints the bundle dir; the container's
# cgroup is /sys/fs/cgroup/vmtest/ID (cgroupsPath), so the tests can read it
bundle() {
  local id=$1 resources=$2 args=$3 extra=${4:-} mount=${5:-}
  local b="$WORK/bundles/$id"
  mkdir -p "$b"
  [ -d "$b/rootfs" ] || cp -al "$(base_rootfs)" "$b/rootfs"
  cat > "$b/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false, "user": {"uid": 0, "gid": 0}, "args": $args,
    "env": ["PATH=/bin", "HOME=/root"], "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true${PROCESS_EXTRA:+,
    $PROCESS_EXTRA}
  },
  "root": {"path": "rootfs", "readonly": false},
  "hostname": "vmtest",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}${mount:+,
    $mount}
  ],
  "linux": {
    "cgroupsPath": "/vmtest/$id",
    "resources": $resources,
    "namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "network"}, {"type": "cgroup"}],
    "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/sys/firmware"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]${extra:+,
    $extra}
  }
}
JSON
  echo "$b"
}
# the default device rules of runc spec: deny all, then the standard character devices
DEVICES_DEFAULT='[{"allow": false, "access": "rwm"}]'

cg() { cat "/sys/fs/cgroup/vmtest/$1/$2" 2>&1; } # cg ID FILE
cgkey() { awk -v k="$3" '$1 == k {print $2}' "/sys/fs/cgroup/vmtest/$1/$2" 2>/dev/null; } # cg ID FILE KEY

start() { # start ID BUNDLE: run -d with output to files; prints nothing, returns the status
  rt run -d --bundle "$2" "$1" </dev/null >"$WORK/$1.out" 2>"$WORK/$1.err"
}
stop() { rt delete --force "$1" >/dev/null 2>&1; }
wait_for() { # wait_for TENTHS COMMAND...: until COMMAND succeeds or TENTHS tenths of a second pass
  local n=$1; shift
  while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.1; n=$((n - 1)); done
  return 1
}
cleanup() {
  local id
  for id in $(ls "$ROOT" 2>/dev/null); do stop "$id"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
