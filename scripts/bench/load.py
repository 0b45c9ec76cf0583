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
    with open(os.environ.get("BENCH_JSON", "target/bench-results.json"), "w") as f:
        json.dump({"results": results, "rss_start_kib": start_rss, "rss_end_kib": end_rss}, f, indent=2)
    failed = [n for n, r in results.items() if r["errors"] or r["socket_errors"]]
    if failed:
        print(f"errors in: {', '.join(failed)}")
        sys.exit(1)


main()
