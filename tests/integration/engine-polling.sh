#!/usr/bin/env bash
# The daemon's polling engine (RFC 8628 §3.4-3.5) against the fake IdP, driven over the bus with
# tests/tools/flowclient: poll spacing never below the interval (measured and printed), slow_down adds
# 5 s (cumulatively), authorization_pending keeps the interval, Poll() on demand, access_denied,
# expiry (no poll after it), exponential backoff on 5xx and connection errors, and a flow never
# outlives expires_in even with a request in flight.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/idp/idp.sh"

need_flowclient

stack_start - --profile rfc --interval 1 <<CONF
http_timeout = 10
[limits]
max_flows_per_user = 20
max_flows_per_user_per_rhost = 20
max_flows_per_rhost = 20
max_new_flows_per_rhost_per_minute = 1000
CONF

# fc_bg OUT ARGS...: run flowclient in the background (its PID in FC_PID) and wait for the code.
fc_bg() {
        local o=$1; shift
        ASAN_OPTIONS=detect_leaks=0 "$FLOWCLIENT" "$@" >"$o" 2>>"$TEST_DIR/flowclient.err" &
        FC_PID=$!
        t_track "$FC_PID"
        wait_for 20 grep -q '^user_code \|^error ' "$o"
}
code_of() { sed -n 's/^user_code //p' "$1"; }
outcome_of() { grep -E '^(allowed|refused|error) ' "$1" | head -1; }
# fc_end PID SECS: wait at most SECS for flowclient to exit; its status in FC_RC.
fc_end() {
        local pid=$1 secs=$2
        wait_for "$secs" sh -c "! kill -0 $pid" || kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        FC_RC=$?
}

# poll_stats CODE: "n min median max" of the gaps (s) between the token polls of that code.
poll_stats() {
        python3 - "$IDP_DIR/requests.jsonl" "$1" <<'PY'
import json, sys
t = [json.loads(l)["time"] / 1000 for l in open(sys.argv[1]) if l.strip()
     and json.loads(l).get("endpoint") == "token" and json.loads(l).get("user_code") == sys.argv[2]]
g = sorted(b - a for a, b in zip(t, t[1:]))
print(len(t), "%.3f %.3f %.3f" % (g[0], g[len(g) // 2], g[-1]) if g else "0 0 0")
PY
}
# poll_gaps CODE: the gaps in order, one per line.
poll_gaps() { idp_poll_gaps "$1" | awk '$1 != "-" {print $1}'; }
# token_times_since MS: arrival times (s) of every token request after MS (ms since the epoch), including
# those a fault answered (the IdP does not parse their bodies, so they carry no user_code).
token_times_since() {
        python3 - "$IDP_DIR/requests.jsonl" "$1" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    if l.strip():
        r = json.loads(l)
        if r.get("endpoint") == "token" and r["time"] > float(sys.argv[2]):
            print("%.3f" % (r["time"] / 1000))
PY
}
# poll_times CODE: arrival times (µs, CLOCK_REALTIME) of the token polls of that code.
poll_times() {
        python3 - "$IDP_DIR/requests.jsonl" "$1" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    if not l.strip():
        continue
    r = json.loads(l)
    if r.get("endpoint") == "token" and r.get("user_code") == sys.argv[2]:
        print(int(r["time"] * 1000))
PY
}
fge() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$1" "$2"; }
flt() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$1" "$2"; }

# ---- 1. background polling at the interval; authorization_pending keeps it; access_denied → Denied ----
o=$TEST_DIR/pending.out
fc_bg "$o" start root --rhost 192.0.2.1 --wait --wait-timeout 30 || { fail "pending: no code"; cat "$o"; }
c1=$(code_of "$o")
sleep 4.5
idp_deny "$c1"
fc_end "$FC_PID" 10
grep -q '^interval 1000000$' "$o"
check "StartLogin reports the IdP's interval (1 s)" test $? -eq 0
read -r n mn med mx <<<"$(poll_stats "$c1")"
echo "measured poll spacing at interval 1 s: $n polls, min $mn s, median $med s, max $mx s"
check "at least 3 polls in 4.5 s at interval 1 s ($n)" test "$n" -ge 3
check "no poll sooner than the interval (min gap $mn s >= 1 s)" fge "$mn" 0.98
check "authorization_pending keeps the interval: no gap grows (max $mx s < 2.5 s)" flt "$mx" 2.5
check "the IdP saw no early poll" idp_early_polls
check "access_denied ends the flow with Denied" grep -q '^error net.devflow.Devflow1.Error.Denied ' "$o"
check "Denied: flowclient exits 1" test "$FC_RC" -eq 1
last=$(poll_times "$c1" | tail -1)
sleep 2
check "no poll after the denial" test "$(poll_times "$c1" | tail -1)" = "$last"

# ---- 2. slow_down adds 5 s, cumulatively ---------------------------------------------------------
idp_ctl fault '{"endpoint":"token","type":"slow_down","count":2}' >/dev/null
o=$TEST_DIR/slowdown.out
fc_bg "$o" start root --rhost 192.0.2.2 --wait --wait-timeout 40 || { fail "slow_down: no code"; cat "$o"; }
c2=$(code_of "$o")
SD_PID=$FC_PID
# polls: t≈1 (slow_down → 6 s), t≈7 (slow_down → 11 s), t≈18 (pending), deny afterwards. Cases 3 and 4 run
# in the 11 s gap (the fault is used up by then; they do not touch this flow).
wait_for 15 sh -c "[ \$(grep '\"user_code\":\"$c2\"' '$IDP_DIR/requests.jsonl' | grep -c slow_down) -ge 2 ]" ||
        fail "slow_down: the second slow_down poll did not come within 15 s"

# ---- 3. Poll() on demand: at once when the interval has passed, not sooner otherwise ---------------
o=$TEST_DIR/ondemand.out
fc_bg "$o" start root --rhost 192.0.2.3 --poll on-demand --poll-after 3 --poll-after 3.3 --poll-after 6.5 \
        --wait --wait-timeout 20 || { fail "on-demand: no code"; cat "$o"; }
c3=$(code_of "$o")
sleep 2
check "on demand: no poll before Poll() is called" test -z "$(poll_times "$c3")"
sleep 3     # t≈5: both Polls answered
mapfile -t t3 < <(poll_times "$c3")
sent1=$(sed -n 's/^poll-sent //p' "$o" | head -1)
if [ "${#t3[@]}" -ge 1 ] && [ -n "$sent1" ]; then
        d=$(( (t3[0] - sent1) / 1000 ))
        echo "on demand: first poll reached the IdP $d ms after Poll() was sent"
        check "on demand: Poll() after the interval polls at once ($d ms)" test "$d" -lt 700
else
        fail "on demand: Poll() made no poll"
fi
if [ "${#t3[@]}" -eq 2 ]; then
        d=$(( (t3[1] - t3[0]) / 1000 ))
        echo "on demand: a Poll() 0.3 s after the first poll went out $d ms after it"
        check "on demand: a second Poll() does not poll sooner than the interval ($d ms >= 1000)" test "$d" -ge 980
else
        fail "on demand: expected 2 polls after two Poll() calls, saw ${#t3[@]}"
fi
check "on demand: Poll() answers with the next poll time" test "$(grep -c '^poll [1-9]' "$o")" -ge 2
idp_deny "$c3"
fc_end "$FC_PID" 10
check "on demand: the Poll() after the denial ends the flow: Denied" grep -q '^error net.devflow.Devflow1.Error.Denied ' "$o"
check "on demand: no further polls without Poll() (3 in all)" test "$(poll_times "$c3" | wc -l)" -eq 3

# ---- 4. expires_in short → Expired, and no poll after the expiry ------------------------------------
idp_ctl config '{"expires_in":3}' >/dev/null
o=$TEST_DIR/expired.out
start=$(date +%s%N)
fc_bg "$o" start root --rhost 192.0.2.4 --wait --wait-timeout 20 || { fail "expiry: no code"; cat "$o"; }
c4=$(code_of "$o")
fc_end "$FC_PID" 15
took=$(( ($(date +%s%N) - start) / 1000000 ))
echo "expires_in 3: the flow ended after $took ms"
check "expires_in 3 → Expired" grep -q '^error net.devflow.Devflow1.Error.Expired ' "$o"
check "the flow ended within about expires_in ($took ms < 5000)" test "$took" -lt 5000
exp=$(sed -n 's/^expires //p' "$o")
late=0
for t in $(poll_times "$c4"); do [ "$t" -gt $((exp + 200000)) ] && late=$((late + 1)); done
check "no poll after the expiry ($late late)" test "$late" -eq 0

# ---- 2 (end). The slow_down flow's third poll --------------------------------------------------------
wait_for 15 sh -c "[ \$(grep -c '\"user_code\":\"$c2\"' '$IDP_DIR/requests.jsonl') -ge 4 ]"
# Its verdict would take another 11 s: end it by going away instead (the caller-gone path).
kill "$SD_PID" 2>/dev/null
fc_end "$SD_PID" 5
mapfile -t g < <(poll_gaps "$c2")
echo "poll gaps after two slow_down answers: ${g[*]:-none} (expected about 6 and 11 s)"
idp_poll_gaps "$c2"
if [ "${#g[@]}" -ge 2 ]; then
        check "slow_down adds 5 s: gap ${g[0]} s >= 6 s" fge "${g[0]}" 5.98
        check "slow_down adds 5 s, not more: gap ${g[0]} s < 7.5 s" flt "${g[0]}" 7.5
        check "a second slow_down adds 5 s more: gap ${g[1]} s >= 11 s" fge "${g[1]}" 10.98
        check "... and not more: gap ${g[1]} s < 12.5 s" flt "${g[1]}" 12.5
else
        fail "slow_down: fewer than 3 polls seen"
fi


# A flow never outlives expires_in, even with a poll in flight that the IdP never answers.
idp_ctl fault '{"endpoint":"token","type":"hang"}' >/dev/null
o=$TEST_DIR/hang-expiry.out
start=$(date +%s%N)
fc_bg "$o" start root --rhost 192.0.2.5 --wait --wait-timeout 20 || { fail "hang expiry: no code"; cat "$o"; }
fc_end "$FC_PID" 15
took=$(( ($(date +%s%N) - start) / 1000000 ))
echo "expires_in 3 with a hanging poll (http_timeout 10): the flow ended after $took ms: $(outcome_of "$o")"
check "hanging poll: the flow still ends at expires_in ($took ms < 5000)" test "$took" -lt 5000
check "hanging poll: Expired" grep -q '^error net.devflow.Devflow1.Error.Expired ' "$o"
idp_ctl clear-faults '{}' >/dev/null
idp_ctl config '{"expires_in":600}' >/dev/null

# ---- 5. 5xx and connection errors: exponential backoff, back to the interval afterwards -------------
backoff_case() {
        local name=$1 fault=$2 rhost=$3 o=$TEST_DIR/backoff-$1.out c since base
        since=$(( $(date +%s%N) / 1000000 ))
        base=$(grep -c '"endpoint":"token"' "$IDP_DIR/requests.jsonl")
        idp_ctl fault "$fault" >/dev/null
        fc_bg "$o" start root --rhost "$rhost" --wait --wait-timeout 40 || { fail "$name: no code"; cat "$o"; return; }
        c=$(code_of "$o")
        # 3 failures: gaps about 1, 2, 4 s; then pending answers at the interval (1 s) again.
        # Wait for two good answers (pending) after the failures: the first poll after them, and one more.
        wait_for 30 sh -c "[ \$(grep '\"user_code\":\"$c\"' '$IDP_DIR/requests.jsonl' | grep -c '\"status\":400,\"error\":\"authorization_pending\"') -ge 2 ]"
        idp_deny "$c"
        fc_end "$FC_PID" 15
        # libcurl retries once at once by itself when a reused keep-alive connection turns out dead (a reset
        # on it): that is one poll of the daemon, so requests closer than 0.2 s count as one.
        mapfile -t raw < <(token_times_since "$since" | awk 'NR > 1 {printf "%.3f\n", $1 - p} {p = $1}')
        mapfile -t g < <(printf '%s\n' "${raw[@]}" | awk '$1 >= 0.2')
        echo "$name: poll gaps ${g[*]:-none} (raw: ${raw[*]:-none}; expected about 1 2 4 then 1)"
        if [ "${#g[@]}" -ge 4 ]; then
                check "$name: no retry sooner than the interval (${g[0]} s)" fge "${g[0]}" 0.98
                check "$name: the backoff grows (${g[0]} → ${g[1]} s)" fge "${g[1]}" "$(python3 -c "print(${g[0]} * 1.6)")"
                check "$name: the backoff grows (${g[1]} → ${g[2]} s)" fge "${g[2]}" "$(python3 -c "print(${g[1]} * 1.6)")"
                check "$name: back to the interval after a good answer (${g[-1]} s < 2.5 s)" flt "${g[-1]}" 2.5
        else
                fail "$name: too few polls (${#g[@]} gaps)"
        fi
        check "$name: the flow survives the failures and ends Denied" grep -q '^error net.devflow.Devflow1.Error.Denied ' "$o"
}
backoff_case 5xx '{"endpoint":"token","type":"status","status":503,"count":3}' 192.0.2.6
backoff_case reset '{"endpoint":"token","type":"reset","count":4}' 192.0.2.7

check "daemon alive at the end" daemon_alive
daemon_stop
check "daemon exits cleanly on SIGTERM" test "${DAEMON_RC:-1}" -eq 0
check "no sanitizer report" asan_clean
[ "$T_FAILED" -eq 0 ] || show_daemon_log
