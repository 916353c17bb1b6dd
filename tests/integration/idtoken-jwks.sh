#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The daemon's JWKS cache through the real daemon and module against the fake IdP:
#  - the key set is fetched once and reused (no /jwks request per login);
#  - JWKS endpoint down: an approved login is refused (fail closed: "keys are not available");
#    once it is back, the next login fetches it and succeeds;
#  - key rotation (the IdP restarts on the same port with new keys): the token's unknown kid causes
#    exactly one /jwks request and the rotated key is accepted; more unknown kids within 60 s of that
#    refetch cause none (tokens cannot make the daemon hammer the IdP).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

command -v node >/dev/null || { skip "node missing (tests/deps.sh installs it)"; exit 0; }
command -v pamtester >/dev/null && [ -n "$PAM_WRAPPER_LIB" ] || { skip "pamtester or pam_wrapper missing"; exit 0; }

LUSER=dfidjwks   # unique per script: scripts may run at the same time
bus_start || { fail "private bus"; exit 1; }
idp_start "$TEST_DIR/idp1" --interval 1 || { fail "fake IdP start"; exit 1; }
IDP1_DIR=$IDP_DIR
PORT=$IDP_PORT
ensure_user "$LUSER" || { fail "test user"; exit 1; }

cat >"$TEST_DIR/devflowd.conf" <<CONF
[idp]
issuer = $(idp_issuer)
client_id = devflow-test
ca_file = $IDP_CA
http_timeout = 5
[limits]
max_new_flows_per_rhost_per_minute = 1000
CONF
pam_service devflow-test "prompt=none timeout=30"

approve_luser() { idp_approve "$1" "{\"preferred_username\":\"$LUSER\"}"; }
login() { pam_login "$LUSER" 203.0.113.10 approve_luser; }
log_mark() { stat -c %s "$DAEMON_LOG"; }
log_since() { tail -c +$(($1 + 1)) "$DAEMON_LOG"; }
# jwks_requests [status]: number of /jwks requests (with that status) the current IdP instance recorded.
jwks_requests() {
        local n
        n=$(grep '"endpoint":"jwks"' "$IDP_DIR/requests.jsonl" | grep -c "\"status\":${1:-}")
        echo "$n"
}
ok() { # NAME
        check "$1: approved login succeeds" test "$RC" -eq 0
        grep -q "successfully authenticated" <<<"$OUT"
        check "$1: pamtester says authenticated" test $? -eq 0
}
refused() { # NAME USER-MESSAGE-REGEX
        check "$1: refused" test "$RC" -ne 0 -a "$RC" -ne 99
        if grep -Eq "$2" <<<"$OUT"; then pass "$1: the user is told /$2/"; else fail "$1: the user is told /$2/"; echo "$OUT"; fi
}
in_log() { # NAME MARK REGEX
        if log_since "$2" | grep -Eq "$3"; then pass "$1: daemon log: /$3/"; else fail "$1: daemon log: /$3/"; log_since "$2" | tail -n 20; fi
}

# ---- JWKS endpoint down from the start: fail closed ------------------------------------------------
idp_ctl fault '{"endpoint":"jwks","type":"status","status":503}' >/dev/null || fail "jwks fault"
daemon_start "$TEST_DIR/devflowd.conf" || { fail "devflowd start"; exit 1; }
wait_for 10 test "$(jwks_requests 503)" -ge 1
check "startup: the daemon tried the JWKS (503)" test "$(jwks_requests 503)" -ge 1
mark=$(log_mark)
login
refused "JWKS down" "keys are not available"
in_log "JWKS down" "$mark" "JWKS: HTTP status 503"
if grep -qi "successfully authenticated" <<<"$OUT"; then fail "JWKS down: no success message"; else pass "JWKS down: no success message"; fi

# ---- back: fetched on demand (or by the retry), then cached ----------------------------------------
idp_ctl clear-faults '{}' >/dev/null || fail "clear faults"
login
ok "JWKS back"
check "JWKS back: the key set was fetched (one 200)" test "$(jwks_requests 200)" -eq 1
login
ok "second login with the cached keys"
check "cached: still one successful /jwks request, none per login" test "$(jwks_requests 200)" -eq 1
# (the control API is not recorded in requests.jsonl; a GET /jwks would be)
OLD_KIDS=$(idp_ctl jwks-private | grep -oE '"kid":"[^"]*"' | tr '\n' ' ')

# ---- rotation: the IdP restarts on the same port with new keys ------------------------------------
idp_stop
idp_start "$TEST_DIR/idp2" --certs "$IDP1_DIR" --port "$PORT" --interval 1 || { fail "fake IdP restart on port $PORT"; exit 1; }
NEW_KID=$(idp_ctl jwks-private | grep -oE '"kid":"rsa-[^"]*"' | head -1 | cut -d'"' -f4)
check "rotation: the restarted IdP publishes a new RS256 kid ($NEW_KID)" \
        test -n "$NEW_KID" -a "${OLD_KIDS/$NEW_KID/}" = "$OLD_KIDS"
mark=$(log_mark)
login
ok "rotated key: one refetch for the unknown kid"
in_log "rotated key" "$mark" "no key for the ID token's kid, refreshing the JWKS"
check "rotated key: exactly one /jwks request" test "$(jwks_requests)" -eq 1
login
ok "rotated key again, from the cache"
check "rotated key again: no further /jwks request" test "$(jwks_requests)" -eq 1

idp_ctl config '{"id_token":"unknown_kid"}' >/dev/null || fail "IdP mode unknown_kid"
for i in 1 2; do
        mark=$(log_mark)
        login
        refused "unknown kid #$i" "could not be verified"
        in_log "unknown kid #$i" "$mark" "ID token refused: no key with kid 'no-such-kid'"
done
check "unknown kids within 60 s of the last refetch: no /jwks request (the IdP is not hammered)" \
        test "$(jwks_requests)" -eq 1
idp_ctl config '{"id_token":"valid"}' >/dev/null || fail "IdP mode valid"

check "daemon alive at the end" daemon_alive
leak=
for d in "$IDP1_DIR" "$TEST_DIR/idp2"; do
        IDP_DIR=$d idp_grep_secrets "$DAEMON_LOG" "$TEST_DIR"/pamtester-*.out && leak=1
done
check "no token, device code or secret in the daemon log or what the user saw" test -z "$leak"
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
