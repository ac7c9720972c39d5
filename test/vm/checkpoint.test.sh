#!/usr/bin/env bash
# checkpoint and restore with criu on a host where `criu check` passes (it fails on the development
# machine's kernel), for the runtime in $RUNTIME, as TAP. A counter (a shell loop appending i to a
# file every 0.1 s) is dumped and restored: after restore the first line it appends is the one after
# the last it wrote before the dump (it counts on from its memory, it did not start again), and only
# one copy of it runs. The container's stdio are pipes, as a shim gives it (criu dumps a pipe; it
# cannot dump a file of a mount outside the container). Every bundle has a cgroup namespace.
. "$(dirname "$0")/lib.sh"
R=$(rt_name)
. "$(dirname "$0")/counter.sh"
criu_or_skip

# --- checkpoint (the container stops), restore under the same id; --image-path and --work-path apart
b=$(counter_bundle cr /count)
COUNT_FILE=$b/rootfs/count
run_piped cr "$b"; ok $? "$R: run -d with stdio on pipes"
wait_for 100 counted_past 2; ok $? "$R: the counter runs"
is "$(rt exec cr cat /proc/self/cgroup 2>&1)" "0::/" "$R: the container has a cgroup namespace (its cgroup is its /)"
rt checkpoint --image-path "$WORK/img" --work-path "$WORK/wp" cr </dev/null >"$WORK/ckpt.out" 2>&1
ok $? "$R: checkpoint" "$(cat "$WORK/ckpt.out"; tail -5 "$WORK/wp/dump.log" 2>/dev/null)"
ls "$WORK/img"/*.img >/dev/null 2>&1; ok $? "$R: criu images written to --image-path"
[ -f "$WORK/wp/dump.log" ] && [ ! -e "$WORK/img/dump.log" ]; ok $? "$R: criu's dump log in --work-path, not in --image-path"
c1=$(settled)
[ -n "$c1" ]; ok $? "$R: the counter stopped with the checkpoint (at ${c1:-?})"
like "$(state_of cr)" '"status":"stopped"|doesnotexist' "$R: the container is stopped or gone after checkpoint"
is "$(all_counters /count)" 0 "$R: no copy of the counter runs after the dump"
rt delete cr >/dev/null 2>&1
restore_piped cr "$b" --image-path "$WORK/img" --work-path "$WORK/wp2"
ok $? "$R: restore -d" "$(cat "$WORK/cr.rst.err"; tail -5 "$WORK/wp2/restore.log" 2>/dev/null)"
[ -f "$WORK/wp2/restore.log" ]; ok $? "$R: criu's restore log in --work-path"
like "$(state_of cr)" '"status":"running"' "$R: running after restore"
counts_on cr "$c1" "checkpoint/restore"
is "$(all_counters /count)" 1 "$R: no second copy anywhere on the host"
is "$(rt exec cr cat /proc/self/cgroup 2>&1)" "0::/" "$R: the restored container keeps its cgroup namespace"
[ -n "$(cat /sys/fs/cgroup/vmtest/cr/cgroup.procs 2>/dev/null)" ]; ok $? "$R: the restored process is in the container's cgroup"
stop cr

# --- --leave-running, then restore into a new id once the original is gone
b=$(counter_bundle lr /count)
COUNT_FILE=$b/rootfs/count
run_piped lr "$b"
wait_for 100 counted_past 2; ok $? "$R: leave-running: the counter runs"
before=$(count)
rt checkpoint --leave-running --image-path "$WORK/img-lr" lr </dev/null >"$WORK/lr.out" 2>&1
ok $? "$R: checkpoint --leave-running" "$(cat "$WORK/lr.out"; tail -5 "$WORK/img-lr/dump.log" 2>/dev/null)"
c2=$(count)
like "$(state_of lr)" '"status":"running"' "$R: leave-running: the container still runs"
wait_for 100 counted_past "$((c2 + 3))"; ok $? "$R: leave-running: and counts on ($c2 -> $(count))"
stop lr
[ ! -e /sys/fs/cgroup/vmtest/lr ] && [ "$(all_counters /count)" = 0 ]; ok $? "$R: the original is deleted"
dead=$(lines)
last=$(count)
restore_piped lr-new "$b" --image-path "$WORK/img-lr" --work-path "$WORK/wp-lr"
ok $? "$R: restore into a new id" "$(cat "$WORK/lr-new.rst.err"; tail -5 "$WORK/wp-lr/restore.log" 2>/dev/null)"
like "$(state_of lr-new)" '"status":"running"' "$R: the new id runs"
like "$(state_of lr)" 'doesnotexist' "$R: the old id is not brought back"
wait_for 150 more_lines_than "$dead"
next=$(line "$((dead + 1))")
cmp_ok "$next" -gt "$before" "$R: leave-running: the restored counter's first value ($next) is past its value before the dump ($before)"
cmp_ok "$next" -le "$((c2 + 1))" "$R: leave-running: it goes on from the dump (at most $c2 + 1), not from where the original stopped later ($last)"
is "$(counters lr)" 1 "$R: new id: one copy of the counter, in the cgroup of the config (/vmtest/lr)"
stop lr-new

# --- --pre-dump, then the final dump on top of it (--parent-path)
b=$(counter_bundle pd /count '"pids": {"limit": 64}')
COUNT_FILE=$b/rootfs/count
run_piped pd "$b"
wait_for 100 counted_past 2; ok $? "$R: pre-dump: the counter runs"
rt checkpoint --pre-dump --image-path "$WORK/pd/pre" pd </dev/null >"$WORK/pd.out" 2>&1
ok $? "$R: checkpoint --pre-dump" "$(cat "$WORK/pd.out"; tail -5 "$WORK/pd/pre/dump.log" 2>/dev/null)"
ls "$WORK/pd/pre"/pages-*.img >/dev/null 2>&1; ok $? "$R: the pre-dump wrote memory pages"
c3=$(count)
wait_for 100 counted_past "$((c3 + 3))"; ok $? "$R: the container runs on after a pre-dump"
rt checkpoint --parent-path ../pre --image-path "$WORK/pd/final" pd </dev/null >"$WORK/pd2.out" 2>&1
ok $? "$R: final checkpoint with --parent-path ../pre" "$(cat "$WORK/pd2.out"; tail -5 "$WORK/pd/final/dump.log" 2>/dev/null)"
is "$(readlink "$WORK/pd/final/parent")" ../pre "$R: the final images point at the pre-dump (criu's parent link)"
c3=$(settled)
[ -n "$c3" ]; ok $? "$R: the counter stopped with the final dump (at ${c3:-?})"
rt delete pd >/dev/null 2>&1
restore_piped pd "$b" --image-path "$WORK/pd/final" --work-path "$WORK/pd/wr"
ok $? "$R: restore from the final dump" "$(cat "$WORK/pd.rst.err"; tail -5 "$WORK/pd/wr/restore.log" 2>/dev/null)"
counts_on pd "$c3" "pre-dump"
is "$(cat /sys/fs/cgroup/vmtest/pd/pids.max 2>&1)" 64 "$R: pre-dump: the restored container's cgroup has its limit"
stop pd

# --- a bind mount (the counter writes to a host directory), --manage-cgroups-mode soft (runc's default)
mkdir -p "$WORK/data"
b=$(counter_bundle bm /data/count '"pids": {"limit": 50}' "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"$WORK/data\", \"options\": [\"rbind\", \"rw\"]}")
COUNT_FILE=$WORK/data/count
run_piped bm "$b"
wait_for 100 counted_past 2; ok $? "$R: bind mount: the counter writes to the host directory"
rt checkpoint --manage-cgroups-mode bogus --image-path "$WORK/img-bad" bm </dev/null >"$WORK/bm-bad.out" 2>&1
cmp_ok "$?" -ne 0 "$R: --manage-cgroups-mode bogus is refused"
like "$(cat "$WORK/bm-bad.out")" "Invalid manage cgroups mode" "$R: with runc's message"
like "$(state_of bm)" '"status":"running"' "$R: and the container runs on"
rt checkpoint --manage-cgroups-mode soft --image-path "$WORK/img-bm" bm </dev/null >"$WORK/bm.out" 2>&1
ok $? "$R: checkpoint of a container with a bind mount" "$(cat "$WORK/bm.out"; tail -5 "$WORK/img-bm/dump.log" 2>/dev/null)"
c4=$(settled)
[ -n "$c4" ]; ok $? "$R: bind mount: the counter stopped (at ${c4:-?})"
rt delete bm >/dev/null 2>&1
restore_piped bm "$b" --manage-cgroups-mode soft --image-path "$WORK/img-bm" --work-path "$WORK/wp-bm"
ok $? "$R: restore of a container with a bind mount" "$(cat "$WORK/bm.rst.err"; tail -5 "$WORK/wp-bm/restore.log" 2>/dev/null)"
counts_on bm "$c4" "bind mount"
is "$(cat /sys/fs/cgroup/vmtest/bm/pids.max 2>&1)" 50 "$R: bind mount: the container's cgroup has the config's limit"
stop bm

# --- --manage-cgroups-mode full (criu restores the cgroup's properties) and ignore (criu leaves
# cgroups alone: the runtime moves the restored tree into the container's cgroup)
for mode in full ignore; do
  id=mc-$mode
  b=$(counter_bundle "$id" /count '"pids": {"limit": 40}')
  COUNT_FILE=$b/rootfs/count
  run_piped "$id" "$b"
  wait_for 100 counted_past 2
  rt checkpoint --manage-cgroups-mode "$mode" --image-path "$WORK/img-$id" "$id" </dev/null >"$WORK/$id.out" 2>&1
  rc=$?
  if [ "$rc" -ne 0 ] && [ "$R" = runc ] && grep -q "Invalid manage cgroups mode" "$WORK/$id.out"; then
    skip "$R: --manage-cgroups-mode $mode" "this runc ($(runc --version | head -1)) has no mode $mode (runc 1.2 added it)"
    stop "$id"; continue
  fi
  ok "$rc" "$R: checkpoint --manage-cgroups-mode $mode" "$(cat "$WORK/$id.out"; tail -5 "$WORK/img-$id/dump.log" 2>/dev/null)"
  c5=$(settled)
  rt delete "$id" >/dev/null 2>&1
  restore_piped "$id" "$b" --manage-cgroups-mode "$mode" --image-path "$WORK/img-$id" --work-path "$WORK/wp-$id"
  ok $? "$R: restore --manage-cgroups-mode $mode" "$(cat "$WORK/$id.rst.err"; tail -5 "$WORK/wp-$id/restore.log" 2>/dev/null)"
  counts_on "$id" "${c5:-0 0}" "manage-cgroups-mode $mode"
  is "$(cat "/sys/fs/cgroup/vmtest/$id/pids.max" 2>&1)" 40 "$R: manage-cgroups-mode $mode: pids.max holds the config's limit"
  stop "$id"
done

# --- the systemd cgroup driver: the scope exists before criu fills it and ends up holding only the
# restored tree, with the config's limits
if [ -d /run/systemd/system ]; then
  systemd_dump_restore sdck
  U=$SD_UNIT
  SCG=/sys/fs/cgroup/system.slice/$U
  is "$(cat "/proc/$SD_PID/cgroup" 2>&1)" "0::/system.slice/$U" "$R: systemd: the restored init is in the scope"
  is "$(strangers "$SCG")" "" "$R: systemd: only the container's processes are in the scope (the runtime and criu left it)"
  is "$(systemctl show -p MemoryMax --value "$U")" $((64 * 1024 * 1024)) "$R: systemd: MemoryMax of the restored scope"
  is "$(systemctl show -p TasksMax --value "$U")" 6 "$R: systemd: TasksMax of the restored scope"
  is "$(cat "$SCG/pids.max" 2>&1)" 6 "$R: systemd: pids.max in its cgroup"
  counts_on "$SCG" "${SD_SETTLED:-0 0}" "systemd"
  srt delete --force sdck >/dev/null 2>&1
  wait_for 50 sh -c "[ -z \"\$(systemctl list-units --all --plain --no-legend $U)\" ]"
  ok $? "$R: systemd: delete removes the scope" "$(systemctl list-units --all --plain --no-legend "$U")"
else
  skip "$R: checkpoint/restore with the systemd cgroup driver" "systemd is not running here"
fi

# --- a container with a terminal: criu needs the pty master (runc gets it over criu's RPC)
if command -v python3 >/dev/null; then
  sock=$WORK/console.sock
  # a console socket that keeps the pty master it receives open until it is killed
  python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sys.argv[1]); s.listen(4)
keep = []
while True:
    c, _ = s.accept()
    msg, fds, _, _ = socket.recv_fds(c, 4096, 4)
    keep.append((c, fds))
' "$sock" &
  console_pid=$!
  wait_for 50 test -S "$sock"
  PROCESS_EXTRA=
  b=$(bundle tty "{\"devices\": $DEVICES_DEFAULT}" '["sh", "-c", "sleep 300"]')
  sed -i 's/"terminal": false/"terminal": true/' "$b/config.json"
  rt run -d --console-socket "$sock" --bundle "$b" tty </dev/null >"$WORK/tty.out" 2>&1
  ok $? "$R: terminal: run -d with a console socket" "$(cat "$WORK/tty.out")"
  rt checkpoint --image-path "$WORK/img-tty" tty </dev/null >"$WORK/tty-ck.out" 2>&1
  rc=$?
  if [ "$R" = runc ]; then
    diag "runc checkpoint of a terminal container: exit $rc: $(tail -3 "$WORK/tty-ck.out")"
    if [ "$rc" -eq 0 ]; then
      rt delete tty >/dev/null 2>&1
      rt restore -d --console-socket "$sock" --image-path "$WORK/img-tty" --work-path "$WORK/wp-tty" --bundle "$b" tty </dev/null >"$WORK/tty-rst.out" 2>&1
      diag "runc restore of a terminal container: exit $?: $(tail -3 "$WORK/tty-rst.out"; grep Error "$WORK/wp-tty/restore.log" 2>/dev/null | tail -3)"
    fi
  else
    cmp_ok "$rc" -ne 0 "$R: terminal: checkpoint is refused"
    like "$(cat "$WORK/tty-ck.out")" "checkpointing a container with a terminal is not supported" "$R: terminal: with one clear error"
    like "$(state_of tty)" '"status":"running"' "$R: terminal: and the container runs on"
    [ ! -e "$WORK/img-tty" ]; ok $? "$R: terminal: no image directory is left"
  fi
  stop tty
  kill "$console_pid" 2>/dev/null
fi
rmdir /sys/fs/cgroup/vmtest 2>/dev/null
done_testing
