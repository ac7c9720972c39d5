#!/usr/bin/env bash
# The systemd cgroup driver where systemd runs on the cgroup v1 controllers (a hybrid host: RHEL 8,
# Ubuntu 20.04), for the runtime in $RUNTIME, as TAP; the guest is booted with TSRUN_VM_CGROUP=hybrid
# (test/vm/run). systemd makes the scope's cgroup in the hierarchies it manages (memory, pids, cpu,
# devices...) with its v1 properties (MemoryLimit, CPUShares); the runtime makes and joins the rest
# (freezer, cpuset...), writes the v1 files, and delete leaves no directory in any hierarchy.
. "$(dirname "$0")/../lib.sh"
R=$(rt_name)
MiB=$((1024 * 1024))
DEV=$DEVICES_DEFAULT
if [ ! -d /sys/fs/cgroup/memory ] || [ ! -d /run/systemd/system ]; then
  skip "$R: systemd on cgroup v1" "this guest is not booted hybrid (TSRUN_VM_CGROUP=hybrid): $(ls /sys/fs/cgroup | tr '\n' ' ')"
  done_testing; exit
fi
srt() { "$RUNTIME" --systemd-cgroup --root "$ROOT" "$@"; }
stop() { srt delete --force "$1" >/dev/null 2>&1; }
start() { srt run -d --bundle "$2" "$1" </dev/null >"$WORK/$1.out" 2>"$WORK/$1.err"; }
sbundle() { # sbundle ID CGROUPSPATH RESOURCES ARGS
  local b; b=$(bundle "$1" "$3" "$4")
  sed -i "s|\"cgroupsPath\": \"/vmtest/$1\"|\"cgroupsPath\": \"$2\"|" "$b/config.json"
  echo "$b"
}
prop() { systemctl show -p "$2" --value "$1"; }
units() { systemctl list-units --all --plain --no-legend "$@" 2>/dev/null | awk '{print $1}' | tr '\n' ' '; }
gone() { [ -z "$(units "$1")" ]; }
pidof_ct() { srt state "$1" | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$'; }
leftover_dirs() { local d; for d in /sys/fs/cgroup/*/system.slice/"$1"; do [ -d "$d" ] && echo "$d"; done; }

U="$R-h1.scope"
b=$(sbundle h1 "system.slice:$R:h1" "{\"devices\": $DEV, \"memory\": {\"limit\": $((32 * MiB))}, \"pids\": {\"limit\": 20}, \"cpu\": {\"shares\": 512, \"quota\": 20000, \"period\": 100000}}" '["sleep", "1000"]')
start h1 "$b"; ok $? "$R: run -d --systemd-cgroup on cgroup v1" "$(cat "$WORK/h1.err")"
is "$(systemctl is-active "$U")" active "$R: the scope $U is active"
is "$(prop "$U" ControlGroup)" "/system.slice/$U" "$R: its cgroup is /system.slice/$U"
is "$(prop "$U" Delegate)" yes "$R: Delegate=yes"
pid=$(pidof_ct h1)
for c in memory pids cpu,cpuacct devices freezer cpuset; do
  like "$(grep -E "^[0-9]+:$c:" "/proc/$pid/cgroup")" ":/system.slice/$U\$" "$R: the init is in /system.slice/$U of the $c hierarchy"
done
is "$(prop "$U" MemoryLimit)" $((32 * MiB)) "$R: MemoryLimit = memory.limit (v1's property)"
is "$(prop "$U" TasksMax)" 20 "$R: TasksMax = pids.limit"
is "$(prop "$U" CPUShares)" 512 "$R: CPUShares = cpu.shares (v1's property)"
is "$(prop "$U" CPUQuotaPerSecUSec)" 200ms "$R: CPUQuotaPerSecUSec = quota / period"
is "$(cat /sys/fs/cgroup/memory/system.slice/$U/memory.limit_in_bytes)" $((32 * MiB)) "$R: memory.limit_in_bytes"
is "$(cat /sys/fs/cgroup/pids/system.slice/$U/pids.max)" 20 "$R: pids.max"
is "$(cat /sys/fs/cgroup/cpu,cpuacct/system.slice/$U/cpu.shares)" 512 "$R: cpu.shares"
is "$(cat /sys/fs/cgroup/cpu,cpuacct/system.slice/$U/cpu.cfs_quota_us)" 20000 "$R: cpu.cfs_quota_us"
srt exec h1 dd if=/dev/zero of=/dev/null bs=64M count=1 </dev/null >/dev/null 2>&1
is "$?" 137 "$R: allocating 64 MiB past the limit is OOM-killed"
srt exec h1 sh -c '(for i in $(seq 1 60); do sleep 30 >/dev/null 2>&1 & done) 2>/dev/null; true' </dev/null >/dev/null 2>&1
cmp_ok "$(cat /sys/fs/cgroup/pids/system.slice/$U/pids.current)" -le 20 "$R: a fork loop of 60 stays within TasksMax"
is "$(srt ps --format json h1 | tr -d '[] \n' | tr , '\n' | sort -n | tr '\n' ' ')" "$(sort -n /sys/fs/cgroup/memory/system.slice/$U/cgroup.procs | tr '\n' ' ')" "$R: ps = the memory cgroup's processes (exec joined it)"
srt update --memory 64m --pids-limit 30 --cpu-share 1024 h1; ok $? "$R: update"
is "$(prop "$U" MemoryLimit)" $((64 * MiB)) "$R: update changes MemoryLimit live"
is "$(prop "$U" TasksMax)" 30 "$R: update changes TasksMax live"
is "$(prop "$U" CPUShares)" 1024 "$R: update changes CPUShares live"
is "$(cat /sys/fs/cgroup/memory/system.slice/$U/memory.limit_in_bytes)" $((64 * MiB)) "$R: and memory.limit_in_bytes"
srt pause h1; ok $? "$R: pause"
is "$(cat /sys/fs/cgroup/freezer/system.slice/$U/freezer.state)" FROZEN "$R: the freezer cgroup is FROZEN"
like "$(srt state h1)" '"status": *"paused"' "$R: state says paused"
srt resume h1; ok $? "$R: resume"
like "$(srt state h1)" '"status": *"running"' "$R: state says running"
like "$(srt events --stats h1)" "\"limit\":$((64 * MiB))" "$R: events --stats reports the memory limit"
srt kill --all h1 KILL 2>/dev/null
wait_for 50 sh -c "! [ -s /sys/fs/cgroup/memory/system.slice/$U/cgroup.procs ]"
ok $? "$R: kill --all KILL empties the cgroup"
stop h1
wait_for 50 gone "$U"; ok $? "$R: delete removes the scope" "$(units "$U")"
is "$(leftover_dirs "$U")" "" "$R: and its directory in every hierarchy (freezer and cpuset too)"

# --- nothing left after a bad config and after a killed init
b=$(sbundle bad "system.slice:$R:bad" "{\"devices\": $DEV, \"memory\": {\"limit\": $((32 * MiB)), \"swap\": $((16 * MiB))}}" '["true"]')
start bad "$b"; cmp_ok $? -ne 0 "$R: a bad memory swap value fails"
ok "$(gone "$R-bad.scope"; echo $?)" "$R: no unit left after a bad config" "$(units "$R-bad.scope")"
is "$(leftover_dirs "$R-bad.scope")" "" "$R: no directory left after a bad config"
b=$(sbundle dead "system.slice:$R:dead" "{\"devices\": $DEV}" '["sleep", "1000"]')
start dead "$b"
kill -9 "$(pidof_ct dead)"
wait_for 50 sh -c "\"$RUNTIME\" --root \"$ROOT\" state dead | grep -q stopped"
srt delete dead; ok $? "$R: delete of a container whose init was killed"
wait_for 30 gone "$R-dead.scope"; ok $? "$R: no unit left after a killed init" "$(units "$R-dead.scope")"
is "$(leftover_dirs "$R-dead.scope")" "" "$R: no directory left after a killed init"
is "$(srt list -q)" "" "$R: no container left"
is "$(systemctl list-units --failed --plain --no-legend "$R-*.scope" 2>/dev/null)" "" "$R: no failed unit"
done_testing
