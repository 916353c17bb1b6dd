#!/usr/bin/env bash
# What a PAM caller sends as rhost reaches the daemon's log lines and audit events only through the one
# sanitiser (common/text-safety.c): a C1 CSI (U+009B), a bidi override (U+202E), a zero-width space, a BOM,
# and an isolate become '?', and the login itself still works. (Bytes that are not UTF-8 cannot
# travel in a D-Bus string at all; test-text-safety covers them.)
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_module_stack

U=dflogsafe
ensure_user "$U" || { fail "test user"; exit 1; }
stack_start - --profile rfc --interval 1 <<CONF
[login]
username_claim = preferred_username
CONF
pam_service devflow-test "prompt=none qr=off timeout=30"

# 198.51.100.9 CSI "31m" RLO "evil" ZWSP BOM LRI (C0 controls the daemon refuses outright).
rhost=$'198.51.100.9\xc2\x9b31m\xe2\x80\xaeevil\xe2\x80\x8b\xef\xbb\xbf\xe2\x81\xa6y'
approve() { idp_approve "$1" "{\"preferred_username\":\"$U\"}"; }
pam_login "$U" "$rhost" approve
check "login with a hostile rhost still succeeds (exit $RC)" test "$RC" -eq 0
sleep 0.3

log=$TEST_DIR/devflowd.log
check "the flow-started line is in the log, sanitised" \
        grep -qF "from '198.51.100.9?31m?evil???y' (service 'devflow-test') started." "$log"
check "the audit line is in the log, sanitised" grep -qF "rhost='198.51.100.9?31m?evil???y'" "$log"
for seq in '\xc2\x9b' '\xe2\x80\xae' '\xe2\x80\x8b' '\xef\xbb\xbf' '\xe2\x81\xa6' '\x9b' '\x1b'; do
        if LC_ALL=C grep -q "$(printf "$seq")" "$log"; then
                fail "the byte sequence $seq reached the daemon log as it came"
                LC_ALL=C grep -n "$(printf "$seq")" "$log" | cat -v | head -3
        else
                pass "no $seq in the daemon log"
        fi
done
check "no ASan report" asan_clean
