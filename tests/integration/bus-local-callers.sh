#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What a non-root caller says about itself is a claim, not evidence (issue 14.2), and the audit log gives no
# user code back (issue 14.7):
#  - an ordinary user's flows are recorded as rhost 'local:uid=N', service 'local:CLAIM', whatever rhost and
#    service it sent, in ListFlows and in the audit log;
#  - they are counted and rate-limited by uid: spending its rate from 198.51.100.23 (as claimed) leaves root's
#    logins from 198.51.100.23 and root's console logins alone, and changing the claimed rhost does not
#    buy it more;
#  - every audit event carries the caller's uid and pid (from the bus);
#  - no audit event carries a hash of the user code (an unkeyed hash of a ~38-bit code gives it back).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_flowclient
stack_start - --profile rfc --interval 1 <<CONF
[limits]
max_new_flows_per_rhost_per_minute = 5
CONF
chmod 0755 "$FLOWCLIENT" 2>/dev/null
NOBODY_UID=65534
NOBODY=$(getent passwd $NOBODY_UID | cut -d: -f1)
err_name() { sed -n 's/^error \([^ ]*\).*/\1/p' "$1" | head -1; }
as_nobody() {
        setpriv --reuid=$NOBODY_UID --regid=$NOBODY_UID --clear-groups env ASAN_OPTIONS=detect_leaks=0 \
                "$FLOWCLIENT" "$@" 2>>"$TEST_DIR/flowclient.err"
}
fc() { ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" "$@" 2>>"$TEST_DIR/flowclient.err"; }

# ---- recorded as what it is -------------------------------------------------------------------------------
# setpriv and env exec: $! is the flowclient's pid.
setpriv --reuid=$NOBODY_UID --regid=$NOBODY_UID --clear-groups env ASAN_OPTIONS=detect_leaks=0 \
        "$FLOWCLIENT" hold "$NOBODY" --rhost 198.51.100.23 --service sshd >"$TEST_DIR/hold.out" 2>&1 &
HOLD_PID=$!
t_track $HOLD_PID
wait_for 20 grep -q '^user_code ' "$TEST_DIR/hold.out"
check "uid $NOBODY_UID holds a flow for itself" grep -q '^user_code ' "$TEST_DIR/hold.out"
flows=$(busctl --system call net.devflow.Devflow1 /net/devflow/Devflow1 net.devflow.Devflow1.Manager ListFlows)
echo "$flows"
check "ListFlows: its rhost is 'local:uid=$NOBODY_UID', not the claimed 198.51.100.23" \
        grep -q "\"$NOBODY\" \"local:uid=$NOBODY_UID\" \"local:sshd\"" <<<"$flows"
issued=$(grep "audit: code-issued .*user='$NOBODY'" "$DAEMON_LOG" | head -1)
echo "$issued"
check "audit: rhost='local:uid=$NOBODY_UID' service='local:sshd'" \
        grep -q "rhost='local:uid=$NOBODY_UID' service='local:sshd'" <<<"$issued"
check "audit: caller_uid=$NOBODY_UID caller_pid=$HOLD_PID (the flowclient's pid, from the bus)" \
        grep -q "caller_uid=$NOBODY_UID caller_pid=$HOLD_PID " <<<"$issued"
if grep "audit:.*user='$NOBODY'" "$DAEMON_LOG" | grep -q "198.51.100.23"; then
        fail "no audit event of uid $NOBODY_UID names the claimed address"
else
        pass "no audit event of uid $NOBODY_UID names the claimed address"
fi

# ---- counted by uid ------------------------------------------------------------------------------------------
# max_new_flows_per_rhost_per_minute = 5: the hold was one, four more from the claimed 198.51.100.23.
ok=0
for i in 1 2 3 4; do as_nobody start "$NOBODY" --rhost 198.51.100.23 >"$TEST_DIR/n$i.out" && ok=$((ok + 1)); done
check "uid $NOBODY_UID: its first 5 new flows in a minute are admitted ($((ok + 1)))" test "$ok" -eq 4
as_nobody start "$NOBODY" --rhost 198.51.100.99 >"$TEST_DIR/n6.out"
check "uid $NOBODY_UID: the sixth → RateLimited, even from another claimed address" \
        test "$(err_name "$TEST_DIR/n6.out")" = net.devflow.Devflow1.Error.RateLimited
limited=0
for i in 1 2 3 4 5; do
        as_nobody start "$NOBODY" >"$TEST_DIR/n7-$i.out"
        [ "$(err_name "$TEST_DIR/n7-$i.out")" = net.devflow.Devflow1.Error.RateLimited ] && limited=$((limited + 1))
done
check "uid $NOBODY_UID: ... and with no rhost (5 tries, $limited RateLimited)" test "$limited" -eq 5
fc start root --rhost 198.51.100.23 >"$TEST_DIR/root-remote.out"
check "root's login from 198.51.100.23 is not rate-limited by uid $NOBODY_UID's claims" \
        grep -q '^user_code ' "$TEST_DIR/root-remote.out"
fc start root --tty tty1 >"$TEST_DIR/root-console.out"
check "root's console login (no rhost) is not rate-limited either" grep -q '^user_code ' "$TEST_DIR/root-console.out"

# ---- every audit event: caller uid and pid; no user-code hash ----------------------------------------------
kill "$HOLD_PID"; wait "$HOLD_PID" 2>/dev/null
wait_for 5 grep -q "audit: cancelled .*user='$NOBODY'" "$DAEMON_LOG"
grep "audit:" "$DAEMON_LOG" >"$TEST_DIR/audit.txt"
n=$(wc -l <"$TEST_DIR/audit.txt")
with=$(grep -cE "caller_uid=[0-9]+ caller_pid=[0-9]+ " "$TEST_DIR/audit.txt")
check "every audit event names the caller's uid and pid ($with of $n)" test "$n" -ge 8 -a "$with" -eq "$n"
check "... start-refused ones too" grep -qE "audit: start-refused .*caller_uid=$NOBODY_UID caller_pid=[0-9]+ " \
        "$TEST_DIR/audit.txt"
codes=$(sed -n 's/^user_code //p' "$TEST_DIR"/*.out | sort -u)
hits=0
for c in $codes; do
        h=$(printf '%s' "$c" | sha256sum | cut -c1-16)
        grep -q "$h" "$DAEMON_LOG" && { echo "SHA-256 prefix of $c in the log"; hits=$((hits + 1)); }
        grep -q "$c" "$DAEMON_LOG" && { echo "code $c in the log"; hits=$((hits + 1)); }
done
check "no user code, nor its SHA-256, in the daemon log ($(wc -w <<<"$codes") codes checked)" test "$hits" -eq 0
if grep -q "code_hash" "$TEST_DIR/audit.txt"; then fail "no code_hash field"; else pass "no code_hash field"; fi

check "daemon alive at the end" daemon_alive
daemon_stop
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
