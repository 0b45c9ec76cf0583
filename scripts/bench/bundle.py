"""Prints the browser bundle's size, raw and gzip -9: the first load (the main module, its JS glue
and the split loader, which every page needs), what each lazily loaded page adds, and the total.
Checks the budgets: the first load at most 1.2x a minimal Leptos 0.8 app (166 KB wasm + 7 KB JS);
the signed-in landing (a sign-in lands on /dashboard: the first load plus the dashboard's chunks)
at most 200 KB; no single chunk above 60 KB; the whole app at most 300 KB (all gzip -9).

Also prints the brotli copies that release builds ship (`cargo leptos build --precompress`), which
the file server sends to browsers that accept brotli.

Usage: bundle.py PKG_DIR
"""

import functools
import gzip
import json
import os
import sys

PKG = sys.argv[1]
FLOOR_KB = 166 + 7
BUDGET_KB = FLOOR_KB * 1.2
LANDING_BUDGET_KB = 200
CHUNK_BUDGET_KB = 60
TOTAL_BUDGET_KB = 300
LANDING_PAGE = "dashboard"


@functools.cache  # each file is compressed once, however many rows count it
def sizes(name):
    with open(os.path.join(PKG, name), "rb") as f:
        data = f.read()
    return len(data), len(gzip.compress(data, 9))


def brotli_size(names):
    """Bytes of the shipped .br copies, or None if any is missing (a debug build has none)."""
    paths = [os.path.join(PKG, f"{name}.br") for name in names]
    if not all(os.path.exists(p) for p in paths):
        return None
    return sum(os.path.getsize(p) for p in paths)


def brotli_cell(names):
    size = brotli_size(names)
    return "none" if size is None else kb(size)


def kb(n):
    return f"{n / 1000:.1f}"


files = sorted(f for f in os.listdir(PKG) if f.endswith((".wasm", ".js")))
first = [f for f in files if f.startswith(("leptos-scalekit.", "__wasm_split"))]
first_raw = sum(sizes(f)[0] for f in first)
first_gz = sum(sizes(f)[1] for f in first)
total_raw = sum(sizes(f)[0] for f in files)
total_gz = sum(sizes(f)[1] for f in files)

print("| part | raw KB | gzip -9 KB | shipped .br KB |\n|---|---:|---:|---:|")
for name in first:
    raw, gz = sizes(name)
    print(f"| {name} | {kb(raw)} | {kb(gz)} | {brotli_cell([name])} |")
print(f"| **first load** | {kb(first_raw)} | {kb(first_gz)} | {brotli_cell(first)} |")
manifest_path = os.path.join(PKG, "__wasm_split_manifest.json")
landing_gz = None
if os.path.exists(manifest_path):
    with open(manifest_path) as f:
        manifest = json.load(f)
    for route, chunks in sorted(manifest.items()):
        parts = [f"{c}.wasm" for c in chunks if os.path.exists(os.path.join(PKG, f"{c}.wasm"))]
        raw = sum(sizes(p)[0] for p in parts)
        gz = sum(sizes(p)[1] for p in parts)
        label = route.strip("_").rsplit("_", 1)[0].replace("_route_view", "")
        print(f"| + page `{label}` (on demand) | {kb(raw)} | {kb(gz)} | {brotli_cell(parts)} |")
        if label == LANDING_PAGE:
            landing_gz = first_gz + gz
            print(f"| **signed-in landing** (first load + `{label}`) | {kb(first_raw + raw)} | {kb(landing_gz)} "
                  f"| {brotli_cell(first + parts)} |")
print(f"| **total** | {kb(total_raw)} | {kb(total_gz)} | {brotli_cell(files)} |")
def verdict(size, budget):
    return "within" if size / 1000 <= budget else "OVER"


print(
    f"\nfirst load {kb(first_gz)} KB gzip = {first_gz / 1000 / FLOOR_KB:.2f}x the minimal app's "
    f"{FLOOR_KB} KB; budget {BUDGET_KB:.0f} KB: {verdict(first_gz, BUDGET_KB)}"
)
if landing_gz is not None:
    print(f"signed-in landing {kb(landing_gz)} KB gzip; budget {LANDING_BUDGET_KB} KB: "
          f"{verdict(landing_gz, LANDING_BUDGET_KB)}")
chunks = [f for f in files if f.endswith(".wasm") and f not in first]
if chunks:
    largest = max(chunks, key=lambda f: sizes(f)[1])
    print(f"largest chunk {largest}: {kb(sizes(largest)[1])} KB gzip; budget {CHUNK_BUDGET_KB} KB each: "
          f"{verdict(sizes(largest)[1], CHUNK_BUDGET_KB)}")
print(f"whole app {kb(total_gz)} KB gzip; budget {TOTAL_BUDGET_KB} KB: {verdict(total_gz, TOTAL_BUDGET_KB)}")
