#!/usr/bin/env python3
"""Rewrite the JSON files written by the R scripts (numbers as %.17g) with
Python's shortest round-trip float repr.  Lossless: every float is the same
IEEE double before and after (checked).  Standard library only.
Usage: python3 normalize_json.py [files...]   (default: all *.json here)"""
import glob
import json
import math
import os
import sys


def floats(o):
    if isinstance(o, float):
        yield o
    elif isinstance(o, dict):
        for v in o.values():
            yield from floats(v)
    elif isinstance(o, list):
        for v in o:
            yield from floats(v)

here = os.path.dirname(os.path.abspath(__file__))
files = sys.argv[1:] or sorted(glob.glob(os.path.join(here, "*.json")))
for f in files:
    with open(f) as fh:
        obj = json.load(fh)
    # compact: one line per file keeps the repository small; read it with json.load or jq
    txt = json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n"
    back = json.loads(txt)
    a, b = list(floats(obj)), list(floats(back))
    assert len(a) == len(b) and all((x == y) or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b)), f
    with open(f, "w") as fh:
        fh.write(txt)
    print(f"normalized {os.path.basename(f)} ({len(a)} floats)")
