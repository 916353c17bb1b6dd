#!/usr/bin/env bash
# The daemon's flow engine against every profile of the fake IdP (issue 4), driven over the bus with
# tests/tools/flowclient: rfc, auth0, pingone, pingfederate, google and strings. For each: a code is issued
# (user_code, verification URI), approval → allowed as the local user (ID token validated), denial → Denied.
# Per profile: auth0's 403 authorization_pending and 429 slow_down are decided by the error field, and its
# expired_token (then invalid_grant) ends in Expired; pingfederate needs client_secret_basic (with the RFC 6749
# §2.3.1 encoding of a secret full of special characters), without it the IdP's invalid_client is an IdpError;
# google's verification_url (no verification_uri_complete) and client_secret_post; strings' "900"-style numbers.
# The daemon is restarted for each profile.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_flowclient

LUSER=dfprofiles
ERR=net.devflow.Devflow1.Error
BASIC_SECRET='b4sic+s3cret:with/%special&chars'
POST_SECRET='post-s3cret'
CERTS=$TEST_DIR/certs
idp_certs "$CERTS" >/dev/null || { fail "test PKI"; exit 1; }

bus_start || { fail "private bus"; exit 1; }
ensure_user "$LUSER" || { fail "test user"; exit 1; }

# profile_up PROFILE CLIENT_ID CLIENT_AUTH [SECRET] [-- fake-idp args]: (re)start the fake IdP with that profile
# and a daemon configured for it.
profile_up() {
        local p=$1 id=$2 auth=$3 secret=${4-}
        shift 3; [ $# -gt 0 ] && shift
        [ "${1-}" = -- ] && shift
        daemon_down
        idp_stop
        idp_start "$TEST_DIR/idp-$p" --certs "$CERTS" --profile "$p" --interval 1 "$@" ||
                { fail "$p: fake IdP start"; return 1; }
        local conf=$TEST_DIR/devflowd-$p.conf
        {
                echo "[idp]"
                echo "issuer = $(idp_issuer)"
                echo "client_id = $id"
                echo "client_auth = $auth"
                echo "ca_file = $IDP_CA"
                echo "http_timeout = 10"
                if [ -n "$secret" ]; then
                        ( umask 077; printf '%s\n' "$secret" >"$TEST_DIR/secret-$p" )
                        echo "client_secret_file = $TEST_DIR/secret-$p"
                fi
                echo "[login]"
                echo "username_claim = preferred_username"
                echo "[limits]"
                echo "max_flows_per_user = 20"
                echo "max_flows_per_user_per_rhost = 20"
                echo "max_flows_per_rhost = 20"
                echo "max_new_flows_per_rhost_per_minute = 1000"
        } >"$conf"
        daemon_start "$conf" || { fail "$p: devflowd start"; return 1; }
        UP=$CUR
}

# daemon_down: stop the daemon of the previous profile; it must have stayed up and exit cleanly.
daemon_down() {
        [ -n "${DAEMON_PID:-}" ] || return 0
        check "$UP: daemon alive after the profile's flows" daemon_alive
        daemon_stop
        if idp_grep_secrets "$DAEMON_LOG" "$TEST_DIR"/*.out; then fail "$UP: a secret leaked into the daemon log or a reply"
        else pass "$UP: no secret in the daemon log or the replies"; fi
        check "$UP: daemon exits cleanly on SIGTERM (status ${DAEMON_RC:-?})" test "${DAEMON_RC:-1}" -eq 0
}

# fc_start OUT: start a flow for $LUSER in the background (PID in FC_PID) and wait for the code or an error.
fc_start() {
        local o=$1
        ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" start "$LUSER" --rhost "192.0.2.$((RANDOM % 200 + 1))" \
                --wait --wait-timeout 30 >"$o" 2>>"$TEST_DIR/flowclient.err" &
        FC_PID=$!
        t_track "$FC_PID"
        wait_for 20 grep -q '^user_code \|^error ' "$o"
}
fc_end() {
        local pid=$1 secs=$2
        wait_for "$secs" sh -c "! kill -0 $pid" || kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        FC_RC=$?
}
code_of() { sed -n 's/^user_code //p' "$1"; }
line_of() { sed -n "s/^$2 //p" "$1" | head -1; }
outcome_of() { grep -E '^(allowed|refused|error) ' "$1" | head -1; }
claims() { printf '{"preferred_username":"%s"}' "$LUSER"; }
# polls CODE [FILTER]: the token polls of that code (JSON lines), optionally only those containing FILTER.
polls() { grep '"endpoint":"token"' "$IDP_DIR/requests.jsonl" | grep "\"user_code\":\"$1\"" | grep -F -- "${2-}"; }
npolls() { polls "$@" | wc -l; }
# has_polls N CODE [FILTER]: at least N such polls (for wait_for: evaluated on every try).
has_polls() { [ "$(npolls "${@:2}")" -ge "$1" ]; }
device_auth_of() { grep '"endpoint":"device"' "$IDP_DIR/requests.jsonl" | tail -1 | sed -n 's/.*"auth":"\([^"]*\)".*/\1/p'; }

# endpoints_used DEVICE-PATH TOKEN-PATH: every device request and every poll went to the profile's endpoints
# (found by discovery), and there was at least one of each.
endpoints_used() {
        local label=$1 dev=$2 tok=$3 nd nt
        nd=$(grep -c "\"endpoint\":\"device\"" "$IDP_DIR/requests.jsonl")
        nt=$(grep -c "\"endpoint\":\"token\"" "$IDP_DIR/requests.jsonl")
        check "$label: $nd device requests, all to $dev" test "$nd" -ge 1 -a \
                "$(grep '"endpoint":"device"' "$IDP_DIR/requests.jsonl" | grep -c "\"path\":\"$dev\"")" -eq "$nd"
        check "$label: $nt polls, all to $tok" test "$nt" -ge 1 -a \
                "$(grep '"endpoint":"token"' "$IDP_DIR/requests.jsonl" | grep -c "\"path\":\"$tok\"")" -eq "$nt"
}

# basic_flows PROFILE: a code is issued; approval → allowed as $LUSER; denial → Denied.
basic_flows() {
        local p=$1 o c
        o=$TEST_DIR/$p-approve.out
        fc_start "$o"
        c=$(code_of "$o")
        check "$p: a user code is issued ($c)" grep -qE '^user_code [A-Z]{4}-[A-Z]{4}$' "$o"
        check "$p: the verification URI is the IdP's ($(line_of "$o" uri))" test "$(line_of "$o" uri)" = "$IDP_URL/device"
        check "$p: the IdP's interval is used (1 s)" grep -q '^interval 1000000$' "$o"
        if [ "$p" != google ]; then
                check "$p: verification_uri_complete passed on" test "$(line_of "$o" uri_complete)" = "$IDP_URL/device?user_code=$c"
        fi
        if [ -n "$c" ]; then
                wait_for 10 has_polls 1 "$c"
                idp_approve "$c" "$(claims)" || fail "$p: approve call"
        fi
        fc_end "$FC_PID" 20
        echo "$p: approved: $(outcome_of "$o")"
        check "$p: approval → allowed as $LUSER (exit $FC_RC)" grep -q "^allowed $LUSER\\( \\|\$\\)" "$o"
        check "$p: the token reply carried an ID token that was accepted (exit 0)" test "$FC_RC" -eq 0

        o=$TEST_DIR/$p-deny.out
        fc_start "$o"
        c=$(code_of "$o")
        [ -n "$c" ] && { wait_for 10 has_polls 1 "$c"; idp_deny "$c"; }
        fc_end "$FC_PID" 20
        echo "$p: denied: $(outcome_of "$o")"
        check "$p: denial → Denied" grep -q "^error $ERR.Denied " "$o"
        check "$p: denial: flowclient exits 1" test "$FC_RC" -eq 1
        check "$p: no early poll" idp_early_polls
}

# ---- rfc -----------------------------------------------------------------------------------------------
CUR=rfc
if profile_up rfc devflow-test none; then
        basic_flows rfc
        endpoints_used rfc /device_authorization /token
        check "rfc: pending polls answered 400" test "$(grep -c '"status":400,"error":"authorization_pending"' "$IDP_DIR/requests.jsonl")" -ge 1
fi

# ---- auth0 ---------------------------------------------------------------------------------------------
CUR=auth0
if profile_up auth0 devflow-test none; then
        check "auth0: the issuer has Auth0's trailing slash ($(idp_issuer))" test "$(idp_issuer)" = "$IDP_URL/"
        basic_flows auth0
        endpoints_used auth0 /oauth/device/code /oauth/token
        # 403 authorization_pending: keep polling, then succeed.
        o=$TEST_DIR/auth0-pending.out
        fc_start "$o"
        c=$(code_of "$o")
        wait_for 10 has_polls 2 "$c" '"status":403,"error":"authorization_pending"'
        n403=$(npolls "$c" '"status":403,"error":"authorization_pending"')
        check "auth0: authorization_pending answered 403 and the daemon kept polling ($n403 polls)" test "$n403" -ge 2
        idp_approve "$c" "$(claims)"
        fc_end "$FC_PID" 15
        check "auth0: after 403 pending polls, approval → allowed as $LUSER" grep -q "^allowed $LUSER" "$o"
        # 429 slow_down: +5 s, keep going, then succeed.
        idp_ctl fault '{"endpoint":"token","type":"slow_down","count":1}' >/dev/null
        o=$TEST_DIR/auth0-slowdown.out
        fc_start "$o"
        c=$(code_of "$o")
        wait_for 10 has_polls 1 "$c" '"status":429,"error":"slow_down"'
        check "auth0: slow_down answered 429" test "$(npolls "$c" '"status":429,"error":"slow_down"')" -eq 1
        idp_approve "$c" "$(claims)"
        fc_end "$FC_PID" 15
        echo "auth0: after a 429 slow_down: $(outcome_of "$o"); poll gaps:"; idp_poll_gaps "$c"
        check "auth0: after a 429 slow_down, approval → allowed as $LUSER" grep -q "^allowed $LUSER" "$o"
        gap=$(idp_poll_gaps "$c" | awk 'NR == 2 {print $1}')
        check "auth0: the poll after 429 slow_down waited the interval + 5 s (${gap:-none} s)" \
                python3 -c 'import sys; sys.exit(0 if 5.98 <= float(sys.argv[1]) < 7.5 else 1)' "${gap:-0}"
        # expired_token (403, once) then invalid_grant: Expired, and no poll after the expired_token.
        o=$TEST_DIR/auth0-expire.out
        fc_start "$o"
        c=$(code_of "$o")
        wait_for 10 has_polls 1 "$c"
        idp_ctl expire "{\"user_code\":\"$c\"}" >/dev/null
        fc_end "$FC_PID" 10
        echo "auth0: /_test/expire: $(outcome_of "$o")"
        check "auth0: expired_token (403) → Expired" grep -q "^error $ERR.Expired " "$o"
        check "auth0: the IdP answered expired_token with 403" test "$(npolls "$c" '"status":403,"error":"expired_token"')" -eq 1
        sleep 1.5
        check "auth0: no poll after expired_token (no invalid_grant seen)" test "$(npolls "$c" invalid_grant)" -eq 0
        # expires_in 3: the code runs out by itself.
        idp_ctl config '{"expires_in":3}' >/dev/null
        o=$TEST_DIR/auth0-expires-in.out
        start=$(date +%s%N)
        fc_start "$o"
        c=$(code_of "$o")
        fc_end "$FC_PID" 15
        took=$(( ($(date +%s%N) - start) / 1000000 ))
        echo "auth0: expires_in 3: $(outcome_of "$o") after $took ms; polls:"; idp_poll_gaps "$c"
        check "auth0: expires_in 3 → Expired" grep -q "^error $ERR.Expired " "$o"
        check "auth0: ... within about expires_in ($took ms < 5500)" test "$took" -lt 5500
        check "auth0: ... and not after an invalid_grant poll" test "$(npolls "$c" invalid_grant)" -eq 0
        idp_ctl config '{"expires_in":600}' >/dev/null
fi

# ---- pingone -------------------------------------------------------------------------------------------
CUR=pingone
if profile_up pingone devflow-test none; then
        check "pingone: the issuer is <origin>/<envID>/as ($(idp_issuer))" grep -qE '^https://127\.0\.0\.1:[0-9]+/[^/]+/as$' <<<"$(idp_issuer)"
        basic_flows pingone
        env=$(idp_issuer | sed 's|^https://[^/]*||')
        endpoints_used pingone "$env/device_authorization" "$env/token"
fi

# ---- pingfederate: client_secret_basic -------------------------------------------------------------------
CUR=pingfederate
if profile_up pingfederate devflow-basic client_secret_basic "$BASIC_SECRET"; then
        basic_flows pingfederate
        endpoints_used pingfederate /as/device_authz.oauth2 /as/token.oauth2
        check "pingfederate: the device request used Basic ($(device_auth_of))" test "$(device_auth_of)" = basic
        check "pingfederate: every poll used Basic" \
                test "$(grep '"endpoint":"token"' "$IDP_DIR/requests.jsonl" | grep -vc '"auth":"basic"')" -eq 0
        check "pingfederate: no invalid_client" test "$(grep -c invalid_client "$IDP_DIR/requests.jsonl")" -eq 0
fi
CUR=pingfederate-none
if profile_up pingfederate devflow-basic none; then
        o=$TEST_DIR/pf-none.out
        fc_start "$o"
        fc_end "$FC_PID" 15
        echo "pingfederate without client_secret_basic: $(outcome_of "$o") (exit $FC_RC)"
        check "pingfederate, client_auth none: IdpError" grep -q "^error $ERR.IdpError " "$o"
        check "pingfederate, client_auth none: the error names invalid_client" grep -q "^error $ERR.IdpError .*invalid_client" "$o"
        check "pingfederate, client_auth none: no code issued" test -z "$(code_of "$o")"
        check "pingfederate, client_auth none: the IdP answered 401" grep -q '"status":401,"error":"invalid_client"' "$IDP_DIR/requests.jsonl"
fi

# ---- google: verification_url, client_secret_post -------------------------------------------------------
CUR=google
if profile_up google devflow-post client_secret_post "$POST_SECRET"; then
        basic_flows google
        endpoints_used google /device/code /token
        check "google: every poll used client_secret_post" \
                test "$(grep '"endpoint":"token"' "$IDP_DIR/requests.jsonl" | grep -vc '"auth":"post"')" -eq 0
        check "google: no verification_uri_complete → uri_complete empty" grep -qx 'uri_complete ' "$TEST_DIR/google-approve.out"
        check "google: the device request used client_secret_post ($(device_auth_of))" test "$(device_auth_of)" = post
        check "google: pending polls answered 428" grep -q '"status":428,"error":"authorization_pending"' "$IDP_DIR/requests.jsonl"
fi

# ---- strings: "expires_in":"900", "interval":"5" ----------------------------------------------------------
CUR=strings
if profile_up strings devflow-test none; then
        raw=$(curl -sS --cacert "$IDP_CA" -d client_id=devflow-test -d scope=openid "$IDP_URL/device_authorization")
        check "strings: the IdP really sends numbers as strings" grep -qE '"expires_in":"[0-9]+".*"interval":"1"|"interval":"1".*"expires_in":"[0-9]+"' <<<"$raw"
        basic_flows strings
        exp=$(line_of "$TEST_DIR/strings-approve.out" expires)
        now=$(( $(date +%s%N) / 1000 ))
        check "strings: expires_in \"600\" understood (expires in $(( (exp - now) / 1000000 )) s)" \
                test "$(( (exp - now) / 1000000 ))" -gt 500 -a "$(( (exp - now) / 1000000 ))" -le 600
fi

daemon_down
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
