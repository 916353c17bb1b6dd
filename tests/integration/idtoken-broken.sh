#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# ID token validation through the real daemon (ASan build) and the real module (pam_wrapper + pamtester),
# against the fake IdP: for every broken ID token the IdP can send, an approved login is refused, the user
# is told the answer could not be verified, the daemon's debug log names the reason, and no token or other
# secret ever reaches the log. A valid token is the control. The id_token_algs allow-list is honoured.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

command -v node >/dev/null || { skip "node missing (tests/deps.sh installs it)"; exit 0; }
command -v pamtester >/dev/null && [ -n "$PAM_WRAPPER_LIB" ] || { skip "pamtester or pam_wrapper missing"; exit 0; }

LUSER=dfidbrok   # unique per script: scripts may run at the same time
bus_start || { fail "private bus"; exit 1; }
# Interval 1 s: each login takes about a second once approved.
idp_start "$TEST_DIR/idp" --interval 1 || { fail "fake IdP start"; exit 1; }
ensure_user "$LUSER" || { fail "test user"; exit 1; }

# write_conf [extra [idp] lines]
write_conf() {
        cat >"$TEST_DIR/devflowd.conf" <<CONF
[idp]
issuer = $(idp_issuer)
client_id = devflow-test
ca_file = $IDP_CA
$*
[limits]
max_new_flows_per_rhost_per_minute = 1000
CONF
}
write_conf
daemon_start "$TEST_DIR/devflowd.conf" || { fail "devflowd start"; exit 1; }
pam_service devflow-test "prompt=none timeout=30"

# login: runs pamtester for $LUSER in the background, approves the code it shows at the fake IdP with
# claims naming $LUSER, and leaves pamtester's status in $RC and its output in $OUT.
approve_luser() { idp_approve "$1" "{\"preferred_username\":\"$LUSER\"}"; }
login() { pam_login "$LUSER" 203.0.113.9 approve_luser; }

# log_since MARK: the daemon log after byte offset MARK.
log_mark() { stat -c %s "$DAEMON_LOG"; }
log_since() { tail -c +$(($1 + 1)) "$DAEMON_LOG"; }

# expect_ok NAME
expect_ok() {
        login
        check "$1: approved login succeeds" test "$RC" -eq 0
        grep -q "successfully authenticated" <<<"$OUT"
        check "$1: pamtester says authenticated" test $? -eq 0
}

# expect_refused NAME REASON-REGEX [USER-MESSAGE-REGEX]
expect_refused() {
        local name=$1 reason=$2 msg=${3:-could not be verified} mark
        mark=$(log_mark)
        login
        check "$name: refused (pamtester fails)" test "$RC" -ne 0 -a "$RC" -ne 99
        if grep -qi "successfully authenticated" <<<"$OUT"; then fail "$name: no success message"; else pass "$name: no success message"; fi
        if grep -Eq "$msg" <<<"$OUT"; then
                pass "$name: the user is told '$msg'"
        else
                fail "$name: the user is told '$msg'"; echo "$OUT"
        fi
        # The flow's refusal line in the debug log names the reason.
        if log_since "$mark" | grep -Eq "$reason"; then
                pass "$name: daemon log names the reason /$reason/"
        else
                fail "$name: daemon log names the reason /$reason/"; log_since "$mark" | tail -n 20
        fi
}

expect_ok "valid RS256 token (control)"

set_mode() { idp_ctl config "{\"id_token\":\"$1\"}" >/dev/null || fail "IdP mode $1"; }

V='ID token refused: '
set_mode bad_signature;   expect_refused bad_signature   "${V}RS256 signature does not verify"
set_mode foreign_key;     expect_refused foreign_key     "${V}RS256 signature does not verify"
set_mode hs256_confusion; expect_refused hs256_confusion "${V}alg 'HS256' \(HMAC\) refused"
set_mode alg_none;        expect_refused alg_none        "${V}(empty signature|alg 'none' \(unsigned\) refused)"
set_mode unknown_kid;     expect_refused unknown_kid     "${V}no key with kid 'no-such-kid'"
set_mode wrong_iss;       expect_refused wrong_iss       "${V}iss is not the configured issuer"
set_mode wrong_aud;       expect_refused wrong_aud       "${V}aud does not contain our client_id"
set_mode wrong_azp;       expect_refused wrong_azp       "${V}azp is not our client_id"
set_mode expired;         expect_refused expired         "${V}expired"
set_mode future_iat;      expect_refused future_iat      "${V}iat in the future"
set_mode missing_sub;     expect_refused missing_sub     "${V}no sub string"
set_mode missing;         expect_refused "missing id_token" "sent no ID token" "sent no ID token|could not be verified"

set_mode valid
expect_ok "valid again after the broken ones"

# The IdP really sent what each case claims (the fake IdP records the mode of every token it issued).
modes=$(grep -o '"id_token_mode":"[a-z0-9_]*"' "$IDP_DIR/requests.jsonl" | grep -v '"valid"' | sort -u | wc -l)
check "the IdP issued 12 distinct broken token modes (got $modes)" test "$modes" -eq 12

check "daemon alive after the RS256 logins" daemon_alive
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0

# ---- id_token_algs = ES256 only ----------------------------------------------------------------------
write_conf "id_token_algs = ES256"
daemon_start "$TEST_DIR/devflowd.conf" || { fail "devflowd start (ES256 only)"; exit 1; }
expect_refused "ES256 only, RS256 token" "${V}alg 'RS256' not in the allowed list"
idp_ctl config '{"alg":"ES256"}' >/dev/null || fail "IdP alg ES256"
expect_ok "ES256 only, ES256 token"
set_mode bad_signature; expect_refused "ES256 only, ES256 bad signature" "${V}ES256 signature does not verify"
set_mode valid

check "daemon alive at the end" daemon_alive
if idp_grep_secrets "$DAEMON_LOG" "$TEST_DIR"/pamtester-*.out; then
        fail "no token, device code or secret in the daemon log or what the user saw"
else
        pass "no token, device code or secret in the daemon log or what the user saw"
fi
daemon_stop
check "daemon exits cleanly on SIGTERM (ES256 only)" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
