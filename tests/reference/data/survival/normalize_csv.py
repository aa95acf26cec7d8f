#!/usr/bin/env python3
"""Rewrite the CSV files written by the R scripts (doubles as %.17g) with
Python's shortest round-trip float repr.  Lossless: every number is the same
IEEE double before and after (asserted).  Quoted fields (header, factor labels,
dates) and empty fields (NA) are kept as they are; unquoted integer literals are
kept verbatim.  Standard library only.
Usage: python3 normalize_csv.py [files...]   (default: all *.csv here)"""
import glob
import os
import re
import sys

INT = re.compile(r"[+-]?\d+\Z")

def fields(line):
    """Split one CSV line (no embedded newlines) into (text, quoted) pairs."""
    out, i, n = [], 0, len(line)
    while True:
        if i < n and line[i] == '"':          # quoted field, "" is an escaped quote
            start, j = i, i + 1
            while True:
                k = line.index('"', j)
                if k + 1 < n and line[k + 1] == '"':
                    j = k + 2
                else:
                    i = k + 1; break
            out.append((line[start:i], True))   # kept verbatim
        else:
            k = line.find(',', i)
            k = n if k < 0 else k
            out.append((line[i:k], False)); i = k
        if i >= n:
            return out
        assert line[i] == ',', line
        i += 1
        if i == n:
            out.append(('', False)); return out

def norm(tok):
    if tok == '' or INT.match(tok):
        return tok
    x = float(tok)                      # correctly rounded: recovers R's double from %.17g
    r = repr(x)
    assert float(r) == x and r not in ('nan', 'inf', '-inf'), tok
    if r.endswith('.0'):
        r = r[:-2]
    assert float(r) == x
    return r

here = os.path.dirname(os.path.abspath(__file__))
files = sys.argv[1:] or sorted(glob.glob(os.path.join(here, "*.csv")))
for f in files:
    with open(f, newline='') as fh:
        lines = fh.read().split('\n')
    assert lines[-1] == '', f
    out, nnum = [], 0
    for line in lines[:-1]:
        row = []
        for tok, quoted in fields(line):
            if quoted:
                row.append(tok)
            else:
                row.append(norm(tok)); nnum += tok != ''
        out.append(','.join(row))
    with open(f, 'w', newline='') as fh:
        fh.write('\n'.join(out) + '\n')
    print(f"normalized {os.path.basename(f)} ({len(out) - 1} rows, {nnum} numbers)")
