#!/usr/bin/env bash
# conf/: every IdP example block of devflowd.conf is accepted by devflowd --check-config once
# uncommented; the D-Bus policy lets root own the name and nobody else; the unit is valid and scores
# "OK" or better in systemd-analyze security; the activation file, PAM snippets and pam-auth-update
# profile say what they must.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"

daemon=$DEVFLOWD
[ -x "$daemon" ] || daemon=$TOP/devflowd/devflowd

# ---- devflowd.conf: the active part and each example block -------------------------------------
if [ ! -x "$daemon" ]; then
        skip "devflowd.conf examples (no devflowd binary built)"
else
        export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent/bus
        out=$("$daemon" --check-config --config conf/devflowd.conf 2>&1)
        check "conf/devflowd.conf is accepted ($out)" test "$out" = OK

        secret=$TEST_DIR/secret
        printf 's3cret\n' >"$secret"; chmod 0600 "$secret"
        # Blocks start at "# --- Name: ..." and end at a line that is just "#". Inside, "# x" is
        # the uncommented line x, and "# # x" stays a comment.
        mkdir -p "$TEST_DIR/ex"
        sed -n '/^# === Examples/,$p' conf/devflowd.conf | awk -v dir="$TEST_DIR/ex" '
                /^# --- / { name = tolower($3); sub(/:$/, "", name); out = dir "/" name ".conf"; on = 1; next }
                on && /^#$/ { on = 0; next }
                on { print substr($0, 3) > out }'
        n=0
        for name in keycloak auth0 pingone pingfederate google microsoft; do
                f=$TEST_DIR/ex/$name.conf
                if [ ! -s "$f" ]; then fail "example block for $name exists"; continue; fi
                n=$((n + 1))
                # Paths of secrets point at a real 0600 file; <placeholders> get a value.
                sed -i -E "s#/etc/devflow/[a-z_.-]+#$secret#; s#<[A-Za-z-]+>#0123abcd#g" "$f"
                out=$("$daemon" --check-config --config "$f" 2>&1)
                if [ "$out" = OK ]; then pass "example $name accepted"; else fail "example $name accepted: $out"; fi
        done
        grep -q 'client_auth = client_secret_post' "$TEST_DIR/ex/google.conf"
        check "Google example uses client_secret_post" test $? -eq 0
        grep -q 'extra_params = audience=' "$TEST_DIR/ex/auth0.conf" && grep -q '/oauth/device/code' "$TEST_DIR/ex/auth0.conf"
        check "Auth0 example has the audience and /oauth/device/code" test $? -eq 0
        grep -q '/as/device_authz.oauth2' "$TEST_DIR/ex/pingfederate.conf"
        check "PingFederate example uses /as/device_authz.oauth2" test $? -eq 0
        grep -q '/oauth2/v2.0/devicecode' "$TEST_DIR/ex/microsoft.conf"
        check "Entra ID example uses /oauth2/v2.0/devicecode" test $? -eq 0
        # The mutation the test must catch: a broken example is refused.
        printf '[idp]\nissuer = https://x.example\nclient_id = a\nclient_auth = client_secret_post\n' >"$TEST_DIR/bad.conf"
        "$daemon" --check-config --config "$TEST_DIR/bad.conf" >/dev/null 2>&1
        check "a broken example would be refused" test $? -eq 1
fi

# ---- D-Bus policy: root owns the name, nobody else does ------------------------------------------
request_name() {  # prints the RequestName reply code, or the error name
        dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus.RequestName string:net.devflow.Devflow1 uint32:4 2>&1 |
                grep -oE 'uint32 [0-9]+|org\.freedesktop\.DBus\.Error\.[A-Za-z]+' | head -1
}
if ! command -v dbus-daemon >/dev/null || [ "$(id -u)" -ne 0 ]; then
        skip "D-Bus policy (needs dbus-daemon and root)"
elif bus_start; then
        pass "dbus-daemon accepts the policy file"
        check "root may own net.devflow.Devflow1 ($(request_name))" test "$(request_name)" = "uint32 1"
        got=$(setpriv --reuid=65534 --regid=65534 --clear-groups bash -c "$(declare -f request_name); request_name")
        check "nobody may not own net.devflow.Devflow1 ($got)" test "$got" = org.freedesktop.DBus.Error.AccessDenied
else
        fail "dbus-daemon accepts the policy file"
fi

# ---- the unit -----------------------------------------------------------------------------------
unit=conf/devflowd.service
missing=()
for d in Type=dbus BusName=net.devflow.Devflow1 ExecStart=/usr/libexec/devflowd NoNewPrivileges=yes \
         ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes ProtectKernelTunables=yes \
         ProtectKernelModules=yes ProtectKernelLogs=yes ProtectControlGroups=yes ProtectClock=yes \
         ProtectHostname=yes "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" RestrictNamespaces=yes \
         RestrictRealtime=yes RestrictSUIDSGID=yes LockPersonality=yes MemoryDenyWriteExecute=yes \
         SystemCallArchitectures=native SystemCallFilter=@system-service CapabilityBoundingSet= \
         AmbientCapabilities= UMask=0077; do
        grep -qx -- "$d" "$unit" || missing+=("$d")
done
check "unit has every hardening setting${missing:+ (missing: ${missing[*]})}" test ${#missing[@]} -eq 0
grep -qE '^(PrivateUsers|DynamicUser|IPAddressDeny)=' "$unit"
check "unit keeps root-owned secrets and the IdP reachable (no PrivateUsers, DynamicUser, IPAddressDeny)" test $? -ne 0
if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
        line=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1 | grep 'Overall exposure level')
        score=$(grep -oE '[0-9]+\.[0-9]+' <<<"$line" | head -1)
        comment=$(grep -oE 'security --offline=true devflowd.service` \(systemd [0-9]+\): [0-9.]+' "$unit" | grep -oE '[0-9.]+$')
        check "systemd-analyze security: $score, OK or better (<= 2.0)" awk -v s="${score:-99}" 'BEGIN { exit !(s <= 2.0) }'
        check "the score in the unit's comment ($comment) is the real one ($score)" test "$comment" = "$score"
        # Syntax: nothing but the messages about files that are not installed here.
        out=$(systemd-analyze verify "$unit" 2>&1 | grep -vE 'is not executable|Command .man |No such file')
        check "systemd-analyze verify finds nothing${out:+: $out}" test -z "$out"
else
        skip "systemd-analyze security --offline (systemd too old)"
fi

# ---- activation, PAM snippets, pam-auth-update profile ---------------------------------------------
act=conf/net.devflow.Devflow1.service
check "activation file names the bus name" grep -qx 'Name=net.devflow.Devflow1' "$act"
grep -qx 'SystemdService=devflowd.service' "$act" && grep -qx 'Exec=/usr/libexec/devflowd' "$act" && grep -qx 'User=root' "$act"
check "activation file: SystemdService, Exec, User" test $? -eq 0

for f in conf/pam.d/sshd-devflow conf/pam.d/login-devflow conf/pam-configs/devflow; do
        lines=$(grep -vE '^\s*(#|$)' "$f" | grep 'pam_devflow\.so')
        bad=()
        while read -r line; do
                [ -n "$line" ] || continue
                args=${line#*pam_devflow.so}
                for a in $args; do
                        [[ "$a" =~ ^(qr=(auto|ascii|utf8|off)|prompt=(enter|none)|timeout=[0-9]+|debug)$ ]] || bad+=("$a")
                done
        done <<<"$lines"
        check "$f calls pam_devflow.so with valid arguments${bad:+ (bad: ${bad[*]})}" test -n "$lines" -a ${#bad[@]} -eq 0
done
grep -q 'AuthenticationMethods publickey,keyboard-interactive' conf/pam.d/sshd-devflow
check "sshd snippet explains AuthenticationMethods publickey,keyboard-interactive" test $? -eq 0

# The sshd drop-in wins over Debian's stock sshd_config, which includes sshd_config.d/*.conf at its top and
# says "KbdInteractiveAuthentication no" further down (sshd keeps the first value): sshd -t accepts it and
# the effective settings are the drop-in's. The same lines appended at the end are what sshd -t refuses.
if [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null; then
        [ -d /run/sshd ] || mkdir -m 0755 /run/sshd
        S=$TEST_DIR/sshd
        mkdir -p "$S/sshd_config.d"
        ssh-keygen -q -t ed25519 -N '' -f "$S/hostkey" </dev/null
        cp conf/sshd_config.d/50-devflow.conf "$S/sshd_config.d/"
        printf 'Include %s/sshd_config.d/*.conf\nHostKey %s/hostkey\nKbdInteractiveAuthentication no\nUsePAM yes\n' \
                "$S" "$S" >"$S/sshd_config"
        if /usr/sbin/sshd -t -f "$S/sshd_config" >"$S/t.out" 2>&1 && /usr/sbin/sshd -T -f "$S/sshd_config" >"$S/T.out" 2>&1 &&
           grep -qx 'kbdinteractiveauthentication yes' "$S/T.out" && grep -qx 'passwordauthentication no' "$S/T.out" &&
           grep -qx 'usepam yes' "$S/T.out" && grep -qx 'authenticationmethods publickey,keyboard-interactive' "$S/T.out"; then
                pass "the sshd drop-in wins over a later 'KbdInteractiveAuthentication no' (sshd -t, sshd -T)"
        else
                fail "the sshd drop-in against a Debian-like sshd_config"; cat "$S/t.out" "$S/T.out" | head
        fi
        rm "$S/sshd_config.d/50-devflow.conf"
        grep -v '^#' conf/sshd_config.d/50-devflow.conf >>"$S/sshd_config"
        if ! /usr/sbin/sshd -t -f "$S/sshd_config" >"$S/t.out" 2>&1 && grep -q 'Disabled method' "$S/t.out"; then
                pass "the same lines appended to sshd_config: sshd -t refuses them (why the docs say drop-in)"
        else
                fail "appended lines: sshd -t"; cat "$S/t.out"
        fi
else
        skip "sshd drop-in against sshd -t (openssh-server missing)"
fi
grep -q 'prompt=none' conf/pam.d/login-devflow
check "console snippet uses prompt=none" test $? -eq 0
check "pam-auth-update profile is Default: no" grep -qx 'Default: no' conf/pam-configs/devflow
# pam-auth-update has no comment syntax: a '#' line would end up in the PAM stack.
grep -q '^#' conf/pam-configs/devflow
check "pam-auth-update profile has no comment lines" test $? -ne 0
exit 0
