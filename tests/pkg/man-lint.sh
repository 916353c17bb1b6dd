#!/usr/bin/env bash
# The man pages: each one lints clean (mandoc -T lint -W warning, groff -ww), renders with man -l, and
# documents what it must: devflowd.conf(5) every key of the parser's table, devflowd(8) every bus error
# name, pam_devflow(8) every argument and return code.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"

pages=(man/devflowd.8 man/devflowd.conf.5 man/pam_devflow.8 man/devflowctl.1)

command -v mandoc >/dev/null || { skip "mandoc not installed (apt-get install mandoc)"; exit 0; }

for p in "${pages[@]}"; do
        name=${p#man/}
        if [ ! -f "$p" ]; then
                fail "$name exists"
                continue
        fi
        out=$(mandoc -T lint -W warning "$p" 2>&1)
        if [ $? -eq 0 ] && [ -z "$out" ]; then pass "mandoc lint $name"; else fail "mandoc lint $name: $out"; fi
        if command -v groff >/dev/null; then
                out=$(groff -ww -man -Tutf8 "$p" 2>&1 >/dev/null)
                if [ -z "$out" ]; then pass "groff -ww $name"; else fail "groff -ww $name: $out"; fi
        fi
        # man -l: renders, with the NAME section and the page's own name in it.
        text=$(MANWIDTH=100 man -l "$p" 2>"$TEST_DIR/man.err")
        rc=$?
        base=${name%.*}
        if [ $rc -eq 0 ] && [ ! -s "$TEST_DIR/man.err" ] && grep -q '^NAME' <<<"$text" && grep -q "^ *$base -" <<<"$text"; then
                pass "man -l $name"
        else
                fail "man -l $name (rc $rc): $(head -3 "$TEST_DIR/man.err")"
        fi
done

render() { mandoc -T ascii -O width=200 "$1" | col -b; }

# devflowd.conf(5): every key of the table in devflowd/config.c, under its own section heading.
conf_text=$(render man/devflowd.conf.5)
keys=$(grep -oE '^[[:space:]]*K\("[a-z]+", *"[a-z_]+"' devflowd/config.c | sed -E 's/.*K\("([a-z]+)", *"([a-z_]+)"/\1 \2/')
n=0 missing=()
while read -r section key; do
        [ -n "$key" ] || continue
        n=$((n + 1))
        # The key's paragraph must be inside "[section] SECTION".
        body=$(awk -v s="[$section] SECTION" '$0 == s {on=1; next} /^[A-Z\[]/ {on=0} on' <<<"$conf_text")
        grep -qE "^ +$key=" <<<"$body" || missing+=("[$section] $key")
done <<<"$keys"
if [ "$n" -gt 30 ] && [ ${#missing[@]} -eq 0 ]; then
        pass "devflowd.conf.5 documents all $n keys of config.c"
else
        fail "devflowd.conf.5 documents every key ($n found in config.c; missing: ${missing[*]:-})"
fi
# and no key that the parser does not know
documented=$(awk '/^\[(idp|login|limits)\] SECTION/ {on=1; next} /^[A-Z]/ {on=0} on' <<<"$conf_text" |
             grep -oE '^       [a-z_]+=' | tr -d ' =' | sort -u)
extra=$(comm -23 <(echo "$documented") <(awk '{print $2}' <<<"$keys" | sort -u))
check "devflowd.conf.5 documents no unknown key${extra:+ (extra: $extra)}" test -z "$extra"

# devflowd(8): every error name of common/devflow-bus.h.
d_text=$(render man/devflowd.8)
errs=$(grep -oE 'DEVFLOW_ERROR_PREFIX "[A-Za-z]+"' common/devflow-bus.h | grep -oE '"[A-Za-z]+"' | tr -d '"')
missing=()
for e in $errs; do grep -qw "$e" <<<"$d_text" || missing+=("$e"); done
check "devflowd.8 names all $(wc -w <<<"$errs") bus errors${missing:+ (missing: ${missing[*]})}" \
        test "$(wc -w <<<"$errs")" -ge 10 -a ${#missing[@]} -eq 0

# pam_devflow(8): the arguments, the return codes, and the sshd settings.
p_text=$(render man/pam_devflow.8)
missing=()
for w in qr=auto qr=ascii qr=utf8 qr=off prompt=enter prompt=none timeout= debug \
         PAM_SUCCESS PAM_AUTH_ERR PAM_USER_UNKNOWN PAM_AUTHINFO_UNAVAIL PAM_MAXTRIES PAM_CONV_ERR PAM_BUF_ERR \
         UsePAM KbdInteractiveAuthentication "AuthenticationMethods publickey,keyboard-interactive" LoginGraceTime \
         allowed_rhosts common-auth; do
        # "qr=auto|ascii|…" in the synopsis counts for each value
        case $w in
        qr=*) grep -qE "qr=([a-z0-9]+\|)*${w#qr=}" <<<"$p_text" || missing+=("$w") ;;
        prompt=*) grep -qE "prompt=([a-z]+\|)*${w#prompt=}" <<<"$p_text" || missing+=("$w") ;;
        *) grep -qF -- "$w" <<<"$p_text" || missing+=("$w") ;;
        esac
done
check "pam_devflow.8 documents arguments, return codes, sshd settings${missing:+ (missing: ${missing[*]})}" \
        test ${#missing[@]} -eq 0

# devflowctl(1): the commands and --json.
c_text=$(render man/devflowctl.1)
missing=()
for w in status flows cancel test-login doctor --json "EXIT STATUS"; do
        grep -qF -- "$w" <<<"$c_text" || missing+=("$w")
done
check "devflowctl.1 documents its commands${missing:+ (missing: ${missing[*]})}" test ${#missing[@]} -eq 0

# What devflowctl --help offers, devflowctl(1) documents: every option, and every exit status it names.
CTL=$TOP/devflowctl/devflowctl
if [ -x "$CTL" ]; then
        help=$("$CTL" --help)
        missing=()
        for o in $(grep -oE -- '--[a-z][a-z-]+' <<<"$help" | sort -u); do
                grep -qF -- "$o" <<<"$c_text" || missing+=("$o")
        done
        check "devflowctl.1 documents every option of --help${missing:+ (missing: ${missing[*]})}" test ${#missing[@]} -eq 0
        missing=()
        for n in $(sed -n '/^Exit status:/,$p' <<<"$help" | grep -oE '\b[0-9]\b' | sort -u); do
                grep -qE "^ {7}$n( |\$)" <<<"$c_text" || missing+=("$n")
        done
        check "devflowctl.1 documents every exit status of --help${missing:+ (missing: ${missing[*]})}" test ${#missing[@]} -eq 0
else
        skip "devflowctl options against devflowctl.1 (devflowctl not built: make)"
fi
exit 0
