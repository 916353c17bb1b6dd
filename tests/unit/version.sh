#!/usr/bin/env bash
# The version is meson.build's project(version:) (given as $1); every file that has to spell it again
# agrees: debian/changelog (the upstream part of the top entry), the rpm spec (Version: and the top
# %changelog entry), the man pages' .TH footer, package.json. No tool beyond bash, sed and grep.
set -uo pipefail
cd "$(dirname "$0")/../.."
v=${1:?usage: version.sh VERSION}
failed=0
check() {  # check WHAT GOT
        if [ "$2" = "$v" ]; then echo "PASS: version: $1 says $v"; else echo "FAIL: version: $1 says '$2', meson.build $v"; failed=1; fi
}
deb=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' debian/changelog)
deb=${deb#*:}
check debian/changelog "${deb%-*}"
check "rpm/pam-devflow.spec Version" "$(sed -n 's/^Version:[[:space:]]*//p' rpm/pam-devflow.spec)"
top=$(sed -n '/^%changelog/{n;s/.* - \([^ -]*\)-[^ -]*$/\1/p;q}' rpm/pam-devflow.spec)
check "rpm/pam-devflow.spec %changelog" "$top"
for m in man/*.[0-9]; do
        check "$m" "$(sed -n '/^\.TH /{s/.*"pam_devflow \([^"]*\)".*/\1/p;q}' "$m")"
done
check package.json "$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' package.json)"
# The package file names the install instructions spell (README.md, pam_devflow(8)): the Debian version.
for f in README.md man/pam_devflow.8; do
        while read -r got; do
                [ -n "$got" ] || continue
                if [ "$got" = "${deb}" ]; then echo "PASS: version: $f names packages $got"
                else echo "FAIL: version: $f names packages '$got', debian/changelog $deb"; failed=1; fi
        done < <(sed 's/\\-/-/g' "$f" | grep -oE '(libpam-devflow|devflowd)_[^_]+_' | sed -E 's/^[a-z-]+_//; s/_$//' | sort -u)
done
exit $failed
