#!/usr/bin/env bash
# meson.build lists its files by name (the Makefile found them by wildcard): every source, unit test,
# test tool, fuzz target, benchmark and test script of the tree is named there, so none is silently left
# out of the build or the suites. Adding a file is one line in meson.build (its comments say where).
set -uo pipefail
cd "$(dirname "$0")/../.."
failed=0 n=0
listed() {  # listed FILE STRING: STRING (quoted) appears in meson.build
        n=$((n + 1))
        grep -qF "'$2'" meson.build || { echo "FAIL: meson-lists: $1 is not in meson.build (add '$2')"; failed=1; }
}
for f in common/*.c devflowd/*.c pam_devflow/*.c devflowctl/*.c; do
        [ -e "$f" ] || continue
        case $f in pam_devflow/pam_devflow.c|devflowd/main.c) grep -qF "'$f'" meson.build && n=$((n + 1)) ||
                { echo "FAIL: meson-lists: $f is not in meson.build"; failed=1; }; continue ;; esac
        listed "$f" "$f"
done
for f in tests/unit/test-*.c; do
        t=${f#tests/unit/test-}; t=${t%.c}
        [ "$t" = module-exports ] && continue
        listed "$f" "$t"
done
for f in tests/tools/*.c bench/*.c; do
        [ -e "$f" ] || continue
        t=${f##*/}; listed "$f" "${t%.c}"
done
for f in tests/fuzz/fuzz-*.c; do
        t=${f#tests/fuzz/fuzz-}; t=${t%.c}
        [ "$t" = main ] && continue
        listed "$f" "$t"
done
for f in tests/config/*.sh tests/integration/*.sh tests/e2e/*.sh tests/pkg/*.sh; do
        [ -e "$f" ] || continue
        t=${f#tests/}; listed "$f" "${t%.sh}"
done
[ "$failed" -eq 0 ] && echo "PASS: meson-lists: meson.build names all $n files"
exit $failed
