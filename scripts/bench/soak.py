"""A bounded soak on loopback: signed-in pages and the bearer API under load at once, for
SOAK_DURATION seconds (default 300) at SOAK_CONNECTIONS (default 64) in all. Passes when no
request failed and memory stayed flat: the server's RSS over the last quarter of the run is within
SOAK_RSS_GROWTH (default 10%) of its RSS over the second quarter (the first is warm-up).

Usage: soak.py BASE_URL SERVER_PID  (COOKIE and TOKEN in the environment, from prepare.py)
"""

import os
import re
import subprocess
import sys
import time

from rss import rss_kib

BASE = sys.argv[1].rstrip("/")
PID = int(sys.argv[2])
DURATION = int(os.environ.get("SOAK_DURATION", "300"))
CONNECTIONS = int(os.environ.get("SOAK_CONNECTIONS", "64"))
GROWTH = float(os.environ.get("SOAK_RSS_GROWTH", "0.10"))
assert re.match(r"^http://(127\.0\.0\.1|localhost|\[::1\]):\d+$", BASE), "loopback only"

loads = [
    ("/dashboard", {"Cookie": os.environ["COOKIE"], "Accept": "text/html"}),
    ("/api/v1/deployments", {"Authorization": f"Bearer {os.environ['TOKEN']}"}),
]




processes = []
for path, headers in loads:
    command = ["wrk", "-t1", f"-c{CONNECTIONS // len(loads)}", f"-d{DURATION}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(BASE + path)
    processes.append((path, subprocess.Popen(command, stdout=subprocess.PIPE, text=True)))

samples = []
started = time.monotonic()
while any(p.poll() is None for _, p in processes):
    samples.append((time.monotonic() - started, rss_kib(PID)))
    time.sleep(5)

failed = False
for path, process in processes:
    output = process.stdout.read()
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket = re.search(r"Socket errors: (.*)", output)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)
    bad = (int(errors.group(1)) if errors else 0)
    print(f"{path}: {requests} requests, {bad} non-2xx/3xx, socket errors: {socket.group(1) if socket else 'none'}, p99 {p99}")
    failed |= bad > 0 or socket is not None

quarter = max(1, len(samples) // 4)
second = [kib for _, kib in samples[quarter : 2 * quarter]] or [samples[0][1]]
last = [kib for _, kib in samples[-quarter:]]
early, late = sum(second) / len(second), sum(last) / len(last)
growth = (late - early) / early
print(
    f"RSS: {samples[0][1] / 1024:.1f} MiB at the start, {early / 1024:.1f} MiB in the second quarter, "
    f"{late / 1024:.1f} MiB in the last ({growth:+.1%}; allowed {GROWTH:+.0%}), {len(samples)} samples"
)
if growth > GROWTH:
    print("memory grew")
    failed = True
print("soak: FAILED" if failed else "soak: passed")
sys.exit(1 if failed else 0)
