#!/usr/bin/env bash
# sshd's password method (PasswordAuthentication yes, Debian's default) answers every PAM prompt with the
# password. pam_devflow's "Press Enter" prompt answered that way is not an Enter: the login ends at once
# (the client sees "Permission denied" in seconds, not after the module's timeout), the daemon cancels the
# flow, no second code is asked for at the IdP, and the password is in no log. Real sshd, real ssh client
# (tmux), the real module and daemon, oidc-provider. Needs root.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/op/op.sh"
. "$TOP/tests/e2e/sshd-lib.bash"

e2e_need_root "ssh password method end to end"

bus_start || { fail "private bus"; exit 1; }
op_start "$TEST_DIR/op" || { fail "oidc-provider start"; exit 1; }
ensure_user dfalice || { fail "test user"; exit 1; }
e2e_daemon_start || { fail "devflowd start"; exit 1; }
sshd_start sshd "timeout=100" "PasswordAuthentication yes" "AuthenticationMethods password" \
        "KbdInteractiveAuthentication no" || { fail "sshd starts with the password method"; exit 1; }
pass "sshd with the password method on 127.0.0.1:$SSHD_PORT"

E2E_TMUX=$TEST_DIR/tmux.sock
cmd=$(printf '%q ' ssh -F /dev/null -p "$SSHD_PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o PreferredAuthentications=password -o NumberOfPasswordPrompts=1 -o LogLevel=ERROR dfalice@127.0.0.1)
e2e_tmux -f /dev/null new-session -d -s e2e -n pw -x 200 -y 50 "$cmd; echo \"[ssh exited \$?]\"; sleep 600" ||
        { fail "tmux"; exit 1; }
t_track "$(e2e_tmux display-message -p -t e2e '#{pid}')"

if ! screen_wait pw 20 'password:'; then
        fail "the client asks for a password"; screen pw; tail -20 "$SSHD_LOG"; exit 1
fi
issued0=$(daemon_count "audit: code-issued")
t0=$(date +%s)
keys pw 'hunter2-typed' Enter
screen_wait pw 20 '\[ssh exited'
secs=$(( $(date +%s) - t0 ))
check "the password at the Enter prompt ends the login at once ($secs s, timeout=100)" test "$secs" -le 8
screen pw | grep -qF "Permission denied"
check "the client is refused" test $? -eq 0
check "the daemon cancelled the flow" wait_for 5 grep -q "audit: cancelled .*user='dfalice'" "$DAEMON_LOG"
sleep 2
issued=$(( $(daemon_count "audit: code-issued") - issued0 ))
check "one code was issued for the login, no new one asked for ($issued)" test "$issued" -eq 1
check "the password is in no log" sh -c "! grep -rqF hunter2 '$DAEMON_LOG' '$SSHD_LOG'"
check "no ASan report" asan_clean
