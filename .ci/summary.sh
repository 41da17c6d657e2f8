#!/usr/bin/env bash
# Reduce `deno test` output (stdin) to two lines, the last one "N passed, M failed":
#
#   K ignored
#   N passed, M failed
#
# Usage: .ci/summary.sh [EXIT_CODE] < test-output
#
# Sums every Deno summary line, e.g.
#   ok | 12 passed (3 steps) | 0 failed (2s)
#   FAILED | 10 passed | 2 failed | 1 ignored (5s)
# (ANSI colours are stripped first). Without any summary line it prints "0 passed, 1 failed".
# When EXIT_CODE is given and non-zero but no test failed, it reports 1 failure, so the
# line never claims success for a failed run. Ignored tests are counted on the line before, so
# that a run with skipped tests does not look fully green; .ci/run checks their reasons.
set -euo pipefail

exit_code="${1:-0}"
sed -E $'s/\x1b\\[[0-9;]*[A-Za-z]//g' | awk -v rc="$exit_code" '
  /^[[:space:]]*(ok|FAILED) \| [0-9]+ passed/ {
    found = 1
    for (i = 2; i <= NF; i++) {
      if ($i == "passed") passed += $(i - 1)
      if ($i == "failed") failed += $(i - 1)
      if ($i == "ignored") ignored += $(i - 1)
    }
  }
  END {
    if (!found) { passed = 0; failed = 1 }
    else if (rc + 0 != 0 && failed == 0) { failed = 1 }
    printf "%d ignored\n", ignored
    printf "%d passed, %d failed\n", passed, failed
  }'
