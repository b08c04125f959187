#!/usr/bin/python3
"""The same fit as bench_law.c, in Python with scikit-learn, on the same CSV.

Reads law_bench.csv (and law_bench_flops.csv: the denoiser FLOPs per step that
libesl's FLOP engine computed for each model and size, since Python has no FLOP
engine), builds the Eq. 3/4 features with numpy, fits LinearRegression, and
predicts every row. Usage: /usr/bin/python3 bench/law_sklearn.py DIR
"""
import csv
import math
import sys
import time

import numpy as np
from sklearn.linear_model import LinearRegression


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "/tmp"
    denoise = {}
    with open(f"{d}/law_bench_flops.csv", newline="") as f:
        for r in csv.DictReader(f):
            denoise[(r["model"], int(r["height"]), int(r["width"]))] = float(r["denoise_flops_per_step"])
    gpus = {"A100": 0, "A4000": 1, "A6000": 2}

    t0 = time.perf_counter()
    rows = []
    with open(f"{d}/law_bench.csv", newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for m, g, dt, cfg, h, w, steps, n, e in reader:
            h, w = int(h), int(w)
            flops = int(n) * int(steps) * denoise[(m, h, w)] * (2 if cfg == "1" else 1)
            rows.append((flops, dt == "fp32", gpus[g], h * w, float(e)))
    a = np.array(rows, dtype=float)
    X = np.column_stack([
        np.log(a[:, 0] / 1e9),
        a[:, 1],
        a[:, 2] == 1,
        a[:, 2] == 2,
        np.log(a[:, 3] / 256.0),
    ])
    y = np.log(a[:, 4] / 3.6e6)
    t1 = time.perf_counter()
    model = LinearRegression().fit(X, y)
    t2 = time.perf_counter()
    model.predict(X)
    t3 = time.perf_counter()
    single = 2000
    for i in range(single):
        model.predict(X[i:i + 1])
    t4 = time.perf_counter()

    print(f"rows {len(y)}")
    print(f"py_read_s {t1 - t0:.3f}")
    print(f"py_fit_s {t2 - t1:.3f}")
    print(f"py_predict_batch_per_s {len(y) / (t3 - t2):.0f}")
    print(f"py_predict_single_per_s {single / (t4 - t3):.0f}")
    print(f"py_alpha {model.coef_[0]:.4f}")
    print(f"py_fp32 {model.coef_[1]:.4f}")
    print(f"py_r2_log {model.score(X, y):.6f}")


if __name__ == "__main__":
    main()
