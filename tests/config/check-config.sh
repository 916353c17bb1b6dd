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
want="$TEST_DIR/secret.conf:5: [idp] client_secret_file: $secret is readable or writable by group or others (mode 0644); chmod 0600 it"
if [ "$rc" -eq 1 ] && grep -qxF -- "$want" <<<"$out"; then pass "world-readable secret refused"; else fail "world-readable secret refused: $out"; fi
chmod 0600 "$secret"
out=$("$DEVFLOWD" --check-config --config "$TEST_DIR/secret.conf" 2>&1)
check "0600 secret accepted" test "$?" -eq 0 -a "$out" = OK

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
