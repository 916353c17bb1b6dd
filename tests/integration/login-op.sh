#!/usr/bin/env bash
# A whole login through the real module (pam_wrapper + pamtester) and the real daemon (ASan build) on a
# private bus, against the certified oidc-provider over TLS: approve, another identity, denial, the text
# the user sees (host, rhost, link, code, QR that scans), and no secret in any output.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/op/op.sh"

bus_start || { fail "private bus"; exit 1; }
op_start "$TEST_DIR/op" || { fail "oidc-provider start"; exit 1; }
ensure_user dfalice && ensure_user dfbob || { fail "test users"; exit 1; }

cat >"$TEST_DIR/devflowd.conf" <<CONF
[idp]
issuer = $OP_URL
client_id = devflow-public
ca_file = $OP_CA
[login]
# The provider's accounts are alice and bob; the local test accounts are dfalice and dfbob.
username_claim = preferred_username
CONF
# Map the provider's names to the local test accounts through a map file (exact match).
printf 'alice dfalice\nbob dfbob\n' >"$TEST_DIR/users.map"
chmod 0600 "$TEST_DIR/users.map"
printf 'map_file = %s\n' "$TEST_DIR/users.map" >>"$TEST_DIR/devflowd.conf"
daemon_start "$TEST_DIR/devflowd.conf" || { fail "devflowd start"; exit 1; }

pam_service devflow-test "prompt=none qr=ascii timeout=60"

# login USER APPROVER|--deny: runs pamtester in the background, approves (or denies) the code it shows
# at the provider's own pages, and leaves pamtester's status in $RC and its output in $OUT.
approve_op() { if [ "$1" = --deny ]; then op_deny "$2"; else op_approve "$2" "$1"; fi >/dev/null; }
login() {
        pam_login "$1" 203.0.113.7 approve_op "$2"
        cp "$OUT_FILE" "$TEST_DIR/last.out"
}

login dfalice alice
check "approved as alice for dfalice: PAM_SUCCESS" test "$RC" -eq 0
grep -q "successfully authenticated" <<<"$OUT"
check "pamtester says authenticated" test $? -eq 0
grep -q "$(hostname)" <<<"$OUT" && grep -q "203.0.113.7" <<<"$OUT"
check "the prompt names the host and the source address" test $? -eq 0
grep -q "$OP_URL/device" <<<"$OUT"
check "the prompt shows the link" test $? -eq 0

# The QR code in what the user saw decodes to the complete link.
python3 - "$TEST_DIR/last.out" >"$TEST_DIR/qr.txt" <<'PY'
import sys
lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().split("\n")
qr = [l for l in lines if l.strip() and set(l) <= {"#", " "}]
print("\n".join(qr))
PY
if [ -s "$TEST_DIR/qr.txt" ]; then
        python3 "$TOP/tests/tools/text-to-image.py" "$TEST_DIR/qr.txt" "$TEST_DIR/qr.png"
        decoded=$(zbarimg --nodbus -q --raw "$TEST_DIR/qr.png" 2>/dev/null)
        check "the ASCII QR code decodes to the link" test "${decoded%%\?*}" = "$OP_URL/device"
else
        fail "no QR code in the prompt"
fi

login dfalice bob
check "approved as bob for dfalice: refused" test "$RC" -ne 0 -a "$RC" -ne 99
grep -qi "successfully authenticated" <<<"$OUT"
check "no success message for the wrong identity" test $? -ne 0
grep -q "which is not the account 'dfalice'" <<<"$OUT"
check "the user is told the identity is not this account" test $? -eq 0

login dfbob --deny
check "denied at the provider: refused" test "$RC" -ne 0 -a "$RC" -ne 99
grep -qi "denied" <<<"$OUT"
check "the user is told it was denied" test $? -eq 0

check "daemon alive after all logins" daemon_alive
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
