#!/usr/bin/env bash
# Against an IdP that speaks HTTP/2 (ALPN h2, as most real IdPs do; curl picks it by itself): every request
# of the daemon travels as HTTP/2, four flows polling at once share one multiplexed connection, the polls
# keep the interval, and approval, denial and the account check end each flow as over HTTP/1.1.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_flowclient
LUSER=dfhttp2
ensure_user "$LUSER" || { fail "test user"; exit 1; }

stack_start --profile rfc --interval 1 --http2

for i in 1 2 3 4; do
        ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" start "$LUSER" --rhost "192.0.2.6$i" --wait --wait-timeout 40 \
                >"$TEST_DIR/flow-$i.out" 2>>"$TEST_DIR/flowclient.err" &
        t_track $!
done
for i in 1 2 3 4; do
        wait_for 20 grep -q '^user_code \|^error ' "$TEST_DIR/flow-$i.out" || fail "flow $i: no code"
done
code() { sed -n 's/^user_code //p' "$TEST_DIR/flow-$1.out"; }
check "four codes" [ "$(cat "$TEST_DIR"/flow-?.out | grep -c '^user_code ')" -eq 4 ]

sleep 3.5       # about three polls each
n=$(tcp_fds "$DAEMON_PID" | wc -l)
check "the four polling flows share one connection to the IdP ($n)" [ "$n" -eq 1 ]

idp_approve "$(code 1)" "{\"preferred_username\":\"$LUSER\"}"
idp_deny "$(code 2)"
idp_approve "$(code 3)" '{"preferred_username":"someone-else"}'
idp_approve "$(code 4)" "{\"preferred_username\":\"$LUSER\"}"
for i in 1 2 3 4; do
        wait_for 20 grep -q '^allowed\|^refused\|^error' "$TEST_DIR/flow-$i.out"
done
check "approved: allowed" grep -q '^allowed' "$TEST_DIR/flow-1.out"
check "denied at the IdP: Denied" grep -q '^error net.devflow.Devflow1.Error.Denied' "$TEST_DIR/flow-2.out"
check "another account's identity: WrongUser" grep -q '^error net.devflow.Devflow1.Error.WrongUser' "$TEST_DIR/flow-3.out"
check "the fourth, approved: allowed" grep -q '^allowed' "$TEST_DIR/flow-4.out"

total=$(grep -c '"endpoint":' "$IDP_DIR/requests.jsonl")
h2=$(grep -c '"http_version":"2.0"' "$IDP_DIR/requests.jsonl")
polls=$(grep -c '"endpoint":"token"' "$IDP_DIR/requests.jsonl")
echo "# $total requests, $h2 over HTTP/2, $polls token polls"
check "every request of the daemon was HTTP/2 ($h2 of $total)" [ "$total" -gt 0 -a "$h2" -eq "$total" ]
check "the flows polled ($polls token requests)" [ "$polls" -ge 8 ]
check "no poll came sooner than the interval" idp_early_polls
check "no transport error was logged" sh -c "! grep -q 'request failed' '$DAEMON_LOG'"

check "daemon alive at the end" daemon_alive
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
