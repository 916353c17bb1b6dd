#!/usr/bin/env bash
# Installs the Debian 12 build and test packages that are missing (apt-get update once, only when
# something is missing), then the npm packages the tests use (npm ci, only when out of date).
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(
        build-essential pkg-config clang
        libpam0g-dev libcurl4-openssl-dev libjson-c-dev libsystemd-dev libqrencode-dev libssl-dev
        pamtester libpam-wrapper libpamtest0-dev
        dbus-daemon dbus-bin openssh-server openssh-client expect tmux zbar-tools
        openssl ca-certificates nodejs npm python3 procps iproute2 util-linux curl
        mandoc groff-base dpkg-dev debhelper fakeroot lintian rpm valgrind systemd
)
missing=()
for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# nodejs/npm may come from elsewhere on a developer machine: a working node and npm are enough.
if command -v node >/dev/null && command -v npm >/dev/null; then
        missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]:-}"
if [ ${#missing[@]} -gt 0 ]; then
        echo "deps: installing ${missing[*]}"
        if [ "$(id -u)" -ne 0 ]; then
                echo "deps: need root to install: ${missing[*]}" >&2
                exit 1
        fi
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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
        echo "deps: installing ${gw_missing[*]}"
        if [ "$(id -u)" -ne 0 ]; then
                echo "deps: need root to install: ${gw_missing[*]}" >&2
                exit 1
        fi
        export DEBIAN_FRONTEND=noninteractive
        echo 'glewlwyd glewlwyd/config_type select No configuration' | debconf-set-selections
        policy=
        if [ ! -e /usr/sbin/policy-rc.d ]; then
                printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && policy=1
        fi
        rc=0
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${gw_missing[@]}" >/dev/null; } || rc=$?
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
                echo "deps: npm ci"
                npm ci --no-audit --no-fund --loglevel=error
        fi
fi
