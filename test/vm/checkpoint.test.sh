#!/usr/bin/env bash
# checkpoint and restore with criu on a host where `criu check` passes (it fails on the development
# machine's kernel), for the runtime in $RUNTIME, as TAP: a counter stops at checkpoint and goes on
# from where it was after restore. The container's stdio are pipes, as a shim gives it (criu dumps
# a pipe; it cannot dump a file of a mount outside the container).
. "$(dirname "$0")/lib.sh"
R=$(rt_name)
if ! criu check >/dev/null 2>&1; then
  skip "$R: checkpoint/restore" "criu check fails here: $(criu check 2>&1 | tail -1)"
  done_testing; exit
fi
b=$(bundle cr "{\"devices\": $DEVICES_DEFAULT}" '["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /count; sleep 0.1; done"]')
count() { cat "$b/rootfs/count" 2>/dev/null || echo 0; }
counted_past() { [ "$(count)" -gt "$1" ]; }
rt run -d --bundle "$b" cr < <(true) > >(cat >/dev/null) 2> >(cat >"$WORK/cr.err")
ok $? "$R: run -d with stdio on pipes"
wait_for 100 counted_past 2; ok $? "$R: the counter runs"
rt checkpoint --image-path "$WORK/img" --work-path "$WORK/wp" cr </dev/null >"$WORK/ckpt.out" 2>&1
ok $? "$R: checkpoint" "$(cat "$WORK/ckpt.out"; tail -5 "$WORK/wp/dump.log" 2>/dev/null)"
ls "$WORK/img"/*.img >/dev/null 2>&1; ok $? "$R: criu images written"
c1=$(count); sleep 0.5
is "$(count)" "$c1" "$R: the counter stopped with the checkpoint"
like "$(rt state cr 2>&1)" '"status": *"stopped"|does not exist' "$R: the container is stopped or gone after checkpoint"
rt delete cr >/dev/null 2>&1
# tsrun's restore fails where runc's passes: criu says "mnt: No mapping for <id>:(null) mountpoint"
# (a mount of the container's tree it cannot place; found here, not fixed yet)
[ "$R" != runc ] && TAP_TODO="tsrun restore: criu mnt: No mapping for <id>:(null) mountpoint"
rt restore -d --image-path "$WORK/img" --work-path "$WORK/wp2" --bundle "$b" cr < <(true) > >(cat >/dev/null) 2> >(cat >"$WORK/rst.err")
ok $? "$R: restore -d" "$(cat "$WORK/rst.err"; tail -5 "$WORK/wp2/restore.log" 2>/dev/null)"
like "$(rt state cr 2>&1)" '"status": *"running"' "$R: running after restore"
wait_for 100 counted_past "$((c1 + 2))"; ok $? "$R: the counter goes on from $c1 ($(count))"
[ -n "$(cat /sys/fs/cgroup/vmtest/cr/cgroup.procs 2>/dev/null)" ]; ok $? "$R: the restored process is in the container's cgroup"
TAP_TODO=
stop cr
rmdir /sys/fs/cgroup/vmtest 2>/dev/null
done_testing
