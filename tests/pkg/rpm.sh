#!/usr/bin/env bash
# make rpm: rpm/pam-devflow.spec builds a binary RPM (rpmbuild --nodeps on Debian) whose file list has
# every file in the Fedora place, the configuration as %config(noreplace) mode 0600 root, and the
# systemd scriptlets.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"

command -v rpmbuild >/dev/null || { skip "rpm (rpmbuild missing: apt-get install rpm)"; exit 0; }

if bash rpm/build.sh >"$TEST_DIR/build.log" 2>&1; then
        pass "make rpm builds"
else
        fail "make rpm builds"
        tail -n 40 "$TEST_DIR/build.log"
        exit 1
fi
version=$(sed -n 's/^Version:[[:space:]]*//p' rpm/pam-devflow.spec)
rpmfile=$(ls build/rpm/RPMS/*/pam-devflow-"$version"-*.rpm 2>/dev/null | grep -v debug | head -1)
check "the binary RPM exists" test -f "$rpmfile"
[ -f "$rpmfile" ] || exit 1

files=$(rpm -qlp "$rpmfile" 2>/dev/null)
missing=()
for f in /usr/lib64/security/pam_devflow.so /usr/libexec/devflowd /usr/lib/systemd/system/devflowd.service \
         /usr/share/dbus-1/system.d/net.devflow.Devflow1.conf \
         /usr/share/dbus-1/system-services/net.devflow.Devflow1.service \
         /etc/devflow/devflowd.conf /etc/devflow/devflowd.conf.d \
         /usr/share/doc/pam-devflow/examples/pam.d/sshd-devflow \
         /usr/share/doc/pam-devflow/examples/pam.d/login-devflow \
         '/usr/share/man/man8/devflowd.8(.gz)?' '/usr/share/man/man5/devflowd.conf.5(.gz)?' \
         '/usr/share/man/man8/pam_devflow.8(.gz)?'; do
        grep -qxE "$f" <<<"$files" || missing+=("$f")
done
check "RPM file list has every file in the Fedora place${missing:+ (missing: ${missing[*]})}" test ${#missing[@]} -eq 0
grep -q pam-configs <<<"$files"
check "RPM does not ship the Debian pam-auth-update profile" test $? -ne 0

# --dump: path size mtime digest mode owner group isconfig isdoc ...
dump=$(rpm -qp --dump "$rpmfile" 2>/dev/null | grep '^/etc/devflow/devflowd.conf ')
read -r _ _ _ _ mode owner group isconfig _ <<<"$dump"
check "devflowd.conf is mode 0600 root:root (got $mode $owner:$group)" \
        test "$mode" = 0100600 -a "$owner" = root -a "$group" = root
check "devflowd.conf is a config file" test "$isconfig" = 1
# noreplace: rpm marks it in the file flags (RPMFILE_NOREPLACE = 16, RPMFILE_CONFIG = 1).
flags=$(rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS}\n]' "$rpmfile" 2>/dev/null | awk '$1 == "/etc/devflow/devflowd.conf" {print $2}')
check "devflowd.conf is %config(noreplace) (flags $flags)" test -n "$flags" -a $(( ${flags:-0} & 17 )) -eq 17

scripts=$(rpm -qp --scripts "$rpmfile" 2>/dev/null)
for s in postinstall preuninstall postuninstall; do
        sec=$(awk -v s="$s" '/^[a-z]+ scriptlet/ {on = ($1 == s)} on' <<<"$scripts")
        check "$s scriptlet handles devflowd.service" grep -q 'devflowd\.service' <<<"$sec"
done
exit 0
