#!/usr/bin/env bash
# process.apparmorProfile on a host that runs AppArmor (the development machine does not), for the
# runtime in $RUNTIME, as TAP: the process runs confined by the profile and the profile's deny
# rule holds; the same container without the profile is unconfined and reads the file.
. "$(dirname "$0")/lib.sh"
R=$(rt_name)
DEV=$DEVICES_DEFAULT
profile=vmtest-deny-hostname
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ] || ! command -v apparmor_parser >/dev/null; then
  skip "$R: apparmorProfile" "AppArmor is not enabled in this kernel"
  done_testing; exit
fi
cat > "$WORK/profile" <<PROFILE
abi <abi/3.0>,
profile $profile flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  network,
  signal,
  ptrace,
  unix,
  mount,
  umount,
  pivot_root,
  deny /etc/hostname r,
}
PROFILE
apparmor_parser -r "$WORK/profile"
ok $? "$R: the test profile loads (or replaces itself)"
show='cat /proc/self/attr/current; cat /etc/hostname'

PROCESS_EXTRA="\"apparmorProfile\": \"$profile\""
b=$(bundle aa "{\"devices\": $DEV}" "[\"sh\", \"-c\", \"$show\"]")
echo vmtest-hostname > "$b/rootfs/etc/hostname"
out=$(rt run --bundle "$b" aa </dev/null 2>&1)
rc=$?
like "$out" "^$profile \\(enforce\\)" "$R: the process runs under the profile"
like "$out" 'Permission denied' "$R: the profile's deny rule holds: /etc/hostname cannot be read"
cmp_ok "$rc" -ne 0 "$R: so the container's cat fails"
stop aa

PROCESS_EXTRA=
b=$(bundle aactl "{\"devices\": $DEV}" "[\"sh\", \"-c\", \"$show\"]")
echo vmtest-hostname > "$b/rootfs/etc/hostname"
out=$(rt run --bundle "$b" aactl </dev/null 2>&1)
is "$out" "unconfined
vmtest-hostname" "$R: control: without apparmorProfile the process is unconfined and reads /etc/hostname"
stop aactl

PROCESS_EXTRA='"apparmorProfile": "vmtest-no-such-profile"'
b=$(bundle aabad "{\"devices\": $DEV}" '["true"]')
rt run --bundle "$b" aabad </dev/null >"$WORK/aabad.out" 2>&1
cmp_ok "$?" -ne 0 "$R: an unknown profile fails the run"
[ ! -e /sys/fs/cgroup/vmtest/aabad ]; ok $? "$R: and leaves no cgroup"
[ ! -e "$ROOT/aabad" ]; ok $? "$R: and no state"
stop aabad
rmdir /sys/fs/cgroup/vmtest 2>/dev/null
done_testing
