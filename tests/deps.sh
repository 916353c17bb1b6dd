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

if [ -f package-lock.json ]; then
        stamp=node_modules/.package-lock.json
        if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
                echo "deps: npm ci"
                npm ci --no-audit --no-fund --loglevel=error
        fi
fi
