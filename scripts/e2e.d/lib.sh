# shellcheck shell=bash
# Shared helpers for scripts/e2e: TAP output, timeouts, command logging,
# assertions and cgroup lookups. Sourced, never executed.

E2E_N=0
E2E_PASS=0
E2E_FAIL=0
E2E_SKIP=0
# Epoch second after which the current engine's checks are cut off (0: none).
E2E_DEADLINE=0
# Default timeout of one engine command, in seconds.
E2E_CMD_TIMEOUT=${E2E_CMD_TIMEOUT:-60}

now() { date +%s; }

# Messages for a person watching, on stderr so they never mix with TAP.
say() { printf '[e2e %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
loud() {
  {
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    echo "!!! e2e: $*"
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  } >&2
}

# ---------------------------------------------------------------- TAP
tap_ok() {
  E2E_N=$((E2E_N + 1)); E2E_PASS=$((E2E_PASS + 1))
  echo "ok $E2E_N - $1"
}
tap_skip() { # desc reason
  E2E_N=$((E2E_N + 1)); E2E_SKIP=$((E2E_SKIP + 1))
  echo "ok $E2E_N - $1 # SKIP $2"
}
tap_fail() { # desc [logfile]
  E2E_N=$((E2E_N + 1)); E2E_FAIL=$((E2E_FAIL + 1))
  echo "not ok $E2E_N - $1"
  if [[ -n ${2:-} && -s $2 ]]; then
    # The tail of the check's log is what explains a failure.
    tail -n 60 "$2" | sed 's/^/#   /'
  fi
}
tap_diag() { printf '%s\n' "$@" | sed 's/^/# /'; }

# check DESCRIPTION FUNCTION [ARGS...]
# Runs FUNCTION in a subshell with errexit, its output going to a log that is
# shown only when it fails. A check must not rely on variables set by another
# check: state lives in the engines (containers with fixed names).
check() {
  local desc=$1; shift
  local log
  log="$E2E_LOGS/$(printf '%03d' $((E2E_N + 1)))-${1}.log"
  if ((E2E_DEADLINE > 0 && $(now) >= E2E_DEADLINE)); then
    echo "engine time budget exhausted before this check started" >"$log"
    tap_fail "$desc" "$log"
    return 0
  fi
  local t0 t1 rc
  t0=$(date +%s%N)
  (set -eE -o pipefail; "$@") >"$log" 2>&1 </dev/null
  rc=$?
  t1=$(date +%s%N)
  echo "(check took $(((t1 - t0) / 1000000)) ms, rc=$rc)" >>"$log"
  if ((rc == 0)); then tap_ok "$desc"; else tap_fail "$desc" "$log"; fi
  return 0
}

# ------------------------------------------------------- running commands
# tmo SECONDS CMD... : run CMD with a timeout, capped by the engine's budget.
tmo() {
  local s=$1; shift
  if ((E2E_DEADLINE > 0)); then
    local left=$((E2E_DEADLINE - $(now)))
    ((left < 1)) && left=1
    ((s > left)) && s=$left
  fi
  timeout -k 5 "$s" "$@"
}

# r CMD... : log CMD, run it with the default timeout, capture stdout+stderr
# into OUT (carriage returns removed) and the exit status into RC. Never fails.
r() {
  echo "+ $*"
  OUT=$(tmo "$E2E_CMD_TIMEOUT" "$@" 2>&1) && RC=0 || RC=$?
  OUT=${OUT//$'\r'/}
  [[ -n $OUT ]] && printf '%s\n' "$OUT" | head -n 40 | sed 's/^/  | /'
  echo "  -> exit $RC"
  ((RC != 124)) || echo "  !! timed out"
  return 0
}
# rt SECONDS CMD... : like r with an explicit timeout.
rt() {
  local saved=$E2E_CMD_TIMEOUT
  E2E_CMD_TIMEOUT=$1; shift
  r "$@"
  E2E_CMD_TIMEOUT=$saved
}
# ok CMD... : r, then require exit status 0.
ok() { r "$@"; want_rc 0; }

# ------------------------------------------------------------- assertions
fail() { echo "FAIL: $*"; return 1; }
want_rc() {
  [[ $RC == "$1" ]] || fail "expected exit status $1, got $RC"
}
want_out() {
  [[ $OUT == "$1" ]] || fail "expected output $(printf %q "$1"), got $(printf %q "$OUT")"
}
want_in_out() {
  local s
  for s in "$@"; do
    [[ $OUT == *"$s"* ]] || fail "expected output to contain $(printf %q "$s")"
  done
}
# want_fragments_in_out FRAGMENT... : every fragment appears, in this order.
want_fragments_in_out() {
  local rest=$OUT f
  for f in "$@"; do
    [[ -z $f ]] && continue
    [[ $rest == *"$f"* ]] || fail "expected output to contain (in order) $(printf %q "$f")"
    rest=${rest#*"$f"}
  done
}

# retry SECONDS CMD... : run CMD (a shell function or command) every 0.2 s until
# it succeeds or SECONDS pass. Quiet; returns CMD's last status.
retry() {
  local until=$(($(date +%s%N) + $1 * 1000000000)); shift
  while true; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    (($(date +%s%N) < until)) || { "$@" 2>&1 | tail -n 5; return 1; }
    sleep 0.2
  done
}

# ---------------------------------------------------------------- cgroups
# cg_dir PID CONTROLLER : the host directory of PID's cgroup for CONTROLLER,
# v1 hierarchy when that controller is mounted as v1, unified otherwise.
cg_dir() {
  local pid=$1 ctrl=$2 mnt rel
  mnt=$(awk -v c="$ctrl" '$3 == "cgroup" {
           n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $2; exit } }' /proc/self/mounts)
  if [[ -n $mnt ]]; then
    rel=$(awk -F: -v c="$ctrl" '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $3; exit } }' "/proc/$pid/cgroup")
  else
    mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
    rel=$(awk -F: '$1 == "0" { print $3; exit }' "/proc/$pid/cgroup")
  fi
  [[ -n $mnt && -n $rel ]] || { echo "no $ctrl cgroup for pid $pid" >&2; return 1; }
  echo "$mnt$rel"
}

# freezer_state PID : FROZEN or THAWED, whichever cgroup version holds it.
freezer_state() {
  local d
  d=$(cg_dir "$1" freezer) || return 1
  if [[ -f $d/freezer.state ]]; then
    cat "$d/freezer.state"
  elif [[ -f $d/cgroup.events ]]; then
    if grep -qx 'frozen 1' "$d/cgroup.events"; then echo FROZEN; else echo THAWED; fi
  else
    echo "no freezer files in $d"; return 1
  fi
}
# mem_limit PID : memory limit in bytes ("max" when unlimited on v2).
mem_limit() {
  local d
  d=$(cg_dir "$1" memory) || return 1
  if [[ -f $d/memory.limit_in_bytes ]]; then cat "$d/memory.limit_in_bytes"; else cat "$d/memory.max"; fi
}
# cpu_quota PID : "QUOTA PERIOD" in microseconds.
cpu_quota() {
  local d
  d=$(cg_dir "$1" cpu) || return 1
  if [[ -f $d/cpu.cfs_quota_us ]]; then
    echo "$(cat "$d/cpu.cfs_quota_us") $(cat "$d/cpu.cfs_period_us")"
  else
    cat "$d/cpu.max"
  fi
}

# want_frozen PID FROZEN|THAWED : wait up to 5 s for the freezer to settle.
want_freezer() {
  local pid=$1 want=$2 got i
  for ((i = 0; i < 25; i++)); do
    got=$(freezer_state "$pid" 2>&1) || true
    [[ $got == "$want" ]] && { echo "freezer of pid $pid: $got"; return 0; }
    sleep 0.2
  done
  fail "freezer of pid $pid ($(cg_dir "$pid" freezer 2>&1)): expected $want, got $got"
}
