#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# devflowctl against a private bus, the real daemon and the fake IdP: usage errors (exit 2), no daemon
# (exit 3), status/flows/cancel in text and --json, NotPermitted for a non-root caller, test-login approved,
# denied, cancelled by the admin and by Ctrl-C (never a token in its output), and doctor against a crafted
# sshd_config and PAM dir.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

CTL=${DEVFLOWCTL:-$TOP/devflowctl/devflowctl}
if [ ! -x "$CTL" ]; then
        fail "devflowctl built ($CTL missing: make devflowctl/devflowctl)"
        exit 1
fi
if [ ! -x "$DEVFLOWD" ]; then
        fail "daemon built ($DEVFLOWD missing: make asan)"
        exit 1
fi

# jq-less JSON checks: pyj FILE 'python expression over d' -> succeeds when the expression is true.
pyj() {
        python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval("(" + sys.argv[2] + ")") else 1)' "$1" "$2"
}
# rc_is WANT COMMAND...: the command's exit status is WANT (its output in $TEST_DIR/out).
rc_is() {
        local want=$1; shift
        "$@" >"$TEST_DIR/out" 2>"$TEST_DIR/err"
        local rc=$?
        [ "$rc" -eq "$want" ] && return 0
        echo "  exit $rc, wanted $want: $*"; sed 's/^/  | /' "$TEST_DIR/out" "$TEST_DIR/err" | head -20
        return 1
}

# ---- usage ----------------------------------------------------------------------------------------
check "no command: exit 2" rc_is 2 "$CTL"
check "unknown command: exit 2" rc_is 2 "$CTL" frobnicate
check "unknown option: exit 2" rc_is 2 "$CTL" --frobnicate status
check "status with an operand: exit 2" rc_is 2 "$CTL" status extra
check "cancel without ID: exit 2" rc_is 2 "$CTL" cancel
check "cancel with two IDs: exit 2" rc_is 2 "$CTL" cancel a b
check "test-login without user: exit 2" rc_is 2 "$CTL" test-login
check "--rhost outside test-login: exit 2" rc_is 2 "$CTL" --rhost=192.0.2.1 status
check "--pam-dir outside doctor: exit 2" rc_is 2 "$CTL" --pam-dir=/tmp flows
check "--qr=bogus: exit 2" rc_is 2 "$CTL" --qr=bogus test-login root
check "--config without value: exit 2" rc_is 2 "$CTL" doctor --config
if rc_is 0 "$CTL" --help && grep -q '^Usage: devflowctl' "$TEST_DIR/out" && grep -q 'test-login USER' "$TEST_DIR/out"; then
        pass "--help: exit 0, usage with every command"
else
        fail "--help"
fi
VERSION=$(sed -n "s/^ *version : '\\(.*\\)',\$/\\1/p" "$TOP/meson.build" | head -n 1)   # project(version:)
check "--version prints $VERSION" bash -c "'$CTL' --version | grep -qx 'devflowctl $VERSION'"

# ---- no daemon ------------------------------------------------------------------------------------
DBUS_SYSTEM_BUS_ADDRESS=unix:path=$TEST_DIR/no-such-socket rc_is 3 "$CTL" status && pass "no bus at all: status exits 3" ||
        fail "no bus at all: status exits 3"
bus_start || { fail "private dbus-daemon"; exit 1; }
check "bus but no daemon: status exits 3" rc_is 3 "$CTL" status
if grep -q 'not reachable' "$TEST_DIR/err"; then pass "no daemon: says so"; else fail "no daemon: says so"; fi
if rc_is 3 "$CTL" --json flows && pyj "$TEST_DIR/out" 'd["error"] and d["message"]'; then
        pass "no daemon: --json flows exits 3 with a JSON error"
else
        fail "no daemon: --json flows exits 3 with a JSON error"
fi

# ---- a daemon with the fake IdP -------------------------------------------------------------------
if ! command -v node >/dev/null; then
        skip "daemon tests (node missing: tests/deps.sh installs it)"
        exit 0
fi
idp_start "$TEST_DIR/idp" --interval 1 || { fail "fake IdP starts"; exit 1; }
LOCAL_USER=dfctl$$
ensure_user "$LOCAL_USER" || { fail "test user"; exit 1; }
printf 'alice %s\n' "$LOCAL_USER" >"$TEST_DIR/users.map"
chmod 0600 "$TEST_DIR/users.map"
ISSUER=$(idp_issuer)
cat >"$TEST_DIR/devflowd.conf" <<CONF
[idp]
issuer = $ISSUER
client_id = devflow-test
ca_file = $IDP_CA
[login]
username_claim = preferred_username
map_file = $TEST_DIR/users.map
CONF
chmod 0600 "$TEST_DIR/devflowd.conf"
daemon_start "$TEST_DIR/devflowd.conf" || { fail "devflowd start"; exit 1; }

if rc_is 0 "$CTL" status && grep -qE "^ *Version: $VERSION\$" "$TEST_DIR/out" &&
   grep -qF "Issuer: $ISSUER" "$TEST_DIR/out" && grep -qE '^ *Active flows: 0$' "$TEST_DIR/out"; then
        pass "status: version, issuer, active flows"
else
        fail "status: version, issuer, active flows"
fi
if rc_is 0 "$CTL" --json status &&
   pyj "$TEST_DIR/out" "d['version'] == '$VERSION' and d['issuer'] == '$ISSUER' and d['active_flows'] == 0 and
        d['flows_started'] == 0 and isinstance(d['idp_reachable'], bool) and d['uptime_usec'] > 0 and
        'jwks_age_usec' in d and 'discovery_age_usec' in d"; then
        pass "status --json: parses, every field"
else
        fail "status --json: parses, every field"
fi
# Reachability is the last request's outcome: unknown (null, "not fetched yet") until there was one.
if pyj "$TEST_DIR/out" "(d['idp_last_request_age_usec'] is None) == (d['idp_reachable'] is None)" &&
   "$CTL" status >"$TEST_DIR/st.txt" &&
   { ! grep -q 'no request sent yet' "$TEST_DIR/st.txt" || grep -q 'Discovery age: not fetched yet' "$TEST_DIR/st.txt"; } &&
   ! grep -q 'never fetched' "$TEST_DIR/st.txt"; then
        pass "status before or after the first request: reachability and its age agree ($(grep reachable "$TEST_DIR/st.txt"))"
else
        fail "status: reachability without a request"; cat "$TEST_DIR/out" "$TEST_DIR/st.txt"
fi
# The daemon learns the IdP is reachable once discovery/JWKS were fetched.
status_reachable() { "$CTL" --json status >"$TEST_DIR/st.json" && pyj "$TEST_DIR/st.json" 'd["idp_reachable"] is True'; }

check "flows: none pending (text)" bash -c "'$CTL' flows | grep -qx 'No pending flows.'"
if rc_is 0 "$CTL" --json flows && pyj "$TEST_DIR/out" 'd == []'; then pass "flows --json: []"; else fail "flows --json: []"; fi
if rc_is 1 "$CTL" cancel no-such-flow && grep -q 'NoSuchFlow' "$TEST_DIR/err"; then
        pass "cancel of an unknown flow: exit 1, NoSuchFlow"
else
        fail "cancel of an unknown flow: exit 1, NoSuchFlow"
fi

# A non-root caller: the daemon says NotPermitted and devflowctl says so (exit 4, as devflowctl(1) says).
if command -v runuser >/dev/null && getent passwd nobody >/dev/null; then
        CTL_ANY=$(unpriv_copy "$CTL")
        if rc_is 4 runuser -u nobody -- "$CTL_ANY" status && grep -qi 'not permitted' "$TEST_DIR/err" &&
           grep -q 'as root' "$TEST_DIR/err"; then
                pass "status as nobody: NotPermitted reported, exit 4"
        else
                fail "status as nobody: NotPermitted reported, exit 4"
        fi
        if rc_is 4 runuser -u nobody -- "$CTL_ANY" doctor && grep -q 'run it as root' "$TEST_DIR/err" &&
           ! grep -q '^ERROR' "$TEST_DIR/out"; then
                pass "doctor as nobody: 'run it as root', no misleading findings, exit 4"
        else
                fail "doctor as nobody: 'run it as root', exit 4"
        fi
        if rc_is 4 runuser -u nobody -- "$CTL_ANY" --json flows && pyj "$TEST_DIR/out" 'd["error"].endswith("NotPermitted")'; then
                pass "flows --json as nobody: NotPermitted in JSON"
        else
                fail "flows --json as nobody: NotPermitted in JSON"
        fi
else
        skip "non-root caller (runuser or user nobody missing)"
fi

# ---- test-login -----------------------------------------------------------------------------------
# start_login NAME [args]: devflowctl test-login in the background; output in $TEST_DIR/NAME.out,
# PID in $LOGIN_PID; waits until a user code is shown and sets $CODE.
start_login() {
        local name=$1; shift
        LOGIN_OUT=$TEST_DIR/$name.out
        "$CTL" "$@" >"$LOGIN_OUT" 2>"$TEST_DIR/$name.err" &
        LOGIN_PID=$!
        t_track "$LOGIN_PID"
        CODE=
        local i
        for ((i = 0; i < 150; i++)); do
                # the whole code block is out once the waiting line (or the JSON code event) is
                if grep -qE '^Waiting for approval|^\{"event":"code".*\}$' "$LOGIN_OUT"; then
                        CODE=$(grep -oE '[B-Z]{4}-[B-Z]{4}' "$LOGIN_OUT" | head -1)
                        [ -n "$CODE" ] && return 0
                fi
                kill -0 "$LOGIN_PID" 2>/dev/null || break
                sleep 0.1
        done
        echo "  no code from test-login:"; cat "$LOGIN_OUT" "$TEST_DIR/$name.err" | head -20
        return 1
}
# finish_login: waits for the background test-login, sets $LOGIN_RC.
finish_login() {
        local i
        for ((i = 0; i < 300; i++)); do kill -0 "$LOGIN_PID" 2>/dev/null || break; sleep 0.1; done
        wait "$LOGIN_PID"
        LOGIN_RC=$?
}

# 1. --json, approved: a code event, then an "allowed" result as the mapped local user.
if start_login approve --json test-login "$LOCAL_USER" --rhost 192.0.2.7; then
        head -1 "$LOGIN_OUT" >"$TEST_DIR/code.json"
        if pyj "$TEST_DIR/code.json" "d['event'] == 'code' and d['user_code'] == '$CODE' and
                d['verification_uri'].startswith('$IDP_URL') and d['expires_usec'] > 0"; then
                pass "test-login --json: code event with code, link and expiry"
        else
                fail "test-login --json: code event with code, link and expiry"
        fi
        # While it waits, the admin sees the flow.
        if "$CTL" --json flows >"$TEST_DIR/flows.json" &&
           pyj "$TEST_DIR/flows.json" "len(d) == 1 and d[0]['user'] == '$LOCAL_USER' and d[0]['rhost'] == '192.0.2.7' and
                d[0]['service'] == 'devflowctl' and d[0]['expires_usec'] > 0 and d[0]['id']"; then
                pass "flows --json: the pending flow with user, rhost, service"
        else
                fail "flows --json: the pending flow with user, rhost, service"; cat "$TEST_DIR/flows.json"
        fi
        FLOW_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$TEST_DIR/flows.json" 2>/dev/null)
        if "$CTL" flows >"$TEST_DIR/flows.txt" && grep -q '^ID  *USER  *RHOST  *SERVICE  *STATE  *AGE  *EXPIRES' "$TEST_DIR/flows.txt" &&
           grep -E "^$FLOW_ID +$LOCAL_USER +192\.0\.2\.7 +devflowctl +[a-z_-]+ .* in [0-9]+min" "$TEST_DIR/flows.txt" >/dev/null; then
                pass "flows: table row with id, user, rhost, service, state, age, expiry"
        else
                fail "flows: table row"; cat "$TEST_DIR/flows.txt"
        fi
        if "$CTL" --json status >"$TEST_DIR/st.json" && pyj "$TEST_DIR/st.json" 'd["active_flows"] == 1 and d["flows_started"] == 1'; then
                pass "status --json: one active flow, one started"
        else
                fail "status --json: one active flow, one started"
        fi
        idp_approve "$CODE" '{"preferred_username":"alice"}'
        finish_login
        tail -1 "$LOGIN_OUT" >"$TEST_DIR/result.json"
        if [ "$LOGIN_RC" -eq 0 ] && pyj "$TEST_DIR/result.json" "d['event'] == 'result' and d['allowed'] is True and d['local_user'] == '$LOCAL_USER'"; then
                pass "test-login --json approved: allowed as $LOCAL_USER, exit 0"
                # devflowctl(1): root is shown the claims that decided.
                if pyj "$TEST_DIR/result.json" "d['message'] == \"claim 'preferred_username' = 'alice'\""; then
                        pass "test-login as root: the deciding claim and its value ($(cat "$TEST_DIR/result.json"))"
                else
                        fail "test-login as root: the deciding claims"; cat "$TEST_DIR/result.json"
                fi
        else
                fail "test-login --json approved (exit $LOGIN_RC)"; cat "$LOGIN_OUT"; show_daemon_log
        fi
        if "$CTL" --json status >"$TEST_DIR/st.json" && pyj "$TEST_DIR/st.json" 'd["flows_approved"] == 1 and d["active_flows"] == 0'; then
                pass "status --json: the approval is counted"
        else
                fail "status --json: the approval is counted"; cat "$TEST_DIR/st.json"
        fi
else
        fail "test-login --json shows a code"
fi
check "status: the IdP is reachable after a login" wait_for 10 status_reachable

# 2. text, denied at the IdP: code, link and an ASCII QR code, then "Refused: …", exit 1.
if start_login deny test-login "$LOCAL_USER" --qr=ascii; then
        if grep -q "^Open $IDP_URL/device" "$LOGIN_OUT" && grep -q "enter the code $CODE" "$LOGIN_OUT" &&
           [ "$(grep -E '^[# ]{40,}$' "$LOGIN_OUT" | grep -c '##')" -ge 21 ]; then
                pass "test-login: code, link and QR code"
        else
                fail "test-login: code, link and QR code"; head -50 "$LOGIN_OUT"
        fi
        idp_deny "$CODE"
        finish_login
        if [ "$LOGIN_RC" -eq 1 ] && grep -q '^Refused: ' "$LOGIN_OUT"; then
                pass "test-login denied: Refused, exit 1"
        else
                fail "test-login denied (exit $LOGIN_RC)"; tail -5 "$LOGIN_OUT"
        fi
else
        fail "test-login (text) shows a code"
fi

# 3. the admin cancels the pending flow: test-login ends with Cancelled.
if start_login admincancel --json test-login "$LOCAL_USER"; then
        "$CTL" --json flows >"$TEST_DIR/flows.json"
        FLOW_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$TEST_DIR/flows.json" 2>/dev/null)
        if rc_is 0 "$CTL" cancel "$FLOW_ID" && grep -qx "Flow $FLOW_ID cancelled." "$TEST_DIR/out"; then
                pass "cancel ID: exit 0"
        else
                fail "cancel ID: exit 0"
        fi
        finish_login
        tail -1 "$LOGIN_OUT" >"$TEST_DIR/result.json"
        if [ "$LOGIN_RC" -eq 1 ] && pyj "$TEST_DIR/result.json" "d['allowed'] is False and d['error'] == 'Cancelled'"; then
                pass "test-login after cancel: Cancelled, exit 1"
        else
                fail "test-login after cancel (exit $LOGIN_RC)"; cat "$LOGIN_OUT"
        fi
else
        fail "test-login for cancel shows a code"
fi

# 4. Ctrl-C (SIGINT) cancels the flow through Flow.Cancel(): the daemon drops it.
if start_login ctrlc test-login "$LOCAL_USER" --qr=none; then
        kill -INT "$LOGIN_PID"
        finish_login
        no_flows() { "$CTL" --json flows >"$TEST_DIR/f.json" && pyj "$TEST_DIR/f.json" 'all(f["state"] != "pending" and f["state"] != "polling" for f in d) and not any(f["user"] == "'"$LOCAL_USER"'" and f["state"] not in ("refused", "approved") for f in d)'; }
        if [ "$LOGIN_RC" -eq 1 ] && grep -q 'Cancelled' "$LOGIN_OUT" && wait_for 5 no_flows; then
                pass "Ctrl-C: the flow is cancelled at the daemon, exit 1"
        else
                fail "Ctrl-C (exit $LOGIN_RC)"; cat "$LOGIN_OUT" "$TEST_DIR/ctrlc.err"; cat "$TEST_DIR/f.json"
        fi
else
        fail "test-login for Ctrl-C shows a code"
fi

# An account the IdP identity does not map to: approved at the IdP as alice (mapped to $LOCAL_USER), the
# daemon refuses the login for another account; the verdict names the error, exit 1.
if start_login other --json test-login "nosuch$$"; then
        idp_approve "$CODE" '{"preferred_username":"alice"}'
        finish_login
        tail -1 "$LOGIN_OUT" >"$TEST_DIR/result.json"
        if [ "$LOGIN_RC" -eq 1 ] && pyj "$TEST_DIR/result.json" "d['allowed'] is False and d['error'] == 'WrongUser' and
                'maps to local user' in d['message']"; then
                pass "test-login for an account the identity does not map to: WrongUser (not Denied), exit 1 ($(cat "$TEST_DIR/result.json"))"
        else
                fail "test-login for another account (exit $LOGIN_RC)"; cat "$LOGIN_OUT"
        fi
else
        fail "test-login for another account shows a code"
fi

LEAK=$(idp_grep_secrets "$TEST_DIR"/*.out "$TEST_DIR"/*.err "$TEST_DIR"/*.json)
if [ -z "$LEAK" ]; then pass "no token, device_code or secret in devflowctl's output"; else fail "$LEAK"; fi

# ---- doctor ---------------------------------------------------------------------------------------
SSHD=/usr/sbin/sshd
if [ -x "$SSHD" ] && command -v ssh-keygen >/dev/null; then
        # sshd -T wants its privilege separation directory (the sshd service creates it; left in place).
        [ -d /run/sshd ] || mkdir -m 0755 /run/sshd
        ssh-keygen -q -t ed25519 -N '' -f "$TEST_DIR/hostkey" </dev/null
        D=$TEST_DIR/doctor-bad
        mkdir -p "$D/pam.d"
        cat >"$D/sshd_config" <<EOF
HostKey $TEST_DIR/hostkey
UsePAM no
KbdInteractiveAuthentication no
LoginGraceTime 60
EOF
        printf 'auth sufficient pam_devflow.so timeout=90\n' >"$D/pam.d/common-auth"
        printf '@include common-auth\naccount required pam_unix.so\n' >"$D/pam.d/sudo"
        printf '# sshd\nauth required pam_unix.so\nauth sufficient pam_devflow.so timeout=90\n' >"$D/pam.d/sshd"
        # bracketed control split over a continuation line, then pam_permit: permissive
        printf 'auth [success=done \\\n  default=ignore] pam_devflow.so timeout=30 # comment\n-auth required pam_permit.so\n' \
                >"$D/pam.d/login"
        printf '@include loop-b\n' >"$D/pam.d/loop-a"
        printf '@include loop-a\n' >"$D/pam.d/loop-b"
        cp "$TEST_DIR/devflowd.conf" "$D/devflowd.conf"
        chmod 0644 "$D/devflowd.conf"
        rc_is 1 "$CTL" --json doctor --sshd-config "$D/sshd_config" --pam-dir "$D/pam.d" --config "$D/devflowd.conf" \
                --devflowd "$DEVFLOWD" && pass "doctor with problems: exit 1" || fail "doctor with problems: exit 1"
        cp "$TEST_DIR/out" "$TEST_DIR/doctor-bad.json"
        has() { pyj "$TEST_DIR/doctor-bad.json" "any(f['check'] == '$1' and f['severity'] == '$2' and $3 and (f['fix'] or f['severity'] == 'ok') for f in d['findings'])"; }
        check "doctor: UsePAM off is an error" has sshd.use_pam error "'UsePAM' in f['message']"
        check "doctor: KbdInteractiveAuthentication off is an error" has sshd.kbd_interactive error "'no' in f['message']"
        check "doctor: AuthenticationMethods any is a warning" has sshd.authentication_methods warning "'any' in f['message'] and 'password' not in f['message']"
        check "doctor: LoginGraceTime 60 < timeout=90" has sshd.login_grace_time error "'60' in f['message'] and '90' in f['message']"
        check "doctor: pam_devflow in common-auth, reaching sudo" has pam.common_auth error "'common-auth' in f['message'] and 'sudo' in f['message']"
        check "doctor: sufficient with nothing deciding after it" has pam.permissive error "'sshd:3' in f['message']"
        check "doctor: [default=ignore] over a continuation line, then pam_permit" has pam.permissive error "'login:1' in f['message'] and 'pam_permit follows' in f['message']"
        check "doctor: an include loop is reported, not followed forever" has pam.read warning "'loop-' in f['message']"
        check "doctor: an account stack that checks nothing" has pam.account warning "'no account lines' in f['message']"
        check "doctor: world-readable configuration" has config.permissions error "'0644' in f['message']"
        check "doctor: --check-config accepts the configuration" has config.check ok "True"
        check "doctor: the daemon is on the bus" has daemon.bus ok "True"
        # The same in text: severity, message and fix lines, and the summary.
        if rc_is 1 "$CTL" doctor --sshd-config "$D/sshd_config" --pam-dir "$D/pam.d" --config "$D/devflowd.conf" \
                --devflowd "$DEVFLOWD" && grep -q '^ERROR   sshd: UsePAM is' "$TEST_DIR/out" &&
           grep -q '^        fix: install -m 0644 /usr/share/doc/libpam-devflow/examples/50-devflow.conf /etc/ssh/sshd_config.d/50-devflow.conf && sshd -t' "$TEST_DIR/out" && grep -qE '^[0-9]+ errors?, [0-9]+ warnings?\.$' "$TEST_DIR/out"; then
                pass "doctor (text): ERROR lines with their fix, summary"
        else
                fail "doctor (text)"; cat "$TEST_DIR/out"
        fi

        # A good setup: no error, exit 0.
        G=$TEST_DIR/doctor-good
        mkdir -p "$G/pam.d"
        cat >"$G/sshd_config" <<EOF
HostKey $TEST_DIR/hostkey
UsePAM yes
KbdInteractiveAuthentication yes
AuthenticationMethods publickey,keyboard-interactive keyboard-interactive
PasswordAuthentication no
LoginGraceTime 180
EOF
        printf 'auth required pam_unix.so\n' >"$G/pam.d/common-auth"
        printf '@include common-auth\n' >"$G/pam.d/sudo"
        printf 'auth required pam_devflow.so timeout=120\naccount include common-account\n' >"$G/pam.d/sshd"
        printf 'account required pam_unix.so\n' >"$G/pam.d/common-account"
        cp "$TEST_DIR/devflowd.conf" "$G/devflowd.conf"
        chmod 0600 "$G/devflowd.conf"
        if rc_is 0 "$CTL" --json doctor --sshd-config "$G/sshd_config" --pam-dir "$G/pam.d" --config "$G/devflowd.conf" \
                --devflowd "$DEVFLOWD" && pyj "$TEST_DIR/out" "d['errors'] == 0 and d['warnings'] == 0 and
                any(f['check'] == 'pam.sshd' and '120' in f['message'] for f in d['findings'])"; then
                pass "doctor on a good setup: no error, no warning, exit 0"
        else
                fail "doctor on a good setup"; cat "$TEST_DIR/out"
        fi

        # What the old README said: lines appended after Debian's "KbdInteractiveAuthentication no". sshd -t
        # fails; doctor says so as an ERROR quoting sshd and naming the earlier line, exit 1.
        printf 'HostKey %s\nKbdInteractiveAuthentication no\nUsePAM yes\nKbdInteractiveAuthentication yes\nAuthenticationMethods publickey,keyboard-interactive\n' \
                "$TEST_DIR/hostkey" >"$G/appended_config"
        if rc_is 1 "$CTL" --json doctor --sshd-config "$G/appended_config" --pam-dir "$G/pam.d" --config "$G/devflowd.conf" \
                --devflowd "$DEVFLOWD" &&
           pyj "$TEST_DIR/out" "any(f['check'] == 'sshd.test' and f['severity'] == 'error' and 'Disabled method' in f['message']
                and '$G/appended_config:2' in f['message'] and 'sshd_config.d/50-devflow.conf' in f['fix'] for f in d['findings'])"; then
                pass "doctor: sshd -t failing is an ERROR quoting sshd and naming the earlier line"
        else
                fail "doctor: sshd -t failure"; cat "$TEST_DIR/out"
        fi

        # Password logins through a stack with pam_devflow, invalid module arguments (the ignored timeout=5
        # must not be used for LoginGraceTime), common-auth left after the module, a permissive account stack.
        A=$TEST_DIR/doctor-args
        mkdir -p "$A/pam.d"
        printf 'HostKey %s\nUsePAM yes\nKbdInteractiveAuthentication yes\nLoginGraceTime 100\n' "$TEST_DIR/hostkey" \
                >"$A/sshd_config"
        printf 'auth required pam_unix.so\n' >"$A/pam.d/common-auth"
        printf 'account required pam_unix.so\n' >"$A/pam.d/common-account"
        printf 'auth required pam_devflow.so timeout=5 qr=blocks promt=none\n@include common-auth\naccount sufficient pam_permit.so\n@include common-account\n' \
                >"$A/pam.d/sshd"
        rc_is 1 "$CTL" --json doctor --sshd-config "$A/sshd_config" --pam-dir "$A/pam.d" --config "$G/devflowd.conf" \
                --devflowd "$DEVFLOWD" && pass "doctor with argument and stack problems: exit 1" || fail "doctor (args): exit 1"
        cp "$TEST_DIR/out" "$TEST_DIR/doctor-bad.json"
        check "doctor: PasswordAuthentication on with pam_devflow in sshd's stack is an error" \
                has sshd.password error "'PasswordAuthentication' in f['message'] and 'PasswordAuthentication no' in f['fix']"
        for a in timeout=5 qr=blocks promt=none; do
                check "doctor: the module ignores '$a' (its own parser): error" has pam.args error "'$a' in f['message'] and 'sshd:1' in f['message']"
        done
        check "doctor: LoginGraceTime 100 against the timeout the module really uses (110, not the ignored 5)" \
                has sshd.login_grace_time error "'100 s' in f['message'] and '110 s' in f['message']"
        check "doctor: '@include common-auth' after pam_devflow is flagged" has pam.common_after warning "'common-auth' in f['message']"
        check "doctor: 'account sufficient pam_permit.so' is an error" has pam.account error "'sufficient pam_permit' in f['message']"
        check "doctor: the IdP is probed by doctor itself" has daemon.idp ok "'HTTP 200' in f['message']"
        check "doctor: the daemon's last request and its age" has daemon.idp_last ok "'ago' in f['message']"
        if pyj "$TEST_DIR/out" "not any(f['fix'] and ('in /etc/ssh/sshd_config and' in f['fix'] or f['fix'].startswith('devflowd') or
                \"'devflowd \" in f['fix']) for f in d['findings'])"; then
                pass "doctor: no fix tells to edit the end of sshd_config or to run a 'devflowd' that is not on PATH"
        else
                fail "doctor: fix texts"; cat "$TEST_DIR/out"
        fi

        # A configuration devflowd rejects, and a world-readable map file it points at.
        printf '[idp]\nclient_id = x\n' >"$G/broken.conf"
        chmod 0600 "$G/broken.conf"
        printf 'map_file = %s\n' "$G/users.map" >>"$G/broken.conf"
        printf 'alice root\n' >"$G/users.map"
        chmod 0644 "$G/users.map"
        if rc_is 1 "$CTL" --json doctor --sshd-config "$G/sshd_config" --pam-dir "$G/pam.d" --config "$G/broken.conf" \
                --devflowd "$DEVFLOWD" &&
           pyj "$TEST_DIR/out" "any(f['check'] == 'config.check' and f['severity'] == 'error' for f in d['findings']) and
                any(f['check'] == 'config.permissions' and 'users.map' in f['message'] and f['severity'] == 'error' for f in d['findings'])"; then
                pass "doctor: --check-config failure and a world-readable map file are errors"
        else
                fail "doctor: broken configuration"; cat "$TEST_DIR/out"
        fi
else
        skip "doctor against sshd -T (openssh-server or ssh-keygen missing)"
fi

# The IdP goes away: status no longer calls it reachable (the last request's outcome, not a cached
# discovery document), and doctor's own probe fails.
idp_stop
rc_is 1 "$CTL" --json test-login "$LOCAL_USER" --qr=none
if "$CTL" --json status >"$TEST_DIR/st.json" &&
   pyj "$TEST_DIR/st.json" 'd["idp_reachable"] is False and d["idp_last_request_age_usec"] < 30000000'; then
        pass "status after the IdP died: not reachable, last request seconds ago"
else
        fail "status after the IdP died"; cat "$TEST_DIR/st.json" "$TEST_DIR/out"
fi
G=$TEST_DIR/doctor-good
if [ -d "$G" ] && rc_is 1 "$CTL" --json doctor --sshd-config "$G/sshd_config" --pam-dir "$G/pam.d" \
        --config "$G/devflowd.conf" --devflowd "$DEVFLOWD" &&
   pyj "$TEST_DIR/out" "any(f['check'] == 'daemon.idp' and f['severity'] == 'error' for f in d['findings']) and
        any(f['check'] == 'daemon.idp_last' and 'no answer' in f['message'] for f in d['findings'])"; then
        pass "doctor after the IdP died: its own probe fails (error), the daemon's last request got no answer"
else
        fail "doctor after the IdP died"; cat "$TEST_DIR/out"
fi

# doctor with the daemon gone: an error about the bus, exit 1.
daemon_stop
check "daemon stopped cleanly, no sanitizer report" asan_clean
G=$TEST_DIR/doctor-good
if [ -d "$G" ] && rc_is 1 "$CTL" --json doctor --sshd-config "$G/sshd_config" --pam-dir "$G/pam.d" \
        --config "$G/devflowd.conf" --devflowd "$DEVFLOWD" &&
   pyj "$TEST_DIR/out" "d['errors'] == 2 and any(f['check'] == 'daemon.bus' and f['severity'] == 'error' for f in d['findings'])"; then
        pass "doctor without the daemon (and the IdP): errors daemon.bus and daemon.idp, exit 1"
else
        fail "doctor without the daemon"; cat "$TEST_DIR/out"
fi
check "status after the daemon stopped: exit 3" rc_is 3 "$CTL" status
exit 0
