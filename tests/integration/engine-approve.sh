#!/usr/bin/env bash
# Approvals through the daemon's bus API against the fake IdP (needs ID token validation, devflowd/jws.c):
# approved as the local user → allowed; approved as another user → refused; an identity that maps to no
# local account → UnknownUser; root without allow_root → refused.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_flowclient

ensure_user dfapprove && ensure_user dfother || { fail "test users"; exit 1; }
stack_start - --profile rfc --interval 1 <<CONF
[login]
username_claim = preferred_username
[limits]
max_new_flows_per_rhost_per_minute = 100
CONF

# login USER CLAIMS-JSON: start a flow for USER, approve its code with these claims, wait for the verdict.
# Leaves flowclient's output in $OUT and its status in $RC.
login() {
        local user=$1 claims=$2 o=$TEST_DIR/login-$RANDOM.out pid code
        ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" start "$user" --rhost 192.0.2.80 --wait --wait-timeout 25 \
                >"$o" 2>>"$TEST_DIR/flowclient.err" &
        pid=$!
        t_track "$pid"
        wait_for 20 grep -q '^user_code \|^error ' "$o"
        code=$(sed -n 's/^user_code //p' "$o")
        if [ -n "$code" ]; then
                idp_approve "$code" "$claims" || echo "approve failed"
        fi
        wait_for 30 sh -c "! kill -0 $pid"
        wait "$pid" 2>/dev/null
        RC=$?
        OUT=$(cat "$o")
        echo "$user approved with $claims: $(grep -E '^(allowed|refused|error) ' "$o")"
}
err_name() { sed -n 's/^error \([^ ]*\).*/\1/p' <<<"$OUT" | head -1; }

login dfapprove '{"preferred_username":"dfapprove"}'
check "approved as the local user → allowed (exit $RC)" test "$RC" -eq 0
check "the verdict names the local user" grep -q '^allowed dfapprove ' <<<"$OUT"

login dfapprove '{"preferred_username":"dfother"}'
check "approved as another user → refused (exit $RC)" test "$RC" -eq 1
# A mismatched identity has its own error name (WrongUser), not the IdP denial's (Denied).
check "... with WrongUser ($(err_name))" test "$(err_name)" = net.devflow.Devflow1.Error.WrongUser

login dfnosuchuser '{"preferred_username":"dfnosuchuser"}'
check "an identity without a local account → UnknownUser ($(err_name))" \
        test "$(err_name)" = net.devflow.Devflow1.Error.UnknownUser

login root '{"preferred_username":"root"}'
check "root without allow_root → refused (exit $RC)" test "$RC" -eq 1
check "... and not allowed" test -z "$(grep '^allowed' <<<"$OUT")"

if idp_grep_secrets "$DAEMON_LOG" "$TEST_DIR"/login-*.out; then fail "a secret leaked into the daemon log or a reply"; else pass "no secret in the daemon log or the replies"; fi
check "daemon alive at the end" daemon_alive
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
