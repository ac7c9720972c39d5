#!/usr/bin/env bash
# process.apparmorProfile on a host that runs AppArmor (the development machine does not), for the
# runtime in $RUNTIME, as TAP: the process runs confined by the profile and the profile's deny
# rules hold (a read and a write fail); the same container without the profile is unconfined;
# exec runs under the container's profile or under its own (--apparmor); a profile that is not
# loaded fails the run with one clear error and leaves nothing behind; `features` says AppArmor.
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
  deny /tmp/denied w,
}
profile $profile-exec flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  signal,
  ptrace,
  unix,
  deny /tmp/denied-exec w,
}
PROFILE
apparmor_parser -r "$WORK/profile"
ok $? "$R: the test profiles load (or replace themselves)"
show='cat /proc/self/attr/current; cat /etc/hostname; echo x > /tmp/denied && echo wrote-denied; echo y > /tmp/allowed && echo wrote-allowed'
inside() { # processes whose root is the rootfs of bundle $1
  local p
  for p in /proc/[0-9]*; do [ "$(readlink "$p/root" 2>/dev/null)" = "$1/rootfs" ] && echo "${p#/proc/}"; done
}

PROCESS_EXTRA="\"apparmorProfile\": \"$profile\""
b=$(bundle aa "{\"devices\": $DEV}" "[\"sh\", \"-c\", \"$show\"]")
echo vmtest-hostname > "$b/rootfs/etc/hostname"
out=$(rt run --bundle "$b" aa </dev/null 2>&1)
rc=$?
like "$out" "^$profile \\(enforce\\)" "$R: the process runs under the profile"
like "$out" '/etc/hostname.*Permission denied' "$R: the profile's deny rule holds: /etc/hostname cannot be read"
like "$out" 'denied: Permission denied' "$R: the profile's write deny holds: /tmp/denied cannot be written"
[ ! -e "$b/rootfs/tmp/denied" ]; ok $? "$R: and /tmp/denied was not created"
like "$out" 'wrote-allowed' "$R: a write the profile allows succeeds"
[ "$rc" -ne 0 ] || ! printf '%s' "$out" | grep -q wrote-denied; ok $? "$R: the denied write reports failure"
stop aa

# exec: the container's profile by default, its own with --apparmor
b=$(bundle aaexec "{\"devices\": $DEV}" '["sleep", "300"]')
echo vmtest-hostname > "$b/rootfs/etc/hostname"
start aaexec "$b"; ok $? "$R: a container under $profile runs (run -d)" "$(cat "$WORK/aaexec.err")"
out=$(rt exec aaexec cat /proc/self/attr/current 2>&1)
like "$out" "^$profile \\(enforce\\)" "$R: exec without --apparmor runs under the container's profile"
out=$(rt exec --apparmor "$profile-exec" aaexec sh -c 'cat /proc/self/attr/current; cat /etc/hostname; echo x > /tmp/denied-exec && echo wrote-denied-exec' 2>&1)
like "$out" "^$profile-exec \\(enforce\\)" "$R: exec --apparmor $profile-exec runs under its own profile"
like "$out" 'vmtest-hostname' "$R: exec --apparmor: the container profile's read deny does not apply to it"
like "$out" 'denied-exec: Permission denied' "$R: exec --apparmor: its own profile's write deny holds"
[ ! -e "$b/rootfs/tmp/denied-exec" ]; ok $? "$R: exec --apparmor: /tmp/denied-exec was not created"
pid=$(rt state aaexec 2>/dev/null | grep '"pid"' | tr -dc 0-9)
like "$(cat "/proc/$pid/attr/current" 2>&1)" "^$profile \\(enforce\\)" "$R: the container's init keeps its own profile"
stop aaexec

PROCESS_EXTRA=
b=$(bundle aactl "{\"devices\": $DEV}" "[\"sh\", \"-c\", \"$show\"]")
echo vmtest-hostname > "$b/rootfs/etc/hostname"
out=$(rt run --bundle "$b" aactl </dev/null 2>&1)
is "$out" "unconfined
vmtest-hostname
wrote-denied
wrote-allowed" "$R: control: without apparmorProfile the process is unconfined, reads /etc/hostname and writes /tmp/denied"
stop aactl

PROCESS_EXTRA='"apparmorProfile": "vmtest-no-such-profile"'
b=$(bundle aabad "{\"devices\": $DEV}" '["true"]')
rt run --bundle "$b" aabad </dev/null >"$WORK/aabad.out" 2>&1
cmp_ok "$?" -ne 0 "$R: an unknown profile fails the run"
if [ "$R" = runc ]; then diag "runc: $(cat "$WORK/aabad.out")"; else
  is "$(wc -l < "$WORK/aabad.out")" 1 "$R: with one error line" "$(cat "$WORK/aabad.out")"
  like "$(cat "$WORK/aabad.out")" 'apparmorProfile: AppArmor profile \\?"vmtest-no-such-profile\\?" is not loaded' "$R: naming the field, the profile and why"
fi
[ ! -e /sys/fs/cgroup/vmtest/aabad ]; ok $? "$R: and leaves no cgroup"
[ ! -e "$ROOT/aabad" ]; ok $? "$R: and no state"
is "$(inside "$b")" "" "$R: and no process"
stop aabad

# features: AppArmor support (OCI features: the runtime's support, whatever the host runs)
like "$(rt features 2>&1 | tr -d ' \n')" '"apparmor":\{"enabled":true\}' "$R: features reports AppArmor support"
rmdir /sys/fs/cgroup/vmtest 2>/dev/null
done_testing
