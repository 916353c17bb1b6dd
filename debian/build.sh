#!/usr/bin/env bash
# make deb: builds the binary packages with dpkg-buildpackage in a temporary copy of the tree (the
# work tree stays clean), collects the .deb files in build/deb/ and runs lintian (errors fail).
# Like make check, it first installs what it needs (tests/deps.sh: compiler, dpkg-dev, debhelper,
# fakeroot, lintian and the -dev packages of debian/control's Build-Depends).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

if [ "$(id -u)" -eq 0 ]; then
        bash tests/deps.sh
fi
for tool in make meson ninja dpkg-buildpackage dpkg-architecture dh fakeroot; do
        command -v "$tool" >/dev/null || {
                echo "deb: $tool is missing: run 'bash tests/deps.sh' as root (or apt-get install make meson ninja-build dpkg-dev debhelper fakeroot)" >&2
                exit 1
        }
done

version=$(dpkg-parsechangelog -l debian/changelog -S Version)
upstream=${version%-*}
tmp=$(mktemp -d /tmp/devflow-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/pam-devflow-$upstream
mkdir -p "$src"

# What is committed (HEAD), with the packaging files (conf/ man/ debian/ rpm/) as they are in the
# work tree: others' uncommitted work in progress stays out, and packaging edits can be tried before
# they are committed. In a fresh clone that is simply the tree. Without git: the tree minus build/.
if git rev-parse --verify -q HEAD >/dev/null 2>&1; then
        git archive --format=tar HEAD | tar -xf - -C "$src"
        git ls-files -z --cached --others --exclude-standard -- conf man debian rpm |
                tar --null -T - -cf - | tar -xf - -C "$src"
else
        tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$src"
fi
# Binaries that happen to be in the copy must not be reused.
make -s -C "$src" clean >/dev/null

echo "deb: building $version in $src"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 || {
        tail -n 60 "$tmp/build.log" >&2
        echo "deb: dpkg-buildpackage failed (full log above, last 60 lines)" >&2
        exit 1
}

mkdir -p build/deb
rm -f build/deb/*.deb build/deb/*.changes build/deb/*.buildinfo
cp "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo build/deb/
# dh_auto_test ran meson's unit suite inside the package build: its summary, and the whole log.
cp "$tmp/build.log" build/deb/build.log
echo "deb: the unit suite in the package build (dh_auto_test, meson test --suite unit):" \
        "$(grep -cE '^ *[0-9]+/[0-9]+ pam_devflow:unit / .* OK ' build/deb/build.log) tests OK," \
        "$(awk '/^Fail:/ {print $2; exit}' build/deb/build.log) failed (log: build/deb/build.log)"
ls -l build/deb/*.deb
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
echo "deb: install with (the -dbgsym packages are not needed):"
echo "    apt-get install ./build/deb/libpam-devflow_${version}_$arch.deb ./build/deb/devflowd_${version}_$arch.deb"

if command -v lintian >/dev/null; then
        echo "deb: lintian"
        # --fail-on error: warnings are printed, errors fail the build.
        # Its temp files (/tmp/mldbm-*) go to our temp dir, removed on exit.
        TMPDIR=$tmp lintian --fail-on error --tag-display-limit 0 build/deb/*.changes | tee build/deb/lintian.txt
else
        echo "deb: lintian is missing, not checked" >&2
        exit 1
fi
