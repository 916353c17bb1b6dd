#!/usr/bin/env bash
# A token endpoint that never completes the TCP handshake (a listener whose accept queue is full drops the
# SYNs): each poll's connect times out, the flow backs off, and the HTTP engine keeps running. curl closes a
# connect attempt that timed out without the close-socket callback; the daemon must neither fail curl's
# socket callback for it (curl then aborts the transfer) nor let an error stop the source that starts every
# transfer: new logins are still answered at once.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_flowclient

# The black hole: backlog 0 holds one connection, the second fills the queue, and no accept() ever comes.
python3 - >"$TEST_DIR/blackhole.port" <<'PY' &
import socket, sys, time
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(0)
held = []
for _ in range(2):
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(l.getsockname())
    held.append(c)
time.sleep(0.3)
print(l.getsockname()[1], flush=True)
time.sleep(600)
PY
t_track $!
wait_for 10 test -s "$TEST_DIR/blackhole.port" || { fail "black hole listener"; exit 1; }
bh=$(cat "$TEST_DIR/blackhole.port")
check "the black hole drops a connect (curl gives up after 1 s)" \
        sh -c "! curl -s --connect-timeout 1 -o /dev/null http://127.0.0.1:$bh/"

bus_start || { fail "private bus"; exit 1; }
idp_start "$TEST_DIR/idp" --profile rfc --interval 1 || { fail "fake IdP start"; exit 1; }
idp_ctl config "{\"token_endpoint\":\"https://127.0.0.1:$bh/token\"}" >/dev/null || fail "token_endpoint set"
printf '[idp]\nissuer = %s\nclient_id = devflow-test\nca_file = %s\nhttp_timeout = 2\n' \
        "$(idp_issuer)" "$IDP_CA" >"$TEST_DIR/devflowd.conf"
daemon_start "$TEST_DIR/devflowd.conf" || { fail "devflowd start"; exit 1; }

# start RHOST OUT: a flow in the background; succeeds once its code (or an error) is out.
start() {
        ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" start root --rhost "$1" --wait --wait-timeout 60 >"$2" \
                2>>"$TEST_DIR/flowclient.err" &
        t_track $!
        wait_for 10 grep -q '^user_code \|^error ' "$2"
}

start 192.0.2.91 "$TEST_DIR/a.out"
check "a flow starts (the device endpoint is reachable)" grep -q '^user_code ' "$TEST_DIR/a.out"
# Its polls: 1 s interval, 2 s connect timeout, then a backoff of 2 s: two timeouts in about 8 s.
wait_for 15 sh -c "[ \$(grep -c 'token request failed: .*[Tt]imed out' '$DAEMON_LOG') -ge 2 ]"
n=$(grep -c 'token request failed: .*[Tt]imed out' "$DAEMON_LOG")
check "the token polls' connects time out ($n)" [ "$n" -ge 2 ]
check "no transfer was aborted by the daemon's own callback" \
        sh -c "! grep -q 'aborted by an application callback' '$DAEMON_LOG'"
check "curl's driver never failed" sh -c "! grep -q 'curl_multi_socket_action() failed' '$DAEMON_LOG'"

# The engine still starts transfers: new flows get their codes at once, twice (timers and the defer source).
t0=$(date +%s%N)
start 192.0.2.92 "$TEST_DIR/b.out"
t1=$(date +%s%N)
check "a new login is answered with a code after the timeouts ($(( (t1 - t0) / 1000000 )) ms)" \
        grep -q '^user_code ' "$TEST_DIR/b.out"
sleep 3
start 192.0.2.93 "$TEST_DIR/c.out"
check "and another one later" grep -q '^user_code ' "$TEST_DIR/c.out"

check "daemon alive at the end" daemon_alive
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
