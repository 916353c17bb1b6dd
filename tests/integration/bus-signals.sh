#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Forged bus-driver signals (issue 14.1): an unprivileged user sends org.freedesktop.DBus.NameOwnerChanged
# (NAME, NAME, "") "from the bus" for every unique name, to net.devflow.Devflow1 and to the daemon's unique
# name, while root's (pamtester's) login is pending. The login must still succeed, through each layer:
#  1. with conf/'s policy (it denies signals to the service): nothing reaches the daemon;
#  2. with that policy minus its signal rule (the private bus otherwise allows signals, as Debian's
#     system policy does): the daemon itself drops them, since they do not come from org.freedesktop.DBus.
# A real NameOwnerChanged still counts: killing the caller mid-flow cancels its flow (bus-access.sh).
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

command -v node >/dev/null || { skip "node missing (tests/deps.sh installs it)"; exit 0; }
command -v pamtester >/dev/null && [ -n "$PAM_WRAPPER_LIB" ] || { skip "pamtester or pam_wrapper missing"; exit 0; }
[ -x "$DEVFLOWD" ] || { fail "devflowd not built ($DEVFLOWD)"; exit 1; }

LUSER=dfsignals
ensure_user "$LUSER" || { fail "test user"; exit 1; }
idp_start "$TEST_DIR/idp" --interval 1 || { fail "fake IdP start"; exit 1; }
cat >"$TEST_DIR/devflowd.conf" <<CONF
[idp]
issuer = $(idp_issuer)
client_id = devflow-test
ca_file = $IDP_CA
CONF
pam_service devflow-test "prompt=none timeout=30"
SPOOF_UID=65534

# spray: as an unprivileged user, a forged NameOwnerChanged(N, N, "") for every unique name N on the bus,
# sent to the service name and to the daemon's unique name. Prints how many were sent.
spray() {
        local names daemon n sent=0
        daemon=$(dbus-send --system --print-reply=literal --dest=org.freedesktop.DBus / \
                org.freedesktop.DBus.GetNameOwner string:net.devflow.Devflow1 | tr -d ' ')
        names=$(dbus-send --system --print-reply=literal --dest=org.freedesktop.DBus / \
                org.freedesktop.DBus.ListNames | grep -oE ':[0-9]+\.[0-9]+')
        for n in $names; do
                for dest in net.devflow.Devflow1 "$daemon"; do
                        setpriv --reuid=$SPOOF_UID --regid=$SPOOF_UID --clear-groups \
                                dbus-send --system --type=signal --dest="$dest" /org/freedesktop/DBus \
                                org.freedesktop.DBus.NameOwnerChanged string:"$n" string:"$n" string:"" \
                                2>>"$TEST_DIR/spray.err" && sent=$((sent + 1))
                done
        done
        echo "$sent"
}

forged_dropped() {
        busctl --system call net.devflow.Devflow1 /net/devflow/Devflow1 net.devflow.Devflow1.Manager GetStatus |
                grep -oE '"ForgedSignalsDropped" t [0-9]+' | awk '{print $3}'
}

# approve_after_spray CODE: spray, give the daemon time to act on it, then approve.
approve_after_spray() {
        SENT=$(spray)
        sleep 1.5
        idp_approve "$1" "{\"preferred_username\":\"$LUSER\"}"
}

# phase NAME POLICY-FILE
phase() {
        local name=$1
        BUS_POLICY=$2 bus_start || { fail "$name: private bus"; return 1; }
        daemon_start "$TEST_DIR/devflowd.conf" || { fail "$name: devflowd start"; return 1; }
        pam_login "$LUSER" 203.0.113.41 approve_after_spray
        echo "$OUT"
        check "$name: forged NameOwnerChanged sent for every unique name ($SENT)" test "${SENT:-0}" -ge 4
        check "$name: the pending login still succeeds (rc $RC)" test "$RC" -eq 0
        if grep -q "caller went away" "$DAEMON_LOG"; then fail "$name: no flow cancelled as 'caller went away'";
        else pass "$name: no flow cancelled as 'caller went away'"; fi
        DROPPED=$(forged_dropped)
        check "$name: daemon alive" daemon_alive
        daemon_stop
        kill -TERM "$BUS_PID"; wait "$BUS_PID" 2>/dev/null
        rm -rf "$TEST_DIR/bus"
        mv "$DAEMON_LOG" "$TEST_DIR/devflowd-$name.log"
}

phase policy "$TOP/conf/net.devflow.Devflow1.conf"
check "policy: the bus stopped every forged signal (the daemon saw ${DROPPED:-?})" test "${DROPPED:-x}" = 0

grep -v 'send_type="signal"' "$TOP/conf/net.devflow.Devflow1.conf" >"$TEST_DIR/policy-without-signal-rule.conf"
if grep -q 'send_type="signal"' "$TEST_DIR/policy-without-signal-rule.conf"; then fail "policy copy still has the rule"; fi
phase daemon "$TEST_DIR/policy-without-signal-rule.conf"
check "daemon: the forged signals reached it and it dropped them (${DROPPED:-?})" test "${DROPPED:-0}" -ge 1
check "daemon: it warned about them once" test "$(grep -c 'Dropped a forged' "$TEST_DIR/devflowd-daemon.log")" -eq 1

check "no sanitizer report" asan_clean
if [ "$T_FAILED" -ne 0 ]; then
        for f in "$TEST_DIR"/devflowd-*.log; do echo "---- $f"; tail -n 40 "$f"; done
fi
