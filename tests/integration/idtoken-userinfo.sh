#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# UserInfo through the real daemon and module against the fake IdP. The fake IdP's userinfo returns the
# same claims as its ID token, so a small HTTPS pass-through in front of it (userinfo_endpoint points at
# it) adds claims the ID token lacks, as Okta and Auth0 do with their thin ID tokens:
#  - username claim missing from the ID token, present in userinfo: userinfo is fetched with the access
#    token (the IdP accepts it as that flow's) and the login succeeds;
#  - username claim in the ID token: no userinfo request at all, and the ID token's value wins;
#  - userinfo with another sub, userinfo 500, userinfo unreachable, claim in neither: refused (fail closed).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

command -v node >/dev/null || { skip "node missing (tests/deps.sh installs it)"; exit 0; }
command -v pamtester >/dev/null && [ -n "$PAM_WRAPPER_LIB" ] || { skip "pamtester or pam_wrapper missing"; exit 0; }

LUSER=dfiduinf   # unique per script: scripts may run at the same time
bus_start || { fail "private bus"; exit 1; }
idp_start "$TEST_DIR/idp" --interval 1 || { fail "fake IdP start"; exit 1; }
ensure_user "$LUSER" && ensure_user dfiduoth || { fail "test users"; exit 1; }

# ---- the pass-through: GET /userinfo -> fake IdP /userinfo with the same Authorization header; on 200 the
# claims of $TEST_DIR/ui-add.json are merged in (read at each request). One line per request in ui.log.
UI_ADD=$TEST_DIR/ui-add.json
UI_LOG=$TEST_DIR/ui.log
echo '{}' >"$UI_ADD"
: >"$UI_LOG"
node -e '
const https = require("https"), fs = require("fs");
const [certs, upstream, addFile, logFile, portFile] = process.argv.slice(1);
const ca = fs.readFileSync(certs + "/ca.pem");
const srv = https.createServer({ cert: fs.readFileSync(certs + "/server.pem"),
                                 key: fs.readFileSync(certs + "/server-key.pem") }, (req, res) => {
        const auth = req.headers.authorization || "";
        const up = https.request(upstream, { method: "GET", ca, headers: { authorization: auth } }, (ur) => {
                let b = "";
                ur.on("data", (d) => (b += d));
                ur.on("end", () => {
                        let out = b;
                        if (ur.statusCode === 200) {
                                const o = JSON.parse(b);
                                Object.assign(o, JSON.parse(fs.readFileSync(addFile, "utf8")));
                                out = JSON.stringify(o);
                        }
                        fs.appendFileSync(logFile, JSON.stringify({ method: req.method, path: req.url,
                                bearer: /^Bearer [A-Za-z0-9._~+\/=-]+$/.test(auth), upstream: ur.statusCode }) + "\n");
                        res.writeHead(ur.statusCode, { "Content-Type": "application/json" });
                        res.end(out);
                });
        });
        up.on("error", () => req.socket.destroy());   /* unreachable: so is the pass-through */
        up.end();
});
srv.listen(0, "127.0.0.1", () => fs.writeFileSync(portFile, String(srv.address().port)));
process.on("SIGTERM", () => process.exit(0));
' "$IDP_DIR" "$IDP_URL/userinfo" "$UI_ADD" "$UI_LOG" "$TEST_DIR/ui-port" 2>"$TEST_DIR/ui.err" &
t_track $!
wait_for 10 test -s "$TEST_DIR/ui-port" || { fail "userinfo pass-through start"; cat "$TEST_DIR/ui.err"; exit 1; }
UI_URL=https://127.0.0.1:$(cat "$TEST_DIR/ui-port")/userinfo

cat >"$TEST_DIR/devflowd.conf" <<CONF
[idp]
issuer = $(idp_issuer)
client_id = devflow-test
ca_file = $IDP_CA
userinfo_endpoint = $UI_URL
http_timeout = 3
[login]
username_claim = preferred_username
[limits]
max_new_flows_per_rhost_per_minute = 1000
CONF
daemon_start "$TEST_DIR/devflowd.conf" || { fail "devflowd start"; exit 1; }
pam_service devflow-test "prompt=none timeout=30"

# login USER CLAIMS-JSON: pamtester for USER, approved at the fake IdP with these claims; $RC, $OUT, $CODE.
approve_with() { idp_approve "$2" "$1"; }
login() { pam_login "$1" 203.0.113.11 approve_with "$2"; }
log_mark() { stat -c %s "$DAEMON_LOG"; }
log_since() { tail -c +$(($1 + 1)) "$DAEMON_LOG"; }
# userinfo_requests [user_code]: userinfo requests the fake IdP answered 200 (for that flow).
userinfo_ok() { grep '"endpoint":"userinfo"' "$IDP_DIR/requests.jsonl" | grep '"status":200' | grep -c "${1:-}"; }
userinfo_all() { grep -c '"endpoint":"userinfo"' "$IDP_DIR/requests.jsonl"; }
ok() {
        check "$1: approved login succeeds" test "$RC" -eq 0
        grep -q "successfully authenticated" <<<"$OUT"
        check "$1: pamtester says authenticated" test $? -eq 0
}
refused() { # NAME USER-MESSAGE-REGEX LOG-MARK LOG-REGEX
        check "$1: refused" test "$RC" -ne 0 -a "$RC" -ne 99
        if grep -qi "successfully authenticated" <<<"$OUT"; then fail "$1: no success message"; else pass "$1: no success message"; fi
        if grep -Eq "$2" <<<"$OUT"; then pass "$1: the user is told /$2/"; else fail "$1: the user is told /$2/"; echo "$OUT"; fi
        if log_since "$3" | grep -Eq "$4"; then pass "$1: daemon log: /$4/"; else fail "$1: daemon log: /$4/"; log_since "$3" | tail -n 20; fi
}
THIN='{"preferred_username":null}'

# ---- thin ID token, username in userinfo: success ----------------------------------------------------
echo "{\"preferred_username\":\"$LUSER\"}" >"$UI_ADD"
login "$LUSER" "$THIN"
ok "thin ID token, username from userinfo"
check "thin: the IdP answered one userinfo request for this flow's access token" test "$(userinfo_ok "$CODE")" -eq 1
check "thin: the daemon sent 'Authorization: Bearer <token>' with GET" \
        grep -q '"method":"GET","path":"/userinfo","bearer":true,"upstream":200' "$UI_LOG"
tok=$(grep '"endpoint":"token"' "$IDP_DIR/requests.jsonl" | grep "$CODE" | grep -c '"status":200')
check "thin: the token was fetched once" test "$tok" -eq 1

# ---- username claim in the ID token: no userinfo, and the ID token wins ------------------------------
echo '{"preferred_username":"dfiduoth"}' >"$UI_ADD"
before=$(userinfo_all)
login "$LUSER" "{\"preferred_username\":\"$LUSER\"}"
ok "full ID token"
check "full ID token: no userinfo request" test "$(userinfo_all)" -eq "$before"
# userinfo would say dfiduoth; the ID token says $LUSER: a login as dfiduoth with a full token is refused.
mark=$(log_mark)
login dfiduoth "{\"preferred_username\":\"$LUSER\"}"
refused "ID token claim wins over userinfo" "not the account 'dfiduoth'" "$mark" "claim 'preferred_username' maps to local user '$LUSER'"
check "ID token claim wins: still no userinfo request" test "$(userinfo_all)" -eq "$before"

# ---- userinfo with another sub ------------------------------------------------------------------------
echo "{\"preferred_username\":\"$LUSER\"}" >"$UI_ADD"
idp_ctl config '{"userinfo":"wrong_sub"}' >/dev/null || fail "IdP userinfo wrong_sub"
mark=$(log_mark)
login "$LUSER" "$THIN"
refused "userinfo sub differs" "answers disagree" "$mark" "userinfo refused: userinfo sub differs from the ID token's sub"
check "userinfo sub differs: userinfo was asked" test "$(userinfo_ok "$CODE")" -eq 1

# ---- userinfo error: fail closed ------------------------------------------------------------------------
idp_ctl config '{"userinfo":"error"}' >/dev/null || fail "IdP userinfo error"
mark=$(log_mark)
login "$LUSER" "$THIN"
refused "userinfo 500" "user information was unusable" "$mark" "userinfo answered 500 with no usable claims"
idp_ctl config '{"userinfo":"valid"}' >/dev/null || fail "IdP userinfo valid"

# ---- userinfo unreachable (the IdP resets the connection) ---------------------------------------------
idp_ctl fault '{"endpoint":"userinfo","type":"reset"}' >/dev/null || fail "userinfo reset fault"
mark=$(log_mark)
login "$LUSER" "$THIN"
refused "userinfo unreachable" "could not be reached" "$mark" "userinfo request failed"
idp_ctl clear-faults '{}' >/dev/null || fail "clear faults"

# ---- the claim in neither ----------------------------------------------------------------------------
echo '{}' >"$UI_ADD"
mark=$(log_mark)
login "$LUSER" "$THIN"
refused "username claim in neither token nor userinfo" "did not send a user name" "$mark" "none of the username claims is present"
check "claim in neither: userinfo was asked" test "$(userinfo_ok "$CODE")" -eq 1

# ---- and thin tokens work again ---------------------------------------------------------------------
echo "{\"preferred_username\":\"$LUSER\"}" >"$UI_ADD"
login "$LUSER" "$THIN"
ok "thin ID token again"

check "daemon alive at the end" daemon_alive
if idp_grep_secrets "$DAEMON_LOG" "$TEST_DIR"/pamtester-*.out "$UI_LOG"; then
        fail "no token, device code or secret in the daemon log or what the user saw"
else
        pass "no token, device code or secret in the daemon log or what the user saw"
fi
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
