#!/usr/bin/env bash
# The daemon's connections to the IdP (devflowd/http.c): its sockets are close-on-exec; a kept-alive
# connection that the IdP closes while it is idle between two polls costs the daemon no CPU (it stops
# listening to that socket instead of waking up for its end-of-file again and again), and the next poll
# goes out on a new connection and gets its answer.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_flowclient
LUSER=dfhttp
ensure_user "$LUSER" || { fail "test user"; exit 1; }

# Interval 8 s: between two polls the connection idles longer than the fake IdP's 5 s keep-alive
# timeout, after which the IdP closes it.
stack_start - --profile rfc --interval 8 <<CONF
http_timeout = 10
CONF

polls() { grep -c '"endpoint":"token"' "$IDP_DIR/requests.jsonl"; }

o=$TEST_DIR/flow.out
ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" start "$LUSER" --rhost 192.0.2.7 --wait --wait-timeout 60 >"$o" \
        2>>"$TEST_DIR/flowclient.err" &
FC=$!
t_track "$FC"
wait_for 20 grep -q '^user_code ' "$o" || { fail "no code"; cat "$o"; exit 1; }
code=$(sed -n 's/^user_code //p' "$o")

# The first poll (8 s after the code) leaves a kept-alive connection.
wait_for 15 grep -q '"endpoint":"token"' "$IDP_DIR/requests.jsonl" || fail "no first poll"
fds=$(tcp_fds "$DAEMON_PID")
if [ -z "$fds" ]; then
        fail "the daemon holds no TCP connection after its first poll"
else
        # O_CLOEXEC is 02000000 (octal) in fdinfo's flags.
        bad=$(echo "$fds" | awk '{ if (and(strtonum("0" $2), 0x80000) == 0) print $1 }')
        check "every TCP socket of the daemon is close-on-exec ($(echo "$fds" | wc -l) sockets)" [ -z "$bad" ]
fi

# From 5.5 s to 7.5 s after that poll the IdP has closed the idle connection and the next poll is not due.
n1=$(polls)
sleep 5.5
c0=$(cpu_ticks "$DAEMON_PID")
sleep 2
c1=$(cpu_ticks "$DAEMON_PID")
hz=$(getconf CLK_TCK)
echo "# daemon CPU while the closed connection idled: $((c1 - c0)) ticks in 2 s (HZ $hz)"
check "the IdP's close of an idle connection wakes no busy loop (< 5 % of a core: $((c1 - c0)) ticks in 2 s)" \
        [ $((c1 - c0)) -lt $((hz / 10)) ]

# The next poll goes out on a new connection, gets its answer, and the approval completes the login.
wait_for 10 sh -c "[ \$(grep -c '\"endpoint\":\"token\"' '$IDP_DIR/requests.jsonl') -gt $n1 ]"
check "the poll after the close reached the IdP" [ "$(polls)" -gt "$n1" ]
idp_approve "$code" "{\"preferred_username\":\"$LUSER\"}"
wait_for 20 grep -q '^allowed\|^refused\|^error' "$o"
check "the login completes over the new connection" grep -q '^allowed' "$o"
check "no transport error was logged" sh -c "! grep -q 'token request failed' '$DAEMON_LOG'"

check "daemon alive at the end" daemon_alive
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
