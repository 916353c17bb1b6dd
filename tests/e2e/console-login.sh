#!/usr/bin/env bash
# The kiosk case: Debian's real login(1) on a terminal (a tmux pane), PAM service "login" with
# "pam_devflow.so prompt=none" through pam_wrapper (/etc/pam.d untouched), the real daemon, the certified
# oidc-provider. On a UTF-8 terminal the half-block QR code on the screen decodes to the verification URI;
# approval at the provider gives a shell as the user (id -un); Ctrl-C at the code ends login and the
# daemon cancels the flow; with LANG=C the QR code is drawn in ASCII and still scans. Needs root.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/op/op.sh"
. "$TOP/tests/e2e/sshd-lib.bash"

e2e_need_root "console login"
if [ ! -x /bin/login ]; then
        skip "console login (/bin/login is not installed: run 'bash tests/deps.sh')"
        exit 0
fi

bus_start || { fail "private bus"; exit 1; }
op_start "$TEST_DIR/op" || { fail "oidc-provider start"; exit 1; }
ensure_user dfalice && ensure_user dfbob || { fail "test users"; exit 1; }
e2e_daemon_start || { fail "devflowd start"; exit 1; }

# The "login" service for pam_wrapper: pam_devflow alone for auth, as on a kiosk.
CONSOLE_PAM=$TEST_DIR/console/pam.d
mkdir -p "$CONSOLE_PAM"
printf '# %s\nauth required %s prompt=none timeout=60\naccount required pam_permit.so\nsession required pam_permit.so\npassword required pam_deny.so\n' \
        "$TEST_DIR" "$PAM_MODULE" >"$CONSOLE_PAM/login"
printf '# %s\nauth required pam_deny.so\naccount required pam_deny.so\nsession required pam_deny.so\n' \
        "$TEST_DIR" >"$CONSOLE_PAM/other"

# console_open NAME LANG USER: login(1) for USER in a new window, as root on its own terminal, in LANG.
# login builds a fresh environment for the session; the module talks to the test bus through its
# directory bind-mounted on /run/dbus in a private mount namespace (as sshd_start does).
console_open() {
        local name=$1 lang=$2 user=$3 cmd
        cmd=$(printf '%q ' unshare --mount --propagation private -- /bin/sh -c \
                'mount --bind "$1" /run/dbus && shift && exec "$@"' sh "$BUS_DIR" \
                env TERM=xterm LANG="$lang" LC_ALL="$lang" LD_PRELOAD="$PAM_WRAPPER_LIB" PAM_WRAPPER=1 \
                PAM_WRAPPER_SERVICE_DIR="$CONSOLE_PAM" /bin/login "$user")
        # Ctrl-C goes to the whole foreground process group: the window's shell survives it (a handler,
        # which login does not inherit) to report login's status.
        e2e_window "$name" login "trap : INT; $cmd"
}

# flow_state FLOWID: what the daemon's log last says about that flow ("cancelled", "approved" ...).
audit_of() { grep -oE "audit: [a-z-]+ flow=$1" "$DAEMON_LOG" | tail -1 | awk '{print $2}'; }
last_flow() { sed -n 's/.*audit: code-issued flow=\([0-9a-f]*\) .*/\1/p' "$DAEMON_LOG" | tail -1; }

# ---- 1: UTF-8 terminal: half-block QR, approve, a shell -------------------------------------------------
console_open utf8 C.UTF-8 dfalice || { fail "tmux window for login"; exit 1; }
screen_wait utf8 20 '^Code: '
check "utf8: login shows the code without a prompt" test $? -eq 0
CODE=$(screen_code utf8)
screen utf8 >"$TEST_DIR/utf8.screen"
# U+2580, U+2584, U+2588 in UTF-8 (bytes: the test's own locale may not be UTF-8)
LC_ALL=C grep -q $'\xe2\x96[\x80\x84\x88]' "$TEST_DIR/utf8.screen"
check "utf8: the QR code is drawn with half blocks" test $? -eq 0
check_qr utf8 "utf8" "$CODE"
grep -qF "$OP_URL/device" "$TEST_DIR/utf8.screen"
check "utf8: the screen shows the verification URI" test $? -eq 0
op_approve "$CODE" alice >"$TEST_DIR/approve-utf8.log" 2>&1
check "utf8: alice approves at the provider's pages" test $? -eq 0
screen_wait_last utf8 20 '(\$|#)$|login exited'
if screen_last utf8 | grep -qE '\$$'; then
        keys utf8 'id -un' Enter
        screen_wait utf8 10 '^dfalice$'
        check "utf8: approved: a shell as dfalice (id -un)" test $? -eq 0
        keys utf8 exit Enter
        screen_wait utf8 10 '\[login exited 0\]'
        check "utf8: the session ends cleanly (login exits 0)" test $? -eq 0
else
        fail "utf8: approved: a shell as dfalice (id -un)"
        screen utf8 | grep -v '^$' | tail -12
fi

# ---- 2: Ctrl-C at the code cancels the flow at the daemon --------------------------------------------
console_open intr C.UTF-8 dfalice || { fail "tmux window for login"; exit 1; }
screen_wait intr 20 '^Code: '
check "ctrl-c: the code is shown" test $? -eq 0
FLOW=$(last_flow)
keys intr C-c
screen_wait intr 10 '\[login exited [1-9]'
check "ctrl-c: login ends, refused ($(screen intr | grep -o 'login exited [0-9]*'))" test $? -eq 0
wait_for 10 sh -c "grep -q 'audit: cancelled flow=$FLOW' '$DAEMON_LOG'"
check "ctrl-c: the daemon cancelled the flow ($(audit_of "$FLOW"))" test "$(audit_of "$FLOW")" = cancelled
screen intr | grep -q '^dfalice$\|\$$'
check "ctrl-c: no shell" test $? -ne 0

# ---- 3: LANG=C: the ASCII QR code -------------------------------------------------------------------------
console_open ascii C dfalice || { fail "tmux window for login"; exit 1; }
screen_wait ascii 20 '^Code: '
check "ascii: the code is shown" test $? -eq 0
CODE=$(screen_code ascii)
screen ascii >"$TEST_DIR/ascii.screen"
LC_ALL=C grep -q $'[\x80-\xff]' "$TEST_DIR/ascii.screen"
check "ascii: nothing but ASCII on the screen in LANG=C" test $? -ne 0
grep -q '^ *##' "$TEST_DIR/ascii.screen"
check "ascii: the QR code is drawn with '#'" test $? -eq 0
check_qr ascii "ascii" "$CODE"
keys ascii C-c
screen_wait ascii 10 '\[login exited'

check "daemon alive" daemon_alive
daemon_stop
check "no sanitizer report from the daemon" asan_clean
if [ "$T_FAILED" -ne 0 ]; then
        show_daemon_log
        for w in utf8 intr ascii; do echo "---- screen $w ----"; screen "$w" | grep -v '^$' | tail -30; done
fi
