#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Self-test of the fake IdP (tests/idp/fake-idp.js) with curl: every profile answers as documented in
# tests/idp/README.md, the faults do what they say, tokens verify, and requests/secrets are recorded.
# The daemon's integration tests rely on all of this. Runs in well under 30 s.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

if ! command -v node >/dev/null || ! command -v curl >/dev/null; then
        skip "node or curl missing (tests/deps.sh installs them)"
        exit 0
fi

JT="node $TOP/tests/idp/jwt-tool.js"
GRANT=urn:ietf:params:oauth:grant-type:device_code

idp_start "$TEST_DIR/idp" || { fail "fake IdP starts"; exit 1; }
pass "fake IdP starts and prints LISTENING ($IDP_URL)"
check "port file matches LISTENING" test "$(cat "$TEST_DIR/idp/port")" = "$IDP_PORT"

# req METHOD PATH [curl args...]: sets STATUS, BODY (file $TEST_DIR/body), CURL_RC.
BODYF=$TEST_DIR/body
req() {
        local m=$1 p=$2; shift 2
        STATUS=$(curl -sS -o "$BODYF" -D "$TEST_DIR/headers" -w '%{http_code}' --max-time 5 --cacert "$IDP_CA" \
                 -X "$m" "$@" "$IDP_URL$p" 2>"$TEST_DIR/curl.err")
        CURL_RC=$?
        BODY=$(cat "$BODYF")
}
# jget FIELD: a top-level string or number of the last (flat, compact) JSON reply, without starting node
# (this script makes hundreds of such reads); anything else goes through jwt-tool.js.
jget() {
        local re_s="\"$1\":\"([^\"\\\\]*)\"[,}]" re_n="\"$1\":(-?[0-9.]+|true|false|null)[,}]"
        if [[ $BODY =~ $re_s ]] || [[ $BODY =~ $re_n ]]; then
                echo "${BASH_REMATCH[1]}"
        elif [[ $BODY == *"\"$1\":"* ]]; then
                $JT get "$1" <<<"$BODY"
        else
                return 1
        fi
}
jhas() { [[ $BODY == *"\"$1\":"* ]]; }
quiet() { "$@" >/dev/null; }
# expect NAME STATUS ERROR: the last reply had this status and "error" field.
expect() {
        local got
        got=$(jget error 2>/dev/null)
        if [ "$STATUS" = "$2" ] && [ "$got" = "$3" ]; then pass "$1"; else fail "$1 (got $STATUS '$got', want $2 '$3')"; fi
}
# profile NAME: reset the IdP (flows, faults, config, requests.jsonl) into that profile; caches its routes.
declare -A ROUTE
profile() {
        local k v
        while read -r k v; do ROUTE[$k]=$v; done < <(idp_ctl reset "{\"profile\":\"$1\"}" |
                node -e 'const r=JSON.parse(require("fs").readFileSync(0)).routes;for(const k in r)console.log(k,r[k])')
}
route() { echo "${ROUTE[$1]}"; }
# start_flow CLIENT-ARGS...: device authorization at the profile's endpoint; sets DC, UC.
start_flow() {
        req POST "$(route device)" "$@" -d scope=openid
        DC=$(jget device_code 2>/dev/null); UC=$(jget user_code 2>/dev/null)
}
poll() { req POST "$(route token)" -d grant_type=$GRANT -d "device_code=$DC" "$@"; }

# ---- rfc ------------------------------------------------------------------------------------------
profile rfc
req GET /.well-known/openid-configuration
check "rfc: discovery issuer is the origin" test "$(jget issuer)" = "$IDP_URL"
check "rfc: discovery names the device endpoint" test "$(jget device_authorization_endpoint)" = "$IDP_URL/device_authorization"
req GET /jwks
check "jwks: one RS256 and one ES256 key with kid" \
        test "$(node -e 'const k=JSON.parse(process.argv[1]).keys;console.log(k.map(x=>x.alg+":"+x.kty+":"+!!x.kid+":"+!("d" in x)).join(","))' "$BODY")" \
        = "RS256:RSA:true:true,ES256:EC:true:true"
cp "$BODYF" "$TEST_DIR/jwks.json"

start_flow -d client_id=devflow-test
check "rfc: device authorization 200" test "$STATUS" = 200
check "rfc: user_code looks like WDJB-MJHT" grep -Eq '^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$' <<<"$UC"
check "rfc: device_code is 32+ random bytes base64url" grep -Eq '^[A-Za-z0-9_-]{43,}$' <<<"$DC"
check "rfc: verification_uri, _complete, expires_in 600, interval 5" \
        test "$(jget verification_uri) $(jget verification_uri_complete) $(jget expires_in) $(jget interval)" \
        = "$IDP_URL/device $IDP_URL/device?user_code=$UC 600 5"
poll -d client_id=devflow-test
expect "rfc: pending is 400 authorization_pending" 400 authorization_pending
idp_ctl config '{"strict_interval":true}' >/dev/null
poll -d client_id=devflow-test
expect "rfc: a too-fast poll gets slow_down under strict_interval" 400 slow_down
idp_ctl config '{"strict_interval":false}' >/dev/null
check "rfc: slow_down added 5 s to the flow's interval" \
        test "$(idp_ctl flows | node -e 'console.log(JSON.parse(require("fs").readFileSync(0)).pop().interval)')" = 10

idp_approve "$UC" '{"preferred_username":"bob","groups":["admins","ssh"],"acr":"mfa","amr":["pwd","otp"]}'
poll -d client_id=devflow-test
check "rfc: approved poll returns tokens" test "$STATUS" = 200
IDT=$(jget id_token); AT=$(jget access_token)
check "rfc: id_token verifies against JWKS (RS256, iss, aud, exp)" quiet $JT verify "$TEST_DIR/jwks.json" "$IDP_URL" devflow-test <<<"$IDT"
check "rfc: id_token carries the approval's claims" node -e '
        const p=JSON.parse(Buffer.from(process.argv[1].split(".")[1],"base64url"));
        process.exit(p.preferred_username==="bob"&&p.groups.join()==="admins,ssh"&&p.acr==="mfa"&&p.amr[1]==="otp"?0:1)' "$IDT"
SUB=$($JT decode <<<"$IDT" | $JT get payload | $JT get sub)
req GET "$(route userinfo)" -H "Authorization: Bearer $AT"
check "rfc: userinfo accepts the access token, same sub" test "$STATUS $(jget sub)" = "200 $SUB"
req GET "$(route userinfo)" -H "Authorization: Bearer nope"
check "rfc: userinfo refuses an unknown token with 401" test "$STATUS" = 401
poll -d client_id=devflow-test
expect "rfc: a used device_code is invalid_grant" 400 invalid_grant

idp_ctl config '{"alg":"ES256"}' >/dev/null
start_flow -d client_id=devflow-test; idp_approve; poll -d client_id=devflow-test
IDT=$(jget id_token)
check "rfc: ES256 id_token verifies" quiet $JT verify "$TEST_DIR/jwks.json" "$IDP_URL" devflow-test <<<"$IDT"
check "rfc: ES256 header" grep -q '"alg":"ES256"' <<<"$($JT decode <<<"$IDT")"
idp_ctl config '{"alg":"RS256"}' >/dev/null

start_flow -d client_id=devflow-test; idp_deny "$UC"; poll -d client_id=devflow-test
expect "rfc: denied is access_denied" 400 access_denied
start_flow -d client_id=devflow-test; idp_ctl expire "{\"user_code\":\"$UC\"}" >/dev/null; poll -d client_id=devflow-test
expect "rfc: expired is expired_token" 400 expired_token

# Broken ID tokens must fail an independent verifier, each for its own reason.
for m in bad_signature:"bad signature" wrong_iss:"iss https://evil.example" wrong_aud:"aud someone-else" \
         expired:expired alg_none:"alg none not allowed" unknown_kid:"unknown kid no-such-kid" \
         hs256_confusion:"alg HS256 not allowed" foreign_key:"bad signature" future_iat:"iat in the future" \
         wrong_azp:"azp someone-else" missing_sub:"no sub"; do
        mode=${m%%:*} why=${m#*:}
        idp_ctl config "{\"id_token\":\"$mode\"}" >/dev/null
        start_flow -d client_id=devflow-test; idp_approve; poll -d client_id=devflow-test
        got=$($JT verify "$TEST_DIR/jwks.json" "$IDP_URL" devflow-test <<<"$(jget id_token)")
        check "broken id_token '$mode' is refused: $why" test "$got" = "$why"
done
idp_ctl config '{"id_token":"missing"}' >/dev/null
start_flow -d client_id=devflow-test; idp_approve; poll -d client_id=devflow-test
check "id_token 'missing': token reply without id_token" test "$STATUS" = 200 -a -z "$(jget id_token 2>/dev/null)"

# ---- client authentication -------------------------------------------------------------------------
profile rfc
# RFC 6749 §2.3.1: the secret 'b4sic+s3cret:with/%special&chars' must be form-urlencoded inside Basic.
ENC=$(node -e 'console.log(Buffer.from("devflow-basic:"+encodeURIComponent("b4sic+s3cret:with/%special&chars")).toString("base64"))')
start_flow -H "Authorization: Basic $ENC"
check "basic: form-urlencoded id:secret accepted" test "$STATUS" = 200
start_flow -u 'devflow-basic:b4sic+s3cret:with/%special&chars'
check "basic: raw (not form-urlencoded) secret refused with 401" test "$STATUS" = 401
check "basic: 401 carries WWW-Authenticate" grep -qi '^WWW-Authenticate: Basic' "$TEST_DIR/headers"
start_flow -d client_id=devflow-post -d client_secret=post-s3cret
check "post: client_secret_post accepted" test "$STATUS" = 200
start_flow -d client_id=devflow-post -d client_secret=wrong
expect "post: wrong secret is invalid_client" 401 invalid_client
start_flow -d client_id=devflow-basic -d client_secret=post-s3cret -H "Authorization: Basic $ENC"
expect "two methods at once are invalid_request" 400 invalid_request
start_flow -d client_id=devflow-tls --cert "$IDP_DIR/client.pem" --key "$IDP_DIR/client-key.pem"
check "tls_client_auth: client certificate accepted" test "$STATUS" = 200
start_flow -d client_id=devflow-tls
expect "tls_client_auth: no certificate is invalid_client" 401 invalid_client
start_flow -d client_id=devflow-jwt -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
        -d "client_assertion=$($JT assertion "$IDP_DIR/client-jwt-key.pem" devflow-jwt "$IDP_URL/device_authorization")"
check "private_key_jwt: signed assertion accepted" test "$STATUS" = 200
start_flow -d client_id=devflow-jwt -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
        -d "client_assertion=$($JT assertion "$IDP_DIR/client-key.pem" devflow-jwt "$IDP_URL/device_authorization")"
expect "private_key_jwt: assertion signed by another key refused" 401 invalid_client
check "requests.jsonl names the client authentication used" \
        test "$(idp_requests | grep -o '"auth":"[a-z_+]*"' | sort -u | tr '\n' ' ')" \
        = '"auth":"basic" "auth":"basic+post" "auth":"none" "auth":"post" "auth":"private_key_jwt" "auth":"tls" '

# ---- auth0 -----------------------------------------------------------------------------------------
profile auth0
req GET /.well-known/openid-configuration
check "auth0: issuer ends with a slash" test "$(jget issuer)" = "$IDP_URL/"
req GET //.well-known/openid-configuration
check "auth0: issuer + /.well-known (double slash) also answers" test "$STATUS" = 200
start_flow -d client_id=devflow-test -d audience=https://api.example
check "auth0: /oauth/device/code" test "$STATUS $(route device)" = "200 /oauth/device/code"
check "auth0: extra params (audience) recorded on the flow" \
        grep -q '"audience":"https://api.example"' <<<"$(idp_ctl flows)"
poll -d client_id=devflow-test
expect "auth0: pending is 403" 403 authorization_pending
idp_ctl config '{"strict_interval":true}' >/dev/null
poll -d client_id=devflow-test
expect "auth0: slow_down is 429" 429 slow_down
idp_ctl expire '{}' >/dev/null
poll -d client_id=devflow-test
expect "auth0: expired_token (403) once" 403 expired_token
poll -d client_id=devflow-test
expect "auth0: then invalid_grant (403)" 403 invalid_grant

# ---- google ----------------------------------------------------------------------------------------
profile google
start_flow -d client_id=devflow-post -d client_secret=post-s3cret
check "google: verification_url, no verification_uri(_complete)" \
        test "$(jget verification_url) $(jhas verification_uri && echo has) $(jhas verification_uri_complete && echo has)" = "$IDP_URL/device  "
poll -d client_id=devflow-post -d client_secret=post-s3cret
expect "google: pending is 428" 428 authorization_pending
start_flow -d client_id=devflow-test
expect "google: a public client (no client_secret_post) is invalid_client" 401 invalid_client

# ---- pingfederate ----------------------------------------------------------------------------------
profile pingfederate
start_flow -d client_id=devflow-test
expect "pingfederate: no Basic authentication is 401 invalid_client" 401 invalid_client
start_flow -H "Authorization: Basic $ENC"
check "pingfederate: /as/device_authz.oauth2 with Basic" test "$STATUS $(route device)" = "200 /as/device_authz.oauth2"
start_flow -H "Authorization: Basic $ENC" -d 'scope=openid bogus'
expect "pingfederate: unknown scope is invalid_scope (400)" 400 invalid_scope
check "pingfederate: JWKS at /pf/JWKS" test "$(route jwks)" = /pf/JWKS

# ---- pingone ---------------------------------------------------------------------------------------
profile pingone
ENV=$(idp_ctl config | $JT get env_id)
req GET "/$ENV/as/.well-known/openid-configuration"
check "pingone: issuer is <origin>/<envID>/as" test "$STATUS $(jget issuer)" = "200 $IDP_URL/$ENV/as"
start_flow -d client_id=devflow-test
check "pingone: /<envID>/as/device_authorization" test "$STATUS $(route device)" = "200 /$ENV/as/device_authorization"
check "pingone: idp_issuer helper" test "$(idp_issuer)" = "$IDP_URL/$ENV/as"

# ---- strings ---------------------------------------------------------------------------------------
profile strings
idp_ctl config '{"expires_in":900}' >/dev/null
start_flow -d client_id=devflow-test
check 'strings: "expires_in":"900","interval":"5"' grep -q '"expires_in":"900","interval":"5"' "$BODYF"

# ---- polling spacing and the user's page -------------------------------------------------------------
profile rfc
idp_ctl config '{"interval":1}' >/dev/null
start_flow -d client_id=devflow-test
poll -d client_id=devflow-test; sleep 1.05; poll -d client_id=devflow-test
check "spacing: a poll after the interval is not early" idp_early_polls
poll -d client_id=devflow-test
check "spacing: an immediate poll is flagged too_early" quiet bash -c ". '$TOP/tests/idp/idp.sh'; IDP_DIR='$IDP_DIR'; ! idp_early_polls"
gaps=$(idp_poll_gaps "$UC" | awk '{printf "%s/%s ", ($1 == "-" ? "-" : ($1 >= 1.0 ? "ok" : "early")), $2}')
check "idp_poll_gaps: gaps and intervals per poll ($gaps)" test "$gaps" = "-/1 ok/1 early/1 "
req POST /device -d "user_code=$(tr A-Z a-z <<<"${UC/-/}")" -d action=approve
check "/device page approves (code case and dash ignored)" grep -q approved <<<"$BODY"
poll -d client_id=devflow-test
RT=$(jget refresh_token)
check "approved through the page: tokens" test "$STATUS" = 200 -a -n "$RT"
req POST /token -d client_id=devflow-test -d grant_type=refresh_token -d "refresh_token=$RT"
check "refresh_token grant issues a new access token" test "$STATUS" = 200 -a -n "$(jget access_token)"
profile pingfederate
start_flow -d client_id=devflow-tls --cert "$IDP_DIR/client.pem" --key "$IDP_DIR/client-key.pem"
check "pingfederate: tls_client_auth accepted" test "$STATUS" = 200

# ---- faults ----------------------------------------------------------------------------------------
profile rfc
idp_ctl config '{"interval":null}' >/dev/null
start_flow -d client_id=devflow-test
check "interval null: the field is omitted" test "$STATUS" = 200 -a -z "$(jget interval 2>/dev/null)"
POLL_DC=$DC
idp_ctl fault '{"endpoint":"token","type":"status","status":503,"count":1}' >/dev/null
poll -d client_id=devflow-test
check "fault status 503 (count 1)" test "$STATUS" = 503
poll -d client_id=devflow-test
expect "fault count used up: back to normal" 400 authorization_pending
idp_ctl fault '{"endpoint":"token","type":"malformed","count":1}' >/dev/null
poll -d client_id=devflow-test
check "fault malformed: 200 with a body that is not JSON" \
        test "$STATUS" = 200 -a "$(node -e 'try{JSON.parse(process.argv[1]);console.log("json")}catch{console.log("bad")}' "$BODY")" = bad
idp_ctl fault '{"endpoint":"token","type":"huge","count":1}' >/dev/null
poll -d client_id=devflow-test
check "fault huge: a 5 MB body" test "$(stat -c %s "$BODYF")" -ge $((5 * 1024 * 1024))
idp_ctl fault '{"endpoint":"token","type":"truncated","count":1}' >/dev/null
poll -d client_id=devflow-test
check "fault truncated: curl reports a partial transfer (18)" test "$CURL_RC" = 18
idp_ctl fault '{"endpoint":"token","type":"hang","count":1}' >/dev/null
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 1 --cacert "$IDP_CA" -d client_id=devflow-test \
         -d grant_type=$GRANT -d "device_code=$DC" "$IDP_URL/token" 2>/dev/null); CURL_RC=$?
check "fault hang: no answer (curl timeout 28)" test "$CURL_RC" = 28
idp_ctl fault '{"endpoint":"token","type":"delay","delay_ms":400,"count":1}' >/dev/null
t0=$(date +%s%N); poll -d client_id=devflow-test; t1=$(date +%s%N)
check "fault delay 400 ms: answered, late" test "$STATUS" = 400 -a $(((t1 - t0) / 1000000)) -ge 400
idp_ctl fault '{"endpoint":"token","type":"slow_down"}' >/dev/null
poll -d client_id=devflow-test; s1=$(jget error); poll -d client_id=devflow-test
check "fault slow_down: endless" test "$s1 $(jget error)" = "slow_down slow_down"
idp_ctl clear-faults '{}' >/dev/null
idp_ctl fault '{"endpoint":"device","type":"control_chars","count":1}' >/dev/null
start_flow -d client_id=devflow-test
check "fault control_chars: ESC and BEL in user_code and verification_uri" \
        node -e 'const o=JSON.parse(process.argv[1]);process.exit(/\x1b\]0;pwned\x07/.test(o.user_code)&&/\x1b/.test(o.verification_uri)?0:1)' "$BODY"
idp_ctl fault '{"endpoint":"device","type":"oversized","size":70000,"count":1}' >/dev/null
start_flow -d client_id=devflow-test
check "fault oversized: 70000-character user_code" test "${#UC}" -ge 70000
idp_ctl fault '{"endpoint":"device","type":"missing","fields":["device_code"],"count":1}' >/dev/null
start_flow -d client_id=devflow-test
check "fault missing: no device_code" test "$STATUS" = 200 -a -z "$DC" -a -n "$UC"
idp_ctl fault '{"endpoint":"discovery","type":"redirect_http","count":1}' >/dev/null
req GET /.well-known/openid-configuration
check "fault redirect_http: 302 to http://" grep -qi "^Location: http://127.0.0.1:$IDP_HTTP_PORT/" "$TEST_DIR/headers"
idp_ctl fault '{"type":"wrong_cert"}' >/dev/null
req GET /jwks
check "fault wrong_cert: curl refuses the certificate" test "$CURL_RC" = 60
check "fault wrong_cert: control API still answers (idp_ctl)" quiet idp_ctl config
idp_ctl clear-faults '{}' >/dev/null
req GET /jwks
check "clear-faults: right certificate again" test "$CURL_RC $STATUS" = "0 200"
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$IDP_CA" \
         "https://127.0.0.1:$IDP_WRONG_PORT/jwks" 2>/dev/null); CURL_RC=$?
check "wrong-port: certificate for another name refused" test "$CURL_RC" = 60

idp_ctl fault '{"type":"wrong_cert","cert":"self_signed"}' >/dev/null
req GET /jwks
idp_ctl clear-faults '{}' >/dev/null
check "fault wrong_cert self_signed: refused (60)" test "$CURL_RC" = 60
check "requests.jsonl: the refused TLS handshake is recorded" grep -q '"tls_error"' "$IDP_DIR/requests.jsonl"
idp_ctl fault '{"endpoint":"jwks","type":"reset","count":1}' >/dev/null
req GET /jwks
check "fault reset: empty reply (52)" test "$CURL_RC" = 52
idp_ctl fault '{"endpoint":"jwks","type":"drip","every_ms":300,"count":1}' >/dev/null
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 1 --cacert "$IDP_CA" "$IDP_URL/jwks" 2>/dev/null); CURL_RC=$?
check "fault drip: headers come, the body never completes in time (28)" test "$CURL_RC $STATUS" = "28 200"

# ---- records -----------------------------------------------------------------------------------------
check "requests.jsonl: the device_code of a poll is recorded" grep -q "\"device_code\":\"$POLL_DC\"" "$IDP_DIR/requests.jsonl" 
check "requests.jsonl: times increase" node -e '
        const t=require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").map(l=>JSON.parse(l).time);
        process.exit(t.length>5 && t.every((x,i)=>i==0||x>=t[i-1]) ? 0 : 1)' "$IDP_DIR/requests.jsonl"
check "secrets.txt: client secret, device codes, tokens" \
        bash -c "grep -qxF -- 'post-s3cret' '$IDP_DIR/secrets.txt' && grep -qxF -- '$POLL_DC' '$IDP_DIR/secrets.txt' && grep -qxF -- '$AT' '$IDP_DIR/secrets.txt'"
echo "no secret here" >"$TEST_DIR/clean.log"; echo "poll with $AT" >"$TEST_DIR/leaky.log"
check "idp_grep_secrets: finds a leak, passes a clean log" \
        bash -c ". '$TOP/tests/idp/idp.sh'; IDP_DIR='$IDP_DIR'; idp_grep_secrets '$TEST_DIR/leaky.log' >/dev/null && ! idp_grep_secrets '$TEST_DIR/clean.log'"
check "IdP still running" kill -0 "$IDP_PID"
pid=$IDP_PID
idp_stop
check "idp_stop stops it" bash -c "! kill -0 $pid 2>/dev/null"
