#!/usr/bin/env bash
# The conformance suite (conformance/*.test.ts) in the guest, against the runtime in $RUNTIME, as
# TAP: one line per assertion. The tap runner is too slow here under TCG (it loads hundreds of
# modules over 9p: about 6 min for a file whose tests take 2 s), so test/vm/run bundles each file
# on the host (bun build) into build/vm-conformance-NAME.mjs and the guest runs it with node alone.
# Which files: the names (without .test.ts) in build/vm-conformance.list, written by test/vm/run
# from $VM_CONFORMANCE.
# The runc run (after tsrun's, see run-in-guest) also checks that tsrun passed at least as many.
. "$(dirname "$0")/lib.sh"
R=$(rt_name)
here=$(dirname "$0")
counts=/tmp/vmtest-conformance-counts # per runtime, kept between the two runs of one boot
command -v node >/dev/null || { skip "$R: the conformance suite" "no node in the guest (scripts/vm shares the host's)"; done_testing; exit; }
files=$(cat build/vm-conformance.list 2>/dev/null)
[ -n "$files" ] || { ok 1 "$R: the conformance files were bundled on the host" "build/vm-conformance.list is missing: test/vm/run writes it"; done_testing; exit; }
for n in $files; do
  js=build/vm-conformance-$n.mjs
  if [ ! -f "$js" ]; then ok 1 "$R conformance/$n: $js was built on the host" "test/vm/run bundles it (bun build)"; continue; fi
  t0=$SECONDS
  # each file keeps its own temp dir, --root and cgroups, and cleans them (its last test checks)
  RUNTIME=$RUNTIME TAP_TIMEOUT=600 timeout 1200 node "$js" >"$WORK/$n.tap" 2>&1
  node "$here/tap-leaves.mjs" "$R conformance/$n" "$WORK/$n.tap" >"$WORK/$n.leaves"
  # renumbered into this file's stream
  while IFS= read -r line; do
    case $line in
      "ok "*|"not ok "*)
        st=0; [ "${line#not ok}" != "$line" ] && st=1
        text=${line#*- }
        if [ "$st" -eq 0 ]; then TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $text"
        else
          case $text in *"# TODO"*|*"# SKIP"*) TAP_N=$((TAP_N + 1)); echo "not ok $TAP_N - $text" ;;
            *) ok 1 "$text" "$(grep -F -A12 -- "${text#*: }" "$WORK/$n.tap" | head -14)" ;; esac
        fi ;;
    esac
  done <"$WORK/$n.leaves"
  summary=$(grep '^# leaves:' "$WORK/$n.leaves")
  diag "conformance/$n ($R): ${summary#\# leaves: } in $((SECONDS - t0)) s"
  echo "$R $n ${summary#\# leaves: }" >>"$counts"
done
if [ "$R" = runc ]; then
  for n in $files; do
    t=$(grep "^tsrun $n " "$counts" | tail -1 | awk '{print $3}')
    r=$(grep "^runc $n " "$counts" | tail -1 | awk '{print $3}')
    if [ -z "$t" ]; then skip "conformance/$n: tsrun passes at least as many as runc" "tsrun's run did not record its counts in this boot"
    else cmp_ok "$t" -ge "$r" "conformance/$n: tsrun passes at least as many as runc ($t vs $r)"; fi
  done
fi
done_testing
