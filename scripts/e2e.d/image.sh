# shellcheck shell=bash
# Builds the busybox image locally from /bin/busybox (busybox-static): no
# registry is ever contacted. Sourced by scripts/e2e.

# build_rootfs DIR : busybox, its applet links, passwd/group, empty mount points.
build_rootfs() {
  local root=$1 bb=${E2E_BUSYBOX:-/bin/busybox} p
  [[ -x $bb ]] || { echo "no busybox at $bb (apt-get install busybox-static)"; return 1; }
  # A dynamic busybox would need the host's libraries inside the image.
  if ldd "$bb" >/dev/null 2>&1; then
    echo "$bb is not statically linked (apt-get install busybox-static)"; return 1
  fi
  rm -rf "$root"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var/tmp,run,home}
  cp "$bb" "$root/bin/busybox"
  chmod 0755 "$root/bin/busybox"
  for p in $("$bb" --list-full); do
    [[ -e $root/$p || -L $root/$p ]] || ln -s /bin/busybox "$root/$p"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  : >"$root/etc/hostname"
  : >"$root/etc/hosts"
  : >"$root/etc/resolv.conf"
  chmod 1777 "$root/tmp" "$root/var/tmp"
}

# build_image WORKDIR IMAGE_REF : leaves WORKDIR/rootfs, WORKDIR/rootfs.tar and
# WORKDIR/image.tar (docker-archive, for `ctr images import` and `docker load`).
# The image is built with `podman import` (or `docker import` when podman is
# not installed), with the podman/docker wrappers in $E2E_BIN.
build_image() {
  local dir=$1 ref=$2
  mkdir -p "$dir"
  build_rootfs "$dir/rootfs" || return 1
  tar -C "$dir/rootfs" --numeric-owner --owner=0 --group=0 -cf "$dir/rootfs.tar" . || return 1
  if [[ -x $E2E_BIN/pm ]]; then
    "$E2E_BIN/pm" import --change 'CMD ["/bin/sh"]' "$dir/rootfs.tar" "$ref" >/dev/null || return 1
    "$E2E_BIN/pm" save --format docker-archive -o "$dir/image.tar" "$ref" >/dev/null || return 1
  elif [[ -x $E2E_BIN/dk ]]; then
    "$E2E_BIN/dk" import --change 'CMD ["/bin/sh"]' "$dir/rootfs.tar" "$ref" >/dev/null || return 1
    "$E2E_BIN/dk" save -o "$dir/image.tar" "$ref" || return 1
  else
    echo "neither podman nor docker is available to build the image"
    return 1
  fi
  [[ -s $dir/image.tar ]]
}
