"""Prints the browser bundle's size, raw and gzip -9, for the first page load and in total, and
checks the first load against the budget (1.2x a minimal Leptos 0.8 app: 166 KB wasm + 7 KB JS gzip).

Usage: bundle.py PKG_DIR
"""

import gzip
import os
import sys

PKG = sys.argv[1]
FLOOR_KB = 166 + 7
BUDGET_KB = FLOOR_KB * 1.2


def sizes(path):
    with open(path, "rb") as f:
        data = f.read()
    return len(data), len(gzip.compress(data, 9))


files = sorted(f for f in os.listdir(PKG) if f.endswith((".wasm", ".js")))
# The first load is the main module and its glue; split chunks (if any) load later, on demand.
first = [f for f in files if f.split(".")[0] == "leptos-scalekit"]
total_raw = total_gz = first_raw = first_gz = 0
print("| file | raw KB | gzip KB |\n|---|---:|---:|")
for name in files:
    raw, gz = sizes(os.path.join(PKG, name))
    total_raw += raw
    total_gz += gz
    if name in first:
        first_raw += raw
        first_gz += gz
    print(f"| {name} | {raw / 1000:.1f} | {gz / 1000:.1f} |")
print(f"| **first load** | {first_raw / 1000:.1f} | {first_gz / 1000:.1f} |")
print(f"| **total** | {total_raw / 1000:.1f} | {total_gz / 1000:.1f} |")
verdict = "within" if first_gz / 1000 <= BUDGET_KB else "OVER"
print(f"\nfirst load {first_gz / 1000:.1f} KB gzip = {first_gz / 1000 / FLOOR_KB:.2f}x the minimal app's {FLOOR_KB} KB; budget {BUDGET_KB:.0f} KB: {verdict}")
