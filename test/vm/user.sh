# A user of its own for the rootless tests (sourced after lib.sh, with R set). user_setup NAME makes
# it with a systemd instance of its own (loginctl enable-linger: user@UID.service) and sets user,
# uid, home and bus; as_user runs a command as that user; user_runtime gives the user a state
# directory and a copy of the runtime it can reach. The EXIT trap deletes the user's containers
# (with the runtime's global flags in USER_CLEANUP_FLAGS), its processes and the user.
user_setup() {
  user=$1
  useradd -m -s /bin/sh "$user" || { ok 1 "$R: useradd $user"; done_testing; exit; }
  uid=$(id -u "$user")
  home=$(getent passwd "$user" | cut -d: -f6)
  bus=/run/user/$uid/bus
  trap user_cleanup EXIT
  loginctl enable-linger "$user"
  systemctl start "user@$uid.service"
  wait_for 300 test -S "$bus"
  ok $? "$R: the user's systemd instance runs (user@$uid.service, bus at $bus)"
}
USER_CLEANUP_FLAGS=
user_cleanup() {
  local id p
  # shellcheck disable=SC2086
  for id in $(ls "$home/state" 2>/dev/null); do as_user "$RUNTIME" $USER_CLEANUP_FLAGS --root "$home/state" delete --force "$id" >/dev/null 2>&1; done
  loginctl disable-linger "$user" 2>/dev/null
  systemctl stop "user@$uid.service" 2>/dev/null
  for p in $(ps -o pid= -u "$user" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done # this test's user's only
  userdel -r "$user" >/dev/null 2>&1
  cleanup
}
as_user() { # runs as the user, with its instance's bus, in the caller's (root's) cgroup
  runuser -u "$user" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$home" USER="$user" \
    XDG_RUNTIME_DIR="/run/user/$uid" DBUS_SESSION_BUS_ADDRESS="unix:path=$bus" "$@"
}
user_runtime() { # $home/state for the user; RUNTIME becomes a copy the user can run (not runc)
  mkdir -p "$home/state" "$home/bin" && chown "$user:" "$home/state" "$home/bin" && chmod 700 "$home/state"
  if [ "$R" != runc ]; then # the user cannot reach the runner's private copy
    cp "$RUNTIME" "$home/bin/$R" && chown "$user:" "$home/bin/$R" && RUNTIME=$home/bin/$R
  fi
}
# a rootless bundle (runc spec --rootless's shape: a user namespace mapping the user to root, /sys bound)
# ub ID CGROUPSPATH ("-": none) RESOURCES-JSON ARGS-JSON [HOOKS-JSON] -> bundle dir, owned by the user
ub() {
  local b="$home/bundles/$1"
  mkdir -p "$b"
  [ -d "$b/rootfs" ] || cp -a "$(base_rootfs)" "$b/rootfs"
  python3 - "$b/config.json" "$uid" "$(id -g "$user")" "$2" "$3" "$4" "${5:-}" <<'PY'
import json, sys
out, uid, gid, cgpath, resources, args, hooks = sys.argv[1:]
spec = {
  "ociVersion": "1.0.2",
  "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": json.loads(args),
              "env": ["PATH=/bin", "HOME=/root"], "cwd": "/", "noNewPrivileges": True,
              "capabilities": {k: ["CAP_KILL"] for k in ("bounding", "effective", "permitted")}},
  "root": {"path": "rootfs", "readonly": False},
  "hostname": "vmtest-user",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=262144k"]},
    {"destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]},
  ],
  "linux": {
    "uidMappings": [{"containerID": 0, "hostID": int(uid), "size": 1}],
    "gidMappings": [{"containerID": 0, "hostID": int(gid), "size": 1}],
    "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount", "user", "cgroup")],
    "resources": json.loads(resources),
    "maskedPaths": ["/proc/kcore", "/sys/firmware"],
    "readonlyPaths": ["/proc/sys"],
  },
}
if cgpath != "-": spec["linux"]["cgroupsPath"] = cgpath
if hooks: spec["hooks"] = json.loads(hooks)
json.dump(spec, open(out, "w"), indent=1)
PY
  chown -R "$user:" "$home/bundles"
  echo "$b"
}
