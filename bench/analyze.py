#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers for bench/run.sh (no third-party modules).
#
#   analyze.py polls REQUESTS_JSONL FROM_MS TO_MS
#       token-endpoint polls that arrived in [FROM_MS, TO_MS) (the fake IdP's clock, ms): prints
#       "polls N", "flows N" and the polling accuracy, i.e. the spacing of consecutive polls of one
#       device_code minus the interval the IdP asked for: "acc_p50_ms X", "acc_p99_ms X", "acc_max_ms X",
#       "acc_min_ms X", plus "too_early N".
#   analyze.py report SAMPLES_FILE META_FILE JSON_OUT
#       SAMPLES_FILE: "figure value" lines (several per figure = repeated runs); META_FILE: "key value"
#       lines (machine, settings). Prints the table (median, min, max, n, goal) and writes JSON_OUT.
import json
import statistics
import sys


def pct(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def polls(path, t_from, t_to):
    n = 0
    codes = set()
    acc = []
    early = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue
            if r.get("endpoint") != "token" or "device_code" not in r.get("grant_type", ""):
                continue
            t = r.get("time", 0)
            if t < t_from or t >= t_to:
                continue
            n += 1
            codes.add(r.get("user_code"))
            if r.get("too_early"):
                early += 1
            gap = r.get("since_prev_ms")
            iv = r.get("interval")
            if gap is not None and isinstance(iv, (int, float)):
                acc.append(gap - iv * 1000.0)
    print("polls", n)
    print("flows", len(codes))
    print("too_early", early)
    for name, v in (("p50", pct(acc, 50)), ("p99", pct(acc, 99)), ("max", max(acc) if acc else float("nan")),
                    ("min", min(acc) if acc else float("nan"))):
        print("acc_%s_ms %.3f" % (name, v))


# figure -> (label, unit, goal text)
FIGURES = [
    ("rtt_ms", "IdP round trip (curl, kept-alive TLS, device endpoint)", "ms", ""),
    ("rtt_handshake_ms", "IdP first request incl. TCP+TLS handshake", "ms", ""),
    ("first_prompt_cold_ms", "time to first prompt, cold (daemon just started)", "ms", ""),
    ("first_prompt_warm_ms", "time to first prompt, warm", "ms", "<= RTT + 5 ms"),
    ("op_rtt_ms", "oidc-provider round trip (curl, kept-alive TLS)", "ms", ""),
    ("op_first_prompt_cold_ms", "oidc-provider: first prompt, cold", "ms", ""),
    ("op_first_prompt_warm_ms", "oidc-provider: first prompt, warm", "ms", "<= RTT + 5 ms"),
    ("approve_enter_i1_ms", "approval -> PAM_SUCCESS, prompt=enter, interval 1", "ms", "<= RTT + 5 ms"),
    ("approve_enter_i5_ms", "approval -> PAM_SUCCESS, prompt=enter, interval 5", "ms", "<= RTT + 5 ms"),
    ("approve_none_i1_ms", "approval -> PAM_SUCCESS, prompt=none, interval 1", "ms", "<= 1050 ms"),
    ("approve_none_i5_ms", "approval -> PAM_SUCCESS, prompt=none, interval 5", "ms", "<= 5050 ms"),
    ("cap1k_held", "pending flows held (target 1,000)", "flows", "1000"),
    ("cap1k_rss_per_flow_kib", "daemon RSS per pending flow (1,000)", "KiB", "< 16"),
    ("cap10k_held", "pending flows held (target 10,000)", "flows", "10000"),
    ("cap10k_start_rate", "StartLogin/s while filling to 10,000", "1/s", ""),
    ("cap10k_rss_per_flow_kib", "daemon RSS per pending flow (10,000)", "KiB", "< 16"),
    ("cap10k_cpu_pct", "daemon CPU, 10,000 flows polling every 5 s (30 s)", "% core", "< 1 % + polls"),
    ("cap10k_polls_per_s", "token polls per second in that window", "1/s", "2000"),
    ("cap10k_cpu_us_per_poll", "daemon CPU per poll", "us", ""),
    ("cap10k_idp_cpu_pct", "fake IdP CPU in that window", "% core", "< 100 (not the bottleneck)"),
    ("cap10k_acc_p50_ms", "polling accuracy p50 (actual - scheduled)", "ms", ""),
    ("cap10k_acc_p99_ms", "polling accuracy p99", "ms", "< 50"),
    ("cap1k_acc_p50_ms", "polling accuracy p50 (1,000 flows)", "ms", ""),
    ("cap1k_acc_p99_ms", "polling accuracy p99 (1,000 flows)", "ms", "< 50"),
    ("throughput_per_s", "StartLogin/s until the limit answers", "1/s", ">= 500"),
    ("churn_flows", "completed flows (start + Cancel) in the churn run", "flows", "100000"),
    ("churn_rate_per_s", "start + Cancel per second", "1/s", ""),
    ("rss_after_1k_kib", "daemon RSS after 1,000 completed flows", "KiB", ""),
    ("rss_after_churn1_kib", "daemon RSS after the first half of the churn run", "KiB", "plateau"),
    ("rss_after_churn2_kib", "daemon RSS after the second half (all flows)", "KiB", "~ same as first half"),
]


def report(samples_path, meta_path, json_out):
    data = {}
    with open(samples_path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 2:
                continue
            try:
                data.setdefault(parts[0], []).append(float(parts[1]))
            except ValueError:
                pass
    meta = {}
    try:
        with open(meta_path, encoding="utf-8") as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition(" ")
                if k:
                    meta[k] = v
    except OSError:
        pass

    out = {"machine": meta, "figures": {}}
    print()
    print("pam_devflow benchmarks — %s cores, %s" % (meta.get("nproc", "?"), meta.get("cpu", "?")))
    print("%-56s %10s %10s %10s %4s  %-7s %s" % ("figure", "median", "min", "max", "n", "unit", "goal"))
    print("-" * 120)
    known = set()
    for key, label, unit, goal in FIGURES:
        known.add(key)
        v = data.get(key)
        if not v:
            print("%-56s %10s %10s %10s %4s  %-7s %s" % (label, "-", "-", "-", 0, unit, goal))
            out["figures"][key] = {"label": label, "unit": unit, "goal": goal, "n": 0}
            continue
        med = statistics.median(v)
        print("%-56s %10.2f %10.2f %10.2f %4d  %-7s %s" % (label, med, min(v), max(v), len(v), unit, goal))
        out["figures"][key] = {"label": label, "unit": unit, "goal": goal, "n": len(v), "median": med,
                               "min": min(v), "max": max(v), "samples": v}
    for key in sorted(set(data) - known):
        v = data[key]
        out["figures"][key] = {"n": len(v), "median": statistics.median(v), "min": min(v), "max": max(v),
                               "samples": v}
    with open(json_out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("\n(JSON: %s)" % json_out)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "polls":
        polls(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    elif len(sys.argv) == 5 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        print(__doc__ or "usage: analyze.py polls|report ...", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
