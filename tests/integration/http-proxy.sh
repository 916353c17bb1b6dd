#!/usr/bin/env bash
# The proxy variables libcurl reads (https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY; no_proxy, NO_PROXY) still
# apply to the daemon's requests: devflowd/http.c tells curl "no proxy" outright, sparing it the lookups for
# every request, only when none of them is set at start. With HTTPS_PROXY naming a port where nothing
# listens, no request reaches the IdP and StartLogin fails; with NO_PROXY naming the IdP's host too, the
# login works; with no variable, the login works without any proxy.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_flowclient
LUSER=dfproxy
ensure_user "$LUSER" || { fail "test user"; exit 1; }
unset http_proxy https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

# A loopback port nobody listens on: bound, then closed again.
dead_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PROXY=http://127.0.0.1:$dead_port

requests() { grep -c '"endpoint"' "$IDP_DIR/requests.jsonl"; }

# login RHOST: starts a flow, approves it, prints the verdict line ("allowed …", "error …").
login() {
        local o=$TEST_DIR/flow-$1.out code
        ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" start "$LUSER" --rhost "$1" --wait --wait-timeout 30 >"$o" \
                2>>"$TEST_DIR/flowclient.err" &
        t_track $!
        wait_for 20 grep -q '^user_code \|^error' "$o"
        code=$(sed -n 's/^user_code //p' "$o")
        [ -n "$code" ] && idp_approve "$code" "{\"preferred_username\":\"$LUSER\"}"
        wait_for 20 grep -q '^allowed\|^refused\|^error' "$o"
        grep -m1 '^allowed\|^refused\|^error' "$o"
}

# The variables go to the daemon alone (the test's own curl talks to the fake IdP).
stack_start --profile rfc --interval 1
daemon_stop
n0=$(requests)
HTTPS_PROXY=$PROXY daemon_start "$TEST_DIR/devflowd.conf" || { fail "devflowd restart"; exit 1; }
v=$(login 192.0.2.21)
echo "# with HTTPS_PROXY=$PROXY: $v"
check "HTTPS_PROXY applies: StartLogin fails when the proxy is down" grep -q '^error' <<<"$v"
n1=$(requests)
check "HTTPS_PROXY applies: no request reached the IdP directly ($((n1 - n0)))" [ "$n1" -eq "$n0" ]
check "the daemon tried the proxy's port ($dead_port) and logged it" grep -q "port $dead_port" "$DAEMON_LOG"
daemon_stop

HTTPS_PROXY=$PROXY NO_PROXY=127.0.0.1 daemon_start "$TEST_DIR/devflowd.conf" || { fail "devflowd restart"; exit 1; }
v=$(login 192.0.2.22)
echo "# with NO_PROXY=127.0.0.1 as well: $v"
check "NO_PROXY applies: the login goes to the IdP directly and completes" grep -q '^allowed' <<<"$v"
daemon_stop

daemon_start "$TEST_DIR/devflowd.conf" || { fail "devflowd restart"; exit 1; }
v=$(login 192.0.2.23)
echo "# without proxy variables: $v"
check "without proxy variables the login completes" grep -q '^allowed' <<<"$v"

check "daemon alive at the end" daemon_alive
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
