#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Pending flows must not lock an account out (issue 14.3), with the default limits (max_flows_per_user 16,
# max_flows_per_user_per_rhost 2): an attacker who reaches the PAM stage for the user's name (as sshd would
# start them: root's StartLogin with the attacker's address as rhost) holds background flows, while the
# user's own login goes through the real module (pamtester) from the user's address:
#  - from one IPv4 address: its third flow is refused; the user's login, started before or after, succeeds;
#  - from three addresses of one IPv6 /64: the same (a /64 is one source);
#  - another /64 is another source;
#  - the number devflowd.conf(5) gives: 7 sources (14 flows) do not keep the user out, 8 (16 flows) do;
#  - no eviction: the user's own pending login is never cancelled by the attacker's new flows.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

command -v node >/dev/null || { skip "node missing (tests/deps.sh installs it)"; exit 0; }
command -v pamtester >/dev/null && [ -n "$PAM_WRAPPER_LIB" ] || { skip "pamtester or pam_wrapper missing"; exit 0; }
need_flowclient

LUSER=dflockout
ensure_user "$LUSER" || { fail "test user"; exit 1; }
stack_start --interval 1
pam_service devflow-test "prompt=none timeout=60"

HOLDS=()
N_HELD=0
# hold RHOST: one attacker flow for $LUSER from RHOST, kept open; succeeds when it got a code.
hold() {
        local o=$TEST_DIR/hold-$RANDOM.out
        ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" hold "$LUSER" --rhost "$1" >"$o" 2>>"$TEST_DIR/flowclient.err" &
        t_track $!
        HOLDS+=($!)
        wait_for 20 grep -q '^user_code \|^error ' "$o"
        LAST_HOLD_ERR=$(sed -n 's/^error \([^ ]*\).*/\1/p' "$o")
        grep -q '^user_code ' "$o" && N_HELD=$((N_HELD + 1))
}
release_all() {
        local p
        for p in "${HOLDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        HOLDS=()
        N_HELD=0
        sleep 0.5
}
approve() { idp_approve "$1" "{\"preferred_username\":\"$LUSER\"}"; }
own_login_ok() { # NAME
        check "$1: the user's own login succeeds (rc $RC)" test "$RC" -eq 0
        grep -q "Too many logins" <<<"$OUT" && echo "$OUT"
}

# ---- one IPv4 address ------------------------------------------------------------------------------------------
for i in 1 2 3; do hold 198.51.100.66; done
check "one address: 2 of its 3 flows for $LUSER are admitted ($N_HELD)" test "$N_HELD" -eq 2
check "... the third is refused with TooManyFlows ($LAST_HOLD_ERR)" \
        test "$LAST_HOLD_ERR" = net.devflow.Devflow1.Error.TooManyFlows
pam_login "$LUSER" 203.0.113.5 approve
own_login_ok "one address"
release_all

# ---- one IPv6 /64, three addresses; another /64 -----------------------------------------------------------------
for a in 2001:db8:66:1::1 2001:db8:66:1::2 2001:db8:66:1:ffff::3; do hold "$a"; done
check "one /64: 2 of 3 flows from 3 addresses of 2001:db8:66:1::/64 are admitted ($N_HELD)" test "$N_HELD" -eq 2
hold 2001:db8:66:2::1
check "another /64 is another source ($N_HELD held)" test "$N_HELD" -eq 3
pam_login "$LUSER" 2001:db8:77::5 approve
own_login_ok "one /64"
release_all

# ---- how many sources it takes ----------------------------------------------------------------------------------
for s in 1 2 3 4 5 6 7; do hold 192.0.2.$s; hold 192.0.2.$s; done
check "7 sources hold 14 flows ($N_HELD)" test "$N_HELD" -eq 14
pam_login "$LUSER" 203.0.113.6 approve
own_login_ok "7 sources"
hold 192.0.2.8; hold 192.0.2.8
check "an 8th source holds 2 more (16 = max_flows_per_user; $N_HELD)" test "$N_HELD" -eq 16
pam_login "$LUSER" 203.0.113.7 approve
check "8 sources: now the user is kept out (rc $RC), as devflowd.conf(5) says" test "$RC" -ne 0
check "... told that too many logins are pending" grep -q "Too many logins" <<<"$OUT"
release_all

# ---- no eviction: the user's pending login survives a flood from many sources -------------------------------
flood_then_approve() {
        local s
        for s in $(seq 1 9); do hold 192.0.2.$((100 + s)); hold 192.0.2.$((100 + s)); done
        FLOOD_HELD=$N_HELD
        approve "$1"
}
pam_login "$LUSER" 203.0.113.8 flood_then_approve
check "flood: the attacker got only the rest of the quota ($FLOOD_HELD = 16 - 1)" test "$FLOOD_HELD" -eq 15
own_login_ok "flood while the user's login is pending"
release_all

check "daemon alive at the end" daemon_alive
daemon_stop
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
