#!/usr/bin/env bash
# What an IdP error shows to whom. The ssh user (here pamtester, through the real module) sees a short
# reason and the IdP's error code, never its error_description; the description is in the daemon's log
# (sanitised) and in root's devflowctl test-login. A reply the daemon itself rejects (no verification_uri)
# is worded as the daemon's rejection, not as the IdP's refusal.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

CTL=${DEVFLOWCTL:-$TOP/devflowctl/devflowctl}
need_module_stack
[ -x "$CTL" ] || { fail "devflowctl not built ($CTL)"; exit 1; }

U=dfidperr
ensure_user "$U" || { fail "test user"; exit 1; }
stack_start - --profile rfc --interval 1 <<CONF
[login]
username_claim = preferred_username
[limits]
max_new_flows_per_rhost_per_minute = 1000
CONF
pam_service devflow-test "prompt=none qr=off timeout=20"

SECRET_WORDS="client secret s3cr3t-XYZZY does not match"
fault() { idp_ctl clear-faults '{}' >/dev/null && idp_ctl fault "$1" >/dev/null || fail "IdP fault $1"; }
# login_out: one login through the module, its output in $OUT (pamtester's status in $RC).
login_out() {
        OUT_FILE=$TEST_DIR/pt-$RANDOM.out
        pamtester_run devflow-test "$U" -I rhost=203.0.113.9 -I tty=ssh </dev/null >"$OUT_FILE" 2>&1
        RC=$?
        OUT=$(cat "$OUT_FILE")
}

# ---- device authorization: invalid_client with a description ------------------------------------------
fault "{\"endpoint\":\"device\",\"type\":\"status\",\"status\":401,
        \"body\":\"{\\\"error\\\":\\\"invalid_client\\\",\\\"error_description\\\":\\\"$SECRET_WORDS\\\"}\"}"
login_out
check "invalid_client: login fails (exit $RC)" test "$RC" -ne 0
check "invalid_client: the user is told the IdP refused, with its error code" \
        grep -qF "The identity provider refused the login (invalid_client)." "$OUT_FILE"
if grep -qF "XYZZY" "$OUT_FILE"; then fail "invalid_client: the IdP's description reached the user"; sed 's/^/    /' "$OUT_FILE" | tail -3
else pass "invalid_client: the IdP's description is not shown to the user"; fi
check "invalid_client: the description is in the daemon's log" \
        grep -qF "device authorization refused (HTTP 401): invalid_client: $SECRET_WORDS" "$DAEMON_LOG"
"$CTL" test-login "$U" >"$TEST_DIR/ctl.out" 2>&1
check "invalid_client: root's devflowctl test-login fails" test $? -ne 0
check "invalid_client: root's devflowctl sees the description" grep -qF "$SECRET_WORDS" "$TEST_DIR/ctl.out"

# ---- token endpoint: a final error with a description -----------------------------------------------
fault "{\"endpoint\":\"token\",\"type\":\"status\",\"status\":400,
        \"body\":\"{\\\"error\\\":\\\"unauthorized_client\\\",\\\"error_description\\\":\\\"$SECRET_WORDS\\\"}\"}"
login_out
check "token error: login fails (exit $RC)" test "$RC" -ne 0
check "token error: the user sees the IdP's error code" \
        grep -qF "The identity provider refused the login (unauthorized_client)." "$OUT_FILE"
check "token error: not its description" sh -c "! grep -qF XYZZY '$OUT_FILE'"
check "token error: the description is in the daemon's log" \
        grep -qF "token request refused (HTTP 400): unauthorized_client: $SECRET_WORDS" "$DAEMON_LOG"

# ---- a reply the daemon rejects: no verification_uri ---------------------------------------------------
fault '{"endpoint":"device","type":"missing","fields":["verification_uri","verification_url"]}'
login_out
check "no verification_uri: login fails (exit $RC)" test "$RC" -ne 0
check "no verification_uri: worded as the daemon's rejection" \
        grep -qF "The login service rejected the identity provider's reply (missing or invalid verification_uri)." "$OUT_FILE"
check "no verification_uri: not as the IdP's refusal" sh -c "! grep -qi 'identity provider refused' '$OUT_FILE'"

idp_ctl clear-faults '{}' >/dev/null
check "no ASan report" asan_clean
