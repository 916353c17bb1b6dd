#!/usr/bin/env bash
# End to end against the second real provider: a real sshd (keyboard-interactive, pam_devflow through
# pam_wrapper) and the real ssh client on a tmux terminal, the real daemon, Debian's Glewlwyd over TLS
# (tests/glewlwyd/). The ASCII QR code on the screen decodes to Glewlwyd's verification URI; alice
# approves through Glewlwyd's REST API, presses Enter, gets a shell (id -un); Glewlwyd never answered
# slow_down. Needs root.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/op/op.sh"
. "$TOP/tests/glewlwyd/glewlwyd.sh"
. "$TOP/tests/e2e/sshd-lib.bash"

e2e_need_root "ssh login against Glewlwyd"
if ! gw_available; then
        skip "ssh login against Glewlwyd (glewlwyd or sqlite3 is not installed: run 'bash tests/deps.sh')"
        exit 0
fi

bus_start || { fail "private bus"; exit 1; }
gw_start "$TEST_DIR/gw" || { fail "glewlwyd start"; exit 1; }
(umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TEST_DIR/client_secret")
gw_provision base --secret-file "$TEST_DIR/client_secret" &&
        gw_provision plugin oidc --alg RS256 --interval 1 --username-claim
check "Glewlwyd provisioned (users, clients, oidc plugin with the device grant)" test $? -eq 0
ensure_user dfalice && ensure_user dfbob || { fail "test users"; exit 1; }

printf 'alice dfalice\nbob dfbob\n' >"$TEST_DIR/users.map"
chmod 0600 "$TEST_DIR/users.map"
cat >"$TEST_DIR/devflowd.conf" <<CONF
[idp]
issuer = $(gw_issuer oidc)
client_id = devflow-public
ca_file = $GW_CA
scope = openid
[login]
username_claim = preferred_username
map_file = $TEST_DIR/users.map
CONF
daemon_start "$TEST_DIR/devflowd.conf" || { fail "devflowd start"; exit 1; }
sshd_start sshd "timeout=60" || { fail "sshd starts with pam_devflow through pam_wrapper"; exit 1; }

ssh_open gw dfalice env LANG=C.UTF-8 LC_ALL=C.UTF-8
screen_wait gw 20 'Press Enter once you have approved'
check "the prompt appears over ssh" test $? -eq 0
CODE=$(screen_code gw)
check "a Glewlwyd user code is shown ($CODE)" test -n "$CODE"
grep -qF "Login to $(hostname) for dfalice from 127.0.0.1" <<<"$(screen gw)"
check "the text names the host, the user and the source" test $? -eq 0
check_qr gw "ssh" "$CODE" "$(gw_issuer oidc)/device" "$(gw_issuer oidc)/device?code=$CODE"
gw_approve "$CODE" alice >"$TEST_DIR/approve.log" 2>&1
check "alice approves at Glewlwyd (302 prompt=deviceComplete)" test $? -eq 0
keys gw Enter
screen_wait_last gw 20 '(\$|#)$|ssh exited'
if screen_last gw | grep -qE '\$$'; then
        keys gw 'id -un' Enter
        screen_wait gw 10 '^dfalice$'
        check "approved at Glewlwyd: a shell as dfalice over ssh (id -un)" test $? -eq 0
        keys gw exit Enter
        screen_wait gw 10 '\[ssh exited 0\]'
        check "the session ends cleanly (ssh exits 0)" test $? -eq 0
else
        fail "approved at Glewlwyd: a shell as dfalice over ssh (id -un)"
fi
polls=$(grep -c 'token endpoint answered' "$DAEMON_LOG")
slow=$(grep -c 'token endpoint answered.*slow_down' "$DAEMON_LOG")
# prompt=enter polls on demand: Enter polls once, as soon as the interval allows.
check "the daemon polled Glewlwyd ($polls polls), never answered slow_down ($slow)" test "$polls" -ge 1 -a "$slow" -eq 0

check "daemon alive" daemon_alive
daemon_stop
check "no sanitizer report from the daemon" asan_clean
if [ "$T_FAILED" -ne 0 ]; then
        show_daemon_log
        echo "---- screen ----"; screen gw | grep -v '^$' | tail -30
        echo "---- sshd log ----"; tail -n 30 "$SSHD_LOG"
        echo "---- approval ----"; cat "$TEST_DIR/approve.log"
fi
