#!/usr/bin/env bash
# More pending logins than the bus grants one connection match rules (a stock system bus: 512 per
# connection, dbus-broker 256; here 16): the daemon watches its callers with one match for all, not a match
# rule per flow, so it keeps its bus connection, gives every caller a code, and ends each caller's flow, and
# only that one, when the caller leaves.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_flowclient

BUS_MAX_MATCH_RULES=16 stack_start - --profile rfc --interval 5 <<CONF
[limits]
max_flows = 100
max_flows_per_user = 100
max_flows_per_rhost = 100
max_flows_per_user_per_rhost = 100
max_new_flows_per_rhost_per_minute = 1000
CONF

N=40
active_flows() {
        busctl --system call net.devflow.Devflow1 /net/devflow/Devflow1 net.devflow.Devflow1.Manager GetStatus |
                grep -oE '"ActiveFlows" u [0-9]+' | awk '{print $3}'
}
codes() { grep -l '^user_code ' "$TEST_DIR"/hold-*.out 2>/dev/null | wc -l; }

pids=()
for i in $(seq 1 "$N"); do
        ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" hold root --rhost "192.0.2.$i" \
                >"$TEST_DIR/hold-$i.out" 2>>"$TEST_DIR/flowclient.err" &
        pids+=($!)
        t_track $!
done
wait_for 60 sh -c "[ \$(grep -l '^user_code ' '$TEST_DIR'/hold-*.out 2>/dev/null | wc -l) -ge $N ]"
check "$N callers, each on its own connection, all given a code ($(codes))" test "$(codes)" -eq "$N"
check "the daemon kept its bus connection" daemon_alive
check "no 'Lost the connection' in the log" sh -c "! grep -q 'Lost the connection' '$DAEMON_LOG'"
check "$N flows pending ($(active_flows))" test "$(active_flows)" = "$N"

# Half the callers leave: their flows end, the others' stay.
kill "${pids[@]:0:$((N / 2))}" 2>/dev/null
wait_for 10 sh -c "[ \"\$(busctl --system call net.devflow.Devflow1 /net/devflow/Devflow1 net.devflow.Devflow1.Manager GetStatus | grep -oE '\"ActiveFlows\" u [0-9]+' | awk '{print \$3}')\" = $((N / 2)) ]"
check "half the callers left: $((N / 2)) flows pending ($(active_flows))" test "$(active_flows)" = "$((N / 2))"
check "each was cancelled as its caller went away ($(grep -c "cancelled .*reason='The caller went away.'" "$DAEMON_LOG"))" \
        test "$(grep -c "cancelled .*reason='The caller went away.'" "$DAEMON_LOG")" -eq "$((N / 2))"

kill "${pids[@]}" 2>/dev/null
wait_for 10 sh -c "[ \"\$(busctl --system call net.devflow.Devflow1 /net/devflow/Devflow1 net.devflow.Devflow1.Manager GetStatus | grep -oE '\"ActiveFlows\" u [0-9]+' | awk '{print \$3}')\" = 0 ]"
check "all callers left: no flow pending ($(active_flows))" test "$(active_flows)" = 0

check "daemon alive at the end" daemon_alive
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
