"""Small statistics the views use: intervals (normal, Wilson), empirical-Bayes shrinkage
(normal–normal, beta-binomial) and rank intervals from posterior draws."""
from __future__ import annotations

import numpy as np
import pandas as pd

Z = 1.959964


RANK_DRAWS = 2000


def wilson(k, n, z: float = Z):
    """Wilson score interval of k successes in n trials (arrays; k may be fractional)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        den = 1 + z ** 2 / n
        mid = (p + z ** 2 / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2)) / den
    return np.clip(mid - half, 0, 1), np.clip(mid + half, 0, 1)


def _mean_ci(g: pd.core.groupby.SeriesGroupBy) -> pd.DataFrame:
    out = g.agg(n="count", mean="mean", sd="std")
    out["sd"] = out["sd"].fillna(0.0)
    half = Z * out["sd"] / np.sqrt(out["n"].clip(lower=1))
    out["lo"] = (out["mean"] - half).clip(lower=0)
    out["hi"] = (out["mean"] + half).clip(upper=100)
    return out


def shrink(mean, n, var_within, parent_key, parent_mean: pd.Series, se2=None) -> pd.DataFrame:
    """Empirical Bayes (normal–normal): each group's mean pulled toward its parent's mean by
    B = τ² / (τ² + se²). se² is the error of the group's mean: given (see `group_error`), or
    s²/n with s² the within-group variance pooled over the district; τ², the variance of
    true group means around their parent's, by moments: mean((ȳ − μ)²) − mean(se²)."""
    mean = np.asarray(mean, dtype=float)
    n = np.asarray(n, dtype=float)
    v = np.asarray(var_within, dtype=float)
    ok = np.isfinite(v) & (n > 1)
    s2 = float(((n[ok] - 1) * v[ok]).sum() / max(1.0, (n[ok] - 1).sum())) if ok.any() else 0.0
    mu = np.asarray(pd.Series(parent_key).map(parent_mean), dtype=float)
    se2 = s2 / np.maximum(n, 1) if se2 is None else np.asarray(se2, dtype=float)
    fin = np.isfinite(mean) & np.isfinite(mu)
    tau2 = max(0.0, float(np.mean((mean[fin] - mu[fin]) ** 2) - np.mean(se2[fin]))) if fin.any() else 0.0
    B = tau2 / (tau2 + se2) if tau2 > 0 else np.zeros_like(se2)
    est = mu + B * (mean - mu)
    # the parent's own uncertainty (its workers' mean) keeps intervals honest when τ² ≈ 0
    n_parent = pd.Series(n).groupby(np.asarray(parent_key)).transform("sum").to_numpy()
    post_sd = np.sqrt(B * se2 + (1 - B) ** 2 * s2 / np.maximum(n_parent, 1))
    return pd.DataFrame({"est": est, "lo": est - Z * post_sd, "hi": est + Z * post_sd,
                         "B": B, "post_sd": post_sd, "tau2": tau2, "s2": s2})


def group_error(var_within, n, staff, measurement) -> np.ndarray:
    """Error variance of a group's mean as a figure about *its staff* (all `staff` people,
    of whom `n` took part): sampling among the staff (none when everyone took part: finite
    population correction) plus each person's measurement error (`measurement`: mean over the
    group's people of their score's binomial variance, p(1−p)/items)."""
    v = np.nan_to_num(np.asarray(var_within, dtype=float))
    n = np.maximum(np.asarray(n, dtype=float), 1)
    staff = np.maximum(np.asarray(staff, dtype=float), n)
    m = np.nan_to_num(np.asarray(measurement, dtype=float))
    between = np.clip(v - m, 0, None)
    return (between * (1 - n / staff) + m) / n


def parent_prior(values, parent_key) -> pd.Series:
    """Each parent's (街道's) prior mean for its groups: the parent's own mean shrunk toward
    the grand mean by the same normal–normal rule, so the street effect is estimated from
    the data (none in the data: every 社区 is pulled toward the district mean)."""
    v = pd.Series(np.asarray(values, dtype=float))
    key = pd.Series(np.asarray(parent_key)).astype(str)
    ok = v.notna().to_numpy()
    g = v[ok].groupby(key[ok].to_numpy())
    m, n, var = g.mean(), g.count(), g.var(ddof=1)
    if m.empty:
        return m
    sh = shrink(m.to_numpy(), n.to_numpy(), var.to_numpy(), ["_all"] * len(m),
                pd.Series({"_all": float(v[ok].mean())}))
    return pd.Series(sh["est"].to_numpy(), index=m.index)


def _ranks(out: pd.DataFrame, col: str, sd, min_n: int, seed: int = 0) -> pd.DataFrame:
    """Rank (1 = best) by `col` among groups with n ≥ min_n, and the 90 % interval of the
    rank over draws from each group's posterior."""
    out = out.copy()
    elig = (out["n"] >= min_n).to_numpy() & np.isfinite(out[col].to_numpy())
    out["rank"] = np.nan
    out["rank_lo"] = np.nan
    out["rank_hi"] = np.nan
    if elig.sum() == 0:
        return out
    est = out[col].to_numpy()[elig]
    s = np.asarray(sd, dtype=float)[elig]
    order = (-est).argsort(kind="stable")
    r = np.empty(len(est))
    r[order] = np.arange(1, len(est) + 1)
    rng = np.random.default_rng(seed)
    draws = est[None, :] + rng.standard_normal((RANK_DRAWS, len(est))) * s[None, :]
    ranks = (-draws).argsort(axis=1).argsort(axis=1) + 1
    out.loc[elig, "rank"] = r
    # whole ranks (no interpolation): every table and chart shows the same two numbers
    out.loc[elig, "rank_lo"] = np.percentile(ranks, 5, axis=0, method="lower")
    out.loc[elig, "rank_hi"] = np.percentile(ranks, 95, axis=0, method="higher")
    return out


def beta_binomial(k, n, parent, seed: int = 0) -> pd.DataFrame:
    """Beta-binomial shrinkage of k/n toward the parent's pooled rate: prior Beta(M·p, M·(1−p))
    with strength M from the district's between-group spread (moments); 95 % interval from
    posterior draws."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    parent = np.asarray(parent)
    kp = pd.Series(k).groupby(parent).transform("sum").to_numpy()
    nparent = pd.Series(n).groupby(parent).transform("sum").to_numpy()
    p_par = np.clip(kp / np.maximum(nparent, 1), 0.01, 0.99)
    rate = k / np.maximum(n, 1)
    pbar = float(k.sum() / max(n.sum(), 1))
    sampling = np.mean(pbar * (1 - pbar) / np.maximum(n, 1))
    between = max(1e-4, float(np.var(rate - p_par)) - sampling)
    M = float(np.clip(pbar * (1 - pbar) / between - 1, 1.0, 1000.0)) if 0 < pbar < 1 else 1000.0
    a = k + M * p_par
    b = n - k + M * (1 - p_par)
    rng = np.random.default_rng(seed)
    draws = rng.beta(a[None, :], b[None, :], size=(4000, len(k)))
    return pd.DataFrame({"est": a / (a + b), "lo": np.percentile(draws, 2.5, axis=0),
                         "hi": np.percentile(draws, 97.5, axis=0), "M": M})
