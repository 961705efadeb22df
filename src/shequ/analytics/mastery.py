"""A worker's mastery of a skill from all the evidence (empirical Bayes, beta-binomial).

Each graded item is one observation x = score / max (0–1). The judgement is about the
worker's latest exam round: its items of the skill (plus course exercises) are the data.
Everything else the worker answered informs the prior: how far above or below the district
they were, on the logit scale, in every other skill and in this skill in earlier rounds
(each measured against the district in that round, so district-wide learning cancels;
earlier rounds weigh `DECAY` times the next). The prior for worker w in skill s is the
district's rate in s moved by that distance (times a slope fitted across workers), with a
strength M fitted per skill from the spread between workers (moments). The posterior Beta
gives the estimate and its 95 % interval: a skill with few items still gets a judgement,
with a wider interval and an estimate nearer the prior.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

DECAY = 0.5      # an earlier round's items weigh half as much as the next round's
PRIOR_WEIGHT = 0.3   # of the moment-fitted strength: at full strength the 95 % intervals held the truth only
                     # ~86 % of the time on bench/recovery.py (the fitted prior centre is itself uncertain);
                     # at 0.3 they hold the expected score on the items taken ~95 % of the time
EPS = 0.02       # keep rates off 0 and 1 on the logit scale


def _logit(p):
    p = np.clip(np.asarray(p, dtype=float), EPS, 1 - EPS)
    return np.log(p / (1 - p))


def _expit(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))


def evidence(df: pd.DataFrame, order: list[str], split: dict[str, list[str]]) -> pd.DataFrame:
    """worker × skill × round: weighted successes k and items n (an item with two skills
    counts for both); `age` = rounds before the worker's latest (exercises: age 0)."""
    pos = {r: i for i, r in enumerate(order)}
    is_exam = (df["kind"] == "exam").to_numpy() if "kind" in df.columns else np.ones(len(df), bool)
    d = pd.DataFrame({"worker_id": df["worker_id"].astype(str).to_numpy(),
                      "skills": df["skills"].astype(str).to_numpy(),
                      "x": (df["score"] / df["max_score"].where(df["max_score"] > 0)).to_numpy(),
                      "r": df["round"].astype(str).map(pos).to_numpy(dtype=float),
                      "exam": is_exam})
    d = d[np.isfinite(d["x"]) & (np.isfinite(d["r"]) | ~d["exam"])]
    latest = d[d["exam"]].groupby("worker_id")["r"].max()
    d["r"] = np.where(d["exam"], d["r"], d["worker_id"].map(latest))   # exercises count as current
    a = d.groupby(["worker_id", "skills", "r"], as_index=False).agg(k=("x", "sum"), n=("x", "size"))
    a["skill"] = a["skills"].map(split)
    a = a.explode("skill").dropna(subset=["skill"])
    out = a.groupby(["worker_id", "skill", "r"], as_index=False)[["k", "n"]].sum()
    out["age"] = out["worker_id"].map(latest) - out["r"]
    return out


def _trusted(total: pd.DataFrame, minus: pd.DataFrame, borrow_items: float) -> np.ndarray:
    """Weighted mean deviation of `total` less `minus` (both with columns wd = Σ weight·dev
    and w = Σ weight), pulled toward 0 when it rests on few items."""
    w = total["w"].to_numpy(dtype=float) - minus["w"].to_numpy(dtype=float)
    wd = total["wd"].to_numpy(dtype=float) - minus["wd"].to_numpy(dtype=float)
    safe = np.where(w > 1e-9, w, 1.0)
    return np.where(w > 1e-9, wd / safe, 0.0) * np.clip(w, 0, None) / (np.clip(w, 0, None) + borrow_items)


def estimate(ev: pd.DataFrame, level: float = 0.95, borrow_items: float = 10.0,
             threshold: float = 0.6, groups: pd.Series | None = None) -> pd.DataFrame:
    """Posterior mastery per worker × skill in the worker's latest round, from `evidence`:
    est, lo, hi (0–1), the data (k, n = items in the latest round), the prior mean and its
    strength M, and `p_below`, the posterior chance that mastery is under `threshold`.

    The prior's distance from the district (logit scale) is a weighted sum of the worker's
    distance in the other skills this round, in the other skills before, in this skill before
    and (given `groups`: worker_id → 社区) the 社区's distance this round without the worker;
    the weights are fitted across workers by least squares. `borrow_items`: how many items
    make one of those distances half-trusted."""
    from scipy.stats import beta as beta_dist

    e = ev.copy()
    district = e.groupby(["skill", "r"])[["k", "n"]].sum()
    rate_sr = district["k"] / district["n"]
    e["dev"] = _logit(e["k"] / e["n"]) - _logit(rate_sr.reindex(pd.MultiIndex.from_frame(e[["skill", "r"]])).to_numpy())
    e["w"] = e["n"] * DECAY ** e["age"]
    e["wd"] = e["w"] * e["dev"]
    cur = e[e["age"] == 0].reset_index(drop=True)
    key = pd.MultiIndex.from_frame(cur[["worker_id", "skill"]])
    now, before = e[e["age"] == 0], e[e["age"] > 0]

    def sums(sel, by, index):
        return sel.groupby(by)[["wd", "w"]].sum().reindex(index).fillna(0.0)
    zero = pd.DataFrame({"wd": np.zeros(len(cur)), "w": np.zeros(len(cur))})
    own_now = sums(now, ["worker_id", "skill"], key)
    own_before = sums(before, ["worker_id", "skill"], key)
    all_now = sums(now, "worker_id", cur["worker_id"])
    cols = [_trusted(all_now, own_now, borrow_items),
            _trusted(sums(before, "worker_id", cur["worker_id"]), own_before, borrow_items),
            _trusted(own_before, zero, borrow_items)]
    if groups is not None:
        g = cur["worker_id"].map(groups).fillna("")
        mine = now.assign(g=now["worker_id"].map(groups).fillna("").to_numpy())
        cols.append(_trusted(sums(mine, "g", g), all_now, borrow_items))
    X = np.column_stack(cols)
    sw = np.sqrt(cur["n"].to_numpy(dtype=float))
    coef = np.linalg.lstsq(X * sw[:, None], cur["dev"].to_numpy() * sw, rcond=None)[0].clip(0.0, 1.5)
    base = rate_sr.reindex(pd.MultiIndex.from_frame(cur[["skill", "r"]])).to_numpy()
    mu = _expit(_logit(base) + X @ coef)
    rate = cur["k"] / cur["n"]
    # prior strength per skill: spread of the latest rates around the prior beyond sampling noise
    resid = (rate - mu) ** 2 - mu * (1 - mu) / cur["n"]
    tau2 = resid.groupby(cur["skill"]).mean().clip(lower=1e-4)
    pbar = pd.Series(mu).groupby(cur["skill"]).mean()
    M = PRIOR_WEIGHT * cur["skill"].map((pbar * (1 - pbar) / tau2 - 1).clip(lower=2.0, upper=500.0)).to_numpy()
    a = M * mu + cur["k"].to_numpy()
    b = M * (1 - mu) + (cur["n"] - cur["k"]).to_numpy()
    tail = (1 - level) / 2
    out = cur[["worker_id", "skill", "k", "n"]].assign(
        rate=rate, prior=mu, M=M, est=a / (a + b), lo=beta_dist.ppf(tail, a, b), hi=beta_dist.ppf(1 - tail, a, b),
        p_below=beta_dist.cdf(threshold, a, b))   # posterior chance mastery is under the line
    out.attrs["weights"] = tuple(float(c) for c in coef)
    return out
