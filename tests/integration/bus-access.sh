#!/usr/bin/env bash
# Who may call devflowd, and its limits, over a private bus against the fake IdP: a non-root caller
# starting a login for another user, Wait() on someone else's flow, a caller killed mid-flow (polling
# stops within 1 s), each flow limit and the per-rhost rate limit, Poll() waiters per flow capped like Wait(),
# invalid arguments.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_flowclient

stack_start - --profile rfc --interval 1 <<CONF
[limits]
max_flows = 4
max_flows_per_user = 2
max_flows_per_rhost = 3
max_new_flows_per_rhost_per_minute = 5
CONF
chmod 0755 "$FLOWCLIENT" 2>/dev/null

fc() { ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" "$@" 2>>"$TEST_DIR/flowclient.err"; }
HOLDS=()
# hold OUT USER RHOST: a flow kept open by a background flowclient; returns when its code is shown.
hold() {
        local o=$1; shift
        ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" hold "$1" --rhost "$2" >"$o" 2>>"$TEST_DIR/flowclient.err" &
        HOLD_PID=$!
        t_track "$HOLD_PID"
        HOLDS+=("$HOLD_PID")
        wait_for 20 grep -q '^user_code \|^error ' "$o"
        grep -q '^user_code ' "$o"
}
release_all() {
        local p
        for p in "${HOLDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        HOLDS=()
        sleep 0.3
}
err_name() { sed -n 's/^error \([^ ]*\).*/\1/p' "$1" | head -1; }

# ---- who may start a login ------------------------------------------------------------------------
setpriv --reuid=65534 --regid=65534 --clear-groups env ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" start root \
        >"$TEST_DIR/nobody.out" 2>&1
rc=$?
cat "$TEST_DIR/nobody.out"
check "uid 65534 starting a login for root: StartLogin fails (exit 3, got $rc)" test "$rc" -eq 3
check "... with NotPermitted" test "$(err_name "$TEST_DIR/nobody.out")" = net.devflow.Devflow1.Error.NotPermitted
nobody=$(getent passwd 65534 | cut -d: -f1)
setpriv --reuid=65534 --regid=65534 --clear-groups env ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" start "$nobody" \
        --rhost 198.51.100.9 >"$TEST_DIR/nobody-self.out" 2>&1
check "uid 65534 may start a login for its own account ($nobody)" grep -q '^user_code ' "$TEST_DIR/nobody-self.out"

# ---- only the starting connection may Wait ------------------------------------------------------------
hold "$TEST_DIR/owner.out" root 198.51.100.1 || fail "hold: no code"
path=$(sed -n 's/^flow //p' "$TEST_DIR/owner.out")
fc wait "$path" >"$TEST_DIR/other-wait.out"
rc=$?
cat "$TEST_DIR/other-wait.out"
e=$(err_name "$TEST_DIR/other-wait.out")
check "Wait() from another connection is refused ($e)" \
        test "$e" = net.devflow.Devflow1.Error.NotPermitted -o "$e" = org.freedesktop.DBus.Error.UnknownObject
check "... and does not report a verdict (exit $rc)" test "$rc" -eq 1

# ---- caller killed mid-flow: no poll later than 1 s after --------------------------------------------
code=$(sed -n 's/^user_code //p' "$TEST_DIR/owner.out")
wait_for 5 grep -q "\"user_code\":\"$code\".*\"endpoint\":\"token\"\|\"endpoint\":\"token\".*\"user_code\":\"$code\"" \
        "$IDP_DIR/requests.jsonl"
check "the held flow is being polled" test $? -eq 0
kill -KILL "$HOLD_PID"
killed=$(date +%s%3N)
wait "$HOLD_PID" 2>/dev/null
HOLDS=()
sleep 3.5
late=$(python3 - "$IDP_DIR/requests.jsonl" "$code" "$killed" <<'PY'
import json, sys
n = 0
for l in open(sys.argv[1]):
    if l.strip():
        r = json.loads(l)
        if r.get("endpoint") == "token" and r.get("user_code") == sys.argv[2] and r["time"] > float(sys.argv[3]) + 1000:
            n += 1
print(n)
PY
)
check "caller killed: no token poll later than 1 s after the kill ($late)" test "$late" -eq 0
grep -q "caller went away" "$DAEMON_LOG"
check "caller killed: the daemon logs that the flow was cancelled" test $? -eq 0

# ---- limits -------------------------------------------------------------------------------------------
# max_flows_per_user = 2
hold "$TEST_DIR/u1.out" root 198.51.100.11 && hold "$TEST_DIR/u2.out" root 198.51.100.12 || fail "per user: holds"
fc start root --rhost 198.51.100.13 >"$TEST_DIR/u3.out"
check "max_flows_per_user: the third flow for root → TooManyFlows" \
        test "$(err_name "$TEST_DIR/u3.out")" = net.devflow.Devflow1.Error.TooManyFlows
release_all
# max_flows_per_rhost = 3
hold "$TEST_DIR/r1.out" dfa1 198.51.100.20 && hold "$TEST_DIR/r2.out" dfa2 198.51.100.20 &&
        hold "$TEST_DIR/r3.out" dfa3 198.51.100.20 || fail "per rhost: holds"
fc start dfa4 --rhost 198.51.100.20 >"$TEST_DIR/r4.out"
check "max_flows_per_rhost: the fourth flow from one address → TooManyFlows" \
        test "$(err_name "$TEST_DIR/r4.out")" = net.devflow.Devflow1.Error.TooManyFlows
release_all
# max_flows = 4
for i in 1 2 3 4; do hold "$TEST_DIR/m$i.out" "dfm$i" "198.51.100.3$i" || fail "max_flows: hold $i"; done
fc start dfm5 --rhost 198.51.100.35 >"$TEST_DIR/m5.out"
check "max_flows: the fifth flow → TooManyFlows" \
        test "$(err_name "$TEST_DIR/m5.out")" = net.devflow.Devflow1.Error.TooManyFlows
release_all
fc start dfm6 --rhost 198.51.100.36 >"$TEST_DIR/m6.out"
check "after the flows ended, a new flow starts again" grep -q '^user_code ' "$TEST_DIR/m6.out"
# max_new_flows_per_rhost_per_minute = 5 (each flow ends at once: its caller exits)
ok=0
for i in 1 2 3 4 5; do fc start "dfr$i" --rhost 203.0.113.50 >"$TEST_DIR/rate$i.out" && ok=$((ok + 1)); sleep 0.2; done
check "rate: 5 new flows from one address within a minute are admitted ($ok)" test "$ok" -eq 5
fc start dfr6 --rhost 203.0.113.50 >"$TEST_DIR/rate6.out"
check "rate: the sixth → RateLimited" test "$(err_name "$TEST_DIR/rate6.out")" = net.devflow.Devflow1.Error.RateLimited
fc start dfr7 --rhost 203.0.113.51 >"$TEST_DIR/rate7.out"
check "rate: another address is not affected" grep -q '^user_code ' "$TEST_DIR/rate7.out"
check "daemon alive after the limits" daemon_alive

# ---- Poll() waiters per flow: capped at 8, like Wait() (issue 14.9) ----------------------------------------
fc start dfpoll --rhost 203.0.113.60 --poll-burst 50 --wait-timeout 4 >"$TEST_DIR/burst.out"
answered=$(grep -c '^poll [0-9]' "$TEST_DIR/burst.out")
capped=$(grep -c '^poll-error net.devflow.Devflow1.Error.TooManyFlows' "$TEST_DIR/burst.out")
echo "50 pipelined Poll(): $answered answered, $capped refused"
check "Poll() burst: at most 8 wait on one flow ($answered answered)" test "$answered" -le 8 -a "$answered" -ge 1
check "Poll() burst: the other 42 are refused with TooManyFlows ($capped)" test "$capped" -eq 42
check "daemon alive after the Poll() burst" daemon_alive

# ---- invalid arguments ----------------------------------------------------------------------------------
for u in "-root" "a/b" "a b" ""; do
        fc start "$u" >"$TEST_DIR/badname.out"
        check "user name '$u' → InvalidArgs" \
                test "$(err_name "$TEST_DIR/badname.out")" = org.freedesktop.DBus.Error.InvalidArgs
done
out=$(busctl --system call net.devflow.Devflow1 /net/devflow/Devflow1 net.devflow.Devflow1.Manager StartLogin \
        'sa{sv}' root 1 rhost u 5 2>&1)
echo "$out"
check "a non-string context value → refused as invalid" grep -q "must be a string" <<<"$out"
out=$(busctl --system call net.devflow.Devflow1 /net/devflow/Devflow1 net.devflow.Devflow1.Manager StartLogin \
        'sa{sv}' root 1 poll s sometimes 2>&1)
check "poll must be on-demand or background" grep -q "on-demand or background" <<<"$out"
fc start root --rhost "$(printf 'evil\033]0;x\007')" >"$TEST_DIR/ctlrhost.out"
check "a control character in rhost → InvalidArgs" \
        test "$(err_name "$TEST_DIR/ctlrhost.out")" = org.freedesktop.DBus.Error.InvalidArgs
# The other context strings must be safe as they are (common/text-safety.h): C1, bidi overrides, bad UTF-8.
for v in $'sshd\xc2\x9b31m' $'ss\xe2\x80\xaehd'; do
        out=$(busctl --system call net.devflow.Devflow1 /net/devflow/Devflow1 net.devflow.Devflow1.Manager StartLogin \
                'sa{sv}' root 1 service s "$v" 2>&1)
        check "an unsafe service $(printf '%q' "$v") → refused as invalid" grep -q "has an invalid value" <<<"$out"
done

check "daemon alive at the end" daemon_alive
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
