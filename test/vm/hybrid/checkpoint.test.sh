#!/usr/bin/env bash
# checkpoint/restore with the systemd cgroup driver where systemd runs on the cgroup v1 controllers,
# for the runtime in $RUNTIME, as TAP (see test/vm/counter.sh for the counter): the restored tree is
# in the new scope in every hierarchy, with the config's limits, and nothing else is.
. "$(dirname "$0")/../lib.sh"
R=$(rt_name)
. "$(dirname "$0")/../counter.sh"
if [ ! -d /sys/fs/cgroup/memory ] || [ ! -d /run/systemd/system ]; then
  skip "$R: checkpoint/restore with systemd on cgroup v1" "this guest is not booted hybrid (TSRUN_VM_CGROUP=hybrid)"
  done_testing; exit
fi
criu_or_skip
srt() { "$RUNTIME" --systemd-cgroup --root "$ROOT" "$@"; }
U=$R-hck.scope
MEM=/sys/fs/cgroup/memory/system.slice/$U
b=$(counter_bundle hck /count "\"memory\": {\"limit\": $((64 * 1024 * 1024))}, \"pids\": {\"limit\": 6}")
sed -i "s|\"cgroupsPath\": \"/vmtest/hck\"|\"cgroupsPath\": \"system.slice:$R:hck\"|" "$b/config.json"
COUNT_FILE=$b/rootfs/count
srt run -d --bundle "$b" hck < <(true) > >(cat >/dev/null) 2> >(cat >"$WORK/hck.err")
ok $? "$R: run -d in $U" "$(cat "$WORK/hck.err")"
wait_for 100 counted_past 2; ok $? "$R: the counter runs"
srt checkpoint --image-path "$WORK/img" hck </dev/null >"$WORK/hck.out" 2>&1
ok $? "$R: checkpoint" "$(cat "$WORK/hck.out"; tail -5 "$WORK/img/dump.log" 2>/dev/null)"
c=$(settled)
srt delete hck >/dev/null 2>&1
srt restore -d --image-path "$WORK/img" --work-path "$WORK/wp" --bundle "$b" hck < <(true) > >(cat >/dev/null) 2> >(cat >"$WORK/hck.rst.err")
ok $? "$R: restore -d" "$(cat "$WORK/hck.rst.err"; tail -5 "$WORK/wp/restore.log" 2>/dev/null)"
is "$(systemctl is-active "$U")" active "$R: the scope is active"
pid=$(srt state hck | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$')
for h in memory pids freezer cpuset; do
  like "$(grep -E "^[0-9]+:$h:" "/proc/$pid/cgroup")" ":/system.slice/$U\$" "$R: the restored init is in /system.slice/$U of the $h hierarchy"
done
others=$(for p in $(cat "$MEM/cgroup.procs"); do c2=$(cat "/proc/$p/comm" 2>/dev/null); [ -z "$c2" ] || [ "$c2" = sh ] || [ "$c2" = sleep ] || echo "$p:$c2"; done)
is "$others" "" "$R: only the container's processes are in the scope (the runtime and criu left it)"
is "$(systemctl show -p MemoryLimit --value "$U")" $((64 * 1024 * 1024)) "$R: MemoryLimit of the restored scope"
is "$(cat "/sys/fs/cgroup/pids/system.slice/$U/pids.max" 2>&1)" 6 "$R: pids.max"
counts_on "$MEM" "${c:-0 0}" "systemd on v1"
srt delete --force hck >/dev/null 2>&1
wait_for 50 sh -c "[ -z \"\$(systemctl list-units --all --plain --no-legend $U)\" ]"
ok $? "$R: delete removes the scope"
left=$(for d in /sys/fs/cgroup/*/system.slice/"$U"; do [ -d "$d" ] && echo "$d"; done)
is "$left" "" "$R: and its directory in every hierarchy"
done_testing
