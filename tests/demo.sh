#!/usr/bin/env bash
# `make demo`: one real login through pam_devflow, narrated, on this machine, changing nothing outside a
# temp dir. A private D-Bus system bus, the real OpenID Provider (oidc-provider from npm) on loopback
# over TLS, the release devflowd, a temporary local user alice, and pamtester driving the PAM module
# through pam_wrapper (so /etc/pam.d is not touched). By default the demo approves as alice at the
# provider's own device pages after a few seconds; INTERACTIVE=1 waits for you to do it in a browser.
#
#   make demo                 # or: bash tests/demo.sh   (after tests/deps.sh and make all)
#   make demo INTERACTIVE=1
# As root: creating the user needs it. At the end it checks, and says, that every process it started
# is gone, the user is removed, the account files under /etc are as before and the temp dir is gone.
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DEVFLOWD=${DEVFLOWD:-$TOP/devflowd/devflowd}
export PAM_MODULE=${PAM_MODULE:-$TOP/pam_devflow/pam_devflow.so}
INTERACTIVE=${INTERACTIVE:-}
[ "$INTERACTIVE" = 0 ] && INTERACTIVE=
DEMO_USER=alice
RHOST=203.0.113.7

if [ -t 1 ]; then B=$'\e[1m' N=$'\e[0m'; else B='' N=''; fi
say() { printf '\n%s%s%s\n' "$B" "$*" "$N"; }
note() { printf '   %s\n' "$@"; }
die() { T_FAILED=1; printf '\ndemo: %s\n' "$*" >&2; exit 1; }

# Before anything is created: what must hold without the demo's help.
[ "$(id -u)" -eq 0 ] || die "run as root (the demo creates and removes a temporary user); nothing was changed"
for f in "$DEVFLOWD" "$PAM_MODULE"; do
        [ -e "$f" ] || die "$f is missing: run 'make all' first (make demo does); nothing was changed"
done
command -v pamtester >/dev/null || die "pamtester is missing: run 'bash tests/deps.sh'; nothing was changed"

. "$TOP/tests/lib.sh"
. "$TOP/tests/op/op.sh"
[ -n "$PAM_WRAPPER_LIB" ] || die "libpam_wrapper is missing: run 'bash tests/deps.sh'"
op_node_ok || die "node_modules/oidc-provider is missing: run 'bash tests/deps.sh' (npm ci)"

ACCOUNT_FILES=(/etc/passwd /etc/group /etc/shadow /etc/gshadow /etc/subuid /etc/subgid)
# One hash per line of each account file (no secret kept in clear): sorted "file hash" lines.
account_sums() {
        python3 - "${ACCOUNT_FILES[@]}" <<'PY'
import hashlib, sys
for f in sys.argv[1:]:
    try:
        for line in open(f, "rb").read().splitlines():
            print(f, hashlib.sha256(line).hexdigest())
    except FileNotFoundError:
        pass
PY
}
# demo_user_entries: lines of the account files that name the demo user (as account or group member).
demo_user_entries() {
        grep -sHE "^$DEMO_USER:|[:,]$DEMO_USER(,|$)" "${ACCOUNT_FILES[@]}" | cut -d: -f1 | sort -u
}
SUMS_BEFORE=$(account_sums | sort)
USER_EXISTED=
PWRAP_BEFORE=$(ls -d /tmp/pam.? 2>/dev/null)
SERVICE_TEXT=
getent passwd "$DEMO_USER" >/dev/null && USER_EXISTED=1
VERDICT=

# The trap of tests/lib.sh stops every tracked process, removes the user it created and the temp dir;
# then the demo checks that it really did.
demo_cleanup() {
        local rc=$? pids=("${T_PIDS[@]}") left=() p
        say "7. Cleaning up"
        t_cleanup >/dev/null 2>&1
        # pam_wrapper copies the service dir to /tmp/pam.X and does not always remove it (a killed
        # pamtester, or a second copy it makes itself): remove the ones that are ours, and only those.
        local d n=0
        for d in /tmp/pam.?; do
                if [ ! -d "$d" ] || [ -z "$SERVICE_TEXT" ] || grep -qxF "$d" <<<"$PWRAP_BEFORE" ||
                        [ "$(cat "$d/demo" 2>/dev/null)" != "$SERVICE_TEXT" ]; then
                        continue
                fi
                if kill -0 "$(cat "$d/pid" 2>/dev/null)" 2>/dev/null; then
                        note "STILL IN USE: $d"; rc=1
                elif rm -rf "$d"; then
                        n=$((n + 1))
                fi
        done
        [ "$n" -gt 0 ] && note "removed the copy of the PAM service that pam_wrapper left behind ($n dir(s) /tmp/pam.?)"
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left+=("$p"); done
        if [ ${#left[@]} -eq 0 ]; then
                note "stopped all ${#pids[@]} processes the demo started (dbus-daemon, provider, devflowd, pamtester ...)"
        else
                note "STILL RUNNING: ${left[*]}"; rc=1
        fi
        if [ -n "$USER_EXISTED" ]; then
                note "user $DEMO_USER existed before the demo and was left alone"
        elif getent passwd "$DEMO_USER" >/dev/null; then
                note "USER $DEMO_USER IS STILL THERE"; rc=1
        else
                note "removed the temporary user $DEMO_USER"
        fi
        local after lost left_in
        after=$(account_sums | sort)
        lost=$(comm -23 <(echo "$SUMS_BEFORE") <(echo "$after") | wc -l)
        left_in=$(demo_user_entries | tr '\n' ' ')
        if [ -z "$USER_EXISTED" ] && [ -n "$left_in" ]; then
                note "ENTRIES FOR $DEMO_USER ARE LEFT IN: $left_in"; rc=1
        elif [ "$after" = "$SUMS_BEFORE" ]; then
                note "/etc/passwd, group, shadow, gshadow, subuid, subgid: byte for byte as before"
                note "(useradd/userdel refresh their '-' backup copies); nothing else under /etc was written"
        else
                note "/etc account files: nothing of $DEMO_USER left; +$(comm -13 <(echo "$SUMS_BEFORE") \
                        <(echo "$after") | wc -l)/-$lost lines of other accounts differ from before:" \
                        "something else on this machine changed accounts while the demo ran"
        fi
        if [ -d "$TEST_DIR" ]; then
                note "kept $TEST_DIR for inspection (the demo failed)"
        else
                note "removed the temp dir $TEST_DIR"
        fi
        if [ "$rc" -eq 0 ] && [ "$VERDICT" = PAM_SUCCESS ]; then
                say "The machine is as the demo found it."
        elif [ "$rc" -eq 0 ]; then
                rc=1
        fi
        exit "$rc"
}
trap demo_cleanup EXIT

cat <<EOF
${B}pam_devflow demo${N}: a login approved on a phone (OAuth 2.0 device authorization grant, RFC 8628).
Everything runs on this machine, on loopback, inside $TEST_DIR.
EOF

say "1. Starting a private D-Bus system bus (dbus-daemon, nothing changes under /etc/dbus-1) ..."
bus_start || die "dbus-daemon did not start"
note "$DBUS_SYSTEM_BUS_ADDRESS"

say "2. Starting the OpenID Provider (oidc-provider $(node -p 'require(process.argv[1]).version' \
        "$TOP/node_modules/oidc-provider/package.json")) on loopback over TLS, with a throwaway CA ..."
op_start "$TEST_DIR/op" || die "the provider did not start"
note "issuer $OP_URL, client devflow-public, accounts alice/alice and bob/bob"

say "3. Starting devflowd with this configuration ..."
cat >"$TEST_DIR/devflowd.conf" <<EOF
[idp]
issuer = $OP_URL
client_id = devflow-public
client_auth = none
ca_file = $OP_CA
scope = openid profile email

[login]
username_claim = preferred_username
EOF
sed 's/^/   | /' "$TEST_DIR/devflowd.conf"
daemon_start "$TEST_DIR/devflowd.conf" || die "devflowd did not start"
note "devflowd (pid $DAEMON_PID) owns net.devflow.Devflow1 on the private bus"
if [ -n "$USER_EXISTED" ]; then
        note "the local user $DEMO_USER already exists: using it (it will be left alone)"
else
        ensure_user "$DEMO_USER" || die "useradd $DEMO_USER failed"
        note "created a temporary local user $DEMO_USER (no home directory, removed at the end)"
fi

if [ -n "$INTERACTIVE" ]; then
        ARGS="prompt=none qr=ascii timeout=300"
else
        ARGS="prompt=none qr=ascii timeout=120"
fi
pam_service demo "$ARGS"
# Linux-PAM reads "other" too; give it one (deny all) inside the temp dir so it does not complain.
printf 'auth required pam_deny.so\naccount required pam_deny.so\n' >"$PAM_DIR/other"
SERVICE_TEXT=$(cat "$PAM_DIR/demo")
say "4. This is what the user sees: PAM service 'demo' = 'auth required pam_devflow.so $ARGS',"
printf '   %s\n\n' "run by pamtester as $DEMO_USER, as if connecting from $RHOST (pam_wrapper: /etc/pam.d untouched):"
OUT=$TEST_DIR/pamtester.out
: >"$OUT"
# pamtester on a pseudo-terminal (script(1)) as on a console: its conversation is written at once,
# not held in a stdio buffer, and shown live from the captured copy.
export -f pamtester_run
export PAM_WRAPPER_LIB PAM_DIR
SHELL=/bin/bash script -qfec "pamtester_run demo '$DEMO_USER' -I rhost='$RHOST'" /dev/null </dev/null >"$OUT" 2>&1 &
PAM_PID=$!
t_track "$PAM_PID"
tail -n +1 -f --pid="$PAM_PID" "$OUT" | sed -u 's/\r$//' &
TAIL_PID=$!
t_track "$TAIL_PID"

# The code and the link, read from what the user was shown.
code_shown() { grep -qE '[A-Z]{4}-[A-Z]{4}' "$OUT"; }
if ! wait_for 30 code_shown; then
        kill -0 "$PAM_PID" 2>/dev/null || { wait "$PAM_PID"; echo "   (pamtester ended with status $?)"; }
        show_daemon_log
        die "the module showed no code within 30 s"
fi
sleep 0.5
CODE=$(grep -oE '\b[A-Z]{4}-[A-Z]{4}\b' "$OUT" | head -1)
LINK=$(grep -oE "$OP_URL/device\?user_code=[A-Za-z0-9%-]+" "$OUT" | head -1)

if [ -n "$INTERACTIVE" ]; then
        say "5. Your turn: open this link in a browser on this machine and log in as alice / password alice:"
        note "${LINK:-$OP_URL/device}   (code $CODE)"
        note "The certificate comes from the demo's throwaway CA ($OP_CA): accept the browser's warning"
        note "(nothing else on this machine trusts it). Or type the code at $OP_URL/device."
        note "The login waits up to 300 s; Ctrl-C ends the demo and cleans up."
else
        say "5. Approving as alice at the provider's device page in 5 s (make demo INTERACTIVE=1 waits for you instead) ..."
        sleep 5
        note "GET $OP_URL/device, enter $CODE, confirm, log in as alice/alice, consent:"
        if op_approve "$CODE" "$DEMO_USER" >/dev/null 2>"$TEST_DIR/approve.err"; then
                note "the provider says: Sign-in Success"
        else
                note "approval failed: $(cat "$TEST_DIR/approve.err")"
        fi
fi

wait "$PAM_PID"
PAM_RC=$?
wait "$TAIL_PID" 2>/dev/null
if [ "$PAM_RC" -eq 0 ] && grep -q 'pamtester: successfully authenticated' "$OUT"; then
        VERDICT=PAM_SUCCESS
        say "6. Verdict: PAM_SUCCESS: devflowd validated alice's ID token and the module let $DEMO_USER in."
else
        VERDICT=failed
        say "6. Verdict: not authenticated (pamtester status $PAM_RC): $(grep -E '^pamtester' "$OUT" | tail -1)"
        show_daemon_log
        T_FAILED=1
fi
note "The daemon's audit events for this login (no code, token or secret is ever logged):"
grep -E '^(<[0-9]>)?audit: ' "$TEST_DIR/devflowd.log" 2>/dev/null | sed 's/^<[0-9]>//; s/^/   | /'
# The provider logs the grant event before the request line that carried it.
POLLS_AFTER=$(awk '/^EVENT grant.success/ {f = 1; n = -1} f && /^REQ POST \/token / {n++} END {print n + 0}' "$OP_LOG")
note "Token requests the provider received from devflowd: $(op_count '^REQ POST /token '), of which" \
        "$POLLS_AFTER after the one that brought the tokens (the provider revokes tokens on a repeat)"
