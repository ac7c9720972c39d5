#!/usr/bin/env bash
# The systemd cgroup driver (--systemd-cgroup) for the runtime in $RUNTIME (tsrun or runc), as TAP:
# the container's cgroup is a transient scope systemd knows, with the config's limits as unit
# properties, enforced, changed live by update; delete removes the scope, and no failure leaves a
# unit behind.
. "$(dirname "$0")/lib.sh"
R=$(rt_name)
MiB=$((1024 * 1024))
DEV=$DEVICES_DEFAULT
srt() { "$RUNTIME" --systemd-cgroup --root "$ROOT" "$@"; }
stop() { srt delete --force "$1" >/dev/null 2>&1; }
start() { srt run -d --bundle "$2" "$1" </dev/null >"$WORK/$1.out" 2>"$WORK/$1.err"; }
# sbundle ID CGROUPSPATH RESOURCES ARGS: a bundle whose cgroupsPath is systemd's slice:prefix:name ("" drops it)
sbundle() {
  local b; b=$(bundle "$1" "$3" "$4")
  if [ -n "$2" ]; then sed -i "s|\"cgroupsPath\": \"/vmtest/$1\"|\"cgroupsPath\": \"$2\"|" "$b/config.json"
  else sed -i "/\"cgroupsPath\": /d" "$b/config.json"; fi
  echo "$b"
}
# with_hooks BUNDLE HOOKS-JSON: add a hooks object
with_hooks() { sed -i "s|\"hostname\": \"vmtest\",|\"hostname\": \"vmtest\", \"hooks\": $2,|" "$1/config.json"; }
prop() { systemctl show -p "$2" --value "$1"; } # prop UNIT PROPERTY
units() { systemctl list-units --all --plain --no-legend "$@" 2>/dev/null | awk '{print $1}' | tr '\n' ' '; }
gone() { [ -z "$(units "$1")" ]; }
pidof_ct() { srt state "$1" | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$'; }

# --- the scope, its properties, its limits
U="$R-lim.scope"
b=$(sbundle lim "system.slice:$R:lim" "{\"devices\": $DEV, \"memory\": {\"limit\": $((32 * MiB)), \"reservation\": $((8 * MiB))}, \"pids\": {\"limit\": 20}, \"cpu\": {\"shares\": 512, \"quota\": 20000, \"period\": 100000}}" '["sleep", "1000"]')
start lim "$b"; ok $? "$R: run -d --systemd-cgroup with system.slice:$R:lim" "$(cat "$WORK/lim.err")"
is "$(systemctl is-active "$U")" active "$R: the scope $U is active while the container runs"
is "$(prop "$U" ControlGroup)" "/system.slice/$U" "$R: its cgroup is /system.slice/$U"
pid=$(pidof_ct lim)
is "$(cat "/proc/$pid/cgroup" 2>&1)" "0::/system.slice/$U" "$R: the container's init is in the scope"
is "$(prop "$U" Delegate)" yes "$R: Delegate=yes"
is "$(prop "$U" Slice)" system.slice "$R: Slice=system.slice"
is "$(prop "$U" MemoryMax)" $((32 * MiB)) "$R: MemoryMax = memory.limit"
is "$(prop "$U" MemoryLow)" $((8 * MiB)) "$R: MemoryLow = memory.reservation"
is "$(prop "$U" TasksMax)" 20 "$R: TasksMax = pids.limit"
is "$(prop "$U" CPUQuotaPerSecUSec)" 200ms "$R: CPUQuotaPerSecUSec = quota / period"
CG=/sys/fs/cgroup/system.slice/$U
is "$(prop "$U" CPUWeight)" "$(cat $CG/cpu.weight)" "$R: CPUWeight = the cgroup's cpu.weight (from shares)"
is "$(cat $CG/memory.max)" $((32 * MiB)) "$R: memory.max in the delegated cgroup"
is "$(cat $CG/pids.max)" 20 "$R: pids.max in the delegated cgroup"
is "$(cat $CG/cpu.max)" "20000 100000" "$R: cpu.max in the delegated cgroup"
like "$(prop "$U" DevicePolicy)" '^(strict|closed)$' "$R: DevicePolicy strict"
like "$(prop "$U" DeviceAllow)" '/dev/char/1:3 rwm' "$R: DeviceAllow has /dev/null"
srt exec lim sh -c 'echo hi > /dev/null && cat /dev/zero | head -c 1 >/dev/null' </dev/null
ok $? "$R: the container can use /dev/null and /dev/zero"
srt exec lim dd if=/dev/zero of=/dev/null bs=64M count=1 </dev/null >/dev/null 2>&1
is "$?" 137 "$R: allocating 64 MiB past MemoryMax is OOM-killed"
srt exec lim sh -c '(for i in $(seq 1 60); do sleep 30 >/dev/null 2>&1 & done) 2>/dev/null; true' </dev/null >/dev/null 2>&1
cmp_ok "$(cat $CG/pids.current)" -le 20 "$R: a fork loop of 60 stays within TasksMax"
cmp_ok "$(awk '$1 == "max" {print $2}' $CG/pids.events)" -ge 1 "$R: pids.events counts the refused forks"
is "$(srt ps --format json lim | tr -d '[] \n' | tr , '\n' | sort -n | tr '\n' ' ')" "$(sort -n $CG/cgroup.procs | tr '\n' ' ')" "$R: ps = the scope's cgroup.procs"
stats=$(srt events --stats lim)
like "$stats" "\"limit\":$((32 * MiB))" "$R: events --stats reports the memory limit"
srt kill --all lim KILL 2>/dev/null
wait_for 50 sh -c "! [ -s $CG/cgroup.procs ]"
ok $? "$R: kill --all KILL empties the scope" "$(cat $CG/cgroup.procs 2>&1)"
stop lim
wait_for 50 gone "$U"
ok $? "$R: delete removes the scope" "$(units "$U")"
ok "$([ ! -e $CG ]; echo $?)" "$R: and its cgroup"

# --- update sets the properties live (systemctl show reflects it) and the files; pause/resume
U="$R-upd.scope"; CG=/sys/fs/cgroup/system.slice/$U
b=$(sbundle upd "system.slice:$R:upd" "{\"devices\": $DEV, \"memory\": {\"limit\": $((32 * MiB))}, \"pids\": {\"limit\": 20}}" '["sleep", "1000"]')
start upd "$b"; ok $? "$R: run -d" "$(cat "$WORK/upd.err")"
srt update --memory 64m --pids-limit 30 --cpu-quota 50000 --cpu-period 100000 --cpu-share 1024 upd
ok $? "$R: update"
is "$(prop "$U" MemoryMax)" $((64 * MiB)) "$R: update changes MemoryMax live"
is "$(prop "$U" TasksMax)" 30 "$R: update changes TasksMax live"
is "$(prop "$U" CPUQuotaPerSecUSec)" 500ms "$R: update changes CPUQuotaPerSecUSec live"
is "$(prop "$U" CPUWeight)" "$(cat $CG/cpu.weight)" "$R: update changes CPUWeight as the cgroup's cpu.weight"
is "$(cat $CG/memory.max)" $((64 * MiB)) "$R: update changes memory.max"
is "$(cat $CG/pids.max)" 30 "$R: update changes pids.max"
is "$(cat $CG/cpu.max)" "50000 100000" "$R: update changes cpu.max"
srt pause upd; ok $? "$R: pause"
wait_for 50 grep -q 'frozen 1' $CG/cgroup.events
ok $? "$R: the scope's cgroup is frozen"
like "$(srt state upd)" '"status": *"paused"' "$R: state says paused"
srt resume upd; ok $? "$R: resume"
like "$(srt state upd)" '"status": *"running"' "$R: state says running"
is "$(systemctl is-active "$U")" active "$R: the scope is still active after pause/resume"
stop upd
wait_for 50 gone "$U"; ok $? "$R: delete removes the scope" "$(units "$U")"

# --- a nested slice; the default name when cgroupsPath is empty
U="$R-nest.scope"
b=$(sbundle nest "vmtest-$R.slice:$R:nest" "{\"devices\": $DEV}" '["sleep", "1000"]')
start nest "$b"; ok $? "$R: run -d in the nested slice vmtest-$R.slice" "$(cat "$WORK/nest.err")"
is "$(prop "$U" ControlGroup)" "/vmtest.slice/vmtest-$R.slice/$U" "$R: the scope sits in vmtest.slice/vmtest-$R.slice"
is "$(systemctl is-active "vmtest-$R.slice")" active "$R: systemd made the slices"
stop nest
wait_for 50 gone "$U"; ok $? "$R: delete removes the nested scope" "$(units "$U")"
b=$(sbundle dflt "" "{\"devices\": $DEV}" '["sleep", "1000"]')
start dflt "$b"; ok $? "$R: run -d without cgroupsPath" "$(cat "$WORK/dflt.err")"
is "$(prop "$R-dflt.scope" ControlGroup)" "/system.slice/$R-dflt.scope" "$R: the default unit is $R-<id>.scope in system.slice"
stop dflt
wait_for 50 gone "$R-dflt.scope"; ok $? "$R: delete removes it" "$(units "$R-dflt.scope")"

# --- org.systemd.property.* annotations are unit properties; unified keys systemd knows are too
U="$R-ann.scope"
b=$(sbundle ann "system.slice:$R:ann" "{\"devices\": $DEV, \"unified\": {\"memory.high\": \"$((48 * MiB))\", \"pids.max\": \"25\"}}" '["sleep", "1000"]')
sed -i 's|"ociVersion": "1.0.2",|"ociVersion": "1.0.2", "annotations": {"org.systemd.property.TimeoutStopUSec": "uint64 123456789", "org.systemd.property.CollectMode": "'"'inactive-or-failed'"'", "org.systemd.property.RuntimeMaxSec": "uint64 3600"},|' "$b/config.json"
start ann "$b"; ok $? "$R: run -d with org.systemd.property.* annotations" "$(cat "$WORK/ann.err")"
is "$(prop "$U" TimeoutStopUSec)" "2min 3.456789s" "$R: TimeoutStopUSec from the annotation (uint64 123456789)"
is "$(prop "$U" CollectMode)" inactive-or-failed "$R: CollectMode from the annotation ('inactive-or-failed')"
is "$(prop "$U" RuntimeMaxUSec)" 1h "$R: RuntimeMaxSec (seconds) is sent as RuntimeMaxUSec"
is "$(prop "$U" MemoryHigh)" $((48 * MiB)) "$R: unified memory.high is MemoryHigh"
is "$(prop "$U" TasksMax)" 25 "$R: unified pids.max is TasksMax"
is "$(cat /sys/fs/cgroup/system.slice/$U/memory.high)" $((48 * MiB)) "$R: and memory.high in the cgroup"
stop ann
wait_for 50 gone "$U"; ok $? "$R: delete removes the scope" "$(units "$U")"
b=$(sbundle badann "system.slice:$R:badann" "{\"devices\": $DEV}" '["sleep", "1000"]')
sed -i 's|"ociVersion": "1.0.2",|"ociVersion": "1.0.2", "annotations": {"org.systemd.property.CollectMode": "inactive-or-failed"},|' "$b/config.json"
start badann "$b"; st=$?
cmp_ok $st -ne 0 "$R: an annotation value that is not GVariant text fails"
like "$(cat "$WORK/badann.err")" 'org\.systemd\.property\.CollectMode' "$R: naming the annotation"
ok "$(gone "$R-badann.scope"; echo $?)" "$R: and leaves no unit" "$(units "$R-badann.scope")"
is "$(srt list -q)" "" "$R: and no container (neither this one nor any deleted before)"

# --- a unit that already exists: refused while it runs; a failed leftover is reset and reused
b=$(sbundle own "system.slice:$R:taken" "{\"devices\": $DEV}" '["sleep", "1000"]')
start own "$b"; ok $? "$R: run -d system.slice:$R:taken" "$(cat "$WORK/own.err")"
# runc 1.1.5 (Debian 12's) ignores systemd's UnitExists: the second container joins the first one's
# scope, and a failed leftover stays failed (later runc refuses the first, resets and retries the second)
[ "$R" = runc ] && TAP_TODO="runc 1.1.5 ignores UnitExists"
b=$(sbundle dup "system.slice:$R:taken" "{\"devices\": $DEV}" '["sleep", "1000"]')
start dup "$b"; st=$?
cmp_ok $st -ne 0 "$R: a second container with the same unit fails"
like "$(cat "$WORK/dup.err")" 'already exists' "$R: saying the unit already exists"
like "$(srt list -q)" '^own$' "$R: the failed one left no container"
is "$(systemctl is-active "$R-taken.scope")" active "$R: the first container's scope is untouched"
stop own
wait_for 50 gone "$R-taken.scope"
systemd-run --quiet --scope --unit="$R-left.scope" -p RuntimeMaxSec=1 sleep 5 >/dev/null 2>&1
if [ "$(systemctl is-failed "$R-left.scope")" = failed ]; then
  b=$(sbundle left "system.slice:$R:left" "{\"devices\": $DEV}" '["sleep", "1000"]')
  start left "$b"; ok $? "$R: a failed leftover scope of the same name is reset and replaced" "$(cat "$WORK/left.err")"
  is "$(systemctl is-active "$R-left.scope")" active "$R: the new scope is active"
  stop left
  wait_for 50 gone "$R-left.scope"; ok $? "$R: and deleted" "$(units "$R-left.scope")"
  # (runc 1.1.5 leaves the failed leftover: cleared here so the checks below see only their own cases)
  [ "$R" = runc ] && systemctl reset-failed "$R-left.scope" >/dev/null 2>&1
else
  skip "$R: a failed leftover scope is reset and replaced" "systemd-run could not make a failed scope here"
fi

TAP_TODO=

# --- no failure leaves a unit behind
b=$(sbundle badpath "notaslice:$R:badpath" "{\"devices\": $DEV}" '["true"]')
start badpath "$b"; st=$?
cmp_ok $st -ne 0 "$R: a cgroupsPath that is not slice:prefix:name fails"
like "$(cat "$WORK/badpath.err")" 'slice' "$R: naming the slice" 
b=$(sbundle badres "system.slice:$R:badres" "{\"devices\": $DEV, \"memory\": {\"limit\": $((32 * MiB)), \"swap\": $((16 * MiB))}}" '["true"]')
start badres "$b"; st=$?
cmp_ok $st -ne 0 "$R: a bad memory swap value fails"
ok "$(gone "$R-badres.scope"; echo $?)" "$R: no unit left after a bad config" "$(units "$R-badres.scope")"
b=$(sbundle hook "system.slice:$R:hook" "{\"devices\": $DEV}" '["sleep", "1000"]')
with_hooks "$b" '{"createRuntime": [{"path": "/bin/false"}]}'
start hook "$b"; st=$?
cmp_ok $st -ne 0 "$R: a failing createRuntime hook fails the create"
wait_for 30 gone "$R-hook.scope"
ok $? "$R: no unit left after a failing hook" "$(units "$R-hook.scope")"
b=$(sbundle dead "system.slice:$R:dead" "{\"devices\": $DEV}" '["sleep", "1000"]')
start dead "$b"
kill -9 "$(pidof_ct dead)"
wait_for 50 sh -c "\"$RUNTIME\" --root \"$ROOT\" state dead | grep -q stopped"
srt delete dead; ok $? "$R: delete of a container whose init was killed"
wait_for 30 gone "$R-dead.scope"
ok $? "$R: no unit left after a killed init" "$(units "$R-dead.scope")"
b=$(sbundle mid "system.slice:$R:mid" "{\"devices\": $DEV}" '["sleep", "1000"]')
with_hooks "$b" "{\"createRuntime\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"echo \$\$ > $WORK/hook.pid; exec sleep 60\"]}]}"
"$RUNTIME" --systemd-cgroup --root "$ROOT" create --bundle "$b" mid </dev/null >/dev/null 2>&1 &
rtpid=$!
wait_for 300 test -s "$WORK/hook.pid"
is "$(systemctl is-active "$R-mid.scope")" active "$R: mid-create (in a createRuntime hook) the scope exists"
kill -9 "$rtpid"; wait "$rtpid" 2>/dev/null
kill "$(cat "$WORK/hook.pid")" 2>/dev/null
srt delete --force mid >/dev/null 2>&1
wait_for 30 gone "$R-mid.scope"
ok $? "$R: delete --force after the runtime was killed mid-create leaves no unit" "$(units "$R-mid.scope"; srt list 2>&1)"
is "$(units "$R-*.scope")" "" "$R: no $R-*.scope unit at all is left"
is "$(systemctl list-units --failed --plain --no-legend "$R-*.scope" 2>/dev/null)" "" "$R: and no failed one"
systemctl stop "vmtest-$R.slice" vmtest.slice >/dev/null 2>&1

done_testing
