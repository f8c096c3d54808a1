"""Time pyfixest on the exact data Sanad's `ols_bench` fits, and check both agree.

Run by hand (the Rust tests never call Python), in an environment with
    pip install pyfixest pyarrow
(the script itself installs nothing):

    cargo run --release -p sanad-evaluation --example ols_bench -- \
        --runs 3 --write /tmp/ols_bench.parquet --json /tmp/ols_bench.json
    python crates/evaluation/reference/pyfixest_bench.py \
        /tmp/ols_bench.parquet /tmp/ols_bench.json

It loads the Parquet file (not timed), times
    pyfixest.feols("y ~ x1 + ... + x10 | fe", vcov={"CRV1": "cl"})
(the fit including the CR1 variance; best of --runs, default 3, so numba's
compilation on the first call is not counted), checks the coefficients
agree with Sanad's to 1e-6 relative and the CR1 standard errors to 1e-4
relative, and prints both fit times and the ratio pyfixest / Sanad.
Exit status 1 when the estimates disagree.
"""
import argparse
import json
import platform
import sys
import time

import numpy as np
import pandas as pd
import pyfixest as pf

COEF_RTOL = 1e-6
SE_RTOL = 1e-4


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", help="Parquet file written by ols_bench --write")
    p.add_argument("sanad", help="JSON file written by ols_bench --json")
    p.add_argument("--runs", type=int, default=3, help="fits to time (best is kept)")
    return p.parse_args()


def max_rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def main():
    args = parse()
    with open(args.sanad) as f:
        sanad = json.load(f)
    names = sanad["names"]
    t0 = time.perf_counter()
    df = pd.read_parquet(args.data)
    print(f"loaded {len(df):,} rows x {df.shape[1]} columns in {time.perf_counter() - t0:.2f} s (not timed)")
    if len(df) != sanad["n"]:
        sys.exit(f"row count {len(df)} differs from Sanad's n = {sanad['n']}")
    fml = "y ~ " + " + ".join(names) + " | fe"
    times = []
    for run in range(args.runs):
        t = time.perf_counter()
        fit = pf.feols(fml, data=df, vcov={"CRV1": "cl"})
        coef, se = fit.coef(), fit.se()
        times.append(time.perf_counter() - t)
        print(f"run {run + 1}: {times[-1]:.3f} s")
        del fit
    coef, se = coef[names].to_numpy(), se[names].to_numpy()
    d_coef, d_se = max_rel(coef, sanad["coef"]), max_rel(se, sanad["se"])
    best, rust = min(times), sanad["fit_seconds"]
    print(f"formula: {fml}, vcov CR1 by cl")
    print(f"pyfixest {pf.__version__}, numpy {np.__version__}, pandas {pd.__version__}, python {platform.python_version()}")
    print(f"max relative difference: coef {d_coef:.2e} (tolerance {COEF_RTOL:g}), se {d_se:.2e} (tolerance {SE_RTOL:g})")
    print(f"fit seconds: pyfixest {best:.3f} (best of {args.runs}), Sanad {rust:.3f} (best of {sanad.get('runs', 1)})")
    print(f"ratio pyfixest / Sanad: {best / rust:.1f}")
    if d_coef > COEF_RTOL or d_se > SE_RTOL:
        for nm, a, b, c, d in zip(names, coef, sanad["coef"], se, sanad["se"]):
            print(f"  {nm}: coef {a:.12g} vs {b:.12g}, se {c:.12g} vs {d:.12g}")
        sys.exit("estimates disagree")


if __name__ == "__main__":
    main()
