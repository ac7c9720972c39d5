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
systemd_dump_restore hck
U=$SD_UNIT
MEM=/sys/fs/cgroup/memory/system.slice/$U
for h in memory pids freezer cpuset; do
  like "$(grep -E "^[0-9]+:$h:" "/proc/$SD_PID/cgroup")" ":/system.slice/$U\$" "$R: the restored init is in /system.slice/$U of the $h hierarchy"
done
is "$(strangers "$MEM")" "" "$R: only the container's processes are in the scope (the runtime and criu left it)"
is "$(systemctl show -p MemoryLimit --value "$U")" $((64 * 1024 * 1024)) "$R: MemoryLimit of the restored scope"
is "$(cat "/sys/fs/cgroup/pids/system.slice/$U/pids.max" 2>&1)" 6 "$R: pids.max"
counts_on "$MEM" "${SD_SETTLED:-0 0}" "systemd on v1"
srt delete --force hck >/dev/null 2>&1
wait_for 50 sh -c "[ -z \"\$(systemctl list-units --all --plain --no-legend $U)\" ]"
ok $? "$R: delete removes the scope"
left=$(for d in /sys/fs/cgroup/*/system.slice/"$U"; do [ -d "$d" ] && echo "$d"; done)
is "$left" "" "$R: and its directory in every hierarchy"
done_testing
