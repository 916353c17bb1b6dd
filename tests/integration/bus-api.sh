#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The bus contract says what the daemon does (issue 14.12): every method the running daemon exports
# (busctl introspect, Manager and Flow) is documented in devflowd(8) "BUS INTERFACE" with exactly its
# argument and result signatures, and no documented method is missing from the daemon; the signatures
# common/devflow-bus.h gives for ListFlows agree with the daemon's; devflowctl reads ListFlows.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_flowclient
command -v mandoc >/dev/null || command -v man >/dev/null || { fail "neither mandoc nor man"; exit 1; }
stack_start --interval 1
ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" hold root --rhost 203.0.113.90 >"$TEST_DIR/hold.out" 2>&1 &
t_track $!
wait_for 20 grep -q '^flow ' "$TEST_DIR/hold.out" || { fail "no flow"; exit 1; }
FLOW=$(sed -n 's/^flow //p' "$TEST_DIR/hold.out")

{
        busctl --system introspect --no-pager net.devflow.Devflow1 /net/devflow/Devflow1 net.devflow.Devflow1.Manager
        busctl --system introspect --no-pager net.devflow.Devflow1 "$FLOW" net.devflow.Devflow1.Flow
} >"$TEST_DIR/introspect.txt"
if command -v mandoc >/dev/null; then
        mandoc -T utf8 "$TOP/man/devflowd.8" | col -b >"$TEST_DIR/devflowd.8.txt"
else
        MANWIDTH=400 man -l "$TOP/man/devflowd.8" | col -b >"$TEST_DIR/devflowd.8.txt"
fi

python3 - "$TEST_DIR/introspect.txt" "$TEST_DIR/devflowd.8.txt" "$TOP/common/devflow-bus.h" <<'PY'
import re, sys
intro, man, header = (open(p, encoding="utf-8").read() for p in sys.argv[1:4])

def split_top(s):
    """Split "s user, a(ss) x" at top-level commas."""
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "({": depth += 1
        if ch in ")}": depth -= 1
        if ch == "," and depth == 0:
            out.append(cur); cur = ""
        else:
            cur += ch
    if cur.strip(): out.append(cur)
    return [x.strip() for x in out]

def types(arglist):
    return "".join(a.split()[0] for a in split_top(arglist))

daemon = {}
for line in intro.splitlines():
    f = line.split()
    if len(f) >= 4 and f[1] == "method" and f[0].startswith("."):
        daemon[f[0][1:]] = (f[2].replace("-", ""), f[3].replace("-", ""))

# The BUS INTERFACE section, with wrapped lines joined back (mandoc hyphenates nothing in .B text).
sec = man.split("BUS INTERFACE", 1)[1].split("\nLIMITS", 1)[0]
text = re.sub(r"\s+", " ", sec.replace("\u2010", "-"))
documented = {}
for m in re.finditer(r"\b([A-Z][A-Za-z]+)\(([^()]*)\) → (\((?:[^()]|\([^()]*\))*\))", text):
    name, args, res = m.group(1), m.group(2), m.group(3)[1:-1]
    documented.setdefault(name, (types(args), types(res)))

bad = 0
def report(ok, what):
    global bad
    print(("PASS" if ok else "FAIL") + ": bus-api: " + what)
    bad += not ok

report(len(daemon) >= 7, f"introspection lists the daemon's methods ({', '.join(sorted(daemon))})")
for name, sig in sorted(daemon.items()):
    doc = documented.get(name)
    report(doc == sig, f"devflowd(8) documents {name}({sig[0]}) → ({sig[1]})" + ("" if doc == sig else f": it says {doc}"))
for name in sorted(set(documented) - set(daemon)):
    report(False, f"devflowd(8) documents {name}, which the daemon does not have")

row = re.search(r'#define DEVFLOW_FLOW_ROW "([^"]+)"', header)
report(bool(row) and "a" + row.group(1) == daemon.get("ListFlows", ("", ""))[1],
       f"devflow-bus.h DEVFLOW_FLOW_ROW is the daemon's ListFlows element ({row.group(1) if row else 'none'})")
lf = re.sub(r"[\s*]+", " ", header.split("ListFlows()", 1)[1].split("CancelFlow(", 1)[0])
sigs = re.findall(r"a\([a-z]+\)", lf)
tup = re.search(r"\((s id,[^()]*)\)", lf)
tup_sig = "(" + types(tup.group(1)) + ")" if tup else None
want = daemon.get("ListFlows", ("", ""))[1]
report(all(s == want for s in sigs) and "a" + str(tup_sig) == want,
       f"devflow-bus.h's ListFlows comment describes {want} (signatures {sigs}, fields {tup_sig})")
sys.exit(1 if bad else 0)
PY

CTL=${DEVFLOWCTL:-$TOP/devflowctl/devflowctl}
[ -x "$CTL" ] || make -s -C "$TOP" devflowctl/devflowctl >/dev/null 2>&1
"$CTL" --json flows >"$TEST_DIR/flows.json" 2>&1
check "devflowctl reads ListFlows ($(head -c 300 "$TEST_DIR/flows.json"))" \
        grep -q '"rhost":"203.0.113.90".*"age_usec":[0-9]' "$TEST_DIR/flows.json"
check "daemon alive at the end" daemon_alive
daemon_stop
check "no sanitizer report" asan_clean
