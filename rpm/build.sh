#!/usr/bin/env bash
# make rpm: a source tarball of the tree (the files git knows, as they are in the work tree), then
# rpmbuild -bb --nodeps with a private _topdir under build/rpm (BuildRequires name Fedora packages,
# which a Debian host does not have), then the file list of each RPM.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

command -v rpmbuild >/dev/null || { echo "rpm: rpmbuild is missing (apt-get install rpm)" >&2; exit 1; }

spec=rpm/pam-devflow.spec
name=$(sed -n 's/^Name:[[:space:]]*//p' "$spec")
version=$(sed -n 's/^Version:[[:space:]]*//p' "$spec")
topdir=$top/build/rpm
rm -rf "$topdir"
mkdir -p "$topdir"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}

tmp=$(mktemp -d /tmp/devflow-rpm.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/$name-$version"
# What is committed (HEAD), with the packaging files (conf/ man/ debian/ rpm/) as they are in the
# work tree: others' uncommitted work in progress stays out, and packaging edits can be tried before
# they are committed. In a fresh clone that is simply the tree. Without git: the tree minus build/.
if git rev-parse --verify -q HEAD >/dev/null 2>&1; then
        git archive --format=tar HEAD | tar -xf - -C "$tmp/$name-$version"
        git ls-files -z --cached --others --exclude-standard -- conf man debian rpm |
                tar --null -T - -cf - | tar -xf - -C "$tmp/$name-$version"
else
        tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$tmp/$name-$version"
fi
make -s -C "$tmp/$name-$version" clean >/dev/null
tar -C "$tmp" -czf "$topdir/SOURCES/$name-$version.tar.gz" "$name-$version"
cp "$spec" "$topdir/SPECS/"

echo "rpm: building $name-$version in $topdir"
rpmbuild -bb --nodeps --define "_topdir $topdir" "$topdir/SPECS/${spec##*/}" >"$topdir/build.log" 2>&1 || {
        tail -n 60 "$topdir/build.log" >&2
        echo "rpm: rpmbuild failed (last 60 lines of $topdir/build.log above)" >&2
        exit 1
}
for r in "$topdir"/RPMS/*/*.rpm; do
        echo "== ${r#$top/}"
        rpm -qlp "$r"
done
