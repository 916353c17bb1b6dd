#!/usr/bin/env bash
# End to end through a real sshd and the real OpenSSH client, driven like a person with tmux: the real
# module (release build, loaded by sshd through pam_wrapper; nothing under /etc/pam.d changes), the real
# daemon (ASan build) on a private bus, the certified oidc-provider over TLS approving through its own
# pages. Approve as alice -> a shell as dfalice; approve as bob -> "Permission denied"; deny -> denied;
# the QR code on the client's screen decodes to the link with the client in a UTF-8 locale and in LANG=C;
# the ssh client killed mid-flow -> the daemon stops polling the provider; a console-style login with
# prompt=none through pamtester. Needs root.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/op/op.sh"
. "$TOP/tests/e2e/sshd-lib.bash"

e2e_need_root "ssh login end to end"

bus_start || { fail "private bus"; exit 1; }
op_start "$TEST_DIR/op" || { fail "oidc-provider start"; exit 1; }
ensure_user dfalice && ensure_user dfbob || { fail "test users"; exit 1; }
e2e_daemon_start || { fail "devflowd start"; exit 1; }
# The module's defaults over SSH: qr=auto (plain ASCII when PAM_RHOST is set), prompt=enter.
sshd_start sshd "timeout=100" || { fail "sshd starts with pam_devflow through pam_wrapper"; exit 1; }
pass "sshd starts on 127.0.0.1:$SSHD_PORT with pam_devflow through pam_wrapper in its own mount namespace"
HOST=$(hostname)

# ---- 1. alice approves, in a UTF-8 locale: a shell as dfalice ----------------------------------
ssh_open alice dfalice env LANG=C.UTF-8 LC_ALL=C.UTF-8
if screen_wait alice 20 'Press Enter once you have approved'; then
        pass "UTF-8 client: the prompt appears"
else
        fail "UTF-8 client: the prompt appears"; screen alice; tail -20 "$SSHD_LOG"; exit 1
fi
S=$(screen alice)
grep -qF "Login to $HOST for dfalice from 127.0.0.1" <<<"$S"
check "UTF-8 client: the screen names the host, the user and the source" test $? -eq 0
grep -qF "$OP_URL/device" <<<"$S"
check "UTF-8 client: the screen shows the link" test $? -eq 0
CODE=$(screen_code alice)
check "UTF-8 client: the screen shows a code" test -n "$CODE"
! grep -qF '\342' <<<"$S"
check "UTF-8 client: nothing on the screen is octal-escaped" test $? -eq 0
check_qr alice "UTF-8 client" "$CODE"

op_approve "$CODE" alice >"$TEST_DIR/approve-alice.log" 2>&1
check "alice approves the code at the provider's pages" test $? -eq 0
keys alice Enter
# The shell's prompt, or the end of ssh.
screen_wait_last alice 20 '(\$|#)$|ssh exited'
if ! screen_last alice | grep -qE '(\$|#)$'; then
        fail "approved as alice: a shell opens"
        screen alice | grep -v '^$' | tail -15
else
        keys alice 'id -un' Enter
        screen_wait alice 10 '^dfalice$'
        check "approved as alice: a shell opens and id -un says dfalice" test $? -eq 0
        keys alice 'exit' Enter
        screen_wait alice 10 '\[ssh exited 0\]'
        check "the session ends cleanly (ssh exits 0)" test $? -eq 0
fi

# ---- 2. LANG=C client: the QR code still scans; bob approves for dfalice -> Permission denied ---
ssh_open bob dfalice env LANG=C LC_ALL=C
screen_wait bob 20 'Press Enter once you have approved'
check "LANG=C client: the prompt appears" test $? -eq 0
S=$(screen bob)
! grep -qF '\342' <<<"$S"
check "LANG=C client: nothing on the screen is octal-escaped" test $? -eq 0
CODE=$(screen_code bob)
check "LANG=C client: the screen shows a code" test -n "$CODE"
check_qr bob "LANG=C client" "$CODE"
op_approve "$CODE" bob >"$TEST_DIR/approve-bob.log" 2>&1
check "bob approves dfalice's code at the provider's pages" test $? -eq 0
keys bob Enter
screen_wait bob 20 '\[ssh exited'
S=$(screen bob)
grep -qF 'Permission denied' <<<"$S"
check "approved as bob for dfalice: Permission denied" test $? -eq 0
grep -qF '[ssh exited 255]' <<<"$S"
check "approved as bob for dfalice: ssh fails (255), no shell" test $? -eq 0

# ---- 3. denied at the provider -> Permission denied ------------------------------------------
ssh_open deny dfalice env LANG=C.UTF-8 LC_ALL=C.UTF-8
screen_wait deny 20 'Press Enter once you have approved'
CODE=$(screen_code deny)
op_deny "$CODE" >"$TEST_DIR/deny.log" 2>&1
check "the code is denied at the provider's pages" test $? -eq 0
keys deny Enter
screen_wait deny 20 '\[ssh exited'
S=$(screen deny)
grep -qF 'Permission denied' <<<"$S" && grep -qF '[ssh exited 255]' <<<"$S"
check "denied: Permission denied, no shell" test $? -eq 0
grep -qE "Flow [0-9a-f]+: .*(denied|access_denied)" "$DAEMON_LOG"
check "denied: the daemon saw the provider's access_denied" test $? -eq 0

# ---- 4. the ssh client killed mid-flow -> the daemon cancels the flow -------------------------
# prompt=enter: the daemon polls when the user presses Enter ("Not approved yet."; no polling in the
# background, the flow is on demand), then the client dies.
ssh_open gone dfalice env LANG=C.UTF-8 LC_ALL=C.UTF-8
screen_wait gone 20 'Press Enter once you have approved'
check "killed client: the prompt appears" test $? -eq 0
polls0=$(op_count '^REQ POST /token ')
keys gone Enter
screen_wait gone 15 'Not approved yet'
check "killed client: Enter before approving says 'Not approved yet.' and asks again" test $? -eq 0
check "killed client: that Enter polled the provider once" test "$(op_count '^REQ POST /token ')" -eq $((polls0 + 1))
cancels0=$(daemon_count "reason='The caller went away.'")
pid=$(client_pid gone)
if [ -n "$pid" ] && kill -KILL "$pid"; then
        pass "killed client: ssh client (pid $pid) killed"
else
        fail "killed client: ssh client killed"
fi
wait_for 3 count_gt "$cancels0" daemon_count "reason='The caller went away.'"
check "killed client: the daemon cancels the flow at once (audit: caller went away)" test $? -eq 0
wait_for 5 sh -c "! pgrep -P $SSHD_PID >/dev/null"
check "killed client: sshd has no process left for the connection" test $? -eq 0
polls1=$(op_count '^REQ POST /token ')
sleep 6     # more than the provider's 5 s interval
polls2=$(op_count '^REQ POST /token ')
check "killed client: no token poll at the provider after the kill ($polls1 then $polls2 in 6 s)" \
        test "$polls2" -eq "$polls1"

# ---- 5. a console-style login with prompt=none through pamtester --------------------------------
pam_service devflow-console "prompt=none timeout=60"
echo "# $TEST_DIR" >>"$PAM_DIR/devflow-console"      # marks pam_wrapper's copy as ours for the cleanup
pamtester_run devflow-console dfalice -I tty=tty1 </dev/null >"$TEST_DIR/console.out" 2>&1 &
PT=$!
t_track "$PT"
wait_for 20 grep -qE '[A-Z]{4}-[A-Z]{4}' "$TEST_DIR/console.out"
CODE=$(grep -oE '[A-Z]{4}-[A-Z]{4}' "$TEST_DIR/console.out" | head -1)
check "console: the code is shown without a prompt" test -n "$CODE"
op_approve "$CODE" alice >"$TEST_DIR/approve-console.log" 2>&1
check "console: alice approves at the provider's pages" test $? -eq 0
wait "$PT"
RC=$?
check "console: prompt=none login succeeds once approved, no Enter (pamtester exits 0)" test "$RC" -eq 0
grep -q 'successfully authenticated' "$TEST_DIR/console.out"
check "console: pamtester says authenticated" test $? -eq 0

check "daemon alive after all logins" daemon_alive
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report from the daemon" asan_clean
if [ "$T_FAILED" -ne 0 ]; then
        show_daemon_log
        echo "---- sshd log ----"; tail -n 40 "$SSHD_LOG"
fi
