# shellcheck shell=bash
# Host side of scripts/e2e: package installation, the engine wrappers, the
# daemons (started by hand, stopped by pid), and cleanup of everything the run
# created. Sourced by scripts/e2e.

# ------------------------------------------------------------ installation
# E2E_UNAVAILABLE[engine]=reason for engines whose package could not be installed.
declare -gA E2E_UNAVAILABLE=()

pkg_ready() { # package -> 0 when its binaries are on this host
  case $1 in
    containerd) [[ -x /usr/bin/containerd && -x /usr/bin/ctr && -x /usr/bin/containerd-shim-runc-v2 ]] ;;
    docker.io) [[ -x /usr/sbin/dockerd && -x /usr/bin/docker ]] ;;
    podman) [[ -x /usr/bin/podman ]] && command -v conmon >/dev/null ;;
  esac
}

apt_install() { # packages... ; output to the install log
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y "$@" \
    >>"$E2E_TMP/logs/apt.log" 2>&1 </dev/null
}

install_engines() {
  local want=() p
  # podman also builds the image, so it is wanted whatever the engine filter.
  want+=(podman)
  engine_selected containerd || engine_selected docker && want+=(containerd)
  engine_selected docker && want+=(docker.io)
  local missing=()
  for p in "${want[@]}"; do pkg_ready "$p" || missing+=("$p"); done
  if ((${#missing[@]} > 0)); then
    say "installing ${missing[*]} with apt-get (log: $E2E_TMP/logs/apt.log)"
    if ! apt_install "${missing[@]}"; then
      say "apt-get install failed; running apt-get update and trying each package alone"
      timeout 600 apt-get update >>"$E2E_TMP/logs/apt.log" 2>&1 </dev/null || true
      for p in "${missing[@]}"; do apt_install "$p" || true; done
    fi
  fi
  local reason
  for p in "${want[@]}"; do
    pkg_ready "$p" && continue
    reason="package $p could not be installed: $(grep -E '^(E:|Err)' "$E2E_TMP/logs/apt.log" 2>/dev/null | tail -n 1)"
    case $p in
      containerd) E2E_UNAVAILABLE[containerd]=$reason; E2E_UNAVAILABLE[docker]=$reason ;;
      docker.io) E2E_UNAVAILABLE[docker]=$reason ;;
      podman) E2E_UNAVAILABLE[podman]=$reason ;;
    esac
    loud "$reason"
  done
}

# --------------------------------------------------------------- wrappers
# Small executables in $E2E_BIN so that every engine call can go through
# timeout(1) with all of this run's global flags.
write_wrappers() {
  mkdir -p "$E2E_BIN"
  cat >"$E2E_BIN/ct" <<EOF
#!/bin/sh
exec /usr/bin/ctr --address '$E2E_TMP/containerd/containerd.sock' --namespace '$E2E_CTR_NS' "\$@"
EOF
  cat >"$E2E_BIN/dk" <<EOF
#!/bin/sh
DOCKER_CONFIG='$E2E_TMP/docker/client' exec /usr/bin/docker -H 'unix://$E2E_TMP/docker/docker.sock' "\$@"
EOF
  # podman keeps its storage, state and libpod tmp under the temp dir; TMPDIR
  # is where it stages image layers. The runtime keeps its default --root:
  # podman 4.3 drops --runtime-flag from the exit command that deletes the
  # container, so a --root given that way would leak state directories.
  cat >"$E2E_BIN/pm" <<EOF
#!/bin/sh
TMPDIR='$E2E_TMP/podman/tmp' exec /usr/bin/podman \\
  --root '$E2E_TMP/podman/root' --runroot '$E2E_TMP/podman/runroot' --tmpdir '$E2E_TMP/podman/libpod' \\
  --storage-driver '$E2E_PODMAN_DRIVER' --cgroup-manager cgroupfs --events-backend file \\
  --runtime '$RUNTIME' "\$@"
EOF
  chmod +x "$E2E_BIN/ct" "$E2E_BIN/dk" "$E2E_BIN/pm"
  pkg_ready containerd || rm -f "$E2E_BIN/ct"
  pkg_ready docker.io || rm -f "$E2E_BIN/dk"
  pkg_ready podman || rm -f "$E2E_BIN/pm"
  mkdir -p "$E2E_TMP/docker/client" "$E2E_TMP/podman/tmp"
}

# ---------------------------------------------------------------- daemons
E2E_CONTAINERD_PID=
E2E_DOCKERD_PID=

# wait_daemon NAME PID SECONDS CMD... : until CMD works, the daemon dies or time runs out.
wait_daemon() {
  local name=$1 pid=$2 secs=$3; shift 3
  local until=$(($(now) + secs))
  while (($(now) < until)); do
    kill -0 "$pid" 2>/dev/null || { say "$name (pid $pid) exited during startup"; return 1; }
    timeout 10 "$@" >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  say "$name (pid $pid) not ready after ${secs}s"
  return 1
}

start_containerd() {
  local d=$E2E_TMP/containerd
  containerd_config "$d"
  say "starting containerd (log: $d/containerd.log)"
  /usr/bin/containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 </dev/null &
  E2E_CONTAINERD_PID=$!
  echo "$E2E_CONTAINERD_PID" >"$d/containerd.pid"
  wait_daemon containerd "$E2E_CONTAINERD_PID" 30 "$E2E_BIN/ct" version
}

start_dockerd() {
  local d=$E2E_TMP/docker
  mkdir -p "$d"/{data,exec,client}
  echo '{}' >"$d/daemon.json"
  say "starting dockerd (log: $d/dockerd.log)"
  /usr/sbin/dockerd \
    --config-file "$d/daemon.json" \
    -H "unix://$d/docker.sock" \
    --data-root "$d/data" \
    --exec-root "$d/exec" \
    --pidfile "$d/dockerd.pid" \
    --containerd "$E2E_TMP/containerd/containerd.sock" \
    --iptables=false --ip6tables=false --ip-masq=false --bridge=none --userland-proxy=false \
    --exec-opt native.cgroupdriver=cgroupfs \
    --cgroup-parent "/$E2E_CG_PREFIX-docker" \
    --add-runtime "tsrun=$RUNTIME" \
    >"$d/dockerd.log" 2>&1 </dev/null &
  E2E_DOCKERD_PID=$!
  wait_daemon dockerd "$E2E_DOCKERD_PID" 60 "$E2E_BIN/dk" version
}

# stop_pid NAME PID : SIGTERM, up to 20 s, then SIGKILL. Only our own pids.
stop_pid() {
  local name=$1 pid=$2 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  say "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name (pid $pid) ignored SIGTERM for 20 s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null || true
}

# pids_with_arg STRING : pids whose command line contains STRING as one argument.
pids_with_arg() {
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    ((pid == $$)) && continue
    if { tr '\0' '\n' <"$f"; } 2>/dev/null | grep -qxF -- "$1"; then echo "$pid"; fi
  done
}

# ---------------------------------------------------------------- cleanup
# Paths outside the temp dir that the engines create whatever flags they get.
# Those that did not exist before the run are removed after it (directories
# only when empty, so nothing of anyone else's is touched).
E2E_HOST_PATHS=(
  /etc/docker/key.json
  /run/docker/plugins /run/docker
  /run/containerd/s /run/containerd/fifo /run/containerd/runc /run/containerd
  /run/containers/networks /run/containers
  /var/lib/containers/cache/blob-info-cache-v1.boltdb /var/lib/containers/cache /var/lib/containers
  /run/mount
)
# The runtime's default --root (podman uses it), by runc's convention.
e2e_default_root() { echo "/run/$(basename "$RUNTIME")"; }
declare -gA E2E_PREEXISTING=()
snapshot_host_paths() {
  local p
  E2E_HOST_PATHS+=("$(e2e_default_root)")
  for p in "${E2E_HOST_PATHS[@]}"; do [[ -e $p ]] && E2E_PREEXISTING[$p]=1; done
  return 0
}

remove_engine_objects() {
  local ids
  if [[ -n $E2E_DOCKERD_PID ]] && kill -0 "$E2E_DOCKERD_PID" 2>/dev/null; then
    ids=$(timeout 30 "$E2E_BIN/dk" ps -aq 2>/dev/null)
    [[ -n $ids ]] && timeout 60 "$E2E_BIN/dk" rm -f $ids >/dev/null 2>&1
    timeout 60 "$E2E_BIN/dk" rmi -f "$E2E_IMAGE" >/dev/null 2>&1
  fi
  if [[ -n $E2E_CONTAINERD_PID ]] && kill -0 "$E2E_CONTAINERD_PID" 2>/dev/null; then
    local id
    for id in $(timeout 30 "$E2E_BIN/ct" containers ls -q 2>/dev/null); do
      timeout 15 "$E2E_BIN/ct" task kill -s SIGKILL "$id" >/dev/null 2>&1
      timeout 15 "$E2E_BIN/ct" task delete -f "$id" >/dev/null 2>&1
      timeout 15 "$E2E_BIN/ct" containers delete "$id" >/dev/null 2>&1
    done
    timeout 30 "$E2E_BIN/ct" images rm "$E2E_IMAGE" >/dev/null 2>&1
  fi
  if [[ -x $E2E_BIN/pm && -d $E2E_TMP/podman/root ]]; then
    timeout 120 "$E2E_BIN/pm" rm -af -t 0 >/dev/null 2>&1
    timeout 60 "$E2E_BIN/pm" rmi -af >/dev/null 2>&1
  fi
  return 0
}

# check_runtime_state : once the engines removed their containers, the
# runtime's state roots must hold none of them (a runtime whose delete leaves
# state behind is caught here).
check_runtime_state() {
  local dir x id
  for dir in "$E2E_TMP/containerd/runc-root/$E2E_CTR_NS" "$E2E_TMP/docker/exec/runtime-tsrun/moby"; do
    for x in "$dir"/*; do
      [[ -d $x ]] && E2E_LEFTOVERS+=("runtime state $x")
    done
  done
  # podman's containers live in the runtime's default root: find ours by the
  # ids in podman's event log.
  local events=$E2E_TMP/podman/libpod/events/events.log root
  root=$(e2e_default_root)
  if [[ -f $events ]]; then
    for id in $(grep -oE '"ID":"[0-9a-f]{64}"' "$events" | cut -d'"' -f4 | sort -u); do
      if [[ -d $root/$id ]]; then
        E2E_LEFTOVERS+=("runtime state $root/$id (podman container)")
        rm -rf "${root:?}/$id"
      fi
    done
  fi
  return 0
}

# cleanup_all : idempotent; leaves a report of anything it could not remove in
# E2E_LEFTOVERS.
E2E_LEFTOVERS=()
E2E_CLEANED=
cleanup_all() {
  [[ -n $E2E_CLEANED ]] && return 0
  E2E_CLEANED=1
  say "cleaning up"
  remove_engine_objects
  check_runtime_state
  stop_pid dockerd "$E2E_DOCKERD_PID"
  stop_pid containerd "$E2E_CONTAINERD_PID"
  local pid
  # Shims of our containerd and conmons of our podman outlive their parents
  # only when something went wrong; they carry our paths in their arguments.
  if [[ -n $E2E_CONTAINERD_PID ]]; then
    for pid in $(pids_with_arg "$E2E_TMP/containerd/containerd.sock"); do
      E2E_LEFTOVERS+=("process $pid: $(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null | cut -c1-120)")
      kill -KILL "$pid" 2>/dev/null
    done
  fi
  for pid in $(pids_with_arg "$E2E_TMP/podman/root"); do
    E2E_LEFTOVERS+=("process $pid: $(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null | cut -c1-120)")
    kill -KILL "$pid" 2>/dev/null
  done
  # Anything still mounted under the temp dir, deepest first.
  local m
  while read -r m; do
    [[ -n $m ]] || continue
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || E2E_LEFTOVERS+=("mount $m")
  done < <(awk -v t="$E2E_TMP" 'index($2, t "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
  # Our cgroups (engines only create them below our unique prefixes), once the processes still
  # leaving them have gone (a conmon ends a moment after `podman rm` returns).
  local h d i
  for i in $(seq 1 50); do
    [[ -z $(find /sys/fs/cgroup/*/"$E2E_CG_PREFIX"* /sys/fs/cgroup/"$E2E_CG_PREFIX"* -name cgroup.procs -exec cat {} + 2>/dev/null) ]] && break
    sleep 0.2
  done
  for h in /sys/fs/cgroup /sys/fs/cgroup/*; do
    for d in "$h/$E2E_CG_PREFIX" "$h/$E2E_CG_PREFIX"-*; do
      [[ -d $d ]] || continue
      # not a cgroup: a directory on /sys/fs/cgroup's tmpfs where a controller is not mounted
      # (podman's conmon cgroup code writes a "tasks" file into such a directory when it exists)
      [[ $(stat -f -c %T "$d") == cgroup* ]] || { rm -rf "$d"; continue; }
      find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
      [[ -d $d ]] && E2E_LEFTOVERS+=("cgroup $d")
    done
  done
  local p
  for p in "${E2E_HOST_PATHS[@]}"; do
    [[ -n ${E2E_PREEXISTING[$p]:-} ]] && continue
    if [[ -f $p ]]; then rm -f "$p"; elif [[ -d $p ]]; then rmdir "$p" 2>/dev/null; fi
  done
  if [[ -n ${E2E_KEEP:-} ]]; then
    say "E2E_KEEP set: leaving $E2E_TMP"
  elif ((${#E2E_LEFTOVERS[@]} == 0)); then
    rm -rf "$E2E_TMP" 2>/dev/null || E2E_LEFTOVERS+=("temp dir $E2E_TMP")
  fi
  local l
  for l in "${E2E_LEFTOVERS[@]}"; do say "leftover: $l"; done
  return 0
}
