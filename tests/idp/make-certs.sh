#!/usr/bin/env bash
# Creates the fake IdP's test PKI with the openssl CLI in DIR (default: the current directory).
# Idempotent: an existing complete set is kept (delete DIR to regenerate).
#
#   ca.pem, ca-key.pem                 the test CA; give ca.pem to devflowd as ca_file
#   server.pem, server-key.pem         the IdP's certificate: SANs IP:127.0.0.1, IP:::1, DNS:localhost
#   wrong-name.pem, wrong-name-key.pem signed by the test CA, but only for DNS:wrong.example
#   self-signed.pem, self-signed-key.pem
#                                      a self-signed certificate for 127.0.0.1 (not from the CA)
#   expired.pem, expired-key.pem       signed by the test CA for 127.0.0.1, but expired
#   client-ca.pem, client-ca-key.pem   the CA the IdP trusts for tls_client_auth
#   client.pem, client-key.pem         client certificate CN=devflow-tls (for client "devflow-tls")
#   client-jwt-key.pem, client-jwt.pub.pem
#                                      EC P-256 key pair of client "devflow-jwt" (private_key_jwt)
# Private keys are mode 0600 (the daemon's secure-file checks refuse group/world-readable keys).
set -euo pipefail

dir=${1:-.}
mkdir -p "$dir"
cd "$dir"

if [ -s ca.pem ] && [ -s server.pem ] && [ -s client.pem ] && [ -s client-jwt.pub.pem ] && [ -s expired.pem ]; then
        exit 0
fi

umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# new_key FILE: an RSA 2048 key (fast enough, widely accepted).
new_key() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

# ca NAME CN: a self-signed CA certificate with basicConstraints CA:TRUE.
ca() {
        new_key "$1-key.pem"
        openssl req -x509 -new -key "$1-key.pem" -sha256 -days 3650 -subj "/O=pam_devflow tests/CN=$2" \
                -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
                -out "$1.pem" 2>/dev/null
}

# leaf NAME CA CN SAN EKU [DAYS|expired]: a leaf certificate signed by CA.
leaf() {
        local name=$1 ca=$2 cn=$3 san=$4 eku=$5 days=${6:-3650}
        new_key "$name-key.pem"
        openssl req -new -key "$name-key.pem" -subj "/O=pam_devflow tests/CN=$cn" -out "$tmp/$name.csr" 2>/dev/null
        {
                echo "basicConstraints=critical,CA:FALSE"
                echo "keyUsage=critical,digitalSignature,keyEncipherment"
                echo "extendedKeyUsage=$eku"
                [ -n "$san" ] && echo "subjectAltName=$san"
        } >"$tmp/$name.ext"
        if [ "$days" = expired ]; then
                # openssl x509 -req cannot backdate; 'openssl ca' can, with explicit dates.
                mkdir -p "$tmp/ca-db"; : >"$tmp/ca-db/index.txt"
                cat >"$tmp/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $tmp/ca-db/index.txt
new_certs_dir = $tmp/ca-db
serial = $tmp/ca-db/serial
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
organizationName = optional
CNF
                openssl rand -hex 8 >"$tmp/ca-db/serial"
                openssl ca -batch -config "$tmp/ca.cnf" -cert "$ca.pem" -keyfile "$ca-key.pem" \
                        -startdate 20200101000000Z -enddate 20200201000000Z -extfile "$tmp/$name.ext" \
                        -in "$tmp/$name.csr" -out "$name.pem" -notext 2>/dev/null
        else
                openssl x509 -req -in "$tmp/$name.csr" -CA "$ca.pem" -CAkey "$ca-key.pem" -CAcreateserial \
                        -CAserial "$tmp/$ca.srl" -days "$days" -sha256 -extfile "$tmp/$name.ext" \
                        -out "$name.pem" 2>/dev/null
        fi
}

ca ca "pam_devflow test CA"
leaf server ca 127.0.0.1 "IP:127.0.0.1,IP:::1,DNS:localhost" serverAuth
leaf wrong-name ca wrong.example "DNS:wrong.example" serverAuth
leaf expired ca 127.0.0.1 "IP:127.0.0.1,IP:::1,DNS:localhost" serverAuth expired

new_key self-signed-key.pem
openssl req -x509 -new -key self-signed-key.pem -sha256 -days 3650 -subj "/O=not the test CA/CN=127.0.0.1" \
        -addext "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" -out self-signed.pem 2>/dev/null

ca client-ca "pam_devflow test client CA"
leaf client client-ca devflow-tls "" clientAuth

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client-jwt-key.pem 2>/dev/null
openssl pkey -in client-jwt-key.pem -pubout -out client-jwt.pub.pem 2>/dev/null

chmod 0644 ./*.pem
chmod 0600 ./*-key.pem
