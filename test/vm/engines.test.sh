#!/usr/bin/env bash
# The container engines of a modern host driving the runtime in $RUNTIME (tsrun or runc), as TAP:
# containerd (ctr run --runc-binary), Podman (--runtime) and Docker (a runtime registered in
# daemon.json), each with the cgroupfs driver and with the systemd driver. Each runs a busybox
# container with --memory 32m and --pids-limit 20 and the test proves the limits hold: the
# container's cgroup (found from its init's /proc/PID/cgroup) has memory.max and pids.max, an
# allocation of 64 MiB in it is OOM-killed, and a fork loop of 60 stays within 20 pids with the
# refused forks counted in pids.events (a runtime that ignored either setting fails both).
# The daemons run from this file's work dir (sockets, roots, state) and are stopped by pid at the end.
# The image is built here from /bin/busybox (busybox-static): no registry is contacted.
. "$(dirname "$(readlink -f "$0")")/lib.sh" # test/vm/hybrid/engines.test.sh is a link to this file
. "$(dirname "$(readlink -f "$0")")/../../scripts/containerd-config.sh"
R=$(rt_name)
MiB=$((1024 * 1024))
E=$WORK/engines
IMG=localhost/vmtest/busybox:latest
ENGINES=${VMTEST_ENGINES:-containerd podman docker} # a subset while developing
T=120 # seconds any one engine call may take (TCG is slow; a hang must not stall the tier)
mkdir -p "$E"
cd "$E" || exit 1 # conmon writes a file "oom" into its working directory when a container is OOM-killed

# the systemd driver: runc has it; tsrun once `features` says so
if [ "$R" = runc ] || "$RUNTIME" features 2>/dev/null | grep -q '"systemd": *true'; then
  SYSTEMD_SKIP=
else
  SYSTEMD_SKIP="$R features reports \"systemd\": false (tsrun's systemd cgroup driver is not built yet)"
fi

# ---- the daemons and clients
DAEMONS=()
stop_daemons() { # by pid: TERM, 20 s, then KILL
  local pid i
  for pid in "${DAEMONS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || continue
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  DAEMONS=()
}
engines_cleanup() {
  local id
  if [ -S "$E/containerd/containerd.sock" ]; then
    for id in $(ct containers ls -q 2>/dev/null); do
      ct task kill -s SIGKILL "$id" >/dev/null 2>&1; ct task delete -f "$id" >/dev/null 2>&1
      ct containers delete "$id" >/dev/null 2>&1
    done
  fi
  [ -S "$E/docker/docker.sock" ] && dk rm -f $(dk ps -aq 2>/dev/null) >/dev/null 2>&1
  [ -d "$E/podman/root" ] && pm rm -af -t 0 >/dev/null 2>&1
  stop_daemons
  # leftovers: conmons and shims carry our work dir in their arguments
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    tr '\0' '\n' <"$f" 2>/dev/null | grep -qF "$E/" && kill -KILL "$pid" 2>/dev/null
  done
  awk -v t="$E/" 'index($2, t) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m"; done
  for d in /sys/fs/cgroup/vmtest-* /sys/fs/cgroup/*/vmtest-*; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
  cleanup
}
trap engines_cleanup EXIT

ct() { timeout $T ctr --address "$E/containerd/containerd.sock" --namespace vmtest "$@"; }
dk() { DOCKER_CONFIG="$E/docker/client" timeout $T docker -H "unix://$E/docker/docker.sock" "$@"; }
PM_MANAGER=cgroupfs
pm() {
  TMPDIR="$E/podman/tmp" timeout $T podman --root "$E/podman/root" --runroot "$E/podman/runroot" \
    --tmpdir "$E/podman/libpod" --storage-driver vfs --events-backend file \
    --cgroup-manager "$PM_MANAGER" --runtime "$RUNTIME" "$@"
}
wait_daemon() { # PID TENTHS COMMAND...: until COMMAND works or the daemon dies or time runs out
  local pid=$1 n=$2; shift 2
  while [ "$n" -gt 0 ]; do
    kill -0 "$pid" 2>/dev/null || return 1
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1; n=$((n - 1))
  done
  return 1
}

start_containerd() {
  local d=$E/containerd
  containerd_config "$d"
  containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 </dev/null &
  DAEMONS+=($!)
  wait_daemon $! 600 ct version
}

start_dockerd() { # DRIVER: cgroupfs or systemd; the runtime under test is registered in daemon.json
  local d=$E/docker driver=$1
  mkdir -p "$d"/{data,exec,client}
  cat >"$d/daemon.json" <<EOF
{
  "runtimes": {"vmtest": {"path": "$RUNTIME"}},
  "exec-opts": ["native.cgroupdriver=$driver"],
  "storage-driver": "vfs",
  "iptables": false, "ip-masq": false, "bridge": "none", "userland-proxy": false
}
EOF
  dockerd --config-file "$d/daemon.json" -H "unix://$d/docker.sock" --data-root "$d/data" \
    --exec-root "$d/exec" --pidfile "$d/dockerd.pid" --containerd "$E/containerd/containerd.sock" \
    >"$d/dockerd-$driver.log" 2>&1 </dev/null &
  DOCKERD=$!
  DAEMONS+=($DOCKERD)
  wait_daemon $DOCKERD 900 dk version
}
stop_dockerd() {
  kill -TERM "$DOCKERD" 2>/dev/null
  local i; for i in $(seq 1 150); do kill -0 "$DOCKERD" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$DOCKERD" 2>/dev/null; wait "$DOCKERD" 2>/dev/null
}

# ---- the image: a busybox rootfs from /bin/busybox, imported by podman, saved as a docker archive
# and loaded into containerd and docker
build_image() {
  local r=$E/image/rootfs p
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,run}
  cp /bin/busybox "$r/bin/busybox"
  for p in $(/bin/busybox --list-full); do [ -e "$r/$p" ] || ln -s /bin/busybox "$r/$p"; done
  echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
  echo "root:x:0:" >"$r/etc/group"
  tar -C "$r" --numeric-owner --owner=0 --group=0 -cf "$E/image/rootfs.tar" . &&
    mkdir -p "$E/podman/tmp" &&
    pm import --change 'CMD ["/bin/sh"]' "$E/image/rootfs.tar" "$IMG" &&
    pm save --format docker-archive -o "$E/image/image.tar" "$IMG"
}

# ---- the checks, the same for every engine and driver
# cgroup_of PID [CONTROLLER]: the cgroup directory of a process (cgroup v2, or the v1 hierarchy of
# CONTROLLER where systemd runs on the v1 controllers: test/vm/hybrid)
V1=; [ -d /sys/fs/cgroup/memory ] && V1=1
cgroup_of() {
  if [ -n "$V1" ]; then echo "/sys/fs/cgroup/$2$(awk -F: -v c="$2" '$2 == c {print $3}' "/proc/$1/cgroup" 2>/dev/null)"
  else echo "/sys/fs/cgroup$(awk -F: '$1 == 0 {print $3}' "/proc/$1/cgroup" 2>/dev/null)"; fi
}
MEMORY_MAX=memory.max OOM_KILLS=memory.events
[ -n "$V1" ] && MEMORY_MAX=memory.limit_in_bytes OOM_KILLS=memory.oom_control
forkloop='(for i in $(seq 1 60); do sleep 30 >/dev/null 2>&1 & done) 2>/dev/null; true'
# limits_hold NAME PID EXEC...: the container NAME (init PID) runs with --memory 32m --pids-limit 20;
# EXEC... runs a command in it (the engine's exec)
limits_hold() {
  local name=$1 pid=$2; shift 2
  local mem pids; mem=$(cgroup_of "$pid" memory) pids=$(cgroup_of "$pid" pids)
  diag "$name: init pid $pid, cgroup $mem"
  is "$(cat "$mem/$MEMORY_MAX" 2>&1)" $((32 * MiB)) "$name: $MEMORY_MAX of the container's cgroup = 32 MiB"
  is "$(cat "$pids/pids.max" 2>&1)" 20 "$name: pids.max of the container's cgroup = 20"
  "$@" dd if=/dev/zero of=/dev/null bs=64M count=1 </dev/null >"$E/dd.out" 2>&1
  is "$?" 137 "$name: allocating 64 MiB in the container is OOM-killed" "$(tail -3 "$E/dd.out")"
  cmp_ok "$(awk '$1 == "oom_kill" {print $2}' "$mem/$OOM_KILLS" 2>/dev/null)" -ge 1 "$name: $OOM_KILLS counts the oom_kill"
  # last: with the pids at the limit the engine cannot exec anything more
  "$@" sh -c "$forkloop" </dev/null >/dev/null 2>&1
  cmp_ok "$(cat "$pids/pids.current" 2>/dev/null)" -le 20 "$name: a fork loop of 60 stays within pids.max"
  cmp_ok "$(awk '$1 == "max" {print $2}' "$pids/pids.events" 2>/dev/null)" -ge 1 "$name: pids.events counts the refused forks"
}
# the checks a driver that could not start or run counts as failed (so the count is the same)
CHECKS=6
fail_all() { # NAME REASON
  local i; for i in $(seq 1 $CHECKS); do ok 1 "$1: check $i of $CHECKS" "$2"; done
}
skip_all() { # NAME REASON
  local i; for i in $(seq 1 $CHECKS); do skip "$1: check $i of $CHECKS" "$2"; done
}

ctr_case() { # DRIVER
  local driver=$1 name="$R containerd ($1 driver)" id="vmtest-ctr-$1" cgpath opts=()
  if [ "$driver" = systemd ]; then
    opts=(--runc-systemd-cgroup); cgpath="system.slice:vmtest:ctr-$driver"
  else
    cgpath="/vmtest-ctr/$id"
  fi
  # ctr run has --memory-limit but no pids flag, and with --config (a whole spec) it takes no image
  # and applies none of its own flags (--memory-limit; --cgroup is only checked against
  # --runc-systemd-cgroup): the spec is a bundle of lib.sh with both limits and the cgroupsPath,
  # its root the absolute path of its rootfs
  local spec; spec=$(bundle "$id" "{\"devices\": $DEVICES_DEFAULT, \"memory\": {\"limit\": $((32 * MiB))}, \"pids\": {\"limit\": 20}}" '["sleep", "1000"]')/config.json
  sed -i -e "s|\"path\": \"rootfs\"|\"path\": \"$(dirname "$spec")/rootfs\"|" \
    -e "s|\"cgroupsPath\": \"[^\"]*\"|\"cgroupsPath\": \"$cgpath\"|" "$spec"
  if ! ct run -d --null-io --runc-binary "$RUNTIME" --runc-root "$E/containerd/runc-root" --fifo-dir "$E/containerd/fifo" \
    "${opts[@]}" --cgroup "$cgpath" --config "$spec" "$id" </dev/null >"$E/ctr.out" 2>&1; then
    fail_all "$name" "ctr run: $(tail -5 "$E/ctr.out")"; return
  fi
  local pid; pid=$(ct task ls 2>/dev/null | awk -v id="$id" '$1 == id {print $2}')
  limits_hold "$name" "$pid" ct task exec --exec-id "x$RANDOM" --fifo-dir "$E/containerd/fifo" "$id"
  ct task kill -s SIGKILL "$id" >/dev/null 2>&1; sleep 0.5
  ct task delete -f "$id" >/dev/null 2>&1; ct containers delete "$id" >/dev/null 2>&1
}

podman_case() { # DRIVER
  local driver=$1 name="$R podman ($1 driver)" id="vmtest-pm-$1"
  PM_MANAGER=$driver
  if ! pm run -d --name "$id" --network none --memory 32m --memory-swap 32m --pids-limit 20 \
    "$IMG" sleep 1000 </dev/null >"$E/pm.out" 2>&1; then
    fail_all "$name" "podman run: $(tail -5 "$E/pm.out")"; return
  fi
  limits_hold "$name" "$(pm inspect -f '{{.State.Pid}}' "$id")" pm exec "$id"
  pm rm -f -t 0 "$id" >/dev/null 2>&1
}

docker_case() { # DRIVER
  local driver=$1 name="$R docker ($1 driver)" id="vmtest-dk-$1"
  if ! start_dockerd "$driver"; then
    fail_all "$name" "dockerd did not start: $(tail -5 "$E/docker/dockerd-$driver.log")"; return
  fi
  if [ ! -f "$E/docker/loaded" ]; then
    dk load -i "$E/image/image.tar" >"$E/dk.out" 2>&1 && : >"$E/docker/loaded"
  fi
  if ! dk run -d --name "$id" --runtime vmtest --network none --memory 32m --memory-swap 32m --pids-limit 20 \
    "$IMG" sleep 1000 </dev/null >>"$E/dk.out" 2>&1; then
    fail_all "$name" "docker run: $(tail -5 "$E/dk.out")"
  else
    limits_hold "$name" "$(dk inspect -f '{{.State.Pid}}' "$id")" dk exec "$id"
    dk rm -f "$id" >/dev/null 2>&1
  fi
  stop_dockerd
}

# ---- the run
for b in containerd ctr dockerd docker podman conmon; do
  command -v $b >/dev/null || { skip "$R: the engines" "$b is not installed in this guest"; done_testing; exit; }
done
t0=$SECONDS
if ! build_image >"$E/image.log" 2>&1; then
  ok 1 "$R: build the busybox image (podman import)" "$(tail -5 "$E/image.log")"
  done_testing; exit
fi
diag "image built and saved in $((SECONDS - t0)) s"
ctr_ready=
if start_containerd; then
  ctr_ready=1
else
  diag "containerd did not start: $(tail -5 "$E/containerd/containerd.log")"
fi
for driver in cgroupfs systemd; do
  if [ "$driver" = systemd ] && [ -n "$SYSTEMD_SKIP" ]; then
    for e in $ENGINES; do skip_all "$R $e (systemd driver)" "$SYSTEMD_SKIP"; done
    continue
  fi
  for e in $ENGINES; do
    t0=$SECONDS
    case $e in
      containerd) if [ -n "$ctr_ready" ]; then ctr_case $driver; else fail_all "$R containerd ($driver driver)" "containerd did not start"; fi ;;
      podman) podman_case $driver ;;
      docker) if [ -n "$ctr_ready" ]; then docker_case $driver; else fail_all "$R docker ($driver driver)" "containerd did not start"; fi ;;
    esac
    diag "$e ($driver): $((SECONDS - t0)) s"
  done
done
done_testing
