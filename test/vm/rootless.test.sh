#!/usr/bin/env bash
# Rootless on cgroup v2 with a delegated user slice, for the runtime in $RUNTIME, as TAP. A user made
# here gets its systemd instance (loginctl enable-linger; user@UID.service, which systemd delegates:
# its subtree belongs to the user, with the cpu, memory and pids controllers). The runtime runs as
# that user in a scope of its own instance (`systemd-run --user --scope -p Delegate=yes`), so the
# kernel lets it move the container into a cgroup of that subtree; a pids and a memory limit there
# must hold. Then the same user outside any delegated cgroup: no cgroup is possible, which is a
# warning without limits and one clear error with them, leaving nothing behind.
# (The systemd cgroup driver, --systemd-cgroup, is not tested here.)
. "$(dirname "$0")/lib.sh"
R=$(rt_name)
. "$(dirname "$0")/user.sh"
user=vmrl-$R
if ! command -v loginctl >/dev/null || ! command -v systemd-run >/dev/null || [ ! -d /run/systemd/system ]; then
  skip "$R: rootless in a delegated cgroup" "no systemd here (loginctl, systemd-run)"
  done_testing; exit
fi
if ! command -v python3 >/dev/null || ! command -v newuidmap >/dev/null; then
  skip "$R: rootless in a delegated cgroup" "python3 or newuidmap (uidmap) is missing in this guest"
  done_testing; exit
fi

user_setup "$user"
delegated() { # runs as the user in a delegated scope of its own systemd instance
  as_user systemd-run --user --scope --quiet -p Delegate=yes "$@"
}
svc=/sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service
ctl=$(cat "$svc/cgroup.controllers" 2>/dev/null)
if ! printf '%s' "$ctl" | grep -qw pids || ! printf '%s' "$ctl" | grep -qw memory || [ "$(stat -c %U "$svc")" != "$user" ]; then
  skip "$R: rootless limits in the delegated subtree" "user@$uid.service is not delegated the pids and memory controllers here (controllers: '$ctl', owner $(stat -c %U "$svc" 2>/dev/null))"
  done_testing; exit
fi
like "$(delegated cat /proc/self/cgroup)" "^0::/user.slice/user-$uid.slice/user@$uid.service/.*\\.scope$" "$R: a delegated scope in the user's subtree"

urt() { "$@" "$RUNTIME" --root "$home/state" "${URT_ARGS[@]}"; } # urt WRAPPER... (the runtime's args in URT_ARGS)
u_run() { URT_ARGS=("$@"); urt delegated; }      # the runtime as the user, in a delegated scope
u_plain() { URT_ARGS=("$@"); urt as_user; }      # the runtime as the user, in root's cgroup (nothing delegated)
user_runtime

# --- limits in the delegated subtree
parent=$svc/vmtest-rl
cgp=/user.slice/user-$uid.slice/user@$uid.service/vmtest-rl
evkey() { awk -v k="$2" '$1 == k {print $2}' "$1" 2>/dev/null; } # evkey FILE KEY
hit_max() { [ "$(evkey "$1" max)" -gt 0 ] 2>/dev/null; }
# the fork loop runs in a subshell: where a fork fails the subshell ends, the init goes on
b=$(ub rlpids "$cgp/rlpids" '{"pids": {"limit": 20}}' \
  '["sh", "-c", "(i=0; while [ $i -lt 40 ]; do sleep 300 & i=$((i+1)); done) 2>/dev/null; exec sleep 300"]')
u_run run -d --bundle "$b" rlpids </dev/null >"$WORK/rlpids.out" 2>"$WORK/rlpids.err"
ok $? "$R: rootless run -d in a delegated scope" "$(cat "$WORK/rlpids.err")"
cg=$parent/rlpids
is "$(cat "$cg/pids.max" 2>&1)" 20 "$R: pids.max written in the delegated cgroup $cg"
pid=$(u_run state rlpids 2>/dev/null | grep '"pid"' | tr -dc 0-9)
grep -qx "$pid" "$cg/cgroup.procs" 2>/dev/null; ok $? "$R: the container's init ($pid) is in it"
is "$(awk '{print $1 "/" $2}' /proc/"$pid"/uid_map 2>/dev/null)" "0/$uid" "$R: the init is root in a user namespace mapped to uid $uid"
wait_for 300 hit_max "$cg/pids.events"
ok $? "$R: the fork loop hit pids.max (pids.events max: $(evkey "$cg/pids.events" max))"
cmp_ok "$(cat "$cg/pids.current" 2>/dev/null)" -le 20 "$R: pids.current stays within the limit"
u_run delete --force rlpids >"$WORK/rldel.out" 2>&1
ok $? "$R: delete --force as the user" "$(cat "$WORK/rldel.out")"
[ ! -e "$cg" ]; ok $? "$R: the container's cgroup is removed"

# memory: a 64 MiB buffer (dd bs=64M) cannot fit in 32 MiB without swap: dd is OOM-killed
b=$(ub rlmem "$cgp/rlmem" '{"memory": {"limit": 33554432, "swap": 33554432}}' \
  '["sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo $? > /tmp/ddrc; exec sleep 300"]')
u_run run -d --bundle "$b" rlmem </dev/null >"$WORK/rlmem.out" 2>"$WORK/rlmem.err"
ok $? "$R: rootless run -d with a memory limit" "$(cat "$WORK/rlmem.err")"
cg=$parent/rlmem
is "$(cat "$cg/memory.max" 2>&1)" 33554432 "$R: memory.max written in the delegated cgroup"
is "$(cat "$cg/memory.swap.max" 2>&1)" 0 "$R: memory.swap.max (limit - memory) written there"
wait_for 300 test -s "$b/rootfs/tmp/ddrc"
is "$(cat "$b/rootfs/tmp/ddrc" 2>/dev/null)" 137 "$R: memory.max holds: dd is killed (status 137)"
cmp_ok "$(evkey "$cg/memory.events" oom_kill)" -gt 0 "$R: memory.events counts the oom_kill"
u_run delete --force rlmem >/dev/null 2>&1
[ ! -e "$cg" ]; ok $? "$R: the container's cgroup is removed"
rmdir "$parent" 2>/dev/null

# --- nothing delegated: the user's runtime runs in root's cgroup, which it may not leave
nd=/vmtest-rl-nodeleg
b=$(ub rlnone "$nd/rlnone" '{}' '["true"]')
u_plain run --bundle "$b" rlnone </dev/null >"$WORK/rlnone.out" 2>"$WORK/rlnone.err"
rc=$?
if [ "$R" = runc ]; then
  diag "runc, no limits, nothing delegated: exit $rc: $(cat "$WORK/rlnone.err")"
else
  is "$rc" 0 "$R: without limits and without a delegated cgroup the container still runs" "$(cat "$WORK/rlnone.err")"
  like "$(cat "$WORK/rlnone.err")" "rootless: cannot create or join the container's cgroup" "$R: with a warning that no cgroup applies"
fi
[ ! -e "/sys/fs/cgroup$nd/rlnone" ]; ok $? "$R: no cgroup is left behind"
b=$(ub rlnolim "$nd/rlnolim" '{"pids": {"limit": 20}}' '["true"]')
u_plain run --bundle "$b" rlnolim </dev/null >"$WORK/rlnolim.out" 2>"$WORK/rlnolim.err"
cmp_ok "$?" -ne 0 "$R: a pids limit without a delegated cgroup fails the run"
diag "$R: $(cat "$WORK/rlnolim.err")"
[ "$R" != runc ] && like "$(cat "$WORK/rlnolim.err")" "cannot set pids limit: rootless: the container could not create or join its cgroup" "$R: one clear error naming the limit and why"
[ ! -e "/sys/fs/cgroup$nd/rlnolim" ]; ok $? "$R: and no cgroup left"
[ ! -e "$home/state/rlnolim" ]; ok $? "$R: and no state left"
left=$(ps -o pid=,comm= -u "$user" 2>/dev/null | grep -Ev ' (systemd|\(sd-pam\))$')
[ -z "$left" ]; ok $? "$R: and no process of the user left but its systemd instance" "$left"
done_testing
