# shellcheck shell=bash
# podman run --sdnotify=container: the container's READY=1 reaches the host's NOTIFY_SOCKET (what
# systemd listens on for a Type=notify unit). Sourced by scripts/e2e; runs after cli_suite podman
# (uses its CLI, RUNARGS and P).
#
# Podman 4.3 (Debian 12) never hands NOTIFY_SOCKET to the runtime: it bind-mounts its own socket at
# /run/notify/notify.sock in config.json, and conmon relays READY=1; `podman run -d` returns before
# READY with runc too. The runtime's own relay (start/run -d wait for READY, then MAINPID) is
# proven against runc in conformance/notify-socket.test.ts.

# notify_received FILE TEXT : the host listener has received TEXT.
notify_received() { grep -qxF -- "$2" "$1" 2>/dev/null; }

cli_sdnotify() {
  local fixtures=$REPO/build/fixtures dir=$E2E_TMP/sdnotify pid
  bash "$REPO/bundle-fixtures/build.sh" >/dev/null || fail "cannot build the probe and notify-recv"
  mkdir -p "$dir"
  "$fixtures/notify-recv" "$dir/host.sock" "$dir/received" &
  pid=$!
  # shellcheck disable=SC2064
  trap "kill $pid 2>/dev/null" EXIT
  retry 5 test -S "$dir/host.sock" || fail "notify-recv did not bind $dir/host.sock"
  export NOTIFY_SOCKET=$dir/host.sock # checks run in a subshell: this ends with the check
  ok "$CLI" run -d --sdnotify=container "${RUNARGS[@]}" --name "$P-notify" \
    -v "$fixtures/probe:/probe:ro" "$E2E_IMAGE" /probe -n sleep 1 notify READY=1 pause
  echo "waiting for READY=1 on the host's socket"
  retry 20 notify_received "$dir/received" READY=1 || fail "READY=1 never reached the host's socket: $(cat "$dir/received" 2>/dev/null)"
  echo "received: $(tr '\n' ' ' <"$dir/received")"
  ok "$CLI" rm -f -t 0 "$P-notify"
}

sdnotify_suite() {
  check "$ENG: run --sdnotify=container relays the container's READY=1 to NOTIFY_SOCKET" cli_sdnotify
}
