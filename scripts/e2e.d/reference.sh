# shellcheck shell=bash
# The runtime's own error messages, obtained by calling $RUNTIME directly the
# way the engines do (create --bundle, --log FILE --log-format json) on broken
# bundles. The negative checks then assert that each engine shows the user
# this same message: whatever the runtime says, not a text this script
# guessed. Sourced by scripts/e2e.

# ref_bundle DIR ROOTFS ARG0 CGROUPS_PATH : a config.json shaped like the
# engines' (namespaces, proc/dev/devpts/sys mounts), minimal otherwise.
ref_bundle() {
  local dir=$1 rootfs=$2 arg0=$3 cg=$4
  mkdir -p "$dir"
  cat >"$dir/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": [ "$arg0" ],
    "env": [ "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" ],
    "cwd": "/",
    "capabilities": {
      "bounding": [ "CAP_CHOWN", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE" ],
      "effective": [ "CAP_CHOWN", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE" ],
      "permitted": [ "CAP_CHOWN", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_NET_BIND_SERVICE" ]
    },
    "noNewPrivileges": true
  },
  "root": { "path": "$rootfs", "readonly": false },
  "hostname": "tsrun-e2e-ref",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620" ] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [ "nosuid", "noexec", "nodev", "ro" ] }
  ],
  "linux": {
    "cgroupsPath": "$cg",
    "namespaces": [ { "type": "pid" }, { "type": "ipc" }, { "type": "uts" }, { "type": "mount" }, { "type": "network" } ],
    "maskedPaths": [ "/proc/kcore" ],
    "readonlyPaths": [ "/proc/sys" ]
  }
}
EOF
}

# ref_error NAME ROOTFS ARG0 : prints the runtime's error message for that
# bundle (last error record of its JSON log), with the test's container id and
# bundle path replaced by a NUL so callers can split on them. Fails when the
# runtime gave no error.
ref_error() {
  local name=$1 rootfs=$2 arg0=$3
  local dir=$E2E_TMP/ref/$name id="$E2E_CG_PREFIX-ref-$name" state=$E2E_TMP/ref/state
  ref_bundle "$dir" "$rootfs" "$arg0" "/$E2E_CG_PREFIX-ref/$name"
  local rc=0
  {
    echo "+ $RUNTIME --root $state --log $dir/log.json --log-format json create --bundle $dir $id"
    tmo 60 "$RUNTIME" --root "$state" --log "$dir/log.json" --log-format json create --bundle "$dir" "$id" </dev/null 2>&1 || rc=$?
    echo "  -> exit $rc"
    if ((rc == 0)); then
      # A runtime that defers the failure to start: take start's message.
      echo "+ $RUNTIME ... start $id"
      rc=0
      tmo 60 "$RUNTIME" --root "$state" --log "$dir/log.json" --log-format json start "$id" </dev/null 2>&1 || rc=$?
      echo "  -> exit $rc"
    fi
    tmo 60 "$RUNTIME" --root "$state" delete --force "$id" </dev/null 2>&1 || true
    echo "--- log.json"
    cat "$dir/log.json" 2>/dev/null
    echo
  } >"$dir/run.log" 2>&1
  local msg
  msg=$(node "$E2E_LIB/last-error.mjs" "$dir/log.json" 2>>"$dir/run.log") || return 1
  [[ -n $msg ]] || return 1
  msg=${msg//"$dir"/$'\x01'}
  msg=${msg//"$id"/$'\x01'}
  # The engines' rootfs is elsewhere; only the missing-rootfs case keeps it.
  [[ $name == rootfs ]] || msg=${msg//"$rootfs"/$'\x01'}
  printf '%s' "$msg"
}

# compute_references : sets REF_EXEC (missing executable) and REF_ROOTFS
# (missing rootfs) as arrays of fragments that must appear, in order, in what
# the engine shows. An empty array means the runtime gave no message.
REF_EXEC=()
REF_ROOTFS=()
compute_references() {
  mkdir -p "$E2E_TMP/ref"
  local m
  if m=$(ref_error exec "$E2E_TMP/image/rootfs" "$E2E_MISSING_EXE"); then
    IFS=$'\x01' read -r -d '' -a REF_EXEC <<<"$m" || true
    REF_EXEC[-1]=${REF_EXEC[-1]%$'\n'}
    tap_diag "runtime's own message for a missing executable: ${m//$'\x01'/<id>}"
  else
    tap_diag "runtime gave no error message for a missing executable:" "$(tail -n 20 "$E2E_TMP/ref/exec/run.log")"
  fi
  if m=$(ref_error rootfs "$E2E_MISSING_ROOTFS" /bin/true); then
    IFS=$'\x01' read -r -d '' -a REF_ROOTFS <<<"$m" || true
    REF_ROOTFS[-1]=${REF_ROOTFS[-1]%$'\n'}
    tap_diag "runtime's own message for a missing rootfs: ${m//$'\x01'/<id>}"
  else
    tap_diag "runtime gave no error message for a missing rootfs:" "$(tail -n 20 "$E2E_TMP/ref/rootfs/run.log")"
  fi
}

# want_runtime_message NAME FRAGMENTS... : the engine's output (OUT) shows the
# runtime's message. Quotes and backslashes are ignored on both sides: an
# engine may show the JSON log's msg as is, or (podman with a runtime it does
# not know to speak JSON) the runtime's text-format stderr, where the same
# message is quoted and escaped.
want_runtime_message() {
  local what=$1; shift
  (($# > 0)) || fail "no reference: the runtime printed no error of its own for a $what (see the diagnostics at the top)"
  echo "runtime's message: $(printf '%s<id>' "$@")"
  local frags=() f
  for f in "$@"; do f=${f//\\/}; frags+=("${f//\"/}"); done
  local saved=$OUT
  OUT=${OUT//\\/}
  OUT=${OUT//\"/}
  want_fragments_in_out "${frags[@]}"
  OUT=$saved
}
