"""Produce the reference datasets and numbers used by the Rust tests.

Run once, by hand, in an environment with:
    pip install statsmodels linearmodels rdrobust csdid pyfixest scipy
(the script itself installs nothing). It writes
    crates/evaluation/tests/data/*.csv       small input datasets
    crates/evaluation/tests/fixtures/*.json  reference estimates
The Rust tests read those files only; they never call Python.
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import scipy.stats as st

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "tests", "data")
FIX = os.path.join(HERE, "..", "tests", "fixtures")
os.makedirs(DATA, exist_ok=True)
os.makedirs(FIX, exist_ok=True)


def dump(name, obj):
    with open(os.path.join(FIX, name + ".json"), "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)


def fl(v):
    return [float(x) for x in np.asarray(v).ravel()]


def reg_fixture(names, params, bse, df, level=0.95, extra=None):
    """Coefs/SEs from the reference; p and CI recomputed with our t df so the
    fixture states exactly the convention we claim (documented in README)."""
    params, bse = np.asarray(params, float), np.asarray(bse, float)
    t = params / bse
    crit = st.t.ppf(0.5 + level / 2, df)
    out = {
        "names": list(names),
        "coef": fl(params),
        "se": fl(bse),
        "t": fl(t),
        "p": fl(2 * st.t.sf(np.abs(t), df)),
        "ci_low": fl(params - crit * bse),
        "ci_high": fl(params + crit * bse),
        "df_inference": float(df),
    }
    if extra:
        out.update(extra)
    return out


# ---------------------------------------------------------------- datasets
def datasets():
    from linearmodels.datasets import mroz
    import statsmodels.datasets.grunfeld as gr
    import rdrobust

    m = mroz.load()
    cols = ["lwage", "educ", "exper", "expersq", "motheduc", "fatheduc", "age", "inlf", "kidslt6", "huseduc"]
    m[cols].to_csv(os.path.join(DATA, "mroz.csv"), index=False, float_format="%.10g")

    g = gr.load_pandas().data
    g = g[["firm", "year", "invest", "value", "capital"]]
    g.to_csv(os.path.join(DATA, "grunfeld.csv"), index=False, float_format="%.10g")

    s = pd.read_csv(os.path.join(os.path.dirname(rdrobust.__file__), "data", "rdrobust_RDsenate.csv"))
    s[["state", "year", "margin", "vote"]].to_csv(os.path.join(DATA, "senate.csv"), index=False, float_format="%.10g")


# ---------------------------------------------------------------- OLS / IV
def ols_fixtures():
    import statsmodels.api as sm

    m = pd.read_csv(os.path.join(DATA, "mroz.csv")).dropna(subset=["lwage", "educ", "exper", "expersq", "age"])
    X = sm.add_constant(m[["educ", "exper", "expersq"]])
    names = ["(Intercept)", "educ", "exper", "expersq"]
    out = {}
    r = sm.OLS(m["lwage"], X).fit()
    out["iid"] = reg_fixture(names, r.params, r.bse, r.df_resid, extra={"n": int(r.nobs), "r2": float(r.rsquared)})
    r = sm.OLS(m["lwage"], X).fit(cov_type="HC1")
    out["hc1"] = reg_fixture(names, r.params, r.bse, r.df_resid)
    groups = pd.factorize(m["age"])[0]
    r = sm.OLS(m["lwage"], X).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    G = len(np.unique(groups))
    out["cr1"] = reg_fixture(names, r.params, r.bse, G - 1, extra={"clusters": G})
    # statsmodels' own p-values with use_t=True must agree with our convention.
    assert np.allclose(r.pvalues, out["cr1"]["p"], rtol=1e-10), "statsmodels cluster df differs"
    dump("ols_mroz", out)


def fe_fixtures():
    import pyfixest as pf

    g = pd.read_csv(os.path.join(DATA, "grunfeld.csv"))
    out = {}
    for key, vc in [("iid", "iid"), ("hc1", "hetero"), ("cr1", {"CRV1": "firm"})]:
        r = pf.feols("invest ~ value + capital | firm", data=g, vcov=vc)
        tidy = r.tidy()
        df = r._df_t
        out[key] = reg_fixture(["value", "capital"], tidy["Estimate"], tidy["Std. Error"], df)
        assert np.allclose(tidy["Pr(>|t|)"], out[key]["p"], rtol=1e-8, atol=1e-14), key
    # Not nested: firm FE with year clusters counts every FE level.
    r = pf.feols("invest ~ value + capital | firm", data=g, vcov={"CRV1": "year"})
    tidy = r.tidy()
    out["cr1_year"] = reg_fixture(["value", "capital"], tidy["Estimate"], tidy["Std. Error"], r._df_t)
    dump("fe_grunfeld", out)


def iv_fixtures():
    from linearmodels.iv import IV2SLS

    m = pd.read_csv(os.path.join(DATA, "mroz.csv")).dropna(subset=["lwage", "educ", "exper", "expersq", "motheduc", "fatheduc", "age"])
    names = ["(Intercept)", "exper", "expersq", "educ"]
    f = "lwage ~ 1 + exper + expersq + [educ ~ motheduc + fatheduc]"
    out = {}
    n, k = len(m), 4
    r = IV2SLS.from_formula(f, m).fit(cov_type="unadjusted", debiased=True)
    out["iid"] = reg_fixture(names, r.params[["Intercept", "exper", "expersq", "educ"]], r.std_errors[["Intercept", "exper", "expersq", "educ"]], n - k, extra={"n": n})
    r = IV2SLS.from_formula(f, m).fit(cov_type="robust", debiased=True)
    out["hc1"] = reg_fixture(names, r.params[["Intercept", "exper", "expersq", "educ"]], r.std_errors[["Intercept", "exper", "expersq", "educ"]], n - k)
    groups = pd.factorize(m["age"])[0]
    r = IV2SLS.from_formula(f, m).fit(cov_type="clustered", clusters=groups, debiased=True)
    G = len(np.unique(groups))
    out["cr1"] = reg_fixture(names, r.params[["Intercept", "exper", "expersq", "educ"]], r.std_errors[["Intercept", "exper", "expersq", "educ"]], G - 1)
    fs = IV2SLS.from_formula(f, m).fit(cov_type="unadjusted", debiased=True).first_stage
    out["first_stage_f_iid"] = float(fs.diagnostics["f.stat"].iloc[0])
    dump("iv_mroz", out)


def dist_fixtures():
    out = {"normal_cdf": [], "normal_quantile": [], "t_cdf": [], "t_quantile": [], "f_sf": [], "chi2_sf": []}
    for x in [-7.5, -3.1, -1.0, 0.0, 0.4, 2.5, 6.0]:
        out["normal_cdf"].append([x, float(st.norm.cdf(x))])
    for p in [1e-12, 0.001, 0.025, 0.3, 0.5, 0.8, 0.975, 0.999999]:
        out["normal_quantile"].append([p, float(st.norm.ppf(p))])
    for df in [1, 2.5, 7, 30, 251, 1e5]:
        for t in [-12.0, -2.1, -0.3, 0.0, 1.7, 4.4]:
            out["t_cdf"].append([t, df, float(st.t.cdf(t, df))])
        for p in [0.0005, 0.05, 0.6, 0.975, 0.995]:
            out["t_quantile"].append([p, df, float(st.t.ppf(p, df))])
    for d1, d2 in [(1, 5), (3, 40), (10, 1000), (2.5, 7.5)]:
        for f in [0.1, 1.0, 3.3, 25.0]:
            out["f_sf"].append([f, d1, d2, float(st.f.sf(f, d1, d2))])
    for k in [1, 2, 5, 30]:
        for x in [0.05, 1.0, 4.0, 60.0]:
            out["chi2_sf"].append([x, k, float(st.chi2.sf(x, k))])
    dump("distributions", out)


def rdd_fixtures():
    from rdrobust import rdrobust

    s = pd.read_csv(os.path.join(DATA, "senate.csv")).dropna(subset=["vote", "margin"])
    out = {}

    def one(**kw):
        r = rdrobust(s["vote"].values, s["margin"].values, **kw)
        return {
            "h": float(r.bws.iloc[0, 0]),
            "b": float(r.bws.iloc[1, 0]),
            "n_left": int(r.N[0]),
            "n_right": int(r.N[1]),
            "n_h_left": int(r.N_h[0]),
            "n_h_right": int(r.N_h[1]),
            "tau_conventional": float(r.coef.iloc[0, 0]),
            "tau_bias_corrected": float(r.coef.iloc[1, 0]),
            "se_conventional": float(r.se.iloc[0, 0]),
            "se_robust": float(r.se.iloc[2, 0]),
            "p_robust": float(r.pv.iloc[2, 0]),
            "ci_robust_low": float(r.ci.iloc[2, 0]),
            "ci_robust_high": float(r.ci.iloc[2, 1]),
        }

    out["default"] = one(c=0)
    out["cutoff_5"] = one(c=5)
    out["uniform"] = one(c=0, kernel="uniform")
    out["manual_h"] = one(c=0, h=15.0, b=25.0)
    dump("rdd_senate", out)


def did_data():
    """Deterministic staggered-adoption panel (csdid ships no mpdta)."""
    rng = np.random.default_rng(20240611)
    n, periods = 500, list(range(2001, 2008))
    groups = rng.choice([0, 2003, 2004, 2006], size=n, p=[0.35, 0.25, 0.2, 0.2])
    alpha = rng.normal(0, 1, n)
    rows = []
    for i in range(n):
        g = groups[i]
        for t in periods:
            eff = 0.0 if g == 0 or t < g else 1.0 + 0.5 * (t - g) + (0.3 if g == 2004 else 0.0)
            y = alpha[i] + 0.2 * (t - 2001) + 0.1 * alpha[i] * (t - 2001) * (g == 2006) + eff + rng.normal(0, 1)
            rows.append((i + 1, t, int(g), round(float(y), 6)))
    df = pd.DataFrame(rows, columns=["id", "year", "first_treat", "y"])
    df.to_csv(os.path.join(DATA, "staggered.csv"), index=False)


def did_fixtures():
    import contextlib
    import io

    from csdid.att_gt import ATTgt

    df = pd.read_csv(os.path.join(DATA, "staggered.csv"))
    out = {}
    for cg in ["nevertreated", "notyettreated"]:
        with contextlib.redirect_stdout(io.StringIO()):
            m = ATTgt(yname="y", tname="year", idname="id", gname="first_treat", data=df, control_group=cg)
            m.fit(est_method="dr", base_period="varying", bstrap=False)
        res = m.results
        entry = {
            "att_gt": {
                "group": fl(res["group"]),
                "time": fl(res["year"]),
                "att": fl(res["att"]),
                "se": fl(res["se"]),
            }
        }
        for typ in ["simple", "dynamic", "group"]:
            with contextlib.redirect_stdout(io.StringIO()):
                m.aggte(typec=typ, bstrap=False)
            a = m.atte
            agg = {"overall_att": float(a["overall_att"]), "overall_se": float(a["overall_se"])}
            if typ != "simple":
                agg["key"] = fl(a["egt"])
                agg["att"] = fl(a["att_egt"])
                agg["se"] = fl(a["se_egt"])
            entry[typ] = agg
        out[cg] = entry
    dump("did_staggered", out)


def multiple_fixtures():
    from statsmodels.stats.multitest import multipletests

    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216, 0.222, 0.251, 0.269, 0.275, 0.34, 0.341, 0.384, 0.569, 0.594, 0.696, 0.762, 0.94, 0.942, 0.975, 0.986])
    p = p[np.argsort(np.sin(np.arange(len(p))))]  # unsorted input order

    def sharpened(p):
        # Anderson (2008) Stata loop, written independently of the Rust code.
        m = len(p)
        rank = st.rankdata(p, method="ordinal")
        out = np.ones(m)
        for step in range(1000, 0, -1):
            q = step / 1000
            q1 = q / (1 + q)
            r1 = max([r for r, pv in zip(rank, p) if pv <= q1 * r / m], default=0)
            q2 = q1 * m / (m - r1) if r1 < m else np.inf
            r2 = max([r for r, pv in zip(rank, p) if pv <= q2 * r / m], default=0)
            out[rank <= r2] = q
        return out

    dump("multiple", {
        "p": fl(p),
        "bh": fl(multipletests(p, method="fdr_bh")[1]),
        "holm": fl(multipletests(p, method="holm")[1]),
        "sharpened": fl(sharpened(p)),
    })


def power_fixtures():
    from statsmodels.stats.power import NormalIndPower

    cases = []
    for (n, P, sd, r2, icc, m, takeup, alpha, power) in [
        (1000, 0.5, 1.0, 0.0, 0.0, 1, 1.0, 0.05, 0.8),
        (2400, 0.3, 12.5, 0.25, 0.05, 20, 0.6, 0.05, 0.9),
        (500, 0.6, 2.0, 0.1, 0.2, 5, 0.8, 0.01, 0.8),
    ]:
        deff = 1 + (m - 1) * icc
        se = np.sqrt(1 / (P * (1 - P) * n)) * sd * np.sqrt(1 - r2) * np.sqrt(deff) / takeup
        mde = (st.norm.ppf(1 - alpha / 2) + st.norm.ppf(power)) * se
        # statsmodels: standardized effect d, nobs1 = treated, ratio = control/treated
        sigma_eff = sd * np.sqrt(1 - r2) * np.sqrt(deff)
        d = mde * takeup / sigma_eff
        pw = NormalIndPower().power(effect_size=d, nobs1=P * n, alpha=alpha, ratio=(1 - P) / P)
        n1 = NormalIndPower().solve_power(effect_size=d, nobs1=None, alpha=alpha, power=power, ratio=(1 - P) / P)
        cases.append({"n": n, "share_treated": P, "sd": sd, "r2": r2, "icc": icc, "cluster_size": m,
                      "takeup": takeup, "alpha": alpha, "power": power, "mde": float(mde),
                      "statsmodels_power_at_mde": float(pw), "statsmodels_n_exact": float(n1 / P)})
    dump("power", cases)


def balance_fixtures():
    import statsmodels.api as sm
    import pyfixest as pf

    m = pd.read_csv(os.path.join(DATA, "mroz.csv"))
    m["treat"] = (m["kidslt6"] > 0).astype(float)
    m["strata"] = (m["age"] // 10).astype(int)
    vars_ = ["educ", "exper", "huseduc", "motheduc"]
    rows = {}
    for v in vars_:
        d = m.dropna(subset=[v, "treat"])
        X = sm.add_constant(d[["treat"]])
        iid = sm.OLS(d[v], X).fit()
        fe = pf.feols(f"{v} ~ treat | strata", data=d, vcov={"CRV1": "age"}).tidy()
        c, t = d.loc[d.treat == 0, v], d.loc[d.treat == 1, v]
        rows[v] = {
            "n_control": int(len(c)), "n_treatment": int(len(t)),
            "mean_control": float(c.mean()), "mean_treatment": float(t.mean()),
            "se_control": float(c.std(ddof=1) / np.sqrt(len(c))), "se_treatment": float(t.std(ddof=1) / np.sqrt(len(t))),
            "normalized_difference": float((t.mean() - c.mean()) / np.sqrt((t.var(ddof=1) + c.var(ddof=1)) / 2)),
            "p_iid": float(iid.pvalues["treat"]),
            "diff_strata_cr1": float(fe["Estimate"].iloc[0]),
            "p_strata_cr1": float(fe["Pr(>|t|)"].iloc[0]),
        }
    d = m.dropna(subset=vars_)
    fit = sm.OLS(d["treat"], sm.add_constant(d[vars_])).fit()
    ft = fit.f_test(np.eye(len(vars_) + 1)[1:])
    fit_hc = sm.OLS(d["treat"], sm.add_constant(d[vars_])).fit(cov_type="HC1")
    ft_hc = fit_hc.f_test(np.eye(len(vars_) + 1)[1:])
    dump("balance_mroz", {
        "vars": vars_, "rows": rows,
        "joint_iid": {"n": int(len(d)), "f": float(ft.fvalue), "p": float(ft.pvalue), "df_den": float(ft.df_denom)},
        "joint_hc1": {"f": float(ft_hc.fvalue), "p": float(ft_hc.pvalue), "df_den": float(ft_hc.df_denom)},
    })


STEPS = {
    "data": datasets,
    "ols": ols_fixtures,
    "fe": fe_fixtures,
    "iv": iv_fixtures,
    "dist": dist_fixtures,
    "rdd": rdd_fixtures,
    "did_data": did_data,
    "did": did_fixtures,
    "multiple": multiple_fixtures,
    "power": power_fixtures,
    "balance": balance_fixtures,
}

if __name__ == "__main__":
    todo = sys.argv[1:] or list(STEPS)
    for name in todo:
        print("==", name)
        STEPS[name]()
