#!/usr/bin/env bash
# Self-test of the real OpenID Provider (tests/op/): the device flow by hand with curl, approvals and
# denials through the provider's own pages (tests/op/approve.js), and the ID token's contents and
# signature. The end-to-end tests and `make demo` rely on every property checked here.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/op/op.sh"

if ! op_node_ok; then
        fail "node_modules: node or oidc-provider missing in $TOP/node_modules: run 'bash tests/deps.sh' (npm ci; make check does it)"
        exit 1
fi
if ! op_start "$TEST_DIR/op"; then
        fail "op starts and prints LISTENING"
        exit 1
fi
pass "op starts on $OP_URL"

# not COMMAND...: succeeds when the command fails.
not() { ! "$@"; }
approve() { node "$TOP/tests/op/approve.js" --ca "$OP_CA" --url "$OP_URL" "$@" 2>/dev/null; }

DEVICE_GRANT=urn:ietf:params:oauth:grant-type:device_code
SCOPE="openid profile email"

# json FILE EXPR: prints the Python expression EXPR over the parsed JSON object `j` ('' on error).
json() {
        python3 - "$1" "$2" <<'PY' 2>/dev/null
import json, sys
j = json.load(open(sys.argv[1]))
v = eval(sys.argv[2], {"j": j})
print("" if v is None else (json.dumps(v) if isinstance(v, (dict, list, bool)) else v))
PY
}
# jwt_part TOKEN N: the decoded JSON of part N (0 header, 1 payload) of a compact JWS.
jwt_part() {
        python3 -c '
import base64, sys
s = sys.argv[1].split(".")[int(sys.argv[2])]
sys.stdout.write(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode())' "$1" "$2"
}
# device_auth OUT [curl args]: the device authorization request, reply in OUT.
device_auth() {
        local out=$1; shift
        curl -sS --cacert "$OP_CA" -o "$out" -w '%{http_code}' "$@" --data-urlencode "scope=$SCOPE" \
                "$OP_URL/device/auth"
}
# poll OUT DEVICE_CODE [curl args]: one token request, reply in OUT, prints the HTTP status.
poll() {
        local out=$1 dc=$2; shift 2
        echo >>"$TEST_DIR/polls"
        curl -sS --cacert "$OP_CA" -o "$out" -w '%{http_code}' "$@" \
                --data-urlencode "grant_type=$DEVICE_GRANT" --data-urlencode "device_code=$dc" "$OP_URL/token"
}
# verify_jws TOKEN: the signature checks against the provider's published JWKS (by kid, with the
# algorithm named in the header), done with Node's own crypto, independent of oidc-provider.
verify_jws() {
        curl -sS --cacert "$OP_CA" "$OP_URL/jwks" >"$TEST_DIR/jwks.json" || return 1
        node -e '
const { createPublicKey, verify } = require("node:crypto");
const fs = require("node:fs");
const [h, p, s] = process.argv[2].split(".");
const hdr = JSON.parse(Buffer.from(h, "base64url"));
const jwk = JSON.parse(fs.readFileSync(process.argv[1])).keys.find((k) => k.kid === hdr.kid);
if (!jwk) process.exit(1);
const key = createPublicKey({ key: jwk, format: "jwk" });
const opts = hdr.alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key;
process.exit(verify("sha256", Buffer.from(`${h}.${p}`), opts, Buffer.from(s, "base64url")) ? 0 : 1);
' "$TEST_DIR/jwks.json" "$1"
}

# ---- discovery ------------------------------------------------------------------------------------
curl -sS --cacert "$OP_CA" "$OP_URL/.well-known/openid-configuration" >"$TEST_DIR/disc.json"
check "discovery issuer is $OP_URL" test "$(json "$TEST_DIR/disc.json" 'j["issuer"]')" = "$OP_URL"
check "discovery names the device endpoint" \
        test "$(json "$TEST_DIR/disc.json" 'j["device_authorization_endpoint"]')" = "$OP_URL/device/auth"
check "discovery lists RS256 and ES256 for ID tokens" \
        test "$(json "$TEST_DIR/disc.json" '"RS256" in j["id_token_signing_alg_values_supported"] and "ES256" in j["id_token_signing_alg_values_supported"]')" = true
check "JWKS holds an RSA and an EC P-256 key" test "$(curl -sS --cacert "$OP_CA" "$OP_URL/jwks" | python3 -c '
import json, sys
print(sorted((k["kty"], k.get("crv", "")) for k in json.load(sys.stdin)["keys"]))')" = "[('EC', 'P-256'), ('RSA', '')]"
check "TLS is verified (no CA, no connection)" \
        not curl -s -o /dev/null "$OP_URL/.well-known/openid-configuration"

# ---- public client, approved by alice -----------------------------------------------------------
st=$(device_auth "$TEST_DIR/da.json" -d client_id=devflow-public)
uc=$(json "$TEST_DIR/da.json" 'j["user_code"]')
dc=$(json "$TEST_DIR/da.json" 'j["device_code"]')
check "device authorization (public client) gives codes" test "$st" = 200 -a -n "$uc" -a -n "$dc"
check "verification_uri is the provider's /device page" \
        test "$(json "$TEST_DIR/da.json" 'j["verification_uri"]')" = "$OP_URL/device"
check "no interval in the reply (RFC 8628 default 5 s applies)" \
        test "$(json "$TEST_DIR/da.json" '"interval" in j')" = false

st=$(poll "$TEST_DIR/t0.json" "$dc" -d client_id=devflow-public)
check "poll before approval: 400 authorization_pending" \
        test "$st:$(json "$TEST_DIR/t0.json" 'j["error"]')" = "400:authorization_pending"

check "approve.js refuses a wrong password" \
        not approve --user alice --password nope --code "$uc"
# The wrong password consumed the code's confirmation (the provider marks it in flight), as it does
# for a person; a fresh code for the real approval.
st=$(device_auth "$TEST_DIR/da.json" -d client_id=devflow-public)
uc=$(json "$TEST_DIR/da.json" 'j["user_code"]')
dc=$(json "$TEST_DIR/da.json" 'j["device_code"]')
check "approve.js approves as alice through the device pages" op_approve "$uc" alice
st=$(poll "$TEST_DIR/t1.json" "$dc" -d client_id=devflow-public)
idt=$(json "$TEST_DIR/t1.json" 'j.get("id_token")')
check "poll after approval: 200 with an id_token" test "$st" = 200 -a -n "$idt"
if [ -n "$idt" ]; then
        jwt_part "$idt" 1 >"$TEST_DIR/idt1.json"
        jwt_part "$idt" 0 >"$TEST_DIR/idh1.json"
        check "id_token preferred_username is alice" test "$(json "$TEST_DIR/idt1.json" 'j["preferred_username"]')" = alice
        check "id_token iss is the issuer" test "$(json "$TEST_DIR/idt1.json" 'j["iss"]')" = "$OP_URL"
        check "id_token aud is devflow-public" test "$(json "$TEST_DIR/idt1.json" 'j["aud"]')" = devflow-public
        check "id_token email verified" test "$(json "$TEST_DIR/idt1.json" 'j["email"] + " " + str(j["email_verified"])')" = "alice@example.test True"
        check "id_token sub is not the user name" test "$(json "$TEST_DIR/idt1.json" 'j["sub"]')" != alice
        check "public client's id_token is RS256" test "$(json "$TEST_DIR/idh1.json" 'j["alg"]')" = RS256
        check "id_token signature verifies against the JWKS" verify_jws "$idt"
        forged=$(python3 -c '
import base64, json, sys
h, p, s = sys.argv[1].split(".")
c = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
c["preferred_username"] = "root"
p = base64.urlsafe_b64encode(json.dumps(c).encode()).decode().rstrip("=")
print(".".join([h, p, s]))' "$idt")
        check "the same signature over a forged payload does not verify" not verify_jws "$forged"
fi
st=$(poll "$TEST_DIR/t2.json" "$dc" -d client_id=devflow-public)
check "a second poll after success is refused (invalid_grant)" \
        test "$st:$(json "$TEST_DIR/t2.json" 'j["error"]')" = "400:invalid_grant"

# ---- approval through verification_uri_complete, as bob -----------------------------------------
device_auth "$TEST_DIR/da.json" -d client_id=devflow-public >/dev/null
link=$(json "$TEST_DIR/da.json" 'j["verification_uri_complete"]')
dc=$(json "$TEST_DIR/da.json" 'j["device_code"]')
check "approve.js approves as bob through verification_uri_complete" op_approve_link "$link" bob
poll "$TEST_DIR/t3.json" "$dc" -d client_id=devflow-public >/dev/null
idt=$(json "$TEST_DIR/t3.json" 'j.get("id_token")')
check "bob's id_token says preferred_username bob" \
        test -n "$idt" -a "$( [ -n "$idt" ] && jwt_part "$idt" 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["preferred_username"])')" = bob

# ---- denial ---------------------------------------------------------------------------------------
device_auth "$TEST_DIR/da.json" -d client_id=devflow-public >/dev/null
uc=$(json "$TEST_DIR/da.json" 'j["user_code"]')
dc=$(json "$TEST_DIR/da.json" 'j["device_code"]')
check "approve.js --deny aborts on the confirmation page" op_deny "$uc"
st=$(poll "$TEST_DIR/t4.json" "$dc" -d client_id=devflow-public)
check "poll after denial: access_denied" test "$st:$(json "$TEST_DIR/t4.json" 'j["error"]')" = "400:access_denied"
check "a denied code cannot be approved afterwards" not approve --user alice --code "$uc"
check "approve.js fails on an unknown code" not approve --user alice --code BCDF-GHJK

# ---- no back door: the interaction pages need the browser session that the device pages set up -----
device_auth "$TEST_DIR/da.json" -d client_id=devflow-public >/dev/null
dc=$(json "$TEST_DIR/da.json" 'j["device_code"]')
st=$(curl -sS --cacert "$OP_CA" -o /dev/null -w '%{http_code}' -d username=alice -d password=alice \
        "$OP_URL/interaction/$(printf %s "$dc" | head -c 20)/login")
check "a login POST without the device pages' session is refused" test "$st" -ge 400
st=$(poll "$TEST_DIR/t7.json" "$dc" -d client_id=devflow-public)
check "... and the code stays pending" test "$st:$(json "$TEST_DIR/t7.json" 'j["error"]')" = "400:authorization_pending"

# ---- confidential client, client_secret_basic ---------------------------------------------------
secret=$(cat "$OP_SECRET_FILE")
check "client secret file is 0600" test "$(stat -c %a "$OP_SECRET_FILE")" = 600
st=$(device_auth "$TEST_DIR/da.json" -d client_id=devflow-confidential)
check "confidential client without its secret is refused (invalid_client)" \
        test "$st:$(json "$TEST_DIR/da.json" 'j["error"]')" = "401:invalid_client"
st=$(device_auth "$TEST_DIR/da.json" -u "devflow-confidential:wrong")
check "confidential client with a wrong secret is refused" test "$st" = 401
st=$(device_auth "$TEST_DIR/da.json" -u "devflow-confidential:$secret")
uc=$(json "$TEST_DIR/da.json" 'j["user_code"]')
dc=$(json "$TEST_DIR/da.json" 'j["device_code"]')
check "device authorization with client_secret_basic" test "$st" = 200 -a -n "$dc"
check "approve.js approves the confidential client's code as alice" op_approve "$uc" alice
st=$(poll "$TEST_DIR/t5.json" "$dc" -d client_id=devflow-confidential)
check "token request without the client secret is refused (invalid_client)" \
        test "$st:$(json "$TEST_DIR/t5.json" 'j["error"]')" = "401:invalid_client"
st=$(poll "$TEST_DIR/t5.json" "$dc" -u "devflow-confidential:$secret")
idt=$(json "$TEST_DIR/t5.json" 'j.get("id_token")')
check "token with client_secret_basic: 200 with an id_token" test "$st" = 200 -a -n "$idt"
if [ -n "$idt" ]; then
        check "confidential client's id_token is ES256, aud devflow-confidential" test \
                "$(jwt_part "$idt" 0 | python3 -c 'import json,sys; print(json.load(sys.stdin)["alg"])'):$(jwt_part "$idt" 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["aud"])')" \
                = "ES256:devflow-confidential"
        check "ES256 id_token signature verifies against the JWKS" verify_jws "$idt"
fi

# ---- the log: what the provider saw, and nothing secret in it ----------------------------------
check "provider log counts every token poll" test "$(op_count '^REQ POST /token ')" = "$(wc -l <"$TEST_DIR/polls")"
check "provider log holds no device_code, token or secret" \
        not grep -qF -e "$dc" -e "$secret" -e "${idt:-none-at-all}" "$OP_LOG"

# ---- a short device code lifetime (for expiry tests) ---------------------------------------------
op_main=("$OP_URL" "$OP_CA" "$OP_PID")
if op_start "$TEST_DIR/op-short" OP_DEVICE_CODE_TTL=2; then
        device_auth "$TEST_DIR/da.json" -d client_id=devflow-public >/dev/null
        check "OP_DEVICE_CODE_TTL=2 gives expires_in 2" test "$(json "$TEST_DIR/da.json" 'j["expires_in"]')" = 2
        dc=$(json "$TEST_DIR/da.json" 'j["device_code"]')
        sleep 3
        st=$(poll "$TEST_DIR/t6.json" "$dc" -d client_id=devflow-public)
        check "poll after expiry: expired_token" test "$st:$(json "$TEST_DIR/t6.json" 'j["error"]')" = "400:expired_token"
else
        fail "second provider with OP_DEVICE_CODE_TTL=2 starts"
fi
check "two providers run side by side on their own ports" test "${op_main[0]}" != "$OP_URL"
