"""Prints the browser bundle's size, raw and gzip -9: the first load (the main module, its JS glue
and the split loader, which every page needs), what each lazily loaded page adds, and the total.
Checks the first load against the budget: 1.2x a minimal Leptos 0.8 app (166 KB wasm + 7 KB JS).

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
if os.path.exists(manifest_path):
    with open(manifest_path) as f:
        manifest = json.load(f)
    for route, chunks in sorted(manifest.items()):
        parts = [f"{c}.wasm" for c in chunks if os.path.exists(os.path.join(PKG, f"{c}.wasm"))]
        raw = sum(sizes(p)[0] for p in parts)
        gz = sum(sizes(p)[1] for p in parts)
        label = route.strip("_").rsplit("_", 1)[0].replace("_route_view", "")
        print(f"| + page `{label}` (on demand) | {kb(raw)} | {kb(gz)} | {brotli_cell(parts)} |")
print(f"| **total** | {kb(total_raw)} | {kb(total_gz)} | {brotli_cell(files)} |")
verdict = "within" if first_gz / 1000 <= BUDGET_KB else "OVER"
print(
    f"\nfirst load {kb(first_gz)} KB gzip = {first_gz / 1000 / FLOOR_KB:.2f}x the minimal app's "
    f"{FLOOR_KB} KB; budget {BUDGET_KB:.0f} KB: {verdict}"
)
