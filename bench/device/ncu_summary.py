#!/usr/bin/env python3
"""ncu_summary.py - GPU time of an esl bench run by kind of kernel.

    python3 ncu_summary.py NCU.csv

NCU.csv is what `ncu --metrics gpu__time_duration.sum --print-units base
--csv --log-file NCU.csv esl bench ...` wrote: one row per kernel launch with
its "Kernel Name", "Metric Name", "Metric Unit" and "Metric Value". Prints the
share of GPU time of each kind (cuBLAS GEMMs, the row softmax of attention,
im2col of convolutions, element-wise kernels, weight filling) and the ten
kernels that took longest in all. Lines that are not CSV (ncu's ==PROF==
messages) are skipped; a file it cannot read is said so, not guessed at.
"""
import csv
import sys
from collections import defaultdict

UNIT_S = {"nsecond": 1e-9, "ns": 1e-9, "usecond": 1e-6, "us": 1e-6,
          "msecond": 1e-3, "ms": 1e-3, "second": 1.0, "s": 1.0}

# esl's own kernels (lib/gpu/workload.cu); everything else is cuBLAS's.
KINDS = (("softmax_rows", "softmax (attention)"),
         ("im2col", "im2col (convolutions)"),
         ("fill_random", "weight filling"),
         ("gelu", "element-wise"),
         ("scale_shift", "element-wise"),
         ("add_bias", "element-wise"))


def kind_of(name):
    for key, kind in KINDS:
        if key in name:
            return kind
    return "GEMM (cuBLAS)"


def read(path):
    with open(path, newline="") as f:
        lines = [line for line in f if line.startswith('"')]
    rows = []
    for row in csv.DictReader(lines):
        if row.get("Metric Name") != "gpu__time_duration.sum":
            continue
        scale = UNIT_S.get((row.get("Metric Unit") or "").strip())
        value = (row.get("Metric Value") or "").replace(",", "").strip()
        if scale is None or not value:
            continue
        rows.append((row.get("Kernel Name", "?"), float(value) * scale))
    return rows


def main(argv):
    if len(argv) != 2:
        print("usage: ncu_summary.py NCU.csv", file=sys.stderr)
        return 2
    try:
        rows = read(argv[1])
    except (OSError, csv.Error, ValueError) as e:
        print(f"ncu_summary: {argv[1]}: {e}")
        return 1
    if not rows:
        print(f"ncu_summary: {argv[1]}: no gpu__time_duration.sum rows (see the raw file)")
        return 1
    total = sum(t for _, t in rows)
    by_kind, by_name, launches = defaultdict(float), defaultdict(float), defaultdict(int)
    for name, t in rows:
        by_kind[kind_of(name)] += t
        by_name[name] += t
        launches[kind_of(name)] += 1
    print(f"{len(rows)} kernel launches, {total * 1e3:.2f} ms of GPU time in all")
    print(f"{'kind':<24} {'launches':>8} {'ms':>10} {'share':>7}")
    for kind, t in sorted(by_kind.items(), key=lambda kv: -kv[1]):
        print(f"{kind:<24} {launches[kind]:>8} {t * 1e3:>10.2f} {100 * t / total:>6.1f}%")
    print("longest kernels in all:")
    for name, t in sorted(by_name.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  {t * 1e3:>10.2f} ms {100 * t / total:>6.1f}%  {name[:100]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
