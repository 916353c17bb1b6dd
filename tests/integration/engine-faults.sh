#!/usr/bin/env bash
# The fake IdP misbehaves on the device authorization endpoint; each fault gives the right named error from
# StartLogin within a bounded time, and the daemon stays up and answers the next StartLogin. A failed
# discovery is logged once, however many flows waited for it.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_flowclient

stack_start - --profile rfc --interval 1 <<CONF
http_timeout = 2
[limits]
max_new_flows_per_rhost_per_minute = 1000
CONF

# start_with NAME FAULT-JSON EXPECTED-ERROR [MAX-MS]: StartLogin under that fault on the device endpoint.
start_with() {
        local name=$1 fault=$2 want=$3 max=${4:-5000} o=$TEST_DIR/fault-$1.out t0 ms e
        idp_ctl clear-faults '{}' >/dev/null
        idp_ctl fault "$fault" >/dev/null || { fail "$name: fault not accepted"; return; }
        t0=$(date +%s%N)
        ASAN_OPTIONS=detect_leaks=0 timeout 30 "$FLOWCLIENT" start root --rhost 192.0.2.90 >"$o" 2>>"$TEST_DIR/flowclient.err"
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        e=$(sed -n 's/^error \([^ ]*\).*/\1/p' "$o" | head -1)
        echo "$name: $(head -1 "$o") ($ms ms)"
        check "$name → ${want##*.} (got ${e:-none})" test "$e" = "$want"
        check "$name: answered within $max ms ($ms)" test "$ms" -lt "$max"
        idp_ctl clear-faults '{}' >/dev/null
        ASAN_OPTIONS=detect_leaks=0 timeout 30 "$FLOWCLIENT" start root --rhost 192.0.2.91 >"$o.next" 2>>"$TEST_DIR/flowclient.err"
        check "$name: the daemon answers the next StartLogin" grep -q '^user_code ' "$o.next"
}
U=net.devflow.Devflow1.Error.IdpUnavailable
E=net.devflow.Devflow1.Error.IdpError

start_with slow '{"endpoint":"device","type":"delay","delay_ms":3000}' "$U" 4500
start_with hang '{"endpoint":"device","type":"hang"}' "$U" 4500
# devflow-bus.h: IdpUnavailable is "network, TLS, 5xx, timeout".
start_with 5xx '{"endpoint":"device","type":"status","status":503}' "$U"
start_with malformed '{"endpoint":"device","type":"malformed"}' "$E"
# A body over the 256 KiB cap is cut off by the transport: unavailable, not an IdP answer.
start_with huge '{"endpoint":"device","type":"huge"}' "$U"
start_with truncated '{"endpoint":"device","type":"truncated"}' "$U"
start_with wrong_cert '{"endpoint":"device","type":"wrong_cert"}' "$U"
start_with redirect_http '{"endpoint":"device","type":"redirect_http"}' "$E"
start_with control_uri '{"endpoint":"device","type":"control_chars","fields":["verification_uri"]}' "$E"

# An IdP error with control characters in error_description: shown without them.
idp_ctl fault '{"endpoint":"device","type":"status","status":400,"body":"{\"error\":\"invalid_scope\",\"error_description\":\"bad\\u001b]0;pwned\\u0007 scope\"}"}' >/dev/null
ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" start root --rhost 192.0.2.92 >"$TEST_DIR/desc.out" 2>>"$TEST_DIR/flowclient.err"
cat -v "$TEST_DIR/desc.out"
check "an IdP error is IdpError naming the IdP's error" grep -q "^error $E .*invalid_scope" "$TEST_DIR/desc.out"
check "no ESC byte reaches the caller" sh -c "! grep -q \$(printf '\033') '$TEST_DIR/desc.out'"
check "no ESC byte in the daemon log" sh -c "! grep -q \$(printf '\033') '$DAEMON_LOG'"
idp_ctl clear-faults '{}' >/dev/null

# An IdP failure is logged once, not once per flow that waited for it: a fresh daemon whose first discovery
# is slow and then fails (503) while four StartLogin calls wait for it. Each caller is told IdpUnavailable;
# the log has one warning per failed discovery request (what the IdP saw), the flows only debug notes.
daemon_stop
idp_ctl fault '{"endpoint":"discovery","type":"delay","delay_ms":1500,"count":1}' >/dev/null
idp_ctl fault '{"endpoint":"discovery","type":"status","status":503,"count":1}' >/dev/null
n_log=$(wc -l <"$DAEMON_LOG")
n_req=$(idp_requests | wc -l)
daemon_start "$TEST_DIR/devflowd.conf" || exit 1
pids=()
for i in 1 2 3 4; do
        ASAN_OPTIONS=detect_leaks=0 timeout 30 "$FLOWCLIENT" start root --rhost "192.0.2.10$i" \
                >"$TEST_DIR/once-$i.out" 2>>"$TEST_DIR/flowclient.err" &
        pids+=($!)
done
wait "${pids[@]}"
n_unavailable=$(cat "$TEST_DIR"/once-*.out | grep -c "^error $U")
tail -n +"$((n_log + 1))" "$DAEMON_LOG" >"$TEST_DIR/once.log"
n_failed=$(idp_requests | tail -n +"$((n_req + 1))" | grep -c '"endpoint":"discovery".*"status":503')
n_warned=$(grep -c '^<4>.*unusable: discovery' "$TEST_DIR/once.log")
echo "discovery failed $n_failed time(s), warned $n_warned time(s), $n_unavailable of 4 callers told IdpUnavailable"
check "discovery failure: every waiting caller is told IdpUnavailable" test "$n_unavailable" -eq 4
check "discovery failure: one warning per failed request ($n_warned for $n_failed), not one per flow" \
        test "$n_failed" -ge 1 -a "$n_warned" -eq "$n_failed"
check "discovery failure: each flow notes it at debug level ($(grep -c '^<7>Flow .*discovery' "$TEST_DIR/once.log"))" \
        test "$(grep -c '^<7>Flow .*discovery' "$TEST_DIR/once.log")" -eq 4
check "discovery failure: no flow logs it above debug level" \
        sh -c "! grep -E '^<[0-6]>Flow .*discovery' '$TEST_DIR/once.log'"
idp_ctl clear-faults '{}' >/dev/null

check "daemon alive at the end" daemon_alive
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
