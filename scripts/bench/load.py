"""Load-tests the running app with wrk and reports each target against its baseline, in one run.

Usage: load.py BASE_URL SERVER_PID  (COOKIE and TOKEN in the environment, from prepare.py)
Targets only the given loopback base URL; every wrk run stops after BENCH_DURATION.
"""

import json
import os
import re
import subprocess
import sys

from rss import rss_kib

BASE = sys.argv[1].rstrip("/")
PID = int(sys.argv[2])
DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "64")
THREADS = os.environ.get("BENCH_THREADS", "2")
COOKIE = os.environ["COOKIE"]
TOKEN = os.environ["TOKEN"]

assert re.match(r"^http://(127\.0\.0\.1|localhost|\[::1\]):\d+$", BASE), "loopback only"

# name, path, headers, baseline name
TARGETS = [
    ("static page (baseline)", "/bench-static.html", {}, None),
    ("JSON hello (baseline)", "/health", {}, None),
    ("SSR /dashboard", "/dashboard", {"Cookie": COOKIE, "Accept": "text/html"}, "static page (baseline)"),
    ("SSR /sessions", "/sessions", {"Cookie": COOKIE, "Accept": "text/html"}, "static page (baseline)"),
    ("bearer GET /api/v1/deployments", "/api/v1/deployments", {"Authorization": f"Bearer {TOKEN}"}, "JSON hello (baseline)"),
]
# What the issue asks of each ratio.
TARGET_RATIO = {"static page (baseline)": 0.5, "JSON hello (baseline)": 0.7}




UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def millis(text):
    match = re.match(r"([\d.]+)(us|ms|s)$", text)
    return float(match.group(1)) * UNITS[match.group(2)]


def wrk(path, headers, duration):
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(BASE + path)
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for pct in ("50", "99"):
        result[f"p{pct}"] = millis(re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", output, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    result["errors"] = (int(errors.group(1)) if errors else 0)
    result["socket_errors"] = socket_errors.group(1) if socket_errors else ""
    return result


STEADY_SHARE = 0.5  # steady-rate runs offer this share of the target's own saturated req/s


def oha_steady(path, headers, rate, duration):
    """p50/p99 at a fixed offered rate (open loop, corrected for coordinated omission)."""
    command = ["oha", "--no-tui", "--output-format", "json", "-z", duration, "-c", CONNECTIONS,
               "-q", str(int(rate)), "--latency-correction"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(BASE + path)
    report = json.loads(subprocess.run(command, capture_output=True, text=True, check=True, timeout=600).stdout)
    percentiles = report["latencyPercentiles"]
    codes = report.get("statusCodeDistribution", {})
    bad = sum(n for code, n in codes.items() if not code.startswith(("2", "3")))
    return {
        "offered_rps": rate,
        "rps": report["summary"]["requestsPerSec"],
        "p50": percentiles["p50"] * 1000,
        "p99": percentiles["p99"] * 1000,
        # Requests still in flight when the run's time is up are cut off, not failed.
        "errors": bad + sum(n for kind, n in report.get("errorDistribution", {}).items()
                            if kind != "aborted due to deadline"),
    }


def main():
    results = {}
    start_rss = rss_kib(PID)
    for name, path, headers, _ in TARGETS:
        wrk(path, headers, "2s")  # warm-up: caches, allocator, connection set-up
        result = wrk(path, headers, DURATION)
        result["rss_mib"] = rss_kib(PID) / 1024
        results[name] = result
    end_rss = rss_kib(PID)

    print(f"\nwrk, {THREADS} threads, {CONNECTIONS} connections, {DURATION} per target, on {os.cpu_count()} cores (client and server share them)\n")
    print(f"| target | req/s | p50 ms | p99 ms | RSS after, MiB | ratio to baseline | goal |")
    print(f"|---|---:|---:|---:|---:|---:|---|")
    for name, _, _, baseline in TARGETS:
        r = results[name]
        if baseline:
            ratio = r["rps"] / results[baseline]["rps"]
            goal = TARGET_RATIO[baseline]
            verdict = f"≥ {goal}× {'met' if ratio >= goal else 'NOT met'}"
            ratio_text = f"{ratio:.2f}×"
        else:
            ratio_text, verdict = "1.00×", ""
        p99_note = "" if r["p99"] <= 5 else " (> 5 ms)"
        print(f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f}{p99_note} | {r['rss_mib']:.1f} | {ratio_text} | {verdict} |")
        if r["errors"] or r["socket_errors"]:
            print(f"|   errors | non-2xx/3xx: {r['errors']} socket: {r['socket_errors']} | | | | | |")
    print(f"\nRSS: {start_rss / 1024:.1f} MiB before the first run, {end_rss / 1024:.1f} MiB after the last.")

    # Saturated runs measure throughput; their latency is queueing (64 connections / req/s, by
    # Little's law). Latency targets are for a load the server can sustain: offer each target half
    # its own saturated rate at the same 64 connections, open loop.
    print(f"\noha, {CONNECTIONS} connections, a steady {STEADY_SHARE:.0%} of each target's saturated req/s, {DURATION} each, corrected for coordinated omission\n")
    print("| target | offered req/s | p50 ms | p99 ms | goal p99 ≤ 5 ms |")
    print("|---|---:|---:|---:|---|")
    for name, path, headers, _ in TARGETS:
        steady = oha_steady(path, headers, results[name]["rps"] * STEADY_SHARE, DURATION)
        results[name]["steady"] = steady
        verdict = "met" if steady["p99"] <= 5 else "NOT met"
        print(f"| {name} | {steady['offered_rps']:.0f} | {steady['p50']:.2f} | {steady['p99']:.2f} | {verdict} |")
        if steady["errors"]:
            results[name]["errors"] += steady["errors"]
            print(f"|   errors | {steady['errors']} | | | |")
    with open(os.environ.get("BENCH_JSON", "target/bench-results.json"), "w") as f:
        json.dump({"results": results, "rss_start_kib": start_rss, "rss_end_kib": end_rss}, f, indent=2)
    failed = [n for n, r in results.items() if r["errors"] or r["socket_errors"]]
    if failed:
        print(f"errors in: {', '.join(failed)}")
        sys.exit(1)


main()
