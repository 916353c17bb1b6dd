#!/usr/bin/env bash
# make deb: the Debian packages build (dpkg-buildpackage in a temporary copy), lintian reports no
# error, each .deb holds every file where the man pages say, with the right modes, and the
# packages' metadata is right (conffile, dependencies, the profile not enabled by default).
. "$(dirname "$0")/../lib.sh"
cd "$TOP"

for tool in dpkg-buildpackage dh lintian dpkg-architecture; do
        command -v "$tool" >/dev/null || { skip "deb ($tool missing: apt-get install dpkg-dev debhelper lintian)"; exit 0; }
done
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
version=$(dpkg-parsechangelog -l debian/changelog -S Version)

if bash debian/build.sh >"$TEST_DIR/build.log" 2>&1; then
        pass "make deb builds and lintian reports no error"
else
        fail "make deb builds and lintian reports no error"
        tail -n 40 "$TEST_DIR/build.log"
        exit 1
fi
# dh_auto_test ran the unit suite (meson test --suite unit) inside the package build, and it passed.
n=$(grep -cE '^ *[0-9]+/[0-9]+ pam_devflow:unit / .* OK ' build/deb/build.log 2>/dev/null)
check "the package build ran the unit suite ($n tests OK)" \
        bash -c "[ '${n:-0}' -ge 20 ] && grep -q 'meson test --suite unit' build/deb/build.log && grep -qE '^Fail: +0 *$' build/deb/build.log"
# The build ran in a copy: none of dpkg-buildpackage's output lands in the work tree (these names are
# in .gitignore, so git status would not show them).
left=$(ls -d debian/tmp debian/.debhelper debian/files debian/devflowd debian/libpam-devflow \
        debian/*.substvars debian/debhelper-build-stamp ../pam-devflow_*.changes 2>/dev/null)
check "the work tree has no build output in debian/ ($left)" test -z "$left"
grep -q '^E: ' build/deb/lintian.txt
check "lintian output has no E: line" test $? -ne 0

lib=build/deb/libpam-devflow_${version}_${arch}.deb
daemon=build/deb/devflowd_${version}_${arch}.deb

# expect_files DEB PATH... : every path is in the package (PATH may end in a mode "=0600").
expect_files() {
        local deb=$1; shift
        local list missing=() e path mode
        if [ ! -f "$deb" ]; then fail "$(basename "$deb") exists"; return; fi
        list=$(dpkg-deb -c "$deb" | awk '{print $1, $6}' | sed 's| \./| /|')
        for e in "$@"; do
                path=${e%%=*}
                mode=; [[ "$e" == *=* ]] && mode=${e#*=}
                if ! grep -qE " ${path//./\\.}/?\$" <<<"$list"; then
                        missing+=("$path")
                elif [ -n "$mode" ]; then
                        local perms want
                        perms=$(grep -E " ${path//./\\.}\$" <<<"$list" | awk '{print $1}')
                        want=$(case $mode in 0600) echo -rw-------;; 0644) echo -rw-r--r--;; 0755) echo -rwxr-xr-x;; esac)
                        [ "$perms" = "$want" ] || missing+=("$path (mode $perms, want $want)")
                fi
        done
        if [ ${#missing[@]} -eq 0 ]; then
                pass "$(basename "$deb") holds its $# files"
        else
                fail "$(basename "$deb") holds its files; missing or wrong: ${missing[*]}"
        fi
}

expect_files "$lib" \
        "/lib/$multiarch/security/pam_devflow.so=0644" \
        /usr/share/pam-configs/devflow \
        /usr/share/man/man8/pam_devflow.8.gz \
        /usr/share/doc/libpam-devflow/examples/sshd-devflow \
        /usr/share/doc/libpam-devflow/examples/login-devflow \
        /usr/share/doc/libpam-devflow/examples/50-devflow.conf \
        /usr/share/doc/libpam-devflow/copyright

expect_files "$daemon" \
        /usr/libexec/devflowd=0755 \
        /etc/devflow/devflowd.conf=0600 \
        /etc/devflow/devflowd.conf.d \
        /usr/share/dbus-1/system.d/net.devflow.Devflow1.conf=0644 \
        /usr/share/dbus-1/system-services/net.devflow.Devflow1.service \
        /lib/systemd/system/devflowd.service \
        /usr/share/man/man8/devflowd.8.gz \
        /usr/share/man/man5/devflowd.conf.5.gz \
        /usr/share/doc/devflowd/copyright

# devflowctl ships with the daemon once it is built.
if [ -n "$(ls devflowctl/*.c 2>/dev/null)" ]; then
        expect_files "$daemon" /usr/bin/devflowctl=0755 /usr/share/man/man1/devflowctl.1.gz
else
        skip "devflowctl in devflowd.deb (no devflowctl/ sources yet)"
fi

# Metadata.
dpkg-deb -e "$daemon" "$TEST_DIR/daemon.ctl"
check "devflowd.conf is a conffile" grep -qx /etc/devflow/devflowd.conf "$TEST_DIR/daemon.ctl/conffiles"
check "libpam-devflow depends on devflowd of the same version" \
        grep -qE "^Depends:.*devflowd \(= ${version//./\\.}\)" <(dpkg-deb -f "$lib")
check "libpam-devflow is Multi-Arch: same" test "$(dpkg-deb -f "$lib" Multi-Arch)" = same
dpkg-deb --fsys-tarfile "$lib" | tar -xOf - ./usr/share/pam-configs/devflow >"$TEST_DIR/profile"
check "pam-auth-update profile is Default: no" grep -qx 'Default: no' "$TEST_DIR/profile"
check "pam-auth-update profile calls pam_devflow.so" grep -qE '^\s+\[.*\]\s+pam_devflow\.so' "$TEST_DIR/profile"

# The module in the package exports only the PAM entry points.
mkdir -p "$TEST_DIR/x" && dpkg-deb -x "$lib" "$TEST_DIR/x"
syms=$(nm -D --defined-only "$TEST_DIR/x/lib/$multiarch/security/pam_devflow.so" | awk '{print $3}' | sort | tr '\n' ' ')
check "packaged module exports only pam_sm_* (got: $syms)" test "$syms" = "pam_sm_authenticate pam_sm_setcred "

# The module lands where libpam looks for modules (libpam's pkg-config libdir: Debian 12 /lib/<triplet>),
# the directory libpam0g ships: removing the package then leaves no "directory not empty" warning.
pamdir=$(pkg-config --variable=libdir pam)/security
check "the module's directory is libpam's ($pamdir)" \
        bash -c "dpkg-deb -c '$lib' | grep -qE ' \.${pamdir//./\\.}/pam_devflow\.so\$'"

# libpam-devflow's prerm warns, naming each file, when /etc/pam.d files other than common-* still use the
# module (DPKG_ROOT points it at a fake root; pam-auth-update is a stub).
dpkg-deb -e "$lib" "$TEST_DIR/lib.ctl"
R=$TEST_DIR/root
mkdir -p "$R/etc/pam.d" "$TEST_DIR/bin"
printf '#!/bin/sh\nexit 0\n' >"$TEST_DIR/bin/pam-auth-update"; chmod +x "$TEST_DIR/bin/pam-auth-update"
printf 'auth required pam_devflow.so timeout=100\n' >"$R/etc/pam.d/sshd"
printf 'auth [success=done default=die] /lib/x/security/pam_devflow.so prompt=none\n' >"$R/etc/pam.d/login"
printf '# auth required pam_devflow.so\nauth required pam_unix.so\n' >"$R/etc/pam.d/su"
printf 'auth [success=end default=ignore] pam_devflow.so\n' >"$R/etc/pam.d/common-auth"
DPKG_ROOT=$R PATH=$TEST_DIR/bin:$PATH sh "$TEST_DIR/lib.ctl/prerm" remove >"$TEST_DIR/prerm.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q "WARNING: *$R/etc/pam.d/sshd\$" "$TEST_DIR/prerm.out" &&
   grep -q "WARNING: *$R/etc/pam.d/login\$" "$TEST_DIR/prerm.out" && ! grep -q 'pam.d/su$\|pam.d/common-auth' "$TEST_DIR/prerm.out" &&
   grep -q 'Module is unknown' "$TEST_DIR/prerm.out"; then
        pass "prerm remove warns, naming sshd and login (not a comment, not common-auth)"
else
        fail "prerm remove warning (exit $rc)"; cat "$TEST_DIR/prerm.out"
fi
rm "$R/etc/pam.d/sshd" "$R/etc/pam.d/login"
DPKG_ROOT=$R PATH=$TEST_DIR/bin:$PATH sh "$TEST_DIR/lib.ctl/prerm" remove >"$TEST_DIR/prerm.out" 2>&1
check "prerm remove is silent when no service uses the module" test ! -s "$TEST_DIR/prerm.out"
DPKG_ROOT=$R PATH=$TEST_DIR/bin:$PATH sh "$TEST_DIR/lib.ctl/prerm" upgrade 0.1.0-1 >"$TEST_DIR/prerm.out" 2>&1
check "prerm upgrade does not warn" test ! -s "$TEST_DIR/prerm.out"
dpkg-deb -e "$daemon" "$TEST_DIR/daemon.ctl2"
check "devflowd's prerm stops the daemon (systemd or not)" \
        grep -q 'start-stop-daemon --stop .*--exec /usr/libexec/devflowd' "$TEST_DIR/daemon.ctl2/prerm"

# The packaged configuration is accepted by the packaged daemon.
dpkg-deb -x "$daemon" "$TEST_DIR/d"
out=$("$TEST_DIR/d/usr/libexec/devflowd" --check-config --config "$TEST_DIR/d/etc/devflow/devflowd.conf" 2>&1)
check "packaged devflowd accepts the packaged devflowd.conf ($out)" test "$out" = OK
exit 0
