#!/usr/bin/env bash
# Runs every test of the project and prints one closing line: "N passed, M failed[, K skipped]".
# Each test program or script prints "PASS: name", "FAIL: name" or "SKIP: name (reason)" lines;
# a program that exits non-zero without printing FAIL counts as one failure.
#
# The tests are the ones meson.build declares, in its suites (unit, integration, e2e, pkg), taken from
# the build directory $BUILD (default build/asan, the sanitizer build make check sets up), then the
# libFuzzer binaries of build/fuzz on their seed corpus. SUITES narrows the suites, TESTS the names
# (a substring): TESTS=bus-api bash tests/run-tests.sh.
#
#   run-tests.sh --one COMMAND...   runs one test as meson test does it (meson.build uses this for the
#                                   scripts): its output as it is, exit 1 when it printed a FAIL line
#                                   or exited non-zero, 77 (meson's "skipped") when it only skipped.
set -uo pipefail

if [ "${1:-}" = --one ]; then
        shift
        out=$(mktemp /tmp/devflow-test.XXXXXX)
        "$@" 2>&1 </dev/null | tee "$out"
        rc=${PIPESTATUS[0]}
        f=$(grep -c '^FAIL: ' "$out"); p=$(grep -c '^PASS: ' "$out"); s=$(grep -c '^SKIP: ' "$out")
        rm -f "$out"
        if [ "$rc" -ne 0 ] || [ "$f" -gt 0 ]; then
                [ "$f" -gt 0 ] || echo "FAIL: $* exited $rc"
                exit 1
        fi
        [ "$p" -eq 0 ] && [ "$s" -gt 0 ] && exit 77
        exit 0
fi

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
        [ "$rc" -eq 77 ] && rc=0        # meson's "skipped" (run-tests.sh --one): the SKIP lines say why
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
build=${BUILD:-build/asan}
suites=${SUITES:-unit integration e2e pkg}
if [ ! -f "$build/meson-info/intro-tests.json" ]; then
        echo "run-tests: $build is not a meson build directory (make check sets it up: make asan)" >&2
        exit 1
fi
# One line per test of the wanted suites, in suite order: NAME, then the command (with the environment
# meson.build gives it) as shell words.
list=$(python3 - "$build/meson-info/intro-tests.json" $suites <<'PY'
import json, os, shlex, sys
tests = json.load(open(sys.argv[1]))
for suite in sys.argv[2:]:
        for t in tests:
                # meson names a suite "project:suite"
                if not any(s.split(":")[-1] == suite for s in t["suite"]):
                        continue
                env = ["%s=%s" % kv for kv in sorted(t["env"].items())]
                name = t["name"] if t["name"].startswith(suite + "/") else suite + "/" + t["name"]
                # meson runs a test in its workdir, else in the build directory
                cwd = t.get("workdir") or os.path.abspath(sys.argv[1] + "/../..")
                print("%s\t%s" % (name, shlex.join(["env", "-C", cwd] + env + t["cmd"])))
PY
) || { echo "run-tests: cannot read the test list of $build" >&2; exit 1; }
while IFS=$'\t' read -r name cmd; do
        [ -n "$name" ] || continue
        [ -n "$only" ] && [[ "$name" != *$only* ]] && continue
        eval "run_one \"\$name\" $cmd"
done <<<"$list"
for f in build/fuzz/fuzz-*; do
        [[ " $suites " == *" unit "* ]] || break       # seed replays belong to the unit suite
        [ -f "$f" ] && [ -x "$f" ] || continue
        [[ "$f" == */fuzz-replay-* ]] && continue     # the plain driver: the unit suite runs those
        [ -n "$only" ] && [[ "$f" != *$only* ]] && continue
        n=${f##*/fuzz-}
        run_one "fuzz/$n (seed corpus, libFuzzer)" bash -c "'$f' -runs=0 tests/fuzz/corpus/$n >/dev/null 2>&1 && echo 'PASS: fuzz-$n seed corpus' || { echo 'FAIL: fuzz-$n seed corpus'; exit 1; }"
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
