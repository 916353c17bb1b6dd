#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The daemon does not outlive its bus (issue 14.10): when the system bus goes away (here: the private
# dbus-daemon is killed) with a login pending, devflowd logs it and exits with a failure status at once,
# so that systemd's Restart=on-failure or the next bus activation starts one fresh daemon, never a second one.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_flowclient
stack_start --interval 1

ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" hold root --rhost 203.0.113.70 >"$TEST_DIR/hold.out" 2>&1 &
t_track $!
wait_for 20 grep -q '^user_code ' "$TEST_DIR/hold.out"
check "a login is pending" grep -q '^user_code ' "$TEST_DIR/hold.out"

kill -KILL "$BUS_PID"
wait "$BUS_PID" 2>/dev/null
start=$(date +%s%N)
wait_for 5 sh -c "! kill -0 $DAEMON_PID"
gone=$?
ms=$((($(date +%s%N) - start) / 1000000))
echo "devflowd gone ${ms} ms after the bus was killed"
check "bus killed: devflowd exits (within 5 s; took ${ms} ms)" test "$gone" -eq 0
rc=running
if [ "$gone" -eq 0 ]; then
        wait "$DAEMON_PID" 2>/dev/null
        rc=$?
        DAEMON_PID=
fi
check "... with a failure status, so Restart=on-failure applies (exit $rc)" test "$rc" -eq 1
check "... and says why" grep -q "Lost the connection to the system bus" "$TEST_DIR/devflowd.log"
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
