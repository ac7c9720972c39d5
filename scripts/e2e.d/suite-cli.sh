# shellcheck shell=bash
# Checks through docker (dockerd -> our containerd -> containerd-shim-runc-v2
# -> $RUNTIME) and podman (podman -> conmon -> $RUNTIME). Their CLIs are alike
# enough to share one suite. Sourced by scripts/e2e.
#
# Globals used by the checks (set by cli_suite): ENG, CLI, RUNARGS, P.

# wait_log NAME TEXT : the container's log shows TEXT (its script is ready).
cli_log_has() { "$CLI" logs "$1" 2>&1 | grep -qF -- "$2"; }
wait_log() {
  echo "waiting for '$2' in the log of $1"
  retry 20 cli_log_has "$1" "$2" || fail "$1 never printed '$2'"
}
cli_inspect() { # NAME FORMAT -> value on stdout
  tmo 30 "$CLI" inspect -f "$2" "$1"
}
cli_running() { [[ $(cli_inspect "$1" '{{.State.Running}}') == true ]]; }

cli_run_output() {
  ok "$CLI" run --rm "${RUNARGS[@]}" --name "$P-out" "$E2E_IMAGE" echo "tsrun e2e  hello"
  want_out "tsrun e2e  hello"
  ok "$CLI" run --rm "${RUNARGS[@]}" --name "$P-out2" "$E2E_IMAGE" sh -c 'echo to-stdout; echo to-stderr >&2; cat /etc/hostname >/dev/null'
  want_in_out to-stdout to-stderr
}

cli_run_tty() {
  ok "$CLI" run --rm -t "${RUNARGS[@]}" --name "$P-tty" "$E2E_IMAGE" \
    sh -c 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-is-a-tty'
  want_in_out /dev/pts/ stdio-is-a-tty
}

cli_exit_status() {
  r "$CLI" run --rm "${RUNARGS[@]}" --name "$P-exit" "$E2E_IMAGE" sh -c 'exit 42'
  want_rc 42
  r "$CLI" run --rm "${RUNARGS[@]}" --name "$P-exit2" "$E2E_IMAGE" false
  want_rc 1
}

cli_exec() {
  ok "$CLI" run -d "${RUNARGS[@]}" --name "$P-sleeper" "$E2E_IMAGE" sleep 1000
  ok "$CLI" exec "$P-sleeper" echo exec-ok
  want_out exec-ok
  r "$CLI" exec "$P-sleeper" sh -c 'exit 7'
  want_rc 7
  # Same pid namespace as the container's init, environment from the caller.
  ok "$CLI" exec -e TSRUN_E2E=exec-env "$P-sleeper" sh -c 'tr "\0" " " </proc/1/cmdline; echo; echo $TSRUN_E2E'
  want_in_out "sleep 1000" exec-env
}

cli_exec_tty() {
  ok "$CLI" exec -t "$P-sleeper" sh -c 'tty; [ -t 1 ] && echo stdout-is-a-tty'
  want_in_out /dev/pts/ stdout-is-a-tty
}

cli_top() {
  local pid
  pid=$(cli_inspect "$P-sleeper" '{{.State.Pid}}')
  ok "$CLI" top "$P-sleeper"
  want_in_out "sleep 1000"
  if [[ $ENG == docker ]]; then
    # docker top shows host pids, from the runtime's `ps --format json`.
    want_in_out " $pid "
  fi
}

cli_stats() {
  ok "$CLI" stats --no-stream --format '{{.Name}}|{{.MemUsage}}|{{.PIDs}}' "$P-sleeper"
  local name mem pids
  IFS='|' read -r name mem pids <<<"$OUT"
  [[ $name == "$P-sleeper" ]] || fail "stats name: $name"
  [[ $pids =~ ^[0-9]+$ ]] && ((pids >= 1)) || fail "stats should count the container's processes, got PIDs=$pids"
  [[ $mem =~ ^[0-9.]+[a-zA-Z]+\ /\  && ! $mem =~ ^0(\.0+)?[a-zA-Z]*\ / ]] ||
    fail "stats should show the container's memory use, got '$mem'"
}

cli_pause() {
  local pid
  pid=$(cli_inspect "$P-sleeper" '{{.State.Pid}}')
  ok "$CLI" pause "$P-sleeper"
  ok "$CLI" inspect -f '{{.State.Status}}' "$P-sleeper"
  want_out paused
  want_freezer "$pid" FROZEN
  ok "$CLI" unpause "$P-sleeper"
  ok "$CLI" inspect -f '{{.State.Status}}' "$P-sleeper"
  want_out running
  want_freezer "$pid" THAWED
  ok "$CLI" exec "$P-sleeper" echo alive-after-unpause
  want_out alive-after-unpause
}

cli_update() {
  local pid
  pid=$(cli_inspect "$P-sleeper" '{{.State.Pid}}')
  ok "$CLI" update --memory 64m --memory-swap 128m --cpus 0.5 "$P-sleeper"
  local got
  got=$(mem_limit "$pid")
  [[ $got == 67108864 ]] || fail "memory limit of pid $pid: expected 67108864, got $got"
  got=$(cpu_quota "$pid")
  [[ $got == "50000 100000" ]] || fail "cpu quota/period of pid $pid: expected '50000 100000', got '$got'"
  echo "cgroup of pid $pid: memory 64m, cpu 50000/100000"
}

cli_stop_term() {
  ok "$CLI" run -d "${RUNARGS[@]}" --name "$P-term" "$E2E_IMAGE" \
    sh -c 'trap "echo got-sigterm; exit 3" TERM; echo ready; while :; do sleep 0.2; done'
  wait_log "$P-term" ready
  local t0=$SECONDS
  ok "$CLI" stop -t 30 "$P-term"
  ((SECONDS - t0 < 20)) || fail "stop took $((SECONDS - t0)) s: SIGTERM was not delivered"
  ok "$CLI" inspect -f '{{.State.ExitCode}}' "$P-term"
  want_out 3
  ok "$CLI" logs "$P-term"
  want_in_out got-sigterm
}

cli_stop_kill() {
  # sleep as pid 1 has no handler, so SIGTERM does nothing and stop must SIGKILL.
  ok "$CLI" run -d "${RUNARGS[@]}" --name "$P-stubborn" "$E2E_IMAGE" sleep 1000
  local t0=$SECONDS
  ok "$CLI" stop -t 2 "$P-stubborn"
  ((SECONDS - t0 >= 2)) || fail "stop returned after $((SECONDS - t0)) s, before its 2 s grace period"
  ok "$CLI" inspect -f '{{.State.ExitCode}}' "$P-stubborn"
  want_out 137
}

cli_kill() {
  ok "$CLI" run -d "${RUNARGS[@]}" --name "$P-sig" "$E2E_IMAGE" \
    sh -c 'trap "exit 10" USR1; echo ready; while :; do sleep 0.2; done'
  wait_log "$P-sig" ready
  ok "$CLI" kill -s USR1 "$P-sig"
  rt 30 "$CLI" wait "$P-sig"; want_rc 0
  want_out 10
  ok "$CLI" run -d "${RUNARGS[@]}" --name "$P-sig2" "$E2E_IMAGE" sleep 1000
  ok "$CLI" kill "$P-sig2"
  rt 30 "$CLI" wait "$P-sig2"; want_rc 0
  want_out 137
}

cli_restart() {
  ok "$CLI" run -d "${RUNARGS[@]}" --name "$P-restart" "$E2E_IMAGE" \
    sh -c 'echo start >>/starts; trap "exit 0" TERM; echo ready; while :; do sleep 0.2; done'
  wait_log "$P-restart" ready
  local pid1 pid2
  pid1=$(cli_inspect "$P-restart" '{{.State.Pid}}')
  ok "$CLI" restart -t 20 "$P-restart"
  retry 20 cli_running "$P-restart" || fail "$P-restart is not running after restart"
  pid2=$(cli_inspect "$P-restart" '{{.State.Pid}}')
  [[ $pid2 != "$pid1" && $pid2 != 0 ]] || fail "same or no init pid after restart ($pid1 -> $pid2)"
  ok "$CLI" exec "$P-restart" cat /starts
  want_out $'start\nstart'
}

cli_parallel() {
  local d=$E2E_TMP/par-$ENG i bad=0
  mkdir -p "$d"
  for i in $(seq 1 20); do
    (
      rc=0
      tmo 180 "$CLI" run --rm "${RUNARGS[@]}" --name "$P-par$i" "$E2E_IMAGE" echo "par-$i" >"$d/$i.out" 2>&1 || rc=$?
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

cli_missing_exe() {
  r "$CLI" run --rm "${RUNARGS[@]}" --name "$P-noexe" "$E2E_IMAGE" "$E2E_MISSING_EXE"
  # 127 is what docker and podman give when the runtime's message says the
  # executable was not found ("no such file or directory", "executable file
  # not found"); anything else means they could not classify it.
  want_rc 127
  want_runtime_message "missing executable" "${REF_EXEC[@]}"
}

cli_suite() {
  ENG=$1
  case $ENG in
    docker)
      CLI=$E2E_BIN/dk
      RUNARGS=(--runtime tsrun --network none)
      ;;
    podman)
      CLI=$E2E_BIN/pm
      RUNARGS=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
        --cgroup-parent "/$E2E_CG_PREFIX-podman")
      ;;
  esac
  P=$E2E_CG_PREFIX-$ENG
  check "$ENG: run prints the container's output" cli_run_output
  check "$ENG: run -t gives the container a terminal" cli_run_tty
  check "$ENG: a container's exit status comes through run" cli_exit_status
  check "$ENG: exec runs a process in a running container (output, status, env)" cli_exec
  check "$ENG: exec -t gives the process a terminal" cli_exec_tty
  check "$ENG: top lists the container's processes" cli_top
  check "$ENG: stats --no-stream reads the container's cgroup" cli_stats
  check "$ENG: pause freezes and unpause thaws the container" cli_pause
  check "$ENG: update --memory --cpus changes the container's limits" cli_update
  check "$ENG: stop delivers SIGTERM (exit status from the handler)" cli_stop_term
  check "$ENG: stop falls back to SIGKILL after the grace period" cli_stop_kill
  check "$ENG: kill delivers SIGUSR1, then the default SIGKILL" cli_kill
  check "$ENG: restart runs the same container again" cli_restart
  check "$ENG: 20 containers started at once all run" cli_parallel
  check "$ENG: a missing executable shows the runtime's error message" cli_missing_exe
}
