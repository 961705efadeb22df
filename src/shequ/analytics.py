"""Views of the results table for coordinators (district level: no personal identifiers)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import results

MIN_N = 5  # below this many workers a group's figure is withheld (small 社区)


def totals(df: pd.DataFrame) -> pd.DataFrame:
    """One row per worker and assessment: score, max, percent."""
    keys = ["worker_id", "assessment", "paper", "round", "date", "street", "community", "role"]
    t = df.groupby(keys, as_index=False, dropna=False).agg(score=("score", "sum"),
                                                           max_score=("max_score", "sum"))
    t["pct"] = 100 * t["score"] / t["max_score"]
    return t


def participation(df: pd.DataFrame, roster: pd.DataFrame, by: str = "street") -> pd.DataFrame:
    """Roster size, takers and participation rate per group and round."""
    t = totals(df)
    took = t.groupby([by, "round"]).worker_id.nunique().rename("参加人数")
    size = roster.groupby(by).worker_id.nunique().rename("应参加人数")
    out = took.reset_index().merge(size.reset_index(), on=by)
    out["参加率%"] = (100 * out["参加人数"] / out["应参加人数"]).round(1)
    return out


def group_summary(df: pd.DataFrame, by: str = "street", pass_mark: float = 60.0) -> pd.DataFrame:
    """Per group and round: n, mean score %, 95% interval, pass rate; small n withheld."""
    t = totals(df)
    g = t.groupby([by, "round"])["pct"]
    out = g.agg(n="count", 平均得分率="mean", sd="std").reset_index()
    out["sd"] = out["sd"].fillna(0)
    half = 1.96 * out["sd"] / np.sqrt(out["n"].clip(lower=1))
    out["下限"] = (out["平均得分率"] - half).clip(lower=0)
    out["上限"] = (out["平均得分率"] + half).clip(upper=100)
    passed = t.assign(ok=t["pct"] >= pass_mark).groupby([by, "round"])["ok"].mean()
    out["及格率%"] = (100 * passed.values).round(1)
    small = out["n"] < MIN_N
    out.loc[small, ["平均得分率", "下限", "上限", "及格率%"]] = np.nan
    out["样本不足"] = small
    return out.round(1)


def skill_matrix(df: pd.DataFrame, by: str = "street", round_label: str | None = None) -> pd.DataFrame:
    """Group × skill mean 得分率 (%) on the items tagged with that skill."""
    d = results.by_skill(df)
    if round_label:
        d = d[d["round"] == round_label]
    s = d.groupby([by, "skill"]).agg(score=("score", "sum"), max_score=("max_score", "sum"))
    return (100 * s["score"] / s["max_score"]).unstack("skill").round(1)


def skill_progress(df: pd.DataFrame) -> pd.DataFrame:
    """Round × skill mean 得分率 (%)."""
    d = results.by_skill(df)
    s = d.groupby(["round", "skill"]).agg(score=("score", "sum"), max_score=("max_score", "sum"))
    return (100 * s["score"] / s["max_score"]).unstack("skill").round(1)


def paired_gain(df: pd.DataFrame, first: str, last: str, by: str = "community") -> pd.DataFrame:
    """Per group: workers present in both rounds, mean gain, normalised gain, effect size."""
    t = totals(df)
    a = t[t["round"] == first].set_index("worker_id")
    b = t[t["round"] == last].set_index("worker_id")
    both = a.join(b[["pct"]], rsuffix="_post", how="inner").rename(columns={"pct": "pre", "pct_post": "post"})
    both["gain"] = both["post"] - both["pre"]
    both["g"] = both["gain"] / (100 - both["pre"]).where(both["pre"] < 100)
    grp = both.groupby(by)
    out = grp.agg(n=("gain", "count"), 前测=("pre", "mean"), 后测=("post", "mean"),
                  平均提高=("gain", "mean"), 归一化增益=("g", "mean"), sd=("gain", "std")).reset_index()
    out["效应量"] = out["平均提高"] / out["sd"].replace(0, np.nan)
    return out.drop(columns="sd").round(2)
