#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole admin journey on a stock Debian 12, as README.md and pam_devflow(8) tell it: make deb, install the
# two packages with the documented command, the system bus (D-Bus activation without systemd), the
# documented configuration and sshd drop-in against Debian's own sshd_config, a real ssh login
# (publickey,keyboard-interactive) approved at the test IdP (tests/idp/fake-idp.js), then apt-get remove
# (the warning names /etc/pam.d/sshd; the daemon is stopped) and purge.
#
# It installs and removes packages and rewrites /etc/ssh and /etc/pam.d: it runs only on a throw-away
# machine, and only when told so:   ADMIN_JOURNEY=1 bash tests/pkg/admin-journey.sh
# On a pristine Debian 12 (a fresh VM or chroot, from a clone of the checkout, as root):
#   env ADMIN_JOURNEY=1 bash tests/pkg/admin-journey.sh
# (env: a wrapper such as timeout(1) takes no leading assignment). The approval is scripted at the project's
# test IdP (tests/idp/fake-idp.js, Node standard library only), which runs on Debian 12's nodejs 18.
. "$(dirname "$0")/../lib.sh"

if [ "${ADMIN_JOURNEY:-}" != 1 ]; then
        skip "admin journey (installs the .debs and rewrites /etc/ssh and /etc/pam.d: only on a throw-away" \
             "machine, with ADMIN_JOURNEY=1)"
        exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
        fail "admin journey needs root"
        exit 1
fi
cd "$TOP"
export DEBIAN_FRONTEND=noninteractive
# A server's / is 0755; an unpacked throw-away root may be 0700 (mktemp -d), and then no user (alice,
# messagebus, dbus-daemon's activation helper) can reach anything.
[ "$(stat -c %a /)" = 755 ] || chmod 0755 /
LOG=$TEST_DIR/journey
mkdir -p "$LOG"
J_BUS_PID=
J_SSHD_PID=
journey_cleanup() {
        [ -n "$J_SSHD_PID" ] && kill "$J_SSHD_PID" 2>/dev/null
        [ -n "$J_BUS_PID" ] && kill "$J_BUS_PID" 2>/dev/null
        t_cleanup
}
trap journey_cleanup EXIT
# step NAME COMMAND...: the command's output goes to $LOG/NAME.log; on failure its tail is shown.
# STEP_LOG is that file.
# jcheck NAME FILE COMMAND...: check, showing FILE's tail when it fails.
jcheck() {
        local name=$1 show=$2; shift 2
        if "$@"; then pass "$name"; return 0; fi
        fail "$name"
        tail -n 40 "$show" 2>/dev/null | sed 's/^/  | /'
        return 1
}
step() {
        local name=$1; shift
        STEP_LOG=$LOG/$(printf '%s' "$name" | tr -c 'A-Za-z0-9' '_' | cut -c1-60).log
        if "$@" >"$STEP_LOG" 2>&1; then
                pass "$name"
                return 0
        fi
        fail "$name"
        tail -n 30 "$STEP_LOG" | sed 's/^/  | /'
        return 1
}

# ---- build and install, as README.md says ---------------------------------------------------------
step "make deb on a clean machine (it installs its own build dependencies)" make deb || exit 1
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
step "the documented install command" \
        apt-get install -y ./build/deb/libpam-devflow_${version}_$arch.deb ./build/deb/devflowd_${version}_$arch.deb || exit 1
check "no -dbgsym package was installed" bash -c '! dpkg-query -W -f="\${Package} \${Status}\n" "*-dbgsym" 2>/dev/null | grep -q "ok installed"'
pamdir=$(dpkg -L libpam-devflow | grep '/security/pam_devflow\.so$')
check "the module is in libpam's directory ($pamdir)" test "$pamdir" = "/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/security/pam_devflow.so"

# ---- the system bus (no systemd here: D-Bus activation runs the daemon itself) -----------------------
if [ ! -S /run/dbus/system_bus_socket ]; then
        mkdir -p /run/dbus
        dbus-daemon --system --fork --print-pid >"$LOG/dbus.pid" 2>"$LOG/dbus.err"
        J_BUS_PID=$(head -1 "$LOG/dbus.pid")
fi
check "a system bus" wait_for 10 test -S /run/dbus/system_bus_socket
unset DBUS_SYSTEM_BUS_ADDRESS

# ---- the identity provider and the documented configuration -----------------------------------------
. "$TOP/tests/idp/idp.sh"
idp_start "$TEST_DIR/idp" --interval 1 || { fail "test IdP starts"; exit 1; }
install -m 0644 "$IDP_CA" /etc/devflow/idp-ca.pem
cat >/etc/devflow/devflowd.conf.d/50-idp.conf <<EOF
[idp]
issuer = $(idp_issuer)
client_id = devflow-test
client_auth = none
ca_file = /etc/devflow/idp-ca.pem

[login]
username_claim = preferred_username
EOF
chmod 0600 /etc/devflow/devflowd.conf.d/50-idp.conf
step "devflowd --check-config accepts the drop-in" /usr/libexec/devflowd --check-config

# ---- sshd: Debian's stock sshd_config, then the documented drop-in ----------------------------------
step "openssh-server" apt-get install -y openssh-server expect || exit 1
mkdir -p /run/sshd
check "Debian's sshd_config says 'KbdInteractiveAuthentication no' after including sshd_config.d" \
        bash -c "grep -n '^Include /etc/ssh/sshd_config.d/\*.conf' /etc/ssh/sshd_config | cut -d: -f1 |
                 { read inc; k=\$(grep -n '^KbdInteractiveAuthentication no' /etc/ssh/sshd_config | cut -d: -f1);
                   [ -n \"\$inc\" ] && [ -n \"\$k\" ] && [ \"\$inc\" -lt \"\$k\" ]; }"
cp /etc/pam.d/sshd "$TEST_DIR/pam.sshd.orig"
sed -i 's/^@include common-auth$/auth required pam_devflow.so/' /etc/pam.d/sshd
check "/etc/pam.d/sshd uses pam_devflow instead of common-auth" grep -qx 'auth required pam_devflow.so' /etc/pam.d/sshd

# What the old README said (lines appended to sshd_config) breaks sshd: doctor says so, quoting sshd.
cp /etc/ssh/sshd_config "$TEST_DIR/appended_config"
printf 'UsePAM yes\nKbdInteractiveAuthentication yes\nAuthenticationMethods publickey,keyboard-interactive\n' \
        >>"$TEST_DIR/appended_config"
devflowctl --json doctor --sshd-config "$TEST_DIR/appended_config" >"$LOG/doctor-appended.json" 2>&1
rc=$?
check "doctor: appended lines are an ERROR quoting sshd -t, exit 1" \
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if int(sys.argv[2]) == 1 and any(
                f["check"] == "sshd.test" and f["severity"] == "error" and "Disabled method" in f["message"]
                for f in d["findings"]) else 1)' "$LOG/doctor-appended.json" "$rc"

install -m 0644 /usr/share/doc/libpam-devflow/examples/50-devflow.conf /etc/ssh/sshd_config.d/50-devflow.conf
step "sshd -t accepts Debian's sshd_config with the drop-in" /usr/sbin/sshd -t
/usr/sbin/sshd -T >"$LOG/sshd-T.txt" 2>&1
check "effective: kbdinteractiveauthentication yes" grep -qx 'kbdinteractiveauthentication yes' "$LOG/sshd-T.txt"
check "effective: passwordauthentication no" grep -qx 'passwordauthentication no' "$LOG/sshd-T.txt"
check "effective: authenticationmethods publickey,keyboard-interactive" \
        grep -qx 'authenticationmethods publickey,keyboard-interactive' "$LOG/sshd-T.txt"

# ---- the user, and doctor on the real system --------------------------------------------------------
id alice >/dev/null 2>&1 || useradd -m -s /bin/bash alice
install -d -m 0700 -o alice -g alice ~alice/.ssh
ssh-keygen -q -t ed25519 -N '' -f "$TEST_DIR/alice_key" </dev/null
install -m 0600 -o alice -g alice "$TEST_DIR/alice_key.pub" ~alice/.ssh/authorized_keys

devflowctl --json doctor >"$LOG/doctor.json" 2>&1
rc=$?
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if int(sys.argv[2]) == 0 and d["errors"] == 0 else 1)' \
        "$LOG/doctor.json" "$rc"; then
        pass "doctor on the documented setup: no error, exit 0"
else
        fail "doctor on the documented setup: no error, exit 0 (exit $rc)"; cat "$LOG/doctor.json"
fi
check "doctor reached the IdP itself" \
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(f["check"] == "daemon.idp" and f["severity"] == "ok" for f in d["findings"]) else 1)' \
        "$LOG/doctor.json"
runuser -u alice -- devflowctl doctor >"$LOG/doctor-alice.txt" 2>&1
rc=$?
jcheck "doctor as a user: 'run as root', exit 4" "$LOG/doctor-alice.txt" \
        bash -c "[ $rc -eq 4 ] && grep -qi 'run .*as root' '$LOG/doctor-alice.txt'"

# ---- a real ssh login, approved at the IdP -----------------------------------------------------------
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/sbin/sshd -D -e -o "ListenAddress=127.0.0.1:$PORT" -o "PidFile=$TEST_DIR/sshd.pid" >"$LOG/sshd.log" 2>&1 &
J_SSHD_PID=$!
check "sshd listens" wait_for 10 grep -q "Server listening on 127.0.0.1 port $PORT" "$LOG/sshd.log"

SSH=(ssh -F /dev/null -p "$PORT" -i "$TEST_DIR/alice_key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
     -o IdentitiesOnly=yes -o LogLevel=ERROR)
# idp.sh resets IDP_* when sourced: the approver sets them after.
export J_APPROVE="source '$TOP/tests/idp/idp.sh'; IDP_URL='$IDP_URL' IDP_CA='$IDP_CA' IDP_DIR='$IDP_DIR';
        idp_approve '' '{\"preferred_username\":\"alice\"}'"
cat >"$TEST_DIR/login.exp" <<'EXP'
set timeout 60
spawn {*}$argv
expect {
        -re {Press Enter once you have approved} {}
        timeout { puts "\nJOURNEY: no prompt"; exit 2 }
        eof { puts "\nJOURNEY: ssh ended before the prompt"; exit 3 }
}
exec bash -c $env(J_APPROVE)
send "\r"
expect {
        -re {JOURNEY-USER=alice} { expect eof; exit 0 }
        -re {Press Enter once you have approved} { send "\r"; exp_continue }
        timeout { puts "\nJOURNEY: no shell"; exit 4 }
        eof { exit 5 }
}
EXP
t0=$SECONDS
step "ssh alice@host: public key, then the device flow approved at the IdP, then a shell" \
        expect "$TEST_DIR/login.exp" \
        "${SSH[@]}" alice@127.0.0.1 'echo JOURNEY-USER=$(id -un)' || { cat "$LOG/sshd.log" | tail -20; }
echo "  login took $((SECONDS - t0)) s"
jcheck "the code was shown with host and source" "$STEP_LOG" grep -q 'from 127.0.0.1' "$STEP_LOG"

# A password attempt is refused at once and spends no code (PasswordAuthentication no).
n_before=$(grep -c '"endpoint":"device_authorization"' "$IDP_DIR/requests.jsonl")
t0=$SECONDS
"${SSH[@]}" -o PreferredAuthentications=password -o BatchMode=yes alice@127.0.0.1 true >"$LOG/password.log" 2>&1
rc=$?
n_after=$(grep -c '"endpoint":"device_authorization"' "$IDP_DIR/requests.jsonl")
jcheck "a password login is refused at once ($((SECONDS - t0)) s), no code issued" "$LOG/password.log" \
        bash -c "[ $rc -ne 0 ] && [ $((SECONDS - t0)) -lt 10 ] && [ $n_before -eq $n_after ]"

devflowctl --json status >"$LOG/status.json" 2>&1
jcheck "status: the IdP is reachable (from the last request)" "$LOG/status.json" \
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("idp_reachable") is True and d.get("idp_last_request_age_usec") is not None else 1)' \
        "$LOG/status.json"
DAEMON=$(dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetConnectionUnixProcessID \
        string:net.devflow.Devflow1 2>/dev/null | awk '/uint32/ {print $2}')
jcheck "the daemon was started by D-Bus activation (pid ${DAEMON:-none})" /var/log/syslog test -n "$DAEMON"
check "without journal and terminal, the daemon's stderr is not where its log goes" \
        bash -c "[ \"\$(readlink /proc/$DAEMON/fd/2)\" = /dev/null ]"

# ---- removal: the warning names the file; the daemon goes with its package --------------------------
kill "$J_SSHD_PID" 2>/dev/null; wait "$J_SSHD_PID" 2>/dev/null; J_SSHD_PID=
apt-get remove -y libpam-devflow devflowd >"$LOG/remove.log" 2>&1
check "apt-get remove" test $? -eq 0
jcheck "removal warns, naming /etc/pam.d/sshd" "$LOG/remove.log" grep -qE '^WARNING: +/etc/pam.d/sshd[[:space:]]*$' "$LOG/remove.log"
check "removal does not warn about a non-empty security directory" bash -c "! grep -qi 'not empty' '$LOG/remove.log'"
# Gone, or a zombie its parent (dbus-daemon, which started it) has not reaped yet: no longer running.
daemon_gone() {
        [ -n "$DAEMON" ] || return 1
        ! kill -0 "$DAEMON" 2>/dev/null || grep -q '^State:[[:space:]]*Z' "/proc/$DAEMON/status" 2>/dev/null
}
grep '^State:' "/proc/$DAEMON/status" >"$LOG/daemon-state.txt" 2>&1
echo "  daemon right after remove: $(grep -s '^State:' "/proc/$DAEMON/status" || echo 'no such process')"
jcheck "the daemon (pid ${DAEMON:-none}) is gone after remove" "$LOG/daemon-state.txt" wait_for 15 daemon_gone
check "no devflowd left on the bus" bash -c "dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
        org.freedesktop.DBus.NameHasOwner string:net.devflow.Devflow1 | grep -q 'boolean false'"
cp "$TEST_DIR/pam.sshd.orig" /etc/pam.d/sshd
rm -f /etc/ssh/sshd_config.d/50-devflow.conf
step "after restoring /etc/pam.d/sshd and removing the drop-in, sshd -t passes" /usr/sbin/sshd -t
# The admin's own files first (purge removes only what the packages installed).
rm -f /etc/devflow/devflowd.conf.d/50-idp.conf /etc/devflow/idp-ca.pem
step "apt-get purge" apt-get purge -y libpam-devflow devflowd
check "purge removes /etc/devflow" test ! -e /etc/devflow
check "nothing of the packages is left" bash -c "! dpkg-query -W -f='\${Status}\n' libpam-devflow devflowd 2>/dev/null | grep -q installed"
idp_stop
[ "$T_FAILED" -eq 0 ]
