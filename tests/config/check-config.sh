#!/usr/bin/env bash
# devflowd --check-config: accepts the good examples (and conf/devflowd.conf), rejects each broken example
# with the exact file:line:key message in its .expected file, and never touches the network or the bus.
. "$(dirname "$0")/../lib.sh"

cd "$TOP"
# No bus at all: --check-config must not need one.
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bus

for conf in tests/config/broken/*.conf; do
        name=$(basename "$conf" .conf)
        expected=$(sed "s|{FILE}|$conf|" "tests/config/broken/$name.expected")
        out=$("$DEVFLOWD" --check-config --config "$conf" 2>&1)
        rc=$?
        if [ "$rc" -eq 1 ] && grep -qxF -- "$expected" <<<"$out"; then
                pass "broken/$name"
        else
                fail "broken/$name (exit $rc)"
                echo "  expected: $expected"
                echo "  got:      $out"
        fi
done

# A world-readable secret file (git does not keep modes, so it is made here).
secret=$TEST_DIR/client_secret
printf 's3cret\n' >"$secret"
chmod 0644 "$secret"
printf '[idp]\nissuer = https://idp.example.com\nclient_id = x\nclient_auth = client_secret_basic\nclient_secret_file = %s\n' \
        "$secret" >"$TEST_DIR/secret.conf"
out=$("$DEVFLOWD" --check-config --config "$TEST_DIR/secret.conf" 2>&1)
rc=$?
want="$TEST_DIR/secret.conf:5: [idp] client_secret_file: $secret is readable or writable by group or others (mode 0644); run: chmod 0600 $secret"
if [ "$rc" -eq 1 ] && grep -qxF -- "$want" <<<"$out"; then pass "world-readable secret refused"; else fail "world-readable secret refused: $out"; fi
chmod 0600 "$secret"
out=$("$DEVFLOWD" --check-config --config "$TEST_DIR/secret.conf" 2>&1)
check "0600 secret accepted" test "$?" -eq 0 -a "$out" = OK

# ---- files that decide who logs in: root's, not writable by others; secrets not readable either ----------
# refused NAME CONF LINE...: --check-config exits 1 and prints each LINE exactly; accepted NAME CONF: OK.
refused() {
        local name=$1 conf=$2 line ok=1 out rc
        shift 2
        out=$("$DEVFLOWD" --check-config --config "$conf" 2>&1)
        rc=$?
        [ "$rc" -eq 1 ] || ok=0
        for line in "$@"; do grep -qxF -- "$line" <<<"$out" || ok=0; done
        if [ "$ok" -eq 1 ]; then pass "$name"; else fail "$name (exit $rc)"; printf '  want: %s\n' "$@"; echo "  got:  $out"; fi
}
accepted() {
        local out
        out=$("$DEVFLOWD" --check-config --config "$2" 2>&1)
        check "$1" test "$?" -eq 0 -a "$out" = OK
}
P=$TEST_DIR/perm            # root's, 0755, under $TEST_DIR (0755) under /tmp (1777, sticky: fine above)
mkdir -m 0755 "$P"
base() { printf '[idp]\nissuer = https://idp.example.com\nclient_id = x\n'; }

# The main config at 0666 holding an inline client_secret.
c=$P/inline.conf
{ base; printf 'client_auth = client_secret_post\nclient_secret = s3cret\n'; } >"$c"
chmod 0666 "$c"
refused "config 0666 with an inline secret refused" "$c" \
        "$c: $c is writable by group or others (mode 0666); run: chmod 0644 $c" \
        "$c:5: [idp] client_secret: $c is readable or writable by group or others (mode 0666); run: chmod 0600 $c (it holds the client secret; or move the secret to client_secret_file)"
chmod 0644 "$c"
refused "config 0644 with an inline secret refused (readable)" "$c" \
        "$c:5: [idp] client_secret: $c is readable or writable by group or others (mode 0644); run: chmod 0600 $c (it holds the client secret; or move the secret to client_secret_file)"
chmod 0600 "$c"
accepted "config 0600 with an inline secret accepted" "$c"
# A config without a secret may be world-readable, not writable.
c=$P/plain.conf
base >"$c"
chmod 0644 "$c"
accepted "config 0644 without a secret accepted" "$c"
chmod 0664 "$c"
refused "config 0664 refused" "$c" "$c: $c is writable by group or others (mode 0664); run: chmod 0644 $c"
chmod 0644 "$c"

# A 0777 drop-in directory.
mkdir -m 0755 "$c.d"
chmod 0777 "$c.d"
printf '[login]\nallow_root = yes\n' >"$c.d/50-root.conf"
refused "0777 drop-in directory refused" "$c" "$c.d: $c.d is writable by group or others (mode 0777); run: chmod 0755 $c.d"
chmod 0755 "$c.d"
accepted "0755 drop-in directory accepted" "$c"
chmod 0666 "$c.d/50-root.conf"
refused "0666 drop-in refused" "$c" \
        "$c.d/50-root.conf: $c.d/50-root.conf is writable by group or others (mode 0666); run: chmod 0644 $c.d/50-root.conf"
chmod 0644 "$c.d/50-root.conf"

# Another user's files (needs root to make them).
other=$(id -u nobody 2>/dev/null)
if [ "$(id -u)" -ne 0 ] || [ -z "$other" ]; then
        skip "files owned by another user (needs root and the nobody account)"
else
        chown nobody "$c.d/50-root.conf"
        refused "drop-in owned by another user setting allow_root refused" "$c" \
                "$c.d/50-root.conf: $c.d/50-root.conf is owned by uid $other, not by root; run: chown root:root $c.d/50-root.conf"
        chown root "$c.d/50-root.conf"
        chown nobody "$c.d"
        refused "drop-in directory owned by another user refused" "$c" \
                "$c.d: $c.d is owned by uid $other, not by root; run: chown root:root $c.d"
        chown root "$c.d"

        ca=$P/ca.pem
        printf -- '-----BEGIN CERTIFICATE-----\n' >"$ca"
        { base; printf 'ca_file = %s\n' "$ca"; } >"$P/ca.conf"
        accepted "ca_file 0644 of root accepted" "$P/ca.conf"
        chown nobody "$ca"; chmod 0666 "$ca"
        refused "ca_file owned and writable by another user refused" "$P/ca.conf" \
                "$P/ca.conf:4: [idp] ca_file: $ca is owned by uid $other, not by root; run: chown root:root $ca"
        chown root "$ca"
        refused "ca_file writable by others refused" "$P/ca.conf" \
                "$P/ca.conf:4: [idp] ca_file: $ca is writable by group or others (mode 0666); run: chmod 0644 $ca"
        chmod 0644 "$ca"

        mkdir -m 0700 "$P/nobodys"; chown nobody "$P/nobodys"
        printf 's3cret\n' >"$P/nobodys/secret"; chmod 0600 "$P/nobodys/secret"
        { base; printf 'client_auth = client_secret_basic\nclient_secret_file = %s\n' "$P/nobodys/secret"; } >"$P/nobodys.conf"
        refused "secret in a directory another user owns refused" "$P/nobodys.conf" \
                "$P/nobodys.conf:5: [idp] client_secret_file: $P/nobodys/secret is in $P/nobodys, which is owned by uid $other, not by root; run: chown root:root $P/nobodys"
fi

# A secret file in a 1777 directory; and below a 0777 one.
mkdir -m 0755 "$P/sticky"; chmod 1777 "$P/sticky"
printf 's3cret\n' >"$P/sticky/secret"; chmod 0600 "$P/sticky/secret"
{ base; printf 'client_auth = client_secret_basic\nclient_secret_file = %s\n' "$P/sticky/secret"; } >"$P/sticky.conf"
refused "secret in a 1777 directory refused" "$P/sticky.conf" \
        "$P/sticky.conf:5: [idp] client_secret_file: $P/sticky/secret is in $P/sticky, which others may write to (mode 1777); move it into a directory only root can write to, such as /etc/devflow"
mkdir -m 0755 "$P/open" "$P/open/sub"; chmod 0777 "$P/open"
printf 's3cret\n' >"$P/open/sub/secret"; chmod 0600 "$P/open/sub/secret"
{ base; printf 'client_auth = client_secret_basic\nclient_secret_file = %s\n' "$P/open/sub/secret"; } >"$P/open.conf"
refused "secret below a 0777 directory refused" "$P/open.conf" \
        "$P/open.conf:5: [idp] client_secret_file: $P/open/sub/secret is in $P/open, which group or others may write to (mode 0777); run: chmod 0755 $P/open"
chmod 0755 "$P/open"
accepted "secret below a fixed directory accepted (a sticky /tmp further up is fine)" "$P/open.conf"

# Several errors are all reported, one per line.
printf "[idp]\nhttp_timeout = x\nbogus = 1\n" >"$TEST_DIR/multi.conf"
n=$("$DEVFLOWD" --check-config --config "$TEST_DIR/multi.conf" 2>&1 | grep -c "^$TEST_DIR/multi.conf")
check "every error reported (4 of them)" test "$n" -eq 4

for conf in tests/config/good/*.conf conf/devflowd.conf; do
        [ -f "$conf" ] || continue
        out=$("$DEVFLOWD" --check-config --config "$conf" 2>&1)
        rc=$?
        if [ "$rc" -eq 0 ] && [ "$out" = OK ]; then pass "accepts $conf"; else fail "accepts $conf: $out"; fi
done

out=$("$DEVFLOWD" --check-config --config "$TEST_DIR/missing.conf" 2>&1)
check "missing file is an error naming it" test "$?" -eq 1 -a -n "$(grep -F "$TEST_DIR/missing.conf: cannot read: No such file or directory" <<<"$out")"

"$DEVFLOWD" --help | grep -q -- '--check-config'
check "--help" test "$?" -eq 0
check "--version" test "$("$DEVFLOWD" --version)" = "devflowd 0.1.0"
"$DEVFLOWD" --no-such-option >/dev/null 2>&1
check "unknown option exits 2" test "$?" -eq 2
