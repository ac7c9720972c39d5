#!/usr/bin/env bash
# The systemd cgroup driver rootless (--systemd-cgroup as an ordinary user) for the runtime in
# $RUNTIME (tsrun or runc), as TAP. A user made here gets its own systemd instance (loginctl
# enable-linger: user@UID.service, delegated the cpu, memory and pids controllers); the runtime,
# run as that user from root's cgroup (as from a login session: outside the user's instance), asks
# that instance over the user bus ($XDG_RUNTIME_DIR/bus) for the container's scope, as runc does:
# user.slice:prefix:name is /user.slice/user-UID.slice/user@UID.service/user.slice/prefix-name.scope,
# an empty cgroupsPath <runtime>-<id>.scope there. The scope must have Delegate=yes and the limits as
# properties, enforce them, change them live (update), freeze (pause), take exec'd processes, go
# away with delete, and no failure may leave a unit behind.
. "$(dirname "$0")/lib.sh"
R=$(rt_name)
. "$(dirname "$0")/user.sh"
MiB=$((1024 * 1024))
user=vmsu-$R
if ! command -v loginctl >/dev/null || ! command -v systemd-run >/dev/null || [ ! -d /run/systemd/system ]; then
  skip "$R: --systemd-cgroup through the user's instance" "no systemd here (loginctl, systemd-run)"
  done_testing; exit
fi
if ! command -v python3 >/dev/null; then
  skip "$R: --systemd-cgroup through the user's instance" "python3 is missing in this guest"
  done_testing; exit
fi

USER_CLEANUP_FLAGS=--systemd-cgroup
user_setup "$user"
SVC=/user.slice/user-$uid.slice/user@$uid.service
ctl=$(cat "/sys/fs/cgroup$SVC/cgroup.controllers" 2>/dev/null)
if ! printf '%s' "$ctl" | grep -qw pids || ! printf '%s' "$ctl" | grep -qw memory; then
  skip "$R: --systemd-cgroup through the user's instance" "user@$uid.service is not delegated the pids and memory controllers here (controllers: '$ctl')"
  done_testing; exit
fi
is "$(as_user systemctl --user show -p ControlGroup --value)" "$SVC" "$R: the user's instance manages $SVC"

user_runtime
srt() { as_user "$RUNTIME" --systemd-cgroup --root "$home/state" "$@"; }
start() { srt run -d --bundle "$2" "$1" </dev/null >"$WORK/$1.out" 2>"$WORK/$1.err"; }
prop() { as_user systemctl --user show -p "$2" --value "$1"; } # prop UNIT PROPERTY
units() { as_user systemctl --user list-units --all --plain --no-legend "$@" 2>/dev/null | awk '{print $1}' | tr '\n' ' '; }
gone() { [ -z "$(units "$1")" ]; }
pidof_ct() { srt state "$1" 2>/dev/null | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$'; }
evkey() { awk -v k="$2" '$1 == k {print $2}' "$1" 2>/dev/null; } # evkey FILE KEY


like "$("$RUNTIME" features 2>/dev/null | tr -d ' \n')" '"systemdUser":true' "$R: features reports systemdUser"

# --- the scope in the user's instance, its properties, its limits
U=$R-lim.scope
CGP=$SVC/user.slice/$U
CG=/sys/fs/cgroup$CGP
b=$(ub lim "user.slice:$R:lim" "{\"memory\": {\"limit\": $((32 * MiB)), \"swap\": $((32 * MiB))}, \"pids\": {\"limit\": 20}, \"cpu\": {\"quota\": 20000, \"period\": 100000}}" \
  '["sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo $? > /tmp/ddrc; exec sleep 1000"]')
start lim "$b"; ok $? "$R: run -d --systemd-cgroup as $user with user.slice:$R:lim" "$(cat "$WORK/lim.err")"
diag "$R: run's stderr: $(cat "$WORK/lim.err")"
is "$(as_user systemctl --user is-active "$U")" active "$R: the scope $U is active in the user's instance"
is "$(systemctl is-active "$U" 2>/dev/null)" inactive "$R: and unknown to the system instance"
is "$(prop "$U" ControlGroup)" "$CGP" "$R: its cgroup is $CGP"
pid=$(pidof_ct lim)
is "$(cat "/proc/$pid/cgroup" 2>&1)" "0::$CGP" "$R: the container's init is in the scope"
is "$(stat -c %U "$CG" 2>&1)" "$user" "$R: the scope's cgroup belongs to $user"
is "$(prop "$U" Delegate)" yes "$R: Delegate=yes"
is "$(prop "$U" Slice)" user.slice "$R: Slice=user.slice"
is "$(prop "$U" MemoryMax)" $((32 * MiB)) "$R: MemoryMax = memory.limit"
is "$(prop "$U" TasksMax)" 20 "$R: TasksMax = pids.limit"
is "$(prop "$U" CPUQuotaPerSecUSec)" 200ms "$R: CPUQuotaPerSecUSec = quota / period"
is "$(cat "$CG/memory.max" 2>&1)" $((32 * MiB)) "$R: memory.max in the delegated cgroup"
is "$(cat "$CG/memory.swap.max" 2>&1)" 0 "$R: memory.swap.max (limit - memory) there"
is "$(cat "$CG/pids.max" 2>&1)" 20 "$R: pids.max there"
is "$(cat "$CG/cpu.max" 2>&1)" "20000 100000" "$R: cpu.max there"
wait_for 300 test -s "$b/rootfs/tmp/ddrc"
is "$(cat "$b/rootfs/tmp/ddrc" 2>/dev/null)" 137 "$R: MemoryMax holds: a 64 MiB allocation is OOM-killed (status 137)"
cmp_ok "$(evkey "$CG/memory.events" oom_kill)" -gt 0 "$R: memory.events counts the oom_kill"

# exec from inside the user's instance (a scope of it): the runtime writes cgroup.procs itself
out=$(as_user systemd-run --user --scope --quiet "$RUNTIME" --systemd-cgroup --root "$home/state" exec lim cat /proc/self/cgroup </dev/null 2>&1)
is "$out" "0::/" "$R: exec from a scope of the user's instance joins the container's scope"
# exec from outside it (root's cgroup, as from a login session): the kernel refuses the move to the
# user, the user's systemd (through the system manager) can make it
[ "$R" = runc ] && TAP_TODO="runc 1.1.5 ignores the failed move: the exec'd process stays outside the container's cgroup"
is "$(srt exec lim cat /proc/self/cgroup </dev/null 2>&1)" "0::/" "$R: exec from outside the user's instance joins the container's scope"
srt exec lim dd if=/dev/zero of=/dev/null bs=64M count=1 </dev/null >/dev/null 2>&1
is "$?" 137 "$R: and an exec'd 64 MiB allocation is OOM-killed"
TAP_TODO=

srt update --memory 64m --memory-swap 64m --pids-limit 30 --cpu-quota 50000 --cpu-period 100000 lim
ok $? "$R: update"
is "$(prop "$U" MemoryMax)" $((64 * MiB)) "$R: update changes MemoryMax live"
is "$(prop "$U" TasksMax)" 30 "$R: update changes TasksMax live"
is "$(prop "$U" CPUQuotaPerSecUSec)" 500ms "$R: update changes CPUQuotaPerSecUSec live"
is "$(cat "$CG/memory.max" 2>&1)" $((64 * MiB)) "$R: update changes memory.max"
is "$(cat "$CG/pids.max" 2>&1)" 30 "$R: update changes pids.max"
is "$(cat "$CG/cpu.max" 2>&1)" "50000 100000" "$R: update changes cpu.max"
srt pause lim; ok $? "$R: pause"
wait_for 50 grep -q 'frozen 1' "$CG/cgroup.events"
ok $? "$R: the scope's cgroup is frozen" "$(cat "$CG/cgroup.events" 2>&1)"
like "$(srt state lim)" '"status": *"paused"' "$R: state says paused"
srt resume lim; ok $? "$R: resume"
grep -q 'frozen 0' "$CG/cgroup.events"; ok $? "$R: the scope's cgroup is thawed"
like "$(srt state lim)" '"status": *"running"' "$R: state says running"
is "$(as_user systemctl --user is-active "$U")" active "$R: the scope is still active after pause/resume"
srt delete --force lim; ok $? "$R: delete --force"
wait_for 50 gone "$U"; ok $? "$R: delete removes the scope" "$(units "$U")"
[ ! -e "$CG" ]; ok $? "$R: and its cgroup"

# --- the runtime's own `spec --rootless` (its /sys rbind brings the host's cgroup2 to /sys/fs/cgroup,
# where the kernel then refuses another cgroup2 mount: the container's own cgroup is bound instead)
# specb ID CGNS(yes|no): the spec as written, with the args, the cgroupsPath and limits
specb() {
  local b="$home/bundles/$1"
  mkdir -p "$b" && cp -a "$(base_rootfs)" "$b/rootfs" && chown -R "$user:" "$b"
  (cd "$b" && as_user "$RUNTIME" spec --rootless) || return 1
  python3 - "$b/config.json" "$R" "$1" "$2" <<'PY'
import json, sys
p, R, id, cgns = sys.argv[1:]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "cat /proc/self/cgroup; cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max 2>&1; grep -c ' /sys/fs/cgroup ' /proc/self/mountinfo"]
c["linux"]["cgroupsPath"] = "user.slice:%s:%s" % (R, id)
c["linux"]["resources"] = {"memory": {"limit": 33554432}, "pids": {"limit": 20}}
ns = c["linux"]["namespaces"]
if cgns == "yes" and not any(n["type"] == "cgroup" for n in ns): ns.append({"type": "cgroup"})
if cgns == "no": c["linux"]["namespaces"] = [n for n in ns if n["type"] != "cgroup"]
json.dump(c, open(p, "w"), indent=1)
PY
  echo "$b"
}
b=$(specb specns yes)
out=$(srt run --bundle "$b" specns </dev/null 2>"$WORK/specns.err")
ok $? "$R: spec --rootless with a cgroup namespace runs" "$(cat "$WORK/specns.err")"
is "$(printf '%s\n' "$out" | head -1)" "0::/" "$R: the container's cgroup namespace is rooted at its scope"
is "$(printf '%s\n' "$out" | sed -n 2,3p | tr '\n' ' ')" "$((32 * MiB)) 20 " "$R: its /sys/fs/cgroup shows its own cgroup (memory.max, pids.max)"
wait_for 50 gone "$R-specns.scope"; ok $? "$R: the scope is gone with the container" "$(units "$R-specns.scope")"
b=$(specb specnons no)
out=$(srt run --bundle "$b" specnons </dev/null 2>"$WORK/specnons.err")
ok $? "$R: spec --rootless without a cgroup namespace runs" "$(cat "$WORK/specnons.err")"
is "$(printf '%s\n' "$out" | head -1)" "0::$SVC/user.slice/$R-specnons.scope" "$R: its init is in the scope"
srt delete --force specnons >/dev/null 2>&1

# --- pids: a fork loop is capped by TasksMax
U=$R-pids.scope; CG=/sys/fs/cgroup$SVC/user.slice/$U
b=$(ub pids "user.slice:$R:pids" '{"pids": {"limit": 20}}' \
  '["sh", "-c", "(i=0; while [ $i -lt 40 ]; do sleep 300 & i=$((i+1)); done) 2>/dev/null; exec sleep 300"]')
start pids "$b"; ok $? "$R: run -d with a pids limit" "$(cat "$WORK/pids.err")"
hit_max() { [ "$(evkey "$CG/pids.events" max)" -gt 0 ] 2>/dev/null; }
wait_for 300 hit_max
ok $? "$R: the fork loop hit TasksMax (pids.events max: $(evkey "$CG/pids.events" max))"
cmp_ok "$(cat "$CG/pids.current" 2>/dev/null)" -le 20 "$R: pids.current stays within the limit"
out=$(srt delete --force pids 2>&1); ok $? "$R: delete --force" "$out"
wait_for 50 gone "$U"; ok $? "$R: delete removes the scope" "$(units "$U")"

# --- the default name (empty cgroupsPath) and a nested slice of the user's instance
b=$(ub dflt - '{}' '["sleep", "1000"]')
start dflt "$b"; ok $? "$R: run -d without cgroupsPath" "$(cat "$WORK/dflt.err")"
is "$(prop "$R-dflt.scope" ControlGroup)" "$SVC/user.slice/$R-dflt.scope" "$R: the default unit is $R-<id>.scope in the instance's user.slice"
pid=$(pidof_ct dflt)
is "$(cat "/proc/$pid/cgroup" 2>&1)" "0::$SVC/user.slice/$R-dflt.scope" "$R: the init is in it"
out=$(srt delete --force dflt 2>&1); ok $? "$R: delete --force" "$out"
wait_for 50 gone "$R-dflt.scope"; ok $? "$R: delete removes it" "$(units "$R-dflt.scope")"
U=$R-nest.scope
b=$(ub nest "vmtest-$R.slice:$R:nest" '{"pids": {"limit": 10}}' '["sleep", "1000"]')
start nest "$b"; ok $? "$R: run -d in the nested slice vmtest-$R.slice" "$(cat "$WORK/nest.err")"
is "$(prop "$U" ControlGroup)" "$SVC/vmtest.slice/vmtest-$R.slice/$U" "$R: the scope sits in the instance's vmtest.slice/vmtest-$R.slice"
is "$(cat "/sys/fs/cgroup$SVC/vmtest.slice/vmtest-$R.slice/$U/pids.max" 2>&1)" 10 "$R: pids.max set there"
out=$(srt delete --force nest 2>&1); ok $? "$R: delete --force" "$out"
wait_for 50 gone "$U"; ok $? "$R: delete removes the nested scope" "$(units "$U")"
as_user systemctl --user stop "vmtest-$R.slice" vmtest.slice >/dev/null 2>&1

# --- no failure leaves a unit behind
b=$(ub badpath "notaslice:$R:badpath" '{}' '["true"]')
start badpath "$b"; cmp_ok $? -ne 0 "$R: a cgroupsPath that is not slice:prefix:name fails"
like "$(cat "$WORK/badpath.err")" 'slice' "$R: naming the slice"
b=$(ub badres "user.slice:$R:badres" "{\"memory\": {\"limit\": $((32 * MiB)), \"swap\": $((16 * MiB))}}" '["true"]')
start badres "$b"; cmp_ok $? -ne 0 "$R: a bad memory swap value fails"
ok "$(gone "$R-badres.scope"; echo $?)" "$R: no unit left after a bad config" "$(units "$R-badres.scope")"
b=$(ub hook "user.slice:$R:hook" '{"pids": {"limit": 20}}' '["sleep", "1000"]' '{"createRuntime": [{"path": "/bin/false"}]}')
start hook "$b"; cmp_ok $? -ne 0 "$R: a failing createRuntime hook fails the create"
wait_for 30 gone "$R-hook.scope"
ok $? "$R: no unit left after a failing hook" "$(units "$R-hook.scope")"
b=$(ub dead "user.slice:$R:dead" '{"pids": {"limit": 20}}' '["sleep", "1000"]')
start dead "$b"; ok $? "$R: run -d" "$(cat "$WORK/dead.err")"
kill -9 "$(pidof_ct dead)"
wait_for 50 sh -c "runuser -u $user -- \"$RUNTIME\" --root \"$home/state\" state dead 2>/dev/null | grep -q stopped"
srt delete dead; ok $? "$R: delete of a container whose init was killed"
wait_for 30 gone "$R-dead.scope"
ok $? "$R: no unit left after a killed init" "$(units "$R-dead.scope")"
is "$(srt list -q 2>&1)" "" "$R: no container left"
is "$(units "$R-*")" "" "$R: no $R-* unit at all is left in the user's instance"
is "$(as_user systemctl --user list-units --failed --plain --no-legend 2>/dev/null)" "" "$R: and no failed unit"

# --- without the user bus: one clear error, nothing left
runuser -u "$user" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$home" \
  "$RUNTIME" --systemd-cgroup --root "$home/state" run -d --bundle "$home/bundles/dflt" nobus </dev/null >"$WORK/nobus.out" 2>"$WORK/nobus.err"
cmp_ok $? -ne 0 "$R: without XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS the run fails"
diag "$R: $(cat "$WORK/nobus.err")"
[ "$R" != runc ] && like "$(cat "$WORK/nobus.err")" "user's systemd instance.*XDG_RUNTIME_DIR" "$R: saying why (no user bus address)"
[ ! -e "$home/state/nobus" ]; ok $? "$R: and leaves no state"
left=$(ps -o pid=,comm= -u "$user" 2>/dev/null | grep -Ev ' (systemd|\(sd-pam\)|dbus-daemon)$')
[ -z "$left" ]; ok $? "$R: no process of the user left but its systemd instance" "$left"

# --- rootless Podman as the user (its cgroup manager is systemd: the user's instance), with the
# runtime: Podman runs it as uid 0 of its own user namespace, with XDG_RUNTIME_DIR only
if ! command -v podman >/dev/null || ! command -v newuidmap >/dev/null || ! grep -q "^$user:" /etc/subuid 2>/dev/null; then
  skip "$R: rootless podman with the systemd cgroup manager" "podman, newuidmap or a subuid range for $user is missing"
  done_testing; exit
fi
pm() { as_user timeout 180 podman --storage-driver vfs --events-backend file --cgroup-manager systemd --runtime "$RUNTIME" "$@"; }
r=$home/image/rootfs
mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp,root,run}
cp /bin/busybox "$r/bin/busybox"
for p in $(/bin/busybox --list-full); do [ -e "$r/$p" ] || ln -s /bin/busybox "$r/$p"; done
echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"; echo "root:x:0:" >"$r/etc/group"
tar -C "$r" --numeric-owner --owner=0 --group=0 -cf "$home/image/rootfs.tar" . && chown -R "$user:" "$home/image"
pm import --change 'CMD ["/bin/sh"]' "$home/image/rootfs.tar" localhost/vmtest/bb:latest >"$WORK/pmimg.out" 2>&1
ok $? "$R: podman import as $user" "$(tail -3 "$WORK/pmimg.out")"
pm run -d --name pmsu --network none --memory 32m --memory-swap 32m --pids-limit 20 localhost/vmtest/bb:latest sleep 1000 </dev/null >"$WORK/pm.out" 2>&1
ok $? "$R: rootless podman run --memory 32m --pids-limit 20" "$(tail -5 "$WORK/pm.out")"
cid=$(pm inspect -f '{{.Id}}' pmsu 2>/dev/null)
pid=$(pm inspect -f '{{.State.Pid}}' pmsu 2>/dev/null)
is "$(cat "/proc/$pid/cgroup" 2>&1)" "0::$SVC/user.slice/libpod-$cid.scope" "$R: its init is in libpod-<id>.scope of the user's instance"
is "$(as_user systemctl --user is-active "libpod-$cid.scope")" active "$R: a unit the user's instance knows"
CG=/sys/fs/cgroup$SVC/user.slice/libpod-$cid.scope
is "$(cat "$CG/memory.max" 2>&1)" $((32 * MiB)) "$R: memory.max = 32 MiB"
is "$(cat "$CG/pids.max" 2>&1)" 20 "$R: pids.max = 20"
pm exec pmsu dd if=/dev/zero of=/dev/null bs=64M count=1 </dev/null >/dev/null 2>&1
is "$?" 137 "$R: podman exec: a 64 MiB allocation is OOM-killed"
pm exec pmsu sh -c '(for i in $(seq 1 60); do sleep 30 >/dev/null 2>&1 & done) 2>/dev/null; true' </dev/null >/dev/null 2>&1
cmp_ok "$(cat "$CG/pids.current" 2>/dev/null)" -le 20 "$R: a fork loop of 60 stays within pids.max"
cmp_ok "$(evkey "$CG/pids.events" max)" -ge 1 "$R: pids.events counts the refused forks"
pm rm -f -t 0 pmsu >/dev/null 2>&1; ok $? "$R: podman rm -f"
wait_for 50 gone "libpod-$cid.scope"; ok $? "$R: the container's scope is gone" "$(units "libpod-*")"
is "$(as_user systemctl --user list-units --failed --plain --no-legend 2>/dev/null)" "" "$R: and no failed unit"
done_testing
