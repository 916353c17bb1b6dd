#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The QR codes pam_devflow draws must scan: render the module's ASCII and UTF-8 text (dumped by
# build/asan/test-qr) to images as a terminal shows them and decode them with zbarimg.
#
# Polarity: the module draws dark modules as "##" (ink). Black on white (a light terminal) that is
# the standard QR polarity and plain zbarimg decodes it. White on black (a dark terminal) the code is
# inverted; phone cameras read inverted codes, zbar only with -Stest-inverted, which is what we assert
# (and we record that plain zbarimg does not, so a change of polarity is noticed).
set -uo pipefail
cd "$(dirname "$0")/../.."

if ! command -v zbarimg >/dev/null; then
        echo "SKIP: qr-zbar (zbarimg not installed: apt-get install zbar-tools)"
        exit 0
fi
if [ ! -x build/asan/test-qr ]; then
        make --no-print-directory build/asan/test-qr >/dev/null 2>&1 || { echo "FAIL: qr-zbar build test-qr"; exit 1; }
fi

dir=$(mktemp -d /tmp/qr-zbar.XXXXXX)
trap 'rm -rf "$dir"' EXIT

if ! QR_DUMP_DIR=$dir build/asan/test-qr >"$dir/test-qr.log" 2>&1; then
        echo "FAIL: qr-zbar dump (test-qr failed)"; cat "$dir/test-qr.log"; exit 1
fi
ls "$dir"/url-*.txt >/dev/null 2>&1 || { echo "FAIL: qr-zbar dump (no files written)"; exit 1; }

fail=0
check() {       # name image expected-url zbar-args...
        local name=$1 img=$2 want=$3; shift 3
        local got
        got=$(zbarimg --nodbus -q --raw "$@" "$img" 2>/dev/null)
        if [ "$got" = "$want" ]; then
                echo "PASS: qr-zbar $name"
        else
                echo "FAIL: qr-zbar $name (decoded '$got', want '$want')"; fail=1
        fi
}

for u in "$dir"/url-*.txt; do
        n=${u##*/url-}; n=${n%.txt}
        want=$(cat "$u")
        for style in ascii utf8; do
                txt=$dir/$style-$n.txt
                python3 tests/tools/text-to-image.py "$txt" "$dir/$style-$n.png" || { echo "FAIL: qr-zbar $style-$n render"; fail=1; continue; }
                python3 tests/tools/text-to-image.py --invert "$txt" "$dir/$style-$n-inv.png" || { echo "FAIL: qr-zbar $style-$n render inverted"; fail=1; continue; }
                check "$style-$n black-on-white" "$dir/$style-$n.png" "$want"
                check "$style-$n white-on-black" "$dir/$style-$n-inv.png" "$want" -Stest-inverted
                # Plain zbarimg reads only the standard polarity: if this ever decodes, the module's
                # polarity changed and the comment in pam_devflow/qr.h must change with it.
                got=$(zbarimg --nodbus -q --raw "$dir/$style-$n-inv.png" 2>/dev/null)
                if [ -z "$got" ]; then
                        echo "PASS: qr-zbar $style-$n polarity is dark-modules-as-ink"
                else
                        echo "FAIL: qr-zbar $style-$n polarity (inverted image decoded without test-inverted)"; fail=1
                fi
        done
        # the ASCII form is what goes over SSH: it must be plain ASCII
        if LC_ALL=C grep -q '[^# ]' "$dir/ascii-$n.txt"; then
                echo "FAIL: qr-zbar ascii-$n has characters other than '#' and ' '"; fail=1
        else
                echo "PASS: qr-zbar ascii-$n is plain ASCII"
        fi
done
exit $fail
