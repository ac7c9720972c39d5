# Helpers of the checkpoint tests (sourced after lib.sh, with R set): a counter (a shell loop
# appending i to a file every 0.1 s) that is dumped and restored; after restore the first line it
# appends must follow the last one it wrote before the dump. The container's stdio are pipes, as a
# shim gives it (criu dumps a pipe; it cannot dump a file of a mount outside the container).
criu_or_skip() { # ends the test file with a skip where criu cannot work
  if ! criu check >/dev/null 2>&1; then
    skip "$R: checkpoint/restore" "criu check fails here: $(criu check 2>&1 | tail -1)"
    done_testing; exit
  fi
}
COUNTER='i=0; while :; do i=$((i+1)); echo $i >> FILE; sleep 0.1; done'
counter_bundle() { # counter_bundle ID FILE [MORE-RESOURCES-JSON-MEMBERS] [EXTRA-MOUNT-JSON]
  local args; args=$(printf '["sh", "-c", "%s"]' "${COUNTER//FILE/$2}")
  bundle "$1" "{\"devices\": $DEVICES_DEFAULT${3:+, $3}}" "$args" "" "${4:-}"
}
COUNT_FILE=
count() { local n; n=$(tail -n 1 "$COUNT_FILE" 2>/dev/null); echo "${n:-0}"; }
lines() { local n; n=$(wc -l < "$COUNT_FILE" 2>/dev/null); echo "${n:-0}"; }
line() { sed -n "$1p" "$COUNT_FILE"; }
more_lines_than() { [ "$(lines)" -gt "$1" ]; }
counted_past() { [ "$(count)" -gt "$1" ]; }
changed_from() { [ "$(count)" != "$1" ]; }
# run -d / restore -d with stdio on pipes that stay open (as a shim's)
run_piped() { rt run -d --bundle "$2" "$1" < <(true) > >(cat >/dev/null) 2> >(cat >"$WORK/$1.err"); }
restore_piped() { # restore_piped ID BUNDLE ARGS...
  local id=$1 b=$2; shift 2
  rt restore -d "$@" --bundle "$b" "$id" < <(true) > >(cat >/dev/null) 2> >(cat >"$WORK/$id.rst.err")
}
counters() { # how many copies of the counter (sh) run in the cgroup /sys/fs/cgroup/vmtest/$1 (or $1 when absolute)
  local p n=0 dir=$1
  [ "${dir#/}" = "$dir" ] && dir=/sys/fs/cgroup/vmtest/$1
  for p in $(cat "$dir/cgroup.procs" 2>/dev/null); do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sh ] && n=$((n + 1))
  done
  echo "$n"
}
all_counters() { # copies of the counter writing FILE anywhere on the host
  local p n=0
  for p in $(pgrep -x sh); do grep -qF "echo \$i >> $1" "/proc/$p/cmdline" 2>/dev/null && n=$((n + 1)); done
  echo "$n"
}
state_of() { rt state "$1" 2>&1 | tr -d '\n '; }
# after a restore: the first line the counter appends follows the last one of the dump
counts_on() { # counts_on ID "LINES LAST" (from settled) LABEL
  local n=${2% *} last=${2#* } next
  wait_for 150 more_lines_than "$n"
  next=$(line "$((n + 1))")
  is "$next" "$((last + 1))" "$R: $3: the restored counter appends $((last + 1)) next (it counts on from $last)"
  wait_for 100 counted_past "$((last + 2))"; ok $? "$R: $3: and goes on ($(count))"
  is "$(counters "$1")" 1 "$R: $3: one copy of the counter runs, in the container's cgroup"
}
# stop the counter with a dump: "LINES LAST" once the file stops growing
settled() { local a; a=$(lines); sleep 0.3; [ "$a" = "$(lines)" ] && echo "$a $(count)"; }

# With the systemd cgroup driver: srt is the runtime with --systemd-cgroup.
srt() { "$RUNTIME" --systemd-cgroup --root "$ROOT" "$@"; }
# systemd_dump_restore ID: a counter with a 64 MiB memory and a 6 pids limit (below the threads of
# tsrun itself, which holds the scope while criu runs: the limits must come after it has left) runs
# in system.slice:$R:ID, is dumped, deleted and restored, as TAP; sets SD_UNIT, SD_SETTLED ("LINES
# LAST" at the dump) and SD_PID (the restored init)
systemd_dump_restore() {
  local id=$1 b
  SD_UNIT=$R-$id.scope
  b=$(counter_bundle "$id" /count "\"memory\": {\"limit\": $((64 * 1024 * 1024))}, \"pids\": {\"limit\": 6}")
  sed -i "s|\"cgroupsPath\": \"/vmtest/$id\"|\"cgroupsPath\": \"system.slice:$R:$id\"|" "$b/config.json"
  COUNT_FILE=$b/rootfs/count
  srt run -d --bundle "$b" "$id" < <(true) > >(cat >/dev/null) 2> >(cat >"$WORK/$id.err")
  ok $? "$R: systemd: run -d in $SD_UNIT" "$(cat "$WORK/$id.err")"
  wait_for 100 counted_past 2; ok $? "$R: systemd: the counter runs"
  srt checkpoint --image-path "$WORK/img-$id" "$id" </dev/null >"$WORK/$id.out" 2>&1
  ok $? "$R: systemd: checkpoint" "$(cat "$WORK/$id.out"; tail -5 "$WORK/img-$id/dump.log" 2>/dev/null)"
  SD_SETTLED=$(settled)
  wait_for 50 sh -c "! systemctl is-active -q $SD_UNIT"; ok $? "$R: systemd: the scope ends with the dump"
  srt delete "$id" >/dev/null 2>&1
  srt restore -d --image-path "$WORK/img-$id" --work-path "$WORK/wp-$id" --bundle "$b" "$id" < <(true) > >(cat >/dev/null) 2> >(cat >"$WORK/$id.rst.err")
  ok $? "$R: systemd: restore -d" "$(cat "$WORK/$id.rst.err"; tail -5 "$WORK/wp-$id/restore.log" 2>/dev/null)"
  is "$(systemctl is-active "$SD_UNIT")" active "$R: systemd: the restored container's scope $SD_UNIT is active"
  SD_PID=$(srt state "$id" | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$')
}
# strangers CGROUP-DIR: processes in it that are not the counter's (sh, sleep)
strangers() {
  local p c
  for p in $(cat "$1/cgroup.procs"); do
    c=$(cat "/proc/$p/comm" 2>/dev/null)
    [ -z "$c" ] || [ "$c" = sh ] || [ "$c" = sleep ] || echo "$p:$c"
  done
}
