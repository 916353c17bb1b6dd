#!/usr/bin/env bash
# End to end through a real sshd and the real ssh client (tmux): the provider's device code lives 10 s,
# the module's timeout is 60 s. The person waits too long, presses Enter: a fresh code is offered in the
# same login, and approving that one opens a shell. Needs root.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/op/op.sh"
. "$TOP/tests/e2e/sshd-lib.bash"

TTL=10
e2e_need_root "ssh login with an expiring code"

bus_start || { fail "private bus"; exit 1; }
op_start "$TEST_DIR/op" OP_DEVICE_CODE_TTL=$TTL || { fail "oidc-provider start (device code TTL $TTL s)"; exit 1; }
ensure_user dfalice && ensure_user dfbob || { fail "test users"; exit 1; }
e2e_daemon_start || { fail "devflowd start"; exit 1; }
sshd_start sshd "timeout=60" || { fail "sshd starts with pam_devflow through pam_wrapper"; exit 1; }

ssh_open exp dfalice env LANG=C.UTF-8 LC_ALL=C.UTF-8
screen_wait exp 20 'Press Enter once you have approved'
check "the prompt appears" test $? -eq 0
CODE1=$(screen_code exp)
check "a first code is shown" test -n "$CODE1"
starts0=$(op_count '^REQ POST /device/auth ')
sleep $((TTL + 1))
keys exp Enter
screen_wait exp 20 'The code expired; here is a new one'
check "Enter after the code expired: 'The code expired; here is a new one.'" test $? -eq 0
screen_wait_last exp 10 'Press Enter once you have approved'
CODE2=$(screen_code exp)
check "a fresh code is shown ($CODE1 then $CODE2)" test -n "$CODE2" -a "$CODE2" != "$CODE1"
check "the fresh code comes from a new device authorization at the provider" \
        test "$(op_count '^REQ POST /device/auth ')" -eq $((starts0 + 1))
check_qr exp "fresh code" "$CODE2"
grep -qF "Login to $(hostname) for dfalice from 127.0.0.1" <<<"$(screen exp | sed -n '/The code expired/,$p')"
check "the fresh code's text names the host, the user and the source again" test $? -eq 0

op_deny "$CODE1" >"$TEST_DIR/deny-old.log" 2>&1
check "the expired code can no longer be used at the provider" test $? -ne 0
op_approve "$CODE2" alice >"$TEST_DIR/approve.log" 2>&1
check "alice approves the fresh code at the provider's pages" test $? -eq 0
keys exp Enter
screen_wait_last exp 20 '(\$|#)$|ssh exited'
if screen_last exp | grep -qE '(\$|#)$'; then
        keys exp 'id -un' Enter
        screen_wait exp 10 '^dfalice$'
        check "the fresh code approved: a shell as dfalice (id -un)" test $? -eq 0
        keys exp exit Enter
        screen_wait exp 10 '\[ssh exited 0\]'
        check "the session ends cleanly (ssh exits 0)" test $? -eq 0
else
        fail "the fresh code approved: a shell as dfalice (id -un)"
        screen exp | grep -v '^$' | tail -12
fi
grep -q "audit: expired" "$DAEMON_LOG"
check "the daemon recorded the first code's expiry" test $? -eq 0

check "daemon alive" daemon_alive
daemon_stop
check "no sanitizer report from the daemon" asan_clean
if [ "$T_FAILED" -ne 0 ]; then
        show_daemon_log
        echo "---- sshd log ----"; tail -n 40 "$SSHD_LOG"
        echo "---- provider log ----"; tail -n 40 "$OP_LOG"
fi
