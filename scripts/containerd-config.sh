# shellcheck shell=bash
# containerd_config DIR: a containerd of its own under DIR (root, state, sockets, the opt plugin's
# directory), with the CRI plugin and the snapshotters this machine lacks disabled; writes
# DIR/config.toml. Sourced by scripts/e2e.d/host.sh, test/vm/engines.test.sh and
# test/fixtures/configs/capture-engines.sh, which start containerd with it by hand.
containerd_config() {
  local d=$1
  mkdir -p "$d"/{root,state,tmp,opt,fifo,runc-root}
  cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
temp = "$d/tmp"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
EOF
}
