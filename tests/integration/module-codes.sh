#!/usr/bin/env bash
# Every PAM return code of the real module (pam_wrapper + pamtester) against the real daemon (ASan build) on
# a private bus and the fake IdP: approve → SUCCESS; deny, another identity, module timeout → AUTH_ERR;
# unknown account → USER_UNKNOWN; daemon absent, daemon killed mid-wait, IdP down → AUTHINFO_UNAVAIL;
# per-user flow limit → MAXTRIES; prompt=enter before and after approving; text typed at the Enter prompt
# ends the login; control characters from the IdP
# never reach the terminal; no secret in any output or the daemon log.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_module_stack

U=dfmodcodes
U2=dfmodother
NOBODY=dfmodnobody
S_SUCCESS="successfully authenticated"
S_AUTH_ERR="Authentication failure"
S_UNAVAIL="Authentication service cannot retrieve authentication info"
S_UNKNOWN="User not known to the underlying authentication module"
S_MAXTRIES="Have exhausted maximum number of retries for service"

ensure_user "$U" && ensure_user "$U2" || { fail "test users"; exit 1; }
userdel "$NOBODY" 2>/dev/null
stack_start - --profile rfc --interval 1 <<CONF
http_timeout = 3
[login]
username_claim = preferred_username
[limits]
max_flows_per_user = 1
max_new_flows_per_rhost_per_minute = 1000
CONF

pam_service dfcodes-none "prompt=none qr=ascii timeout=30"
pam_service dfcodes-enter "qr=ascii timeout=30"
pam_service dfcodes-short "prompt=none qr=ascii timeout=10"

# pt_start NAME SERVICE USER [STDIN]: pamtester in the background; output in $TEST_DIR/pt-NAME.out, PID in
# $PT_PID. STDIN: a file (default /dev/null) or --closed.
pt_start() {
        local name=$1 service=$2 user=$3 in=${4:-/dev/null}
        PT_OUT=$TEST_DIR/pt-$name.out
        : >"$PT_OUT"
        # As pamtester_run, but a simple command, so that $! is pamtester itself (stdbuf execs it) and a
        # signal to it reaches the process that holds the bus connection.
        if [ "$in" = --closed ]; then
                LD_PRELOAD=$PAM_WRAPPER_LIB PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$PAM_DIR \
                        stdbuf -o0 -e0 pamtester -v -I rhost=203.0.113.7 -I tty=ssh "$service" "$user" authenticate \
                        <&- >"$PT_OUT" 2>&1 &
        else
                LD_PRELOAD=$PAM_WRAPPER_LIB PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$PAM_DIR \
                        stdbuf -o0 -e0 pamtester -v -I rhost=203.0.113.7 -I tty=ssh "$service" "$user" authenticate \
                        <"$in" >"$PT_OUT" 2>&1 &
        fi
        PT_PID=$!
        t_track "$PT_PID"
}
# pt_code: wait (10 s) for the user code in $PT_OUT; prints it.
pt_code() {
        local i code
        for ((i = 0; i < 100; i++)); do
                code=$(grep -oE '[B-Z]{4}-[B-Z]{4}' "$PT_OUT" | head -1)
                [ -n "$code" ] && { echo "$code"; return 0; }
                kill -0 "$PT_PID" 2>/dev/null || break
                sleep 0.1
        done
        code=$(grep -oE '[B-Z]{4}-[B-Z]{4}' "$PT_OUT" | head -1)
        [ -n "$code" ] && echo "$code"
}
# pt_finish [SECONDS]: wait for pamtester (default 40 s); status in $RC (124 when it did not end).
pt_finish() {
        local secs=${1:-40}
        if ! wait_for "$secs" sh -c "! kill -0 $PT_PID"; then
                kill -TERM "$PT_PID" 2>/dev/null
                wait "$PT_PID" 2>/dev/null
                RC=124
                return
        fi
        wait "$PT_PID" 2>/dev/null
        RC=$?
}
has() { grep -qF -- "$1" "$PT_OUT"; }
# pamtester prints "pamtester: " and pam_strerror() of the code last (strings from libpam's
# pam_strerror, checked by trying: "Authentication information cannot be recovered" would be
# PAM_AUTHTOK_RECOVERY_ERR, not PAM_AUTHINFO_UNAVAIL).
# expect NAME STRING: pamtester's output names that PAM code (and not success unless it is SUCCESS).
expect() {
        local name=$1 want=$2
        # At the end of a line (after an echo-off prompt there is no newline before it); no regex
        # characters in these strings.
        if grep -qE -- "(^|: )pamtester: $want\$" "$PT_OUT"; then
                pass "$name: '$want'"
        else
                fail "$name: expected '$want' (exit $RC); output:"
                sed 's/^/    /' "$PT_OUT" | grep -v '^    [# ]*$' | tail -15
        fi
        if [ "$want" != "$S_SUCCESS" ]; then
                check "$name: not authenticated (exit $RC)" sh -c "test $RC -ne 0 && ! grep -qF '$S_SUCCESS' '$PT_OUT'"
        fi
}
# login NAME SERVICE USER CLAIMS|--deny: start, approve the shown code with these claims (or deny it), wait.
login() {
        local name=$1 service=$2 user=$3 how=$4 code
        pt_start "$name" "$service" "$user"
        if ! code=$(pt_code); then
                fail "$name: no code shown"; sed 's/^/    /' "$PT_OUT" | tail -5
                pt_finish 5; return 1
        fi
        if [ "$how" = --deny ]; then idp_deny "$code"; else idp_approve "$code" "$how"; fi || fail "$name: IdP control"
        pt_finish
}
# settle: give the daemon a moment to free the finished flow (max_flows_per_user is 1).
settle() { sleep 0.5; }

# ---- verdicts --------------------------------------------------------------------------------------------
login approve dfcodes-none "$U" "{\"preferred_username\":\"$U\"}"
expect "approved as the user → PAM_SUCCESS" "$S_SUCCESS"
check "approved: exit status 0" test "$RC" -eq 0
has "$(hostname)" && has 203.0.113.7
check "approved: the text names the host and the source" test $? -eq 0
check "approved: the text shows the link" has "$IDP_URL/device"
settle

login deny dfcodes-none "$U" --deny
expect "denied at the IdP → PAM_AUTH_ERR" "$S_AUTH_ERR"
check "denied: the user is told it was denied" grep -qi "denied" "$PT_OUT"
settle

login other dfcodes-none "$U" "{\"preferred_username\":\"$U2\"}"
expect "approved as another identity → PAM_AUTH_ERR" "$S_AUTH_ERR"
settle

login unknown dfcodes-none "$NOBODY" "{\"preferred_username\":\"$NOBODY\"}"
expect "approved for an account that does not exist → PAM_USER_UNKNOWN" "$S_UNKNOWN"
settle

# ---- limits: max_flows_per_user = 1 -------------------------------------------------------------------
pt_start hold dfcodes-none "$U"
HOLD_PID=$PT_PID HOLD_OUT=$PT_OUT
if pt_code >/dev/null; then
        pt_start limited dfcodes-none "$U"
        pt_finish 15
        expect "a second flow for the same user past max_flows_per_user → PAM_MAXTRIES" "$S_MAXTRIES"
else
        fail "limits: the first flow showed no code"
fi
# The holder goes away: the daemon cancels its flow (caller tracking).
kill -TERM "$HOLD_PID" 2>/dev/null
wait "$HOLD_PID" 2>/dev/null
check "the holder's flow is freed when it goes away" wait_for 5 sh -c "grep -q 'caller went away' '$DAEMON_LOG'"
check "daemon alive after the limit" daemon_alive
settle

# ---- prompt=enter -----------------------------------------------------------------------------------------
FIFO=$TEST_DIR/enter.fifo
mkfifo "$FIFO"
pt_start enter dfcodes-enter "$U" "$FIFO"
exec 7>"$FIFO"          # after pamtester opened it for reading (open blocks until both ends are there)
if code=$(pt_code); then
        wait_for 5 grep -q "Press Enter once you have approved" "$PT_OUT"
        echo >&7        # Enter before approving
        wait_for 8 grep -q "Not approved yet." "$PT_OUT"
        check "prompt=enter: Enter before approving says 'Not approved yet.'" grep -q "Not approved yet." "$PT_OUT"
        check "prompt=enter: and asks again" test "$(grep -o "Press Enter once you have approved" "$PT_OUT" | wc -l)" -ge 2
        check "prompt=enter: still waiting after the early Enter" kill -0 "$PT_PID"
        idp_approve "$code" "{\"preferred_username\":\"$U\"}" || fail "enter: approve"
        sleep 1.2
        echo >&7        # Enter after approving
        pt_finish 10
        expect "prompt=enter: Enter after approving → PAM_SUCCESS" "$S_SUCCESS"
else
        fail "prompt=enter: no code shown"; pt_finish 5
fi
exec 7>&-
settle

# ---- conversation fails: prompt=enter with stdin closed (misc_conv's read fails: PAM_CONV_ERR) ----------
# (stdin at EOF is not a failure: misc_conv answers the prompt with a NULL response, which the module takes
# as Enter.)
pt_start conv dfcodes-enter "$U" --closed
pt_finish 15
expect "prompt=enter, the conversation fails → PAM_CONV_ERR" "Conversation error"
check "conversation failed: the daemon's flow was cancelled" \
        wait_for 3 grep -q "audit: cancelled .*service='dfcodes-enter'" "$DAEMON_LOG"
settle

# ---- a password typed at the Enter prompt (sshd's password method answers every prompt with it) ---------
# Not an Enter: the login ends at once, the daemon's flow is cancelled, no second code is asked for, and the
# typed text is in no log.
printf 'hunter2-typed\nhunter2-typed\nhunter2-typed\n' >"$TEST_DIR/password.in"
issued_before=$(grep -c "audit: code-issued .*service='dfcodes-enter'" "$DAEMON_LOG")
t0=$(date +%s)
# (pam_wrapper shows the module's syslog lines below LOG_ERR only at a higher debug level)
PAM_WRAPPER_DEBUGLEVEL=2 pt_start typed dfcodes-enter "$U" "$TEST_DIR/password.in"
pt_finish 20
secs=$(( $(date +%s) - t0 ))
expect "prompt=enter answered with text → PAM_AUTH_ERR" "$S_AUTH_ERR"
check "typed answer: the login ended at once ($secs s)" test "$secs" -le 4
check "typed answer: the user is told why" grep -qF "this prompt takes Enter only" "$PT_OUT"
check "typed answer: the module logged it" grep -qF "was answered with text, not Enter" "$PT_OUT"
check "typed answer: the daemon's flow was cancelled" \
        wait_for 3 grep -q "audit: cancelled .*service='dfcodes-enter'" "$DAEMON_LOG"
issued=$(( $(grep -c "audit: code-issued .*service='dfcodes-enter'" "$DAEMON_LOG") - issued_before ))
check "typed answer: one code issued, no new one requested ($issued)" test "$issued" -eq 1
check "typed answer: the daemon never polled on its behalf" test "$(grep -c "Not approved yet." "$PT_OUT")" -eq 0
check "typed answer: the typed text is in no log" sh -c "! grep -q hunter2 '$PT_OUT' '$DAEMON_LOG'"
settle

# ---- module timeout --------------------------------------------------------------------------------------
t0=$(date +%s)
pt_start timeout dfcodes-short "$U"
pt_code >/dev/null || fail "timeout: no code shown"
pt_finish 25
secs=$(( $(date +%s) - t0 ))
expect "timeout=10, never approved → PAM_AUTH_ERR" "$S_AUTH_ERR"
check "timeout: the user is told it timed out" grep -qi "timed out" "$PT_OUT"
check "timeout: after about 10 s ($secs s)" test "$secs" -ge 9 -a "$secs" -le 16
check "timeout: the daemon's flow was cancelled" \
        wait_for 3 grep -q "audit: cancelled .*service='dfcodes-short'" "$DAEMON_LOG"
settle

# ---- control characters from the IdP -----------------------------------------------------------------------
# no_esc NAME: no ESC byte in pamtester's output.
no_esc() {
        if grep -qP '\x1b' "$PT_OUT"; then fail "$1: an ESC byte reached the terminal"; cat -v "$PT_OUT" | grep -F '^[' | head -3
        else pass "$1: no ESC byte in the output"; fi
}
for f in verification_uri user_code; do
        idp_ctl clear-faults '{}' >/dev/null
        idp_ctl fault "{\"endpoint\":\"device\",\"type\":\"control_chars\",\"fields\":[\"$f\"]}" >/dev/null ||
                fail "control chars in $f: fault not accepted"
        pt_start "ctl-$f" dfcodes-none "$U"
        # The daemon may refuse such a reply (no code then) or show it sanitised; approve whatever is shown.
        if code=$(pt_code); then idp_approve "$code" "{\"preferred_username\":\"$U\"}" >/dev/null; fi
        pt_finish 20
        echo "control chars in $f: exit $RC, $(grep -oE '^pamtester: .*|successfully authenticated' "$PT_OUT" | tail -1)"
        no_esc "control chars in $f"
        check "control chars in $f: pamtester ended" test "$RC" -ne 124
        settle
done
idp_ctl clear-faults '{}' >/dev/null
idp_ctl fault '{"endpoint":"token","type":"control_chars","fields":["error_description"]}' >/dev/null ||
        fail "control chars in error_description: fault not accepted"
login ctl-desc dfcodes-none "$U" --deny
expect "denial with control characters in error_description → PAM_AUTH_ERR" "$S_AUTH_ERR"
no_esc "control chars in error_description"
idp_ctl clear-faults '{}' >/dev/null
settle
# A PAM_RHOST with control characters (a reverse-DNS name chosen by the client) is shown without them.
PT_OUT=$TEST_DIR/pt-ctl-rhost.out
LD_PRELOAD=$PAM_WRAPPER_LIB PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$PAM_DIR \
        stdbuf -o0 -e0 pamtester -v -I "rhost=host$(printf '\033]0;pwned\007').example" \
        dfcodes-none "$U" authenticate </dev/null >"$PT_OUT" 2>&1 &
PT_PID=$!
t_track "$PT_PID"
if code=$(pt_code); then idp_approve "$code" "{\"preferred_username\":\"$U\"}" >/dev/null; fi
pt_finish 20
echo "control chars in PAM_RHOST: exit $RC, $(grep -oE 'pamtester: .*' "$PT_OUT" | tail -1)"
no_esc "control chars in PAM_RHOST"
check "control chars in PAM_RHOST: pamtester ended" test "$RC" -ne 124
settle

# ---- daemon killed while the module waits ----------------------------------------------------------------
pt_start killed dfcodes-none "$U"
if pt_code >/dev/null; then
        sleep 0.5
        kill -KILL "$DAEMON_PID"
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_PID=
        pt_finish 15
        expect "daemon killed while the module waits → PAM_AUTHINFO_UNAVAIL" "$S_UNAVAIL"
else
        fail "daemon killed: no code shown"; pt_finish 5
fi

# ---- no daemon on the bus ---------------------------------------------------------------------------------
t0=$(date +%s%N)
pt_start absent dfcodes-none "$U"
pt_finish 20
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "no daemon on the bus → PAM_AUTHINFO_UNAVAIL" "$S_UNAVAIL"
check "no daemon: answered quickly ($ms ms)" test "$ms" -lt 3000

# ---- IdP down before StartLogin ---------------------------------------------------------------------------
daemon_start "$TEST_DIR/devflowd.conf" || { fail "devflowd restart"; exit 1; }
# Secrets are read from the IdP's state dir, which stays after it stops.
idp_stop
t0=$(date +%s%N)
pt_start idpdown dfcodes-none "$U"
pt_finish 20
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect "IdP down → PAM_AUTHINFO_UNAVAIL" "$S_UNAVAIL"
check "IdP down: answered within the http timeout ($ms ms)" test "$ms" -lt 8000

# ---- secrets, daemon health ----------------------------------------------------------------------------------
if idp_grep_secrets "$DAEMON_LOG" "$TEST_DIR"/pt-*.out; then fail "a secret leaked into pamtester's output or the daemon log"
else pass "no secret in any pamtester output or the daemon log ($(wc -l <"$IDP_DIR/secrets.txt") secrets checked)"; fi
check "daemon alive at the end" daemon_alive
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
