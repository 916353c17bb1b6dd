#!/usr/bin/env bash
# Whole logins through the real module (pam_wrapper + pamtester) and the real daemon (ASan build) against a
# second, independent OpenID Provider: Debian's Glewlwyd (tests/glewlwyd/), over TLS with a test CA.
#   1. plugin "rs" (RS256, a preferred_username claim from the username), public client: approve → success;
#      bob approves alice's login → refused.
#   2. plugin "es" (ES256, no username claim: only Glewlwyd's own sub), confidential client
#      (client_secret_basic), mapping by sub through map_file: approve → success; bob → refused.
#   3. plugin "short" (codes live 3 s): the code expires unapproved, a fresh one is shown in the same
#      login, approving it succeeds.
# Throughout: Glewlwyd answers slow_down to a poll inside its interval; the daemon must never receive one.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/glewlwyd/glewlwyd.sh"

if ! gw_available; then
        skip "login against Glewlwyd (glewlwyd or sqlite3 is not installed: run 'bash tests/deps.sh')"
        exit 0
fi
bus_start || { fail "private bus"; exit 1; }
gw_start "$TEST_DIR/gw" || { fail "glewlwyd start"; exit 1; }
ensure_user dfalice && ensure_user dfbob || { fail "test users"; exit 1; }

SECRET_FILE=$TEST_DIR/client_secret
(umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRET_FILE")
INTERVAL=1
check "provision users alice, bob and the public and confidential clients" gw_provision base --secret-file "$SECRET_FILE"
check "provision plugin rs (RS256, username claim)" \
        gw_provision plugin rs --alg RS256 --interval $INTERVAL --username-claim
check "provision plugin es (ES256, sub only)" gw_provision plugin es --alg ES256 --interval $INTERVAL
check "provision plugin short (codes live 3 s)" \
        gw_provision plugin short --alg RS256 --interval $INTERVAL --expiration 3 --username-claim

# Glewlwyd's discovery omits 'none' from token_endpoint_auth_methods_supported (public clients work all the
# same) and lists grant types it has disabled (implicit): the daemon must take it as it is.
disco=$(curl -fsS --cacert "$GW_CA" "$(gw_issuer rs)/.well-known/openid-configuration")
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if "none" not in d["token_endpoint_auth_methods_supported"] and "implicit" in d["grant_types_supported"] else 1)' "$disco"
check "Glewlwyd's discovery omits 'none' and lists the disabled implicit grant (what the daemon must accept)" test $? -eq 0
for p in rs:RS256 es:ES256; do
        curl -fsS --cacert "$GW_CA" "$(gw_issuer "${p%%:*}")/jwks" | grep -q "\"alg\":\"${p#*:}\""
        check "plugin ${p%%:*} publishes its ${p#*:} key (jwks-show)" test $? -eq 0
done

# ---- Glewlwyd's own answers, which the daemon relies on (by hand, with curl) ---------------------------
# gw_token PLUGIN DEVICE_CODE: one token request as the public client; prints "STATUS ERROR".
gw_token() {
        curl -sS --cacert "$GW_CA" -o "$TEST_DIR/tok.json" -w '%{http_code}' \
                -d client_id=devflow-public -d grant_type=urn:ietf:params:oauth:grant-type:device_code \
                --data-urlencode "device_code=$2" "$(gw_issuer "$1")/token" >"$TEST_DIR/tok.status"
        printf '%s %s\n' "$(cat "$TEST_DIR/tok.status")" \
                "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("error", "tokens"))' "$TEST_DIR/tok.json" 2>/dev/null)"
}
# gw_device PLUGIN: a device authorization as the public client; sets DC and UC.
gw_device() {
        local j
        j=$(curl -sS --cacert "$GW_CA" -d client_id=devflow-public -d scope=openid "$(gw_issuer "$1")/device_authorization")
        DC=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["device_code"])' "$j")
        UC=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["user_code"])' "$j")
}
# Glewlwyd counts whole seconds: start just after a second begins, so that the two polls below fall in
# the same second (on a loaded machine they may not: then try again with a new code, up to 3 times).
for try in 1 2 3; do
        sleep "$(python3 -c 'import time; print(1.05 - time.time() % 1)')"
        gw_device rs
        r1=$(gw_token rs "$DC") r2=$(gw_token rs "$DC")
        [ "$r2" = "400 slow_down" ] && break
done
check "by hand: first poll at once: authorization_pending (400)" test "$r1" = "400 authorization_pending"
check "by hand: a poll inside the interval: slow_down (400) (got '$r2', try $try)" test "$r2" = "400 slow_down"
sleep $((INTERVAL + 1))
check "by hand: a poll after the interval: authorization_pending again" test "$(gw_token rs "$DC")" = "400 authorization_pending"
GW_PLUGIN=rs GW_CLIENT=devflow-public gw_approve "$UC" alice >>"$TEST_DIR/approve.log" 2>&1
check "by hand: approval as alice over the REST API (302 prompt=deviceComplete)" test $? -eq 0
sleep $((INTERVAL + 1))
check "by hand: then tokens (200)" test "$(gw_token rs "$DC")" = "200 tokens"
sleep $((INTERVAL + 1))
check "by hand: the used device code: access_denied" test "$(gw_token rs "$DC")" = "400 access_denied"
check "by hand: an unknown device code: access_denied" test "$(gw_token rs "no-such-device-code-0123456789ab")" = "400 access_denied"
gw_device short
sleep 4
check "by hand: after expires_in (3 s): expired_token" test "$(gw_token short "$DC")" = "400 expired_token"

pam_service devflow-test "prompt=none qr=ascii timeout=60"

# daemon_for PLUGIN CLIENT "[login] lines": (re)starts devflowd against that plugin's issuer and client.
daemon_for() {
        local plugin=$1 client=$2 login=$3
        daemon_stop
        {
                echo "[idp]"
                echo "issuer = $(gw_issuer "$plugin")"
                echo "client_id = $client"
                echo "ca_file = $GW_CA"
                echo "scope = openid"
                if [ "$client" = devflow-confidential ]; then
                        echo "client_auth = client_secret_basic"
                        echo "client_secret_file = ${USE_SECRET_FILE:-$SECRET_FILE}"
                fi
                echo "[login]"
                printf '%s\n' "$login" "map_file = $TEST_DIR/users.map"
        } >"$TEST_DIR/devflowd-$plugin.conf"
        GW_PLUGIN=$plugin GW_CLIENT=$client
        export GW_PLUGIN GW_CLIENT
        daemon_start "$TEST_DIR/devflowd-$plugin.conf"
}

approve_gw() { gw_approve "$2" "$1" >>"$TEST_DIR/approve.log" 2>&1; }
# The same after a while: the daemon polls every interval meanwhile (Glewlwyd counts in whole seconds: a
# poll even a millisecond early is answered slow_down).
approve_gw_late() { sleep 6; approve_gw "$@"; }
login() { pam_login "$1" 203.0.113.9 "${3:-approve_gw}" "$2"; cp "$OUT_FILE" "$TEST_DIR/last-$1-$2.out"; }

# refused_as_other LABEL: the last login was a refusal because the identity is not the account.
refused_as_other() {
        check "$1: refused" test "$RC" -ne 0 -a "$RC" -ne 99
        grep -q "which is not the account 'dfalice'" <<<"$OUT"
        check "$1: the user is told the identity is not this account" test $? -eq 0
}

# ---- 1: RS256, preferred_username from the plugin's claims settings, public client --------------------
printf 'alice dfalice\nbob dfbob\n' >"$TEST_DIR/users.map"
chmod 0600 "$TEST_DIR/users.map"
daemon_for rs devflow-public "username_claim = preferred_username" || { fail "devflowd start (rs)"; exit 1; }
login dfalice alice approve_gw_late
check "rs256/public: approved as alice for dfalice: PAM_SUCCESS" test "$RC" -eq 0
grep -q "successfully authenticated" <<<"$OUT"
check "rs256/public: pamtester says authenticated" test $? -eq 0
grep -qF "$(gw_issuer rs)/device" <<<"$OUT"
check "rs256/public: the prompt shows Glewlwyd's verification URI" test $? -eq 0
login dfalice bob
refused_as_other "rs256/public: approved by bob for dfalice"

# ---- 2: ES256, no username claim: map Glewlwyd's sub, confidential client ------------------------------
# Glewlwyd makes a random sub per user at the first login; fix alice's and bob's first, so the map file
# can name them (an admin reads them from Glewlwyd the same way).
SUB_ALICE=gw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
SUB_BOB=gw-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
gw_provision sub es alice "$SUB_ALICE" --db "$GW_DIR/glewlwyd.db" &&
        gw_provision sub es bob "$SUB_BOB" --db "$GW_DIR/glewlwyd.db"
check "subs of alice and bob fixed at plugin es" test $? -eq 0
printf '%s dfalice\n%s dfbob\n' "$SUB_ALICE" "$SUB_BOB" >"$TEST_DIR/users.map"
# A wrong secret: Glewlwyd refuses the confidential client's device authorization; no code, no login.
(umask 077; echo wrong-secret >"$TEST_DIR/wrong_secret")
USE_SECRET_FILE=$TEST_DIR/wrong_secret daemon_for es devflow-confidential "username_claim = sub" ||
        { fail "devflowd start (es, wrong secret)"; exit 1; }
login dfalice alice
check "confidential client with a wrong secret: no code is shown and the login fails" \
        test -z "$CODE" -a "$RC" -ne 0 -a "$RC" -ne 99
daemon_for es devflow-confidential "username_claim = sub" || { fail "devflowd start (es)"; exit 1; }
login dfalice alice
check "es256/confidential, mapped by sub: approved as alice for dfalice: PAM_SUCCESS" test "$RC" -eq 0
login dfalice bob
refused_as_other "es256/confidential, mapped by sub: approved by bob for dfalice"
grep -q "$SUB_BOB" "$DAEMON_LOG"
check "es256: the refusal names bob's Glewlwyd sub in the daemon log" test $? -eq 0
# Without the map the sub is not an account: the same approval by alice is refused.
: >"$TEST_DIR/users.map"
daemon_for es devflow-confidential "username_claim = sub" || { fail "devflowd start (es, empty map)"; exit 1; }
login dfalice alice
check "es256: alice's sub with an empty map file: refused" test "$RC" -ne 0 -a "$RC" -ne 99

# ---- 3: expiry → a fresh code in the same login ---------------------------------------------------------
printf 'alice dfalice\nbob dfbob\n' >"$TEST_DIR/users.map"
daemon_for short devflow-public "username_claim = preferred_username" || { fail "devflowd start (short)"; exit 1; }
out=$TEST_DIR/expiry.out
pamtester_run devflow-test dfalice -I rhost=203.0.113.9 -I tty=ssh </dev/null >"$out" 2>&1 &
pid=$!
codes() { grep -oE '[A-Z0-9]{4}-[A-Z0-9]{4}' "$out" | awk '!seen[$0]++'; }
wait_for 30 sh -c "[ \$(grep -oE '[A-Z0-9]{4}-[A-Z0-9]{4}' '$out' | sort -u | wc -l) -ge 2 ]"
check "expiry: a second code is shown after the first expired" test $? -eq 0
grep -q "The code expired; here is a new one" "$out"
check "expiry: the user is told the code expired" test $? -eq 0
CODE1=$(codes | sed -n 1p) CODE2=$(codes | sed -n 2p)
gw_approve "$CODE1" alice >>"$TEST_DIR/approve.log" 2>&1
check "expiry: the expired first code cannot be approved at Glewlwyd" test $? -ne 0
gw_approve "$CODE2" alice >>"$TEST_DIR/approve.log" 2>&1
check "expiry: alice approves the fresh code" test $? -eq 0
wait "$pid"
check "expiry: the fresh code approved: PAM_SUCCESS" test $? -eq 0
grep -q "audit: expired" "$DAEMON_LOG"
check "expiry: the daemon recorded the first code's expiry" test $? -eq 0

# ---- never slow_down ------------------------------------------------------------------------------------
polls=$(grep -c 'token endpoint answered' "$TEST_DIR/devflowd.log")
slow=$(grep -c 'token endpoint answered.*slow_down' "$TEST_DIR/devflowd.log")
pending=$(grep -c 'token endpoint answered 400: authorization_pending' "$TEST_DIR/devflowd.log")
echo "token polls: $polls, authorization_pending: $pending, slow_down: $slow"
check "the daemon polled Glewlwyd and saw authorization_pending ($pending of $polls polls)" test "$pending" -gt 0
check "Glewlwyd never answered slow_down ($slow of $polls polls, interval $INTERVAL s)" test "$slow" -eq 0

check "daemon alive after all logins" daemon_alive
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
if [ "$T_FAILED" -ne 0 ]; then
        show_daemon_log
        echo "---- approvals ----"; cat "$TEST_DIR/approve.log"
        echo "---- glewlwyd log ----"; grep -vi 'debug' "$GW_LOG" | tail -n 30
fi
