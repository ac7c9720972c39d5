# shellcheck shell=bash
# Checks through containerd alone: ctr -> our containerd ->
# containerd-shim-runc-v2 -> $RUNTIME (ctr run --runc-binary). ctr has no
# stop/restart/update verbs, so those are built from task kill/delete/start.
# Sourced by scripts/e2e.
#
# Globals used by the checks (set by containerd_suite): CT, CRUN, CFIFO, P.

ct_field() { # ID COLUMN(2=pid,3=status) -> value from `ctr task ls`
  tmo 30 "$CT" task ls 2>/dev/null | awk -v id="$1" -v c="$2" '$1 == id { print $c }'
}
ct_status_is() { [[ $(ct_field "$1" 3) == "$2" ]]; }
wait_status() {
  echo "waiting for task $1 to be $2"
  retry 20 ct_status_is "$1" "$2" || fail "task $1 is '$(ct_field "$1" 3)', not $2"
}
file_has() { grep -qF -- "$2" "$1"; }

# bg_run NAME DIR ARGS... : `ctr run --rm` in the foreground of a background
# job (the way to get a task's exit status from ctr); DIR/out, DIR/rc.
bg_run() {
  local name=$1 d=$2; shift 2
  mkdir -p "$d"
  echo "+ ctr run --rm ... $name $* &"
  (
    rc=0
    tmo 120 "$CT" "${CRUN[@]}" --rm "$E2E_IMAGE" "$name" "$@" >"$d/out" 2>&1 </dev/null || rc=$?
    echo "$rc" >"$d/rc"
  ) &
}
bg_wait() { # DIR NAME -> sets RC and OUT from the job; 30 s at most
  if ! retry 30 test -e "$1/rc"; then
    echo "  task $2 still running after 30 s: SIGKILL"
    tmo 15 "$CT" task kill -s SIGKILL "$2" >/dev/null 2>&1 || true
  fi
  wait
  RC=$(cat "$1/rc" 2>/dev/null || echo none)
  OUT=$(tr -d '\r' <"$1/out")
  echo "  background job: exit $RC"
  [[ -n $OUT ]] && printf '%s\n' "$OUT" | sed 's/^/  | /'
  return 0
}

ctd_run_output() {
  ok "$CT" "${CRUN[@]}" --rm "$E2E_IMAGE" "$P-out" echo "tsrun e2e  hello"
  want_out "tsrun e2e  hello"
  ok "$CT" "${CRUN[@]}" --rm "$E2E_IMAGE" "$P-out2" sh -c 'echo to-stdout; echo to-stderr >&2'
  want_in_out to-stdout to-stderr
}

ctd_run_tty() {
  ok "$E2E_LIB/in-pty" "$CT" "${CRUN[@]}" --rm -t "$E2E_IMAGE" "$P-tty" \
    sh -c 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-is-a-tty'
  want_in_out /dev/pts/ stdio-is-a-tty
}

ctd_exit_status() {
  r "$CT" "${CRUN[@]}" --rm "$E2E_IMAGE" "$P-exit" sh -c 'exit 42'
  want_rc 42
  r "$CT" "${CRUN[@]}" --rm "$E2E_IMAGE" "$P-exit2" false
  want_rc 1
}

ctd_exec() {
  ok "$CT" "${CRUN[@]}" -d --null-io "$E2E_IMAGE" "$P-sleeper" sleep 1000
  wait_status "$P-sleeper" RUNNING
  ok "$CT" task exec --fifo-dir "$CFIFO" --exec-id e1 "$P-sleeper" echo exec-ok
  want_out exec-ok
  r "$CT" task exec --fifo-dir "$CFIFO" --exec-id e2 "$P-sleeper" sh -c 'exit 7'
  want_rc 7
  ok "$CT" task exec --fifo-dir "$CFIFO" --exec-id e3 "$P-sleeper" sh -c 'tr "\0" " " </proc/1/cmdline'
  want_in_out "sleep 1000"
}

ctd_exec_tty() {
  ok "$E2E_LIB/in-pty" "$CT" task exec -t --fifo-dir "$CFIFO" --exec-id e4 "$P-sleeper" \
    sh -c 'tty; [ -t 1 ] && echo stdout-is-a-tty'
  want_in_out /dev/pts/ stdout-is-a-tty
}

ctd_ps() {
  local pid
  pid=$(ct_field "$P-sleeper" 2)
  [[ -n $pid && $pid != 0 ]] || fail "no pid for task $P-sleeper"
  # Pids come from the runtime's `ps --format json`.
  ok "$CT" task ps "$P-sleeper"
  [[ $OUT =~ (^|$'\n')$pid[[:space:]] ]] || fail "task ps does not list the init pid $pid"
}

ctd_metrics() {
  ok "$CT" task metrics "$P-sleeper"
  local pids
  pids=$(awk '$1 == "pids.current" { print $2 }' <<<"$OUT")
  [[ $pids =~ ^[0-9]+$ ]] && ((pids >= 1)) || fail "metrics should count the task's processes, got pids.current=$pids"
  [[ $OUT == *memory.usage* ]] || fail "metrics show no memory usage"
}

ctd_pause() {
  local pid
  pid=$(ct_field "$P-sleeper" 2)
  ok "$CT" task pause "$P-sleeper"
  wait_status "$P-sleeper" PAUSED
  want_freezer "$pid" FROZEN
  ok "$CT" task resume "$P-sleeper"
  wait_status "$P-sleeper" RUNNING
  want_freezer "$pid" THAWED
  ok "$CT" task exec --fifo-dir "$CFIFO" --exec-id e5 "$P-sleeper" echo alive-after-resume
  want_out alive-after-resume
}

ctd_limits() {
  # ctr cannot update a task; limits set at create must still land.
  ok "$CT" "${CRUN[@]}" -d --null-io --memory-limit 67108864 "$E2E_IMAGE" "$P-limits" sleep 1000
  wait_status "$P-limits" RUNNING
  local pid got
  pid=$(ct_field "$P-limits" 2)
  got=$(mem_limit "$pid")
  [[ $got == 67108864 ]] || fail "memory limit of pid $pid: expected 67108864, got $got"
  echo "cgroup of pid $pid: memory limit 64m"
}

ctd_stop_term() {
  local d=$E2E_TMP/ctd-term
  bg_run "$P-term" "$d" sh -c 'trap "echo got-sigterm; exit 3" TERM; echo ready; while :; do sleep 0.2; done'
  retry 20 file_has "$d/out" ready || fail "$P-term never printed ready"
  ok "$CT" task kill "$P-term"   # SIGTERM is ctr's default
  bg_wait "$d" "$P-term"
  want_rc 3
  want_in_out got-sigterm
}

ctd_stop_kill() {
  local d=$E2E_TMP/ctd-kill
  bg_run "$P-stubborn" "$d" sleep 1000
  wait_status "$P-stubborn" RUNNING
  ok "$CT" task kill -s SIGTERM "$P-stubborn"
  sleep 2
  # sleep as pid 1 has no handler: still running.
  ct_status_is "$P-stubborn" RUNNING || fail "task $P-stubborn is '$(ct_field "$P-stubborn" 3)' after SIGTERM, expected RUNNING"
  ok "$CT" task kill -s SIGKILL "$P-stubborn"
  bg_wait "$d" "$P-stubborn"
  want_rc 137
}

ctd_kill() {
  local d=$E2E_TMP/ctd-sig
  bg_run "$P-sig" "$d" sh -c 'trap "exit 10" USR1; echo ready; while :; do sleep 0.2; done'
  retry 20 file_has "$d/out" ready || fail "$P-sig never printed ready"
  ok "$CT" task kill -s SIGUSR1 "$P-sig"
  bg_wait "$d" "$P-sig"
  want_rc 10
}

ctd_restart() {
  ok "$CT" "${CRUN[@]}" -d --null-io "$E2E_IMAGE" "$P-restart" sh -c 'echo start >>/starts; exec sleep 1000'
  wait_status "$P-restart" RUNNING
  local pid1 pid2
  pid1=$(ct_field "$P-restart" 2)
  ok "$CT" task kill -s SIGKILL "$P-restart"
  wait_status "$P-restart" STOPPED
  ok "$CT" task delete "$P-restart"
  ok "$CT" task start -d --null-io --fifo-dir "$CFIFO" "$P-restart"
  wait_status "$P-restart" RUNNING
  pid2=$(ct_field "$P-restart" 2)
  [[ $pid2 != "$pid1" ]] || fail "same init pid after restart ($pid1)"
  ok "$CT" task exec --fifo-dir "$CFIFO" --exec-id e1 "$P-restart" cat /starts
  want_out $'start\nstart'
}

ctd_parallel() {
  local d=$E2E_TMP/par-containerd i bad=0
  mkdir -p "$d"
  for i in $(seq 1 20); do
    (
      rc=0
      tmo 180 "$CT" "${CRUN[@]}" --rm "$E2E_IMAGE" "$P-par$i" echo "par-$i" >"$d/$i.out" 2>&1 </dev/null || rc=$?
      echo "$rc" >"$d/$i.rc"
    ) &
  done
  wait
  for i in $(seq 1 20); do
    if [[ $(cat "$d/$i.rc" 2>/dev/null) != 0 || $(tr -d '\r' <"$d/$i.out") != "par-$i" ]]; then
      echo "container $i: exit $(cat "$d/$i.rc" 2>/dev/null), output: $(cat "$d/$i.out")"
      bad=$((bad + 1))
    fi
  done
  ((bad == 0)) || fail "$bad of 20 concurrent containers failed"
  echo "20 of 20 concurrent containers printed their output and exited 0"
}

ctd_missing_rootfs() {
  # --rootfs: the bundle's root.path is a directory that does not exist.
  r "$CT" run --rm --runc-binary "$RUNTIME" --runc-root "$E2E_TMP/containerd/runc-root" --fifo-dir "$CFIFO" \
    --rootfs "$E2E_MISSING_ROOTFS" "$P-norootfs" /bin/true
  ((RC != 0)) || fail "ctr run succeeded with a missing rootfs"
  want_runtime_message "missing rootfs" "${REF_ROOTFS[@]}"
}

containerd_suite() {
  CT=$E2E_BIN/ct
  CFIFO=$E2E_TMP/containerd/fifo
  CRUN=(run --runc-binary "$RUNTIME" --runc-root "$E2E_TMP/containerd/runc-root" --fifo-dir "$CFIFO")
  P=$E2E_CG_PREFIX-ctd
  check "containerd: ctr run prints the container's output" ctd_run_output
  check "containerd: ctr run -t gives the container a terminal" ctd_run_tty
  check "containerd: a container's exit status comes through ctr run" ctd_exit_status
  check "containerd: task exec runs a process in a running task (output, status)" ctd_exec
  check "containerd: task exec -t gives the process a terminal" ctd_exec_tty
  check "containerd: task ps lists the task's processes" ctd_ps
  check "containerd: task metrics reads the task's cgroup" ctd_metrics
  check "containerd: task pause freezes and resume thaws the task" ctd_pause
  tap_skip "containerd: update of limits" "ctr 1.6 has no task update verb; containerd's Update path is covered by docker update"
  check "containerd: limits given at create (--memory-limit) are applied" ctd_limits
  check "containerd: task kill (SIGTERM) stops a task that handles it" ctd_stop_term
  check "containerd: SIGTERM ignored by pid 1, then SIGKILL stops it" ctd_stop_kill
  check "containerd: task kill -s SIGUSR1 delivers the signal" ctd_kill
  check "containerd: a container's task can be started again after it stopped" ctd_restart
  check "containerd: 20 containers started at once all run" ctd_parallel
  check "containerd: a missing rootfs shows the runtime's error message" ctd_missing_rootfs
}
