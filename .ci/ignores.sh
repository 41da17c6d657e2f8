#!/usr/bin/env bash
# Check the ignored tests of a `deno test` run (stdin) against the reasons allowed on this machine.
#
# Usage: .ci/ignores.sh "ALLOWED IDS" < test-output
#
# Every ignored test prints "ignored [<id>] <name>: <why>" (tests/_ignore.ts). This prints one
# line per ignore whose id is not in ALLOWED IDS (space-separated), one line when the runs ignored
# more tests than gave a reason, and last "N unexpected": the number of problems, which .ci/run
# counts as failures.
set -euo pipefail

allowed=" ${1:-} "
sed -E $'s/\x1b\\[[0-9;]*[A-Za-z]//g' | awk -v allowed="$allowed" '
  /^ignored \[[a-z]+\] / {
    id = $2; gsub(/[\[\]]/, "", id)
    reasons++
    if (index(allowed, " " id " ") == 0) {
      problems++
      print "ci: unexpected ignore on this machine: " $0
    }
  }
  /^[[:space:]]*(ok|FAILED) \| [0-9]+ passed/ {
    for (i = 2; i <= NF; i++) if ($i == "ignored") ignored += $(i - 1)
  }
  END {
    if (ignored > reasons) {
      problems += ignored - reasons
      printf "ci: %d test(s) ignored without saying why (tests/_ignore.ts)\n", ignored - reasons
    }
    printf "%d unexpected\n", problems
  }'
