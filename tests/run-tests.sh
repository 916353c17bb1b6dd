#!/usr/bin/env bash
# Runs every test of the project and prints one closing line: "N passed, M failed[, K skipped]".
# Each test program or script prints "PASS: name", "FAIL: name" or "SKIP: name (reason)" lines;
# a program that exits non-zero without printing FAIL counts as one failure.
#   TESTS=SUBSTRING      only the tests whose path contains it (unit binaries, fuzz seeds, scripts):
#                        TESTS=test-conv, TESTS=bus-, TESTS=ssh-login.sh
#   TEST_CASE=NAME       in unit tests, only the cases whose name contains NAME (tests/unit/test.h):
#                        TESTS=test-conv TEST_CASE=outcome_errors bash tests/run-tests.sh
set -uo pipefail
cd "$(dirname "$0")/.."

pass=0 fail=0 skip=0
failed_names=()
logdir=$(mktemp -d /tmp/devflow-tests.XXXXXX)

run_one() {
        local name=$1; shift
        local out="$logdir/$(echo "$name" | tr '/ ' '__').log"
        local start=$SECONDS rc
        echo "== $name"
        "$@" >"$out" 2>&1 </dev/null
        rc=$?
        local p f s
        p=$(grep -c '^PASS: ' "$out"); f=$(grep -c '^FAIL: ' "$out"); s=$(grep -c '^SKIP: ' "$out")
        grep -E '^(FAIL|SKIP): ' "$out" | sed 's/^/   /'
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
                f=1; echo "   FAIL: $name exited $rc"
        fi
        if [ "$f" -gt 0 ]; then
                failed_names+=("$name")
                echo "   --- output of $name (last 80 lines) ---"
                tail -n 80 "$out" | sed 's/^/   | /'
        fi
        echo "   $p passed, $f failed, $s skipped ($((SECONDS - start)) s)"
        pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

only=${TESTS:-}
for t in build/asan/test-*; do
        [ -x "$t" ] || continue
        [ -n "$only" ] && [[ "$t" != *$only* ]] && continue
        run_one "unit/${t##*/}" "$t"
done
for f in build/fuzz/fuzz-*; do
        [ -x "$f" ] || continue
        [ -n "$only" ] && [[ "$f" != *$only* ]] && continue
        n=${f##*/fuzz-}
        run_one "fuzz/$n (seed corpus)" bash -c "'$f' -runs=0 tests/fuzz/corpus/$n >/dev/null 2>&1 && echo 'PASS: fuzz-$n seed corpus' || { echo 'FAIL: fuzz-$n seed corpus'; exit 1; }"
done
for s in tests/config/*.sh tests/integration/*.sh tests/e2e/*.sh tests/pkg/*.sh; do
        [ -f "$s" ] || continue
        [ -n "$only" ] && [[ "$s" != *$only* ]] && continue
        run_one "${s#tests/}" bash "$s"
done

echo
if [ ${#failed_names[@]} -gt 0 ]; then
        echo "failed: ${failed_names[*]}"
        echo "logs: $logdir"
else
        rm -rf "$logdir"
fi
if [ "$skip" -gt 0 ]; then
        echo "$pass passed, $fail failed, $skip skipped"
else
        echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
