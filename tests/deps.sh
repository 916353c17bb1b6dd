#!/usr/bin/env bash
# Installs what the build, the tests and the demo need on a Debian 12 machine, from Debian's own
# packages and the npm registry only, and checks what it cannot install:
#   - the Debian packages that are missing (apt-get update once, only when something is missing),
#     naming them and printing a progress line while apt works (its full output goes to a log);
#   - node 18 or later (Debian 12's nodejs 18 is enough; a newer node from elsewhere is fine too);
#   - the npm packages of package-lock.json (npm ci, only when the lock changed).
# Prints nothing when everything is there. Run as root when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(
        # build
        build-essential pkg-config meson ninja-build clang libclang-rt-14-dev
        libpam0g-dev libcurl4-openssl-dev libjson-c-dev libsystemd-dev libqrencode-dev libssl-dev libdbus-1-dev
        # integration and end-to-end tests, demo
        pamtester libpam-wrapper libpamtest0-dev
        dbus-daemon dbus-bin dbus-system-bus-common openssh-server openssh-client expect tmux zbar-tools
        openssl ca-certificates nodejs npm python3 procps iproute2 util-linux curl
        # packaging and documentation checks
        mandoc groff-base dpkg-dev debhelper fakeroot lintian rpm valgrind systemd
)
missing=()
for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# nodejs/npm may come from elsewhere on a developer machine: a working node and npm are enough.
if command -v node >/dev/null && command -v npm >/dev/null; then
        missing=("${missing[@]/#nodejs}"); missing=("${missing[@]/#npm}")
fi
read -r -a missing <<<"${missing[*]:-}"

# apt_install PKG...: apt-get install with its output in a log, and one progress line every few
# seconds: how many of the packages apt will install have been downloaded, unpacked and set up.
apt_install() {
        local log total got unpacked set last= pid rc
        log=$(mktemp /tmp/devflow-deps.XXXXXX.log)
        total=$(apt-get install -s -y --no-install-recommends "$@" 2>/dev/null | grep -c '^Inst ' || true)
        echo "deps: apt-get installs $total packages (these and what they need; about 2-4 minutes" \
                "on a fresh machine; log: $log)"
        apt-get install -y --no-install-recommends "$@" >"$log" 2>&1 &
        pid=$!
        while kill -0 "$pid" 2>/dev/null; do
                sleep 5
                got=$(grep -c '^Get:' "$log" || true)
                unpacked=$(grep -c '^Unpacking ' "$log" || true)
                set=$(grep -c '^Setting up ' "$log" || true)
                if [ "$got/$unpacked/$set" != "$last" ]; then
                        echo "deps: ... $got/$total downloaded, $unpacked unpacked, $set set up"
                        last="$got/$unpacked/$set"
                fi
        done
        wait "$pid" && rc=0 || rc=$?
        if [ "$rc" -ne 0 ]; then
                tail -n 30 "$log" >&2
                echo "deps: apt-get install failed (exit $rc); the whole log is $log" >&2
                return 1
        fi
        rm -f "$log"
        echo "deps: $total packages installed"
}

# need_root PKG...: exits with a one-line reason unless root (who can install PKG...).
need_root() {
        if [ "$(id -u)" -ne 0 ]; then
                echo "deps: need root to install them (run as root, or: apt-get install $*)" >&2
                exit 1
        fi
}
apt_updated=
apt_update_once() {
        [ -z "$apt_updated" ] || return 0
        echo "deps: apt-get update"
        apt-get update -qq && apt_updated=1
}
export DEBIAN_FRONTEND=noninteractive

if [ ${#missing[@]} -gt 0 ]; then
        echo "deps: missing Debian packages: ${missing[*]}"
        need_root "${missing[@]}"
        apt_update_once
        apt_install "${missing[@]}"
fi

# oidc-provider (package-lock.json pins the 8.x line, which supports node 18 and later).
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 18 ]; then
        echo "deps: node $(node --version 2>/dev/null || echo 'is missing'): the tests and the demo need node 18 or later (Debian 12's nodejs is 18)" >&2
        exit 1
fi

# ---- Glewlwyd, the second real OpenID Provider (tests/glewlwyd/), and login(1) for the console test ----
# glewlwyd's postinst wants a database: "No configuration" and dbconfig-no-thanks keep MariaDB and
# PostgreSQL out (the tests make their own SQLite database). Its service is never used: a temporary
# policy-rc.d keeps the postinst from starting it, and it is disabled afterwards.
glewlwyd_pkgs=(glewlwyd dbconfig-no-thanks sqlite3 login)
gw_missing=()
for p in "${glewlwyd_pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || gw_missing+=("$p")
done
if [ ${#gw_missing[@]} -gt 0 ]; then
        echo "deps: missing Debian packages: ${gw_missing[*]}"
        need_root "${gw_missing[@]}"
        echo 'glewlwyd glewlwyd/config_type select No configuration' | debconf-set-selections
        policy=
        if [ ! -e /usr/sbin/policy-rc.d ]; then
                printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && policy=1
        fi
        rc=0
        { apt_update_once && apt_install "${gw_missing[@]}"; } || rc=$?
        [ -z "$policy" ] || rm -f /usr/sbin/policy-rc.d
        [ "$rc" -eq 0 ] || exit "$rc"
        if [ -d /run/systemd/system ]; then
                systemctl disable --now glewlwyd.service >/dev/null 2>&1 || true
        fi
        update-rc.d glewlwyd disable >/dev/null 2>&1 || true
fi

if [ -f package-lock.json ]; then
        stamp=node_modules/.package-lock.json
        if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
                echo "deps: npm ci (the test identity provider, oidc-provider from package-lock.json)"
                npm ci --no-audit --no-fund --loglevel=error
        fi
fi
