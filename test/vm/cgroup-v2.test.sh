#!/usr/bin/env bash
# cgroup v2 limits with real controllers, for the runtime in $RUNTIME (tsrun or runc), as TAP.
# Each enforced limit is set against a control container without it, so a runtime that ignored
# the setting fails the test (the control shows the same workload going past the limit).
. "$(dirname "$0")/lib.sh"
R=$(rt_name)
# cpu.shares -> cpu.weight: tsrun maps as runc does since 1.3.2 (1024 -> 100, the default);
# runc 1.1 (Debian 12's) used the linear 1 + (shares - 2) * 9999 / 262142
# (the update goes to 2048, not 1024: weight 100 is also the default, which an ignored update keeps)
if [ "$R" = runc ]; then weight512=20 weight2048=79; else weight512=59 weight2048=174; fi
MiB=$((1024 * 1024))
DEV=$DEVICES_DEFAULT

# --- memory.max, memory.swap.max, memory.low; an OOM kill and its event
# With swap on (a swap file on the guest's root disk, for this file only), 64 MiB in a cgroup of
# memory.max 32 MiB fits when the swap is not limited (the control memswapctl shows it): the OOM
# kill below then proves memory.swap.max (16 MiB) as well as memory.max.
SWAP=/var/tmp/vmtest.swap
if dd if=/dev/zero of=$SWAP bs=1M count=128 status=none && chmod 600 $SWAP && mkswap -q $SWAP >/dev/null 2>&1 && swapon $SWAP 2>/dev/null; then
  swap_on=1
else
  swap_on=; rm -f $SWAP
fi
swap_off() { [ -n "$swap_on" ] && swapoff $SWAP && rm -f $SWAP; swap_on=; }
trap 'swap_off; cleanup' EXIT
b=$(bundle mem "{\"devices\": $DEV, \"memory\": {\"limit\": $((32 * MiB)), \"swap\": $((48 * MiB)), \"reservation\": $((16 * MiB))}}" '["sleep", "1000"]')
start mem "$b"; ok $? "$R: run -d with memory limits" "$(cat "$WORK/mem.err")"
is "$(cg mem memory.max)" $((32 * MiB)) "$R: memory.max = limit"
is "$(cg mem memory.swap.max)" $((16 * MiB)) "$R: memory.swap.max = swap - limit"
is "$(cg mem memory.low)" $((16 * MiB)) "$R: memory.low = reservation"
rt events --interval 1s mem >"$WORK/mem.events" 2>&1 &
events=$!
wait_for 100 grep -q '"stats"' "$WORK/mem.events"
rt exec mem dd if=/dev/zero of=/dev/null bs=64M count=1 </dev/null >/dev/null 2>&1
is "$?" 137 "$R: allocating 64 MiB past memory.max${swap_on:+ + memory.swap.max} is OOM-killed"
cmp_ok "$(cgkey mem memory.events oom_kill)" -ge 1 "$R: memory.events counts the oom_kill"
wait_for 100 grep -q '"type":"oom"' "$WORK/mem.events"
ok $? "$R: events reports the oom" "$(head -c 600 "$WORK/mem.events")"
kill "$events" 2>/dev/null; wait "$events" 2>/dev/null
stats=$(rt events --stats mem)
memstats=$(printf '%s' "$stats" | grep -o '"memory":{[^}]*}')
is "$(printf '%s' "$memstats" | grep -o '"limit":[0-9]*' | cut -d: -f2)" "$(cg mem memory.max)" "$R: events --stats memory limit = memory.max"
stop mem
if [ -n "$swap_on" ]; then
  b=$(bundle memswapctl "{\"devices\": $DEV, \"memory\": {\"limit\": $((32 * MiB)), \"swap\": -1}}" '["sleep", "1000"]')
  start memswapctl "$b"
  rt exec memswapctl dd if=/dev/zero of=/dev/null bs=64M count=1 </dev/null >/dev/null 2>&1
  is "$?" 0 "$R: control: with memory.max 32 MiB and the swap not limited the same allocation succeeds"
  stop memswapctl
else
  skip "$R: control: memory.max 32 MiB and the swap not limited" "swapon of a swap file failed in this guest"
fi
b=$(bundle memctl "{\"devices\": $DEV}" '["sleep", "1000"]')
start memctl "$b"
rt exec memctl dd if=/dev/zero of=/dev/null bs=64M count=1 </dev/null >/dev/null 2>&1
is "$?" 0 "$R: control: without the limit the same allocation succeeds"
# the container's cgroup namespace: its own tree only
is "$(rt exec memctl cat /proc/self/cgroup </dev/null 2>&1)" "0::/" "$R: the container sees itself at the root of its cgroup namespace"
rt exec memctl sh -c 'test -e /sys/fs/cgroup/memory.max && ! test -e /sys/fs/cgroup/system.slice' </dev/null
ok $? "$R: its /sys/fs/cgroup is its own cgroup (memory.max there, no system.slice)"
stop memctl
swap_off

# --- pids.max caps a fork loop
forkloop='(for i in $(seq 1 60); do sleep 30 >/dev/null 2>&1 & done) 2>/dev/null; true'
b=$(bundle pids "{\"devices\": $DEV, \"pids\": {\"limit\": 20}}" '["sleep", "1000"]')
start pids "$b"; ok $? "$R: run -d with pids.limit" "$(cat "$WORK/pids.err")"
is "$(cg pids pids.max)" 20 "$R: pids.max = limit"
rt exec pids sh -c "$forkloop" </dev/null >/dev/null 2>&1
# ps lists exactly cgroup.procs
is "$(rt ps --format json pids | tr -d '[] \n' | tr , '\n' | sort -n | tr '\n' ' ')" "$(sort -n /sys/fs/cgroup/vmtest/pids/cgroup.procs | tr '\n' ' ')" "$R: ps --format json = cgroup.procs"
cmp_ok "$(cg pids pids.current)" -le 20 "$R: a fork loop of 60 stays within pids.max"
cmp_ok "$(cgkey pids pids.events max)" -ge 1 "$R: pids.events counts the refused forks"
stats=$(rt events --stats pids)
pidstats=$(printf '%s' "$stats" | grep -o '"pids":{[^}]*}')
is "$(printf '%s' "$pidstats" | grep -o '"current":[0-9]*' | cut -d: -f2)" "$(cg pids pids.current)" "$R: events --stats pids.current = the cgroup's"
is "$(printf '%s' "$pidstats" | grep -o '"limit":[0-9]*' | cut -d: -f2)" 20 "$R: events --stats pids.limit = pids.max"
# kill --all through cgroup.procs
rt kill --all pids KILL 2>/dev/null
wait_for 50 sh -c '! [ -s /sys/fs/cgroup/vmtest/pids/cgroup.procs ]'
ok $? "$R: kill --all KILL empties cgroup.procs" "$(cat /sys/fs/cgroup/vmtest/pids/cgroup.procs 2>&1)"
stop pids
b=$(bundle pidsctl "{\"devices\": $DEV}" '["sleep", "1000"]')
start pidsctl "$b"
rt exec pidsctl sh -c "$forkloop" </dev/null >/dev/null 2>&1
cmp_ok "$(cg pidsctl pids.current)" -gt 20 "$R: control: without the limit the same loop goes past 20"
stop pidsctl

# --- cpu.max, cpu.weight, throttling; cpuset; update; pause/resume through cgroup.freeze
busy='["sh", "-c", "while :; do :; done"]'
b=$(bundle cpu "{\"devices\": $DEV, \"cpu\": {\"shares\": 512, \"quota\": 20000, \"period\": 100000, \"cpus\": \"1\", \"mems\": \"0\"}}" "$busy")
start cpu "$b"; ok $? "$R: run -d with cpu limits" "$(cat "$WORK/cpu.err")"
is "$(cg cpu cpu.max)" "20000 100000" "$R: cpu.max = quota period"
is "$(cg cpu cpu.weight)" $weight512 "$R: cpu.weight from shares 512"
is "$(cg cpu cpuset.cpus)" 1 "$R: cpuset.cpus"
is "$(cg cpu cpuset.mems)" 0 "$R: cpuset.mems"
like "$(rt exec cpu grep Cpus_allowed_list /proc/self/status </dev/null 2>&1)" '^Cpus_allowed_list:[[:space:]]+1$' "$R: the container runs on cpu 1 only"
sleep 1.5
cmp_ok "$(cgkey cpu cpu.stat nr_throttled)" -gt 0 "$R: a busy loop under cpu.max is throttled"
rt update --cpu-quota 50000 --cpu-period 200000 --cpu-share 2048 --cpuset-cpus 0 --memory 64m --pids-limit 30 cpu
ok $? "$R: update"
is "$(cg cpu cpu.max)" "50000 200000" "$R: update changes cpu.max live"
is "$(cg cpu cpu.weight)" $weight2048 "$R: update changes cpu.weight live"
is "$(cg cpu cpuset.cpus)" 0 "$R: update changes cpuset.cpus live"
is "$(cg cpu memory.max)" $((64 * MiB)) "$R: update changes memory.max live"
is "$(cg cpu pids.max)" 30 "$R: update changes pids.max live"
rt pause cpu; ok $? "$R: pause"
is "$(cg cpu cgroup.freeze)" 1 "$R: pause writes cgroup.freeze"
wait_for 50 grep -q 'frozen 1' /sys/fs/cgroup/vmtest/cpu/cgroup.events
ok $? "$R: the cgroup is frozen"
like "$(rt state cpu)" '"status": *"paused"' "$R: state says paused"
u1=$(cgkey cpu cpu.stat usage_usec); sleep 0.5; u2=$(cgkey cpu cpu.stat usage_usec)
is "$u2" "$u1" "$R: no cpu time while paused"
rt resume cpu; ok $? "$R: resume"
is "$(cg cpu cgroup.freeze)" 0 "$R: resume clears cgroup.freeze"
like "$(rt state cpu)" '"status": *"running"' "$R: state says running"
sleep 0.5
cmp_ok "$(cgkey cpu cpu.stat usage_usec)" -gt "$u2" "$R: cpu time again after resume"
stop cpu
b=$(bundle cpuctl "{\"devices\": $DEV}" "$busy")
start cpuctl "$b"; sleep 1.5
is "$(cgkey cpuctl cpu.stat nr_throttled)" 0 "$R: control: without cpu.max the same loop is never throttled"
stop cpuctl

# cpu.weight enforced: two busy loops pinned to cpu 1 share it by weight (shares 512 and 2048:
# 4 times the weight in runc 1.1's mapping, about 3 in tsrun's); with the weights ignored, evenly
for w in 512:wlo 2048:whi; do
  b=$(bundle "${w#*:}" "{\"devices\": $DEV, \"cpu\": {\"shares\": ${w%:*}, \"cpus\": \"1\"}}" "$busy")
  start "${w#*:}" "$b"
done
sleep 1
lo1=$(cgkey wlo cpu.stat usage_usec); hi1=$(cgkey whi cpu.stat usage_usec)
sleep 3
lo=$(($(cgkey wlo cpu.stat usage_usec) - lo1)); hi=$(($(cgkey whi cpu.stat usage_usec) - hi1))
cmp_ok "$((hi * 10))" -gt "$((lo * 18))" "$R: cpu.weight: the loop with shares 2048 gets more than 1.8 times the cpu of the one with 512 ($hi vs $lo usec)"
stop wlo; stop whi

# --- hugetlb
if grep -qw hugetlb /sys/fs/cgroup/cgroup.controllers && [ "$(cat /proc/sys/vm/nr_hugepages)" -gt 0 ]; then
  hugemnt='{"destination": "/huge", "type": "hugetlbfs", "source": "hugetlbfs", "options": ["pagesize=2M"]}'
  b=$(bundle huge "{\"devices\": $DEV, \"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": $((4 * MiB))}]}" '["sleep", "1000"]' "" "$hugemnt")
  ln -s busybox "$b/rootfs/bin/fallocate"
  start huge "$b"; ok $? "$R: run -d with hugepageLimits" "$(cat "$WORK/huge.err")"
  is "$(cg huge hugetlb.2MB.max)" $((4 * MiB)) "$R: hugetlb.2MB.max = limit"
  # enforced: huge pages taken in a hugetlbfs (fallocate charges them to the container's cgroup)
  rt exec huge fallocate -l 6M /huge/f </dev/null >/dev/null 2>&1
  ok $((! $?)) "$R: taking 6 MiB of huge pages past hugetlb.2MB.max fails"
  cmp_ok "$(cgkey huge hugetlb.2MB.events max)" -ge 1 "$R: hugetlb.2MB.events counts it"
  stop huge
  b=$(bundle hugectl "{\"devices\": $DEV}" '["sleep", "1000"]' "" "$hugemnt")
  ln -s busybox "$b/rootfs/bin/fallocate"
  start hugectl "$b"
  rt exec hugectl fallocate -l 6M /huge/f </dev/null >"$WORK/hugectl.out" 2>&1
  ok $? "$R: control: without the limit the same 6 MiB are taken" "$(cat "$WORK/hugectl.out")"
  stop hugectl
else
  skip "$R: hugetlb.2MB.max" "no hugetlb controller in this kernel"
fi

# --- io.max and io weight on a loop device; the throttle holds for reads in the container
truncate -s 16M "$WORK/disk"
loop=$(losetup -f --show "$WORK/disk")
maj=$((0x$(stat -c %t "$loop"))); min=$((0x$(stat -c %T "$loop")))
disk="{\"path\": \"/dev/vmdisk\", \"type\": \"b\", \"major\": $maj, \"minor\": $min}"
allow="{\"allow\": true, \"type\": \"b\", \"major\": $maj, \"minor\": $min, \"access\": \"rwm\"}"
# milliseconds dd takes to read 3 MiB, timed inside the container (a runtime's own start-up is not counted)
timed_read='a=$(cut -d" " -f1 /proc/uptime); dd if=/dev/vmdisk of=/dev/null bs=1M count=3 2>/dev/null || exit 1; b=$(cut -d" " -f1 /proc/uptime); echo $(( (${b%.*}${b#*.} - ${a%.*}${a#*.}) * 10 ))'
b=$(bundle io "{\"devices\": [{\"allow\": false, \"access\": \"rwm\"}, $allow], \"blockIO\": {\"weight\": 500, \"throttleReadBpsDevice\": [{\"major\": $maj, \"minor\": $min, \"rate\": $MiB}], \"throttleWriteIOPSDevice\": [{\"major\": $maj, \"minor\": $min, \"rate\": 100}]}}" '["sleep", "1000"]' "\"devices\": [$disk]")
start io "$b"; ok $? "$R: run -d with blockIO on $loop ($maj:$min)" "$(cat "$WORK/io.err")"
is "$(grep "^$maj:$min " /sys/fs/cgroup/vmtest/io/io.max)" "$maj:$min rbps=$MiB wbps=max riops=max wiops=100" "$R: io.max"
if [ -e /sys/fs/cgroup/vmtest/io/io.bfq.weight ]; then
  is "$(cg io io.bfq.weight | head -1)" "default 500" "$R: io.bfq.weight = weight"
elif [ -e /sys/fs/cgroup/vmtest/io/io.weight ]; then
  is "$(cg io io.weight | head -1)" "default 4950" "$R: io.weight from blkio weight 500"
else
  skip "$R: io weight" "neither io.bfq.weight nor io.weight in this kernel"
fi
ms=$(rt exec io sh -c "$timed_read" </dev/null 2>"$WORK/io.dd")
ok $? "$R: the container reads the loop device" "$(cat "$WORK/io.dd")"
cmp_ok "$ms" -ge 1500 "$R: reading 3 MiB at rbps=1 MiB/s takes more than 1.5 s"
stop io
b=$(bundle ioctl "{\"devices\": [{\"allow\": false, \"access\": \"rwm\"}, $allow]}" '["sleep", "1000"]' "\"devices\": [$disk]")
start ioctl "$b"
echo 3 > /proc/sys/vm/drop_caches
ms=$(rt exec ioctl sh -c "$timed_read" </dev/null 2>/dev/null)
cmp_ok "$ms" -lt 1500 "$R: control: without io.max the same read takes less than 1.5 s"
stop ioctl

# --- v2 device rules (eBPF): the loop device's node bind-mounted into the container (not in
# linux.devices, which tsrun allows as the spec says and runc 1.1 does not) is denied by the
# deny-all rule and readable with an allow rule
bind="{\"destination\": \"/dev/vmdisk\", \"type\": \"bind\", \"source\": \"$loop\", \"options\": [\"bind\"]}"
b=$(bundle dev "{\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]}" '["sleep", "1000"]' "" "$bind")
start dev "$b"; ok $? "$R: run -d with $loop bind-mounted at /dev/vmdisk, no rule allowing it" "$(cat "$WORK/dev.err")"
out=$(rt exec dev head -c 1 /dev/vmdisk </dev/null 2>&1 | tr '\0' 0)
like "$out" 'Operation not permitted' "$R: opening /dev/vmdisk is denied (EPERM)"
rt exec dev sh -c 'echo x > /dev/null && head -c 1 /dev/zero >/dev/null' </dev/null; ok $? "$R: the default devices (/dev/null, /dev/zero) are still allowed"
stop dev
b=$(bundle devctl "{\"devices\": [{\"allow\": false, \"access\": \"rwm\"}, $allow]}" '["sleep", "1000"]' "" "$bind")
start devctl "$b"
out=$(rt exec devctl head -c 1 /dev/vmdisk </dev/null 2>&1 | tr '\0' 0)
is "$out" 0 "$R: control: with an allow rule for $maj:$min the same node is readable"
stop devctl
losetup -d "$loop"

rmdir /sys/fs/cgroup/vmtest 2>/dev/null
done_testing
