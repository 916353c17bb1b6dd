#!/usr/bin/env bash
# make-certs.sh DIR: makes a throwaway test CA and a server certificate for the loopback OpenID Provider.
#   DIR/ca.pem      the CA certificate (what devflowd gets as ca_file, curl as --cacert)
#   DIR/server.pem  the server certificate (SAN IP:127.0.0.1, IP:::1, DNS:localhost), signed by the CA
#   DIR/server.key  its private key (0600)
# The CA key is deleted once it has signed, so nothing else can ever be signed by this CA.
set -euo pipefail
dir=${1:?usage: make-certs.sh DIR}
mkdir -p "$dir"
work=$(mktemp -d "$dir/.certs.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 077

openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 -days 2 \
        -subj "/CN=pam_devflow test CA $(date +%s)-$$" \
        -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null

openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 \
        -subj "/CN=127.0.0.1" -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null

cat >"$work/ext.cnf" <<CNF
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,IP:::1,DNS:localhost
CNF
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
        -days 2 -sha256 -extfile "$work/ext.cnf" -out "$work/server.pem" 2>/dev/null

openssl verify -CAfile "$work/ca.pem" "$work/server.pem" >/dev/null
install -m 0644 "$work/ca.pem" "$dir/ca.pem"
install -m 0644 "$work/server.pem" "$dir/server.pem"
install -m 0600 "$work/server.key" "$dir/server.key"
