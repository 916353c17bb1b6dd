#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make bench: the release daemon and module against the fake IdP on loopback, on a private bus.
# Prints a table (median, min, max over repeated runs) and writes bench/results/latest.json.
# Method and latest numbers: bench/README.md.
#
# Environment: BENCH_ONLY="latency capacity throughput" (sections to run), BENCH_QUICK=1 (fewer
# repetitions), BENCH_CHURN (completed flows in the churn run, default 100000), BENCH_CHURN_SECONDS
# (time cap of the churn run, default 100), BENCH_CAP_RUNS (runs per capacity size, default 2).
export DEVFLOWD=${DEVFLOWD:-$(cd "$(dirname "$0")/.." && pwd)/devflowd/devflowd}
. "$(dirname "$0")/../tests/lib.sh"
. "$TOP/tests/idp/idp.sh"
. "$TOP/tests/op/op.sh"
set +e

ONLY=${BENCH_ONLY:-latency op capacity throughput}
QUICK=${BENCH_QUICK:-0}
CHURN=${BENCH_CHURN:-100000}
CHURN_SECONDS=${BENCH_CHURN_SECONDS:-100}
CAP_RUNS=${BENCH_CAP_RUNS:-2}
RES=$TOP/bench/results
mkdir -p "$RES"
SAMPLES=$TEST_DIR/samples.txt
META=$TEST_DIR/meta.txt
: >"$SAMPLES"
BUSER=dfbench

say() { echo "bench: $*" >&2; }
sample() { echo "$1 $2" >>"$SAMPLES"; }
meta() { echo "$1 $2" >>"$META"; }
want() { [[ " $ONLY " == *" $1 "* ]]; }
now_ms() { date +%s%3N; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

make --no-print-directory -C "$TOP" build/bench/pam-bench build/bench/flood >&2 || { echo "bench: build failed"; exit 1; }
PAMBENCH=$TOP/build/bench/pam-bench
FLOOD=$TOP/build/bench/flood
[ -x "$DEVFLOWD" ] && [ -f "$PAM_MODULE" ] || { echo "bench: run 'make' first"; exit 1; }

meta nproc "$(nproc)"
meta cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
meta kernel "$(uname -r)"
meta mem_kib "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
meta commit "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null)"
meta date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
meta daemon "$DEVFLOWD (release build)"
meta idp "tests/idp/fake-idp.js on 127.0.0.1 over TLS (node $(node --version))"

bus_start || { echo "bench: private bus failed"; exit 1; }
idp_start "$TEST_DIR/idp" --interval 1 || { echo "bench: fake IdP failed"; exit 1; }
ensure_user "$BUSER" || { echo "bench: cannot create user $BUSER"; exit 1; }

# Bench-only config: limits far above the defaults (256 flows, 3 per user, 5 per rhost, 10 new per rhost
# per minute) so the capacity runs measure the daemon, not its limits.
write_conf() {
        local max_flows=${1:-1000000}
        cat >"$TEST_DIR/devflowd.conf" <<EOF
[idp]
issuer = $(idp_issuer)
client_id = devflow-test
ca_file = $IDP_CA
[login]
username_claim = preferred_username
[limits]
max_flows = $max_flows
max_flows_per_user = 1000000
max_flows_per_user_per_rhost = 1000000
max_flows_per_rhost = 1000000
max_new_flows_per_rhost_per_minute = 10000000
max_login_time = 3600
EOF
}

# The release daemon without --debug (lib.sh's daemon_start adds it; debug lines would cost per poll).
bench_daemon_start() {
        DAEMON_LOG=$TEST_DIR/devflowd.log
        "$DEVFLOWD" --config "$TEST_DIR/devflowd.conf" >>"$DAEMON_LOG" 2>&1 &
        DAEMON_PID=$!
        t_track "$DAEMON_PID"
        wait_for 20 bus_has_name net.devflow.Devflow1 || { echo "bench: devflowd did not start"; tail "$DAEMON_LOG"; exit 1; }
}
bench_daemon_stop() {
        daemon_stop
        wait_for 10 sh -c '! dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner string:net.devflow.Devflow1 | grep -q "boolean true"'
}

idp_set() { idp_ctl config "$1" >/dev/null; }

PAMCONF=$TEST_DIR/pamconf
mkdir -p "$PAMCONF"
printf 'auth required %s prompt=enter qr=ascii timeout=120\naccount required pam_permit.so\n' "$PAM_MODULE" \
        >"$PAMCONF/devflow-bench"
printf 'auth required %s prompt=none qr=ascii timeout=120\naccount required pam_permit.so\n' "$PAM_MODULE" \
        >"$PAMCONF/devflow-bench-none"
pb() { "$PAMBENCH" "$1" --confdir "$PAMCONF" --user "$BUSER" --idp "$IDP_URL" --ca "$IDP_CA" "${@:2}"; }

# One IdP round trip as the daemon makes it: POST to the device authorization endpoint over a kept-alive
# TLS connection. curl with the URL N times reuses its connection; the first transfer includes the
# handshake.
measure_rtt() {
        local ep n=${1:-20} args=() i
        ep=$(idp_ctl config | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
                const c=JSON.parse(s); console.log(process.argv[1] + c.issuer_path.replace(/\/$/,"") + "/device_authorization")})' "$IDP_URL")
        # --next resets the options: repeat them for every transfer (the connection is still reused).
        for ((i = 0; i <= n; i++)); do
                [ "$i" -gt 0 ] && args+=(--next)
                args+=(-s -o /dev/null --cacert "$IDP_CA" -w '%{time_total}\n' --data client_id=devflow-test "$ep")
        done
        curl "${args[@]}" >"$TEST_DIR/rtt.txt"
        head -1 "$TEST_DIR/rtt.txt" | awk '{ printf "rtt_handshake_ms %.3f\n", $1 * 1000 }' >>"$SAMPLES"
        tail -n +2 "$TEST_DIR/rtt.txt" | sort -n | awk '{ a[NR] = $1 } END { printf "rtt_ms %.3f\n", a[int((NR + 1) / 2)] * 1000 }' >>"$SAMPLES"
}

collect() {     # collect FIGURE < pam-bench output (MODE MS RC ROUNDS)
        local fig=$1 mode ms rc rounds
        while read -r mode ms rc rounds; do
                sample "$fig" "$ms"
                echo "$fig $ms rc=$rc rounds=$rounds" >>"$TEST_DIR/pam-samples.txt"
                # first-prompt fails the conversation on purpose (PAM_CONV_ERR): only approvals must succeed
                [ "$rc" = 0 ] || [ "$mode" = first-prompt ] || echo "$fig rc=$rc" >>"$TEST_DIR/pam-not-success.txt"
        done
}

# ---- 1, 2: latency ----------------------------------------------------------------------------
if want latency; then
        write_conf
        reps_cold=5 reps_warm=20 reps_i1=10 reps_i5=4
        [ "$QUICK" = 1 ] && reps_cold=2 reps_warm=5 reps_i1=3 reps_i5=1
        for ((i = 0; i < reps_cold; i++)); do
                bench_daemon_start
                pb first-prompt --count 1 | collect first_prompt_cold_ms
                [ "$i" -eq 0 ] && { pb first-prompt --count "$reps_warm" | collect first_prompt_warm_ms; }
                bench_daemon_stop
        done
        say "first prompt done"
        bench_daemon_start
        measure_rtt 30
        for iv in 1 5; do
                idp_set "{\"interval\":$iv}"
                n=$reps_i1; [ "$iv" = 5 ] && n=$reps_i5
                pb first-prompt --count 2 >/dev/null      # warm
                pb approve-enter --service devflow-bench --interval "$iv" --count "$n" | collect "approve_enter_i${iv}_ms"
                pb approve-none --service devflow-bench-none --interval "$iv" --count "$n" | collect "approve_none_i${iv}_ms"
                say "approval with interval $iv done"
        done
        measure_rtt 30
        bench_daemon_stop
        idp_set '{"interval":1}'
fi

# ---- 1b: the same first prompt against the real oidc-provider ---------------------------------------
# Its approval goes through its own web pages (tests/op/approve.js), which have no moment "the IdP marked
# the code approved" to time from, so only the first prompt and the round trip are measured here.
if want op && op_node_ok; then
        op_start "$TEST_DIR/op" || { echo "bench: oidc-provider failed"; exit 1; }
        printf '[idp]\nissuer = %s\nclient_id = devflow-public\nca_file = %s\n' "$OP_URL" "$OP_CA" \
                >"$TEST_DIR/devflowd.conf"
        reps_cold=5 reps_warm=20
        [ "$QUICK" = 1 ] && reps_cold=2 reps_warm=5
        for ((i = 0; i < reps_cold; i++)); do
                bench_daemon_start
                pb first-prompt --count 1 | collect op_first_prompt_cold_ms
                [ "$i" -eq 0 ] && { pb first-prompt --count "$reps_warm" | collect op_first_prompt_warm_ms; }
                bench_daemon_stop
        done
        args=()
        for ((i = 0; i <= 30; i++)); do
                [ "$i" -gt 0 ] && args+=(--next)
                args+=(-s -o /dev/null --cacert "$OP_CA" -w '%{time_total}\n' --data client_id=devflow-public
                       --data scope=openid "$OP_URL/device/auth")
        done
        curl "${args[@]}" | tail -n +2 | sort -n |
                awk '{ a[NR] = $1 } END { printf "op_rtt_ms %.3f\n", a[int((NR + 1) / 2)] * 1000 }' >>"$SAMPLES"
        kill "$OP_PID" 2>/dev/null
        meta op "oidc-provider on 127.0.0.1 over TLS"
        say "oidc-provider first prompt done"
        write_conf
fi

# ---- 3: capacity --------------------------------------------------------------------------------
# cap_run N PREFIX: N pending flows polling every 5 s; RSS per flow, CPU over 30 s, polling accuracy.
cap_run() {
        local n=$1 p=$2 rss0 rss1 c0 c1 i0 i1 t0 t1 out fpid polls
        idp_ctl reset '{}' >/dev/null
        idp_set '{"interval":5}'
        write_conf
        bench_daemon_start
        "$FLOOD" --user "$BUSER" --count 20 --cancel-after 0 >/dev/null      # warm: discovery, TLS
        sleep 1
        rss0=$(rss_kib "$DAEMON_PID")
        out=$TEST_DIR/flood-$p.out
        "$FLOOD" --user "$BUSER" --count "$n" --concurrency 128 --hold >"$out" 2>&1 &
        fpid=$!
        t_track "$fpid"
        wait_for 300 grep -q '^ready' "$out" || { say "flood $n did not finish"; }
        sed -n 's/^started /'"$p"'_held /p; s/^rate_per_s /'"$p"'_start_rate /p' "$out" >>"$SAMPLES"
        grep '^error' "$out" >&2
        sleep 6         # every flow polls once, the allocator settles
        rss1=$(rss_kib "$DAEMON_PID")
        awk -v a="$rss0" -v b="$rss1" -v n="$n" -v p="$p" 'BEGIN { printf "%s_rss_per_flow_kib %.3f\n", p, (b - a) / n }' >>"$SAMPLES"
        t0=$(now_ms); c0=$(cpu_ticks "$DAEMON_PID"); i0=$(cpu_ticks "$IDP_PID")
        if [ -n "${BENCH_PERF:-}" ] && [ "$p" = cap10k ]; then
                # BENCH_PERF=1: profile the daemon in this window (perf adds a little CPU of its own)
                perf record -q -g -o "$RES/perf-$p.data" -p "$DAEMON_PID" -- sleep 30 >/dev/null 2>&1
        else
                sleep 30
        fi
        t1=$(now_ms); c1=$(cpu_ticks "$DAEMON_PID"); i1=$(cpu_ticks "$IDP_PID")
        python3 "$TOP/bench/analyze.py" polls "$IDP_DIR/requests.jsonl" "$t0" "$t1" >"$TEST_DIR/polls-$p.txt"
        polls=$(awk '/^polls / { print $2 }' "$TEST_DIR/polls-$p.txt")
        sed -n 's/^acc_p50_ms /'"$p"'_acc_p50_ms /p; s/^acc_p99_ms /'"$p"'_acc_p99_ms /p' "$TEST_DIR/polls-$p.txt" >>"$SAMPLES"
        awk -v c="$((c1 - c0))" -v i="$((i1 - i0))" -v hz="$(getconf CLK_TCK)" -v ms="$((t1 - t0))" -v polls="$polls" -v p="$p" 'BEGIN {
                s = ms / 1000
                printf "%s_cpu_pct %.3f\n%s_idp_cpu_pct %.3f\n%s_polls_per_s %.1f\n", p, 100 * c / hz / s, p, 100 * i / hz / s, p, polls / s
                if (polls > 0) printf "%s_cpu_us_per_poll %.2f\n", p, 1e6 * c / hz / polls }' >>"$SAMPLES"
        say "capacity $n: rss $rss0 -> $rss1 KiB, $(tr '\n' ' ' <"$TEST_DIR/polls-$p.txt")"
        kill -TERM "$fpid"; wait "$fpid" 2>/dev/null
        bench_daemon_stop
}

if want capacity; then
        runs=$CAP_RUNS; [ "$QUICK" = 1 ] && runs=1
        for ((r = 0; r < runs; r++)); do
                cap_run 1000 cap1k
                cap_run 10000 cap10k
        done
        idp_ctl reset '{}' >/dev/null
        idp_set '{"interval":1}'
fi

# ---- 4: throughput ------------------------------------------------------------------------------
if want throughput; then
        idp_ctl reset '{}' >/dev/null
        idp_set '{"interval":5}'
        runs=3; [ "$QUICK" = 1 ] && runs=1
        for ((r = 0; r < runs; r++)); do
                write_conf 3000
                bench_daemon_start
                "$FLOOD" --user "$BUSER" --count 20 --cancel-after 0 >/dev/null     # warm
                "$FLOOD" --user "$BUSER" --count 4000 --concurrency 128 --stop-at-limit >"$TEST_DIR/tp.out" 2>&1
                sed -n 's/^rate_per_s /throughput_per_s /p' "$TEST_DIR/tp.out" >>"$SAMPLES"
                say "throughput: $(tr '\n' ' ' <"$TEST_DIR/tp.out")"
                bench_daemon_stop
                idp_ctl reset '{}' >/dev/null
                idp_set '{"interval":5}'
        done

        # Churn: start + Cancel. RSS after 1,000, after the first half and after the second half of the run,
        # each once the lingering (30 s) finished flows are freed. A finished flow lingers, so the first half
        # sets a plateau (peak of lingering flows); a leak shows as growth in the second, identical half.
        write_conf
        bench_daemon_start
        "$FLOOD" --user "$BUSER" --count 1000 --concurrency 64 --cancel-after 0 >"$TEST_DIR/churn1k.out"
        sleep 32
        sample rss_after_1k_kib "$(rss_kib "$DAEMON_PID")"
        total=1000
        for half in 1 2; do
                "$FLOOD" --user "$BUSER" --count "$(((CHURN - 1000) / 2))" --concurrency 128 --cancel-after 0 \
                        --max-seconds "$((CHURN_SECONDS / 2))" >"$TEST_DIR/churn$half.out"
                total=$((total + $(awk '/^started / { print $2 }' "$TEST_DIR/churn$half.out")))
                sed -n 's/^rate_per_s /churn_rate_per_s /p' "$TEST_DIR/churn$half.out" >>"$SAMPLES"
                say "churn half $half: $(tr '\n' ' ' <"$TEST_DIR/churn$half.out")"
                sleep 32
                sample "rss_after_churn${half}_kib" "$(rss_kib "$DAEMON_PID")"
        done
        sample churn_flows "$total"
        bench_daemon_stop
fi

[ -s "$TEST_DIR/pam-not-success.txt" ] && meta pam_not_success "$(sort "$TEST_DIR/pam-not-success.txt" | uniq -c | tr -s ' \n' ' ')"
python3 "$TOP/bench/analyze.py" report "$SAMPLES" "$META" "$RES/latest.json"
cp "$SAMPLES" "$RES/samples.txt"
[ -f "$TEST_DIR/pam-samples.txt" ] && cp "$TEST_DIR/pam-samples.txt" "$RES/pam-samples.txt"
if [ -s "$TEST_DIR/pam-not-success.txt" ]; then
        echo "note: some logins did not end in PAM_SUCCESS (latency still measured):"
        sort "$TEST_DIR/pam-not-success.txt" | uniq -c
fi
exit 0
