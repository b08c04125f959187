#!/usr/bin/python3
"""The Python peers of bench/run_law_bench.sh: what a user of pandas and
scikit-learn would write for the work esl fit, esl validate and esl predict
do, on the CSV files build/bench/bench_law writes.

Python has no FLOP engine, so the denoiser FLOPs per step of each model and
size come from law_bench_flops.csv (written by bench_law with libesl's
engine) and are joined to the rows. Usage:
  /usr/bin/python3 bench/law_pandas.py fit|validate|predict DIR [LAW_CSV]
fit and validate read DIR/law_bench.csv; predict reads DIR/configs.csv and
the coefficients and covariance that esl fit wrote (LAW_CSV, see below), and
writes the predictions with 95% intervals as CSV to standard output.
"""
import sys

import numpy as np
import pandas as pd


def design(d, rows):
    flops = pd.read_csv(f"{d}/law_bench_flops.csv")
    df = rows.merge(flops, on=["model", "height", "width"], how="left")
    flops_cfg = df["prompts"] * df["steps"] * df["denoise_flops_per_step"] * np.where(df["cfg"] == 1, 2.0, 1.0)
    X = pd.DataFrame({"alpha": np.log(flops_cfg / 1e9)})
    dummies = pd.get_dummies(df[["dtype", "gpu"]], drop_first=True, dtype=float)
    X = pd.concat([X, dummies], axis=1)
    X["res"] = np.log(df["height"] * df["width"] / 256.0)
    return df, flops_cfg, X


def fit(d):
    from sklearn.linear_model import LinearRegression
    rows = pd.read_csv(f"{d}/law_bench.csv")
    df, _, X = design(d, rows)
    y = np.log(df["energy_j"] / 3.6e6)
    m = LinearRegression().fit(X.values, y.values)
    print(f"rows {len(y)} alpha {m.coef_[0]:.6f} r2_log {m.score(X.values, y.values):.6f}")


def validate(d):
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_absolute_error, r2_score
    from sklearn.model_selection import KFold
    rows = pd.read_csv(f"{d}/law_bench.csv")
    df, _, X = design(d, rows)
    Xv, y, e = X.values, np.log(df["energy_j"].values / 3.6e6), df["energy_j"].values
    for k, (tr, te) in enumerate(KFold(n_splits=10, shuffle=True, random_state=1).split(Xv)):
        m = LinearRegression().fit(Xv[tr], y[tr])
        p = m.predict(Xv[te])
        pj = np.exp(p) * 3.6e6
        print(f"fold {k + 1} r2_log {r2_score(y[te], p):.4f} r2_j {r2_score(e[te], pj):.4f} "
              f"mae_j {mean_absolute_error(e[te], pj):.4g} "
              f"mape {100 * np.mean(np.abs(pj - e[te]) / e[te]):.2f}")


def predict(d, law_csv):
    from scipy.stats import t as tdist
    law = pd.read_csv(law_csv)  # term,coef,se and the covariance as cov_<term> columns
    terms = list(law["term"])
    coef = law["coef"].values
    cov = law[[f"cov_{t}" for t in terms]].values
    sigma2, dof = float(law["sigma2"][0]), float(law["dof"][0])
    rows = pd.read_csv(f"{d}/configs.csv")
    df, flops_cfg, X = design(d, rows)
    X.insert(0, "ln_A", 1.0)
    X = X.rename(columns={"dtype_fp32": "dtype=fp32", "gpu_A4000": "gpu=A4000", "gpu_A6000": "gpu=A6000"})
    Xv = X[terms].values
    ln = Xv @ coef
    se = np.sqrt(np.einsum("ij,jk,ik->i", Xv, cov, Xv) + sigma2)
    t = tdist.ppf(0.975, dof)
    out = df[["model", "gpu", "dtype", "cfg", "height", "width", "steps", "prompts"]].copy()
    out["flops_cfg"] = flops_cfg
    out["energy_j"] = np.exp(ln) * 3.6e6
    out["energy_lo_j"] = np.exp(ln - t * se) * 3.6e6
    out["energy_hi_j"] = np.exp(ln + t * se) * 3.6e6
    out["wh_per_image"] = out["energy_j"] / 3600.0 / out["prompts"]
    out["kwh_total"] = out["energy_j"] / 3.6e6
    out.to_csv(sys.stdout, index=False, float_format="%.17g")


if __name__ == "__main__":
    cmd, d = sys.argv[1], sys.argv[2]
    {"fit": lambda: fit(d), "validate": lambda: validate(d),
     "predict": lambda: predict(d, sys.argv[3])}[cmd]()
