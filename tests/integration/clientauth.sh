#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Client authentication through the real daemon and module against the fake IdP, one daemon per method:
# client_secret_basic (a secret with special characters, from a 0600 client_secret_file),
# client_secret_post, private_key_jwt (the EC key from make-certs.sh as client_key_file) and
# tls_client_auth (client certificate and key). Each approved login succeeds, and the IdP's
# requests.jsonl shows exactly that method on the device authorization and on every token request.
# A wrong secret or key is refused with the IdP's invalid_client named to the user and in the log, at the
# device endpoint and (secret changed while the user approves) at the token endpoint. Secret files that
# others can read are refused by --check-config. No secret in any log.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

command -v node >/dev/null || { skip "node missing (tests/deps.sh installs it)"; exit 0; }
command -v pamtester >/dev/null && [ -n "$PAM_WRAPPER_LIB" ] || { skip "pamtester or pam_wrapper missing"; exit 0; }

LUSER=dfclauth   # unique per script: scripts may run at the same time
BASIC_SECRET='b4sic+s3cret:with/%special&chars'
bus_start || { fail "private bus"; exit 1; }
idp_start "$TEST_DIR/idp" --interval 1 || { fail "fake IdP start"; exit 1; }
ensure_user "$LUSER" || { fail "test user"; exit 1; }
ISSUER=$(idp_issuer)
pam_service devflow-test "prompt=none timeout=30"

# Credentials in the test dir, root-owned and 0600 as the daemon demands.
CRED=$TEST_DIR/cred
mkdir -m 0700 "$CRED"
printf '%s\n' "$BASIC_SECRET" >"$CRED/basic.secret"
printf '%s\n' 'post-s3cret' >"$CRED/post.secret"
printf '%s\n' 'not-the-s3cret' >"$CRED/wrong.secret"
cp "$IDP_DIR/client-jwt-key.pem" "$CRED/jwt-key.pem"
cp "$IDP_DIR/client-key.pem" "$CRED/tls-key.pem"
cp "$IDP_DIR/client.pem" "$CRED/tls-cert.pem"
openssl ecparam -name prime256v1 -genkey -noout -out "$CRED/other-ec-key.pem" 2>/dev/null
chmod 0600 "$CRED"/*
chmod 0644 "$CRED/tls-cert.pem"

# conf CLIENT_ID AUTH-LINES...: write $TEST_DIR/devflowd-CLIENT.conf and print its path.
conf() {
        local id=$1 f=$TEST_DIR/devflowd-$1-$RANDOM.conf; shift
        {
                printf '[idp]\nissuer = %s\nclient_id = %s\nca_file = %s\n' "$ISSUER" "$id" "$IDP_CA"
                printf '%s\n' "$@"
                printf '[login]\nusername_claim = preferred_username\n'
                printf '[limits]\nmax_new_flows_per_rhost_per_minute = 1000\n'
        } >"$f"
        echo "$f"
}

# login [--no-approve]: pamtester for $LUSER; approves the code it shows with claims naming $LUSER (first
# running BEFORE_APPROVE if set). $RC, $OUT, $CODE (empty when no code was shown).
approve_luser() {
        [ -n "${BEFORE_APPROVE:-}" ] && eval "$BEFORE_APPROVE"
        idp_approve "$1" "{\"preferred_username\":\"$LUSER\"}"
}
login() { pam_login "$LUSER" 203.0.113.12 approve_luser; }
log_mark() { stat -c %s "$DAEMON_LOG"; }
log_since() { tail -c +$(($1 + 1)) "$DAEMON_LOG"; }
# auth_of CLIENT ENDPOINT: the distinct "auth" values the IdP recorded for that client at that endpoint.
auth_of() {
        grep "\"client_id\":\"$1\"" "$IDP_DIR/requests.jsonl" | grep "\"endpoint\":\"$2\"" |
                grep -oE '"auth":"[^"]*"' | sort -u | cut -d'"' -f4 | tr '\n' ' ' | sed 's/ $//'
}
count_of() { # CLIENT ENDPOINT STATUS
        grep "\"client_id\":\"$1\"" "$IDP_DIR/requests.jsonl" | grep "\"endpoint\":\"$2\"" | grep -c "\"status\":$3"
}

# method NAME CLIENT_ID EXPECTED_AUTH CONFIG-LINES...: one daemon, one approved login, the method on the wire.
method() {
        local name=$1 id=$2 want=$3; shift 3
        local f
        f=$(conf "$id" "$@")
        if ! "$DEVFLOWD" --config "$f" --check-config >"$TEST_DIR/check.out" 2>&1; then
                fail "$name: --check-config accepts the configuration"; cat "$TEST_DIR/check.out"; return
        fi
        daemon_start "$f" || { fail "$name: devflowd start"; return; }
        login
        check "$name: approved login succeeds" test "$RC" -eq 0
        grep -q "successfully authenticated" <<<"$OUT"
        check "$name: pamtester says authenticated" test $? -eq 0
        check "$name: device authorization used '$want' (got '$(auth_of "$id" device)')" test "$(auth_of "$id" device)" = "$want"
        check "$name: every token request used '$want' (got '$(auth_of "$id" token)')" test "$(auth_of "$id" token)" = "$want"
        check "$name: the IdP issued the tokens (token 200)" test "$(count_of "$id" token 200)" -ge 1
        check "$name: the IdP never answered 401" test "$(count_of "$id" device 401)$(count_of "$id" token 401)" = 00
        check "$name: daemon alive" daemon_alive
        daemon_stop
        check "$name: daemon exits cleanly" test "${DAEMON_RC:-1}" -eq 0
}

method client_secret_basic devflow-basic basic \
        "client_auth = client_secret_basic" "client_secret_file = $CRED/basic.secret"
method client_secret_post devflow-post post \
        "client_auth = client_secret_post" "client_secret_file = $CRED/post.secret"
method private_key_jwt devflow-jwt private_key_jwt \
        "client_auth = private_key_jwt" "client_key_file = $CRED/jwt-key.pem"
method tls_client_auth devflow-tls tls \
        "client_auth = tls_client_auth" "client_cert_file = $CRED/tls-cert.pem" "client_key_file = $CRED/tls-key.pem"

# The private_key_jwt assertions: one per request, never reused (the IdP refuses a reused jti: it answered
# 200 to every token request above), signed ES256 with iss = sub = client_id (checked by the IdP).
n_jwt=$(grep '"client_id":"devflow-jwt"' "$IDP_DIR/requests.jsonl" | grep -c '"auth":"private_key_jwt"')
check "private_key_jwt: a device and at least one token request carried assertions ($n_jwt)" test "$n_jwt" -ge 2

# ---- refusals: invalid_client named ----------------------------------------------------------------------
# refused_start NAME CLIENT_ID CONFIG-LINES...: the device authorization is refused with invalid_client.
refused_start() {
        local name=$1 id=$2 f mark; shift 2
        f=$(conf "$id" "$@")
        daemon_start "$f" || { fail "$name: devflowd start"; return; }
        mark=$(log_mark)
        login
        check "$name: no code is shown" test -z "$CODE"
        check "$name: login refused" test "$RC" -ne 0
        if grep -q "invalid_client" <<<"$OUT"; then pass "$name: the user is told invalid_client"; else fail "$name: the user is told invalid_client"; echo "$OUT"; fi
        if log_since "$mark" | grep -q "device authorization refused (HTTP 401): invalid_client"; then
                pass "$name: the daemon log names invalid_client (HTTP 401)"
        else
                fail "$name: the daemon log names invalid_client (HTTP 401)"; log_since "$mark" | tail -n 10
        fi
        check "$name: the IdP answered 401" test "$(count_of "$id" device 401)" -ge 1
        check "$name: daemon alive" daemon_alive
        daemon_stop
}
refused_start "wrong secret (basic)" devflow-basic \
        "client_auth = client_secret_basic" "client_secret_file = $CRED/wrong.secret"
refused_start "wrong method (post for a basic client)" devflow-basic \
        "client_auth = client_secret_post" "client_secret_file = $CRED/basic.secret"
refused_start "wrong key (private_key_jwt)" devflow-jwt \
        "client_auth = private_key_jwt" "client_key_file = $CRED/other-ec-key.pem"

# The secret changes at the IdP while the user approves: the token request gets invalid_client.
f=$(conf devflow-post "client_auth = client_secret_post" "client_secret_file = $CRED/post.secret")
daemon_start "$f" || fail "token invalid_client: devflowd start"
mark=$(log_mark)
BEFORE_APPROVE='idp_ctl config "{\"clients\":{\"devflow-post\":{\"auth\":\"post\",\"secret\":\"rotated-s3cret\"}}}" >/dev/null'
login
BEFORE_APPROVE=
check "token invalid_client: a code was shown" test -n "$CODE"
check "token invalid_client: login refused" test "$RC" -ne 0
if grep -q "invalid_client" <<<"$OUT"; then pass "token invalid_client: the user is told invalid_client"; else fail "token invalid_client: the user is told invalid_client"; echo "$OUT"; fi
if log_since "$mark" | grep -q "token endpoint answered 401: error invalid_client"; then
        pass "token invalid_client: the daemon log names invalid_client"
else
        fail "token invalid_client: the daemon log names invalid_client"; log_since "$mark" | tail -n 10
fi
check "token invalid_client: the IdP answered 401 at the token endpoint" test "$(count_of devflow-post token 401)" -ge 1
check "token invalid_client: daemon alive" daemon_alive
daemon_stop

# ---- secret and key files that others can read are refused ----------------------------------------------
cp -p "$CRED/basic.secret" "$CRED/open.secret"; chmod 0644 "$CRED/open.secret"
f=$(conf devflow-basic "client_auth = client_secret_basic" "client_secret_file = $CRED/open.secret")
"$DEVFLOWD" --config "$f" --check-config >"$TEST_DIR/check.out" 2>&1
rc=$?
check "client_secret_file 0644: --check-config fails" test "$rc" -ne 0
check "client_secret_file 0644: the error names the file" grep -q "open.secret" "$TEST_DIR/check.out"
cp -p "$CRED/jwt-key.pem" "$CRED/open-key.pem"; chmod 0640 "$CRED/open-key.pem"
f=$(conf devflow-jwt "client_auth = private_key_jwt" "client_key_file = $CRED/open-key.pem")
"$DEVFLOWD" --config "$f" --check-config >"$TEST_DIR/check.out" 2>&1
rc=$?
check "client_key_file 0640: --check-config fails" test "$rc" -ne 0
check "client_key_file 0640: the error names the file" grep -q "open-key.pem" "$TEST_DIR/check.out"

if idp_grep_secrets "$DAEMON_LOG" "$TEST_DIR"/pamtester-*.out "$TEST_DIR/check.out"; then
        fail "no client secret, token or device code in the daemon log or what the user saw"
else
        pass "no client secret, token or device code in the daemon log or what the user saw"
fi
for s in "$BASIC_SECRET" post-s3cret not-the-s3cret rotated-s3cret; do
        grep -qF -- "$s" "$DAEMON_LOG" "$TEST_DIR"/pamtester-*.out && { fail "secret ${s:0:4}... in a log"; break; }
done
grep -q "PRIVATE KEY" "$DAEMON_LOG" && fail "a private key in the daemon log"
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
