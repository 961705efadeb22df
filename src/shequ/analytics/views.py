"""Views of the results table for coordinators.

District views (participation, pass rates, skill heatmaps, progress, rankings) never carry
a name or a worker id; the per-街道 views (`worker_profiles`, `worker_progress`,
`retraining`) do, and only the street reports show them.

Definitions (every table labels its columns with them, see `LABELS`):
- 得分率 = 得分 / 满分 (%); a worker's round score is the sum over the round's exam items.
- n = workers with a result in that group and round. Below `MIN_N` workers a group's
  figures are withheld (“—”) and it is not ranked: its shrunk estimates and B too (from
  them and the 街道 mean the raw figure follows).
- 95 % interval of a mean: mean ± 1.96·SD/√n; of a proportion: Wilson score interval.
- Progress compares like with like: the same worker (paired), on the items both rounds
  share. 平均提高 = mean(后测 − 前测); Hake 归一化增益 g = (后测均值 − 前测均值) /
  (100 − 前测均值); 效应量 d_z = 平均提高 / 提高值的 SD.
- Rankings shrink each 社区 toward its 街道's prior mean (empirical Bayes, normal–normal, τ²
  by moments; the 街道 means themselves shrunk toward the district's, so the street effect
  is estimated), with the error of a 社区's mean as a figure about its staff (finite
  population: sampling among those absent, plus each score's measurement error); pass
  rates with a beta-binomial prior centred on the 街道's rate. 社区 are ranked by the raw
  mean (the shrunk one ranked no better on bench/recovery.py); rank intervals are the
  5th–95th percentiles of ranks over draws from each mean's error.
- Mastery of a skill (street reports): the worker's latest exam round (plus course
  exercises) judged with everything else they answered (`analytics.mastery`: empirical
  Bayes, beta-binomial; the prior from their other skills, this skill in earlier rounds and
  their 社区), with a 95 % interval and the chance it is under the mastery line.

The table is treated as read-only: aggregates are cached per DataFrame object.
"""
from __future__ import annotations

import re
import weakref

import numpy as np
import pandas as pd

from .stats import RANK_DRAWS, Z, _mean_ci, _ranks, beta_binomial, group_error, parent_prior, shrink, wilson

MIN_N = 5            # below this many workers a group's figure is withheld (small 社区)
PASS_PCT = 60.0      # 及格线：得分率 60 %
MASTERY_PCT = 60.0   # 掌握线：技能得分率 60 %
SURE = 0.8           # 需再培训: the model's chance that mastery is under the line is at least this
WATCH = 0.5          # 建议关注: at least this (more likely under the line than over it)

LABELS = {
    "street": "街道", "community": "社区", "role": "岗位", "round": "轮次", "skill": "技能",
    "skill_name": "技能", "name": "姓名", "worker_id": "工号",
    "roster_n": "应参加人数", "took": "参加人数n", "rate": "参加率(%)",
    "n": "人数n", "mean": "平均得分率(%)", "sd": "标准差(百分点)", "lo": "95%下限", "hi": "95%上限",
    "pass_rate": "及格率(%)", "pass_lo": "及格率95%下限", "pass_hi": "及格率95%上限",
    "withheld": f"人数<{MIN_N}不显示",
    "pre": "前测得分率(%)", "post": "后测得分率(%)", "gain": "平均提高(百分点)",
    "gain_lo": "提高95%下限", "gain_hi": "提高95%上限", "hake_g": "Hake归一化增益g",
    "d_z": "效应量d_z", "items": "共同题数",
    "est": "收缩估计(%)", "est_lo": "收缩估计95%下限", "est_hi": "收缩估计95%上限",
    "gain_est": "提高的收缩估计(百分点)",
    "rank": "排名", "rank_lo": "排名90%区间(高)", "rank_hi": "排名90%区间(低)",
    "parent": "街道先验均值(%)", "shrink": "收缩系数B",
    "pass_est": "及格率收缩估计(%)", "pass_est_lo": "及格率估计95%下限", "pass_est_hi": "及格率估计95%上限",
    "obs": "观察题数", "pct": "得分率(%)", "level": "结论", "reason": "依据", "used": "所用轮次",
    "first": "首轮得分率(%)", "change": "较首轮(百分点)",
    "mastery": "掌握度估计(%)", "m_lo": "掌握度95%下限", "m_hi": "掌握度95%上限", "p_below": "低于掌握线的可能性",
}

_cache: dict[int, tuple[weakref.ref, dict]] = {}


def _memo(df: pd.DataFrame, key, fn):
    """Cache an aggregate of `df` for as long as the DataFrame object lives."""
    ref = _cache.get(id(df))
    if ref is None or ref[0]() is not df:
        store: dict = {}
        _cache[id(df)] = (weakref.ref(df, lambda _, i=id(df), c=_cache: c.pop(i, None)), store)
    else:
        store = ref[1]
    if key not in store:
        store[key] = fn()
    return store[key]


def _natural(s: str):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(s))]


def exams(df: pd.DataFrame) -> pd.DataFrame:
    """The exam rows (course exercises have no rounds)."""
    if "kind" not in df.columns:
        return df

    def compute():
        mask = (df["kind"] == "exam").to_numpy()
        return df if mask.all() else df[mask]
    return _memo(df, "exams", compute)


def round_order(df: pd.DataFrame) -> list[str]:
    """Exam rounds in time order (by date, then naturally: r2 before r10)."""
    def compute():
        d = exams(df)
        r = d[["round", "date"]].drop_duplicates()
        r = r[r["round"].astype(str) != ""]
        first = r.groupby(r["round"].astype(str))["date"].apply(lambda s: min(map(str, s)))
        return sorted(first.index, key=lambda x: (first[x], _natural(x)))
    return _memo(df, "rounds", compute)


def worker_info(df: pd.DataFrame) -> pd.DataFrame:
    """street, community, role of every worker in the table (indexed by worker_id)."""
    def compute():
        w = df[["worker_id", "street", "community", "role"]].drop_duplicates("worker_id")
        return w.set_index("worker_id")
    return _memo(df, "workers", compute)


def totals(df: pd.DataFrame) -> pd.DataFrame:
    """One row per worker and assessment: score, max, percent (with the worker's group)."""
    def compute():
        g = df.groupby(["worker_id", "assessment"], observed=True, sort=False)
        t = g.agg(score=("score", "sum"), max_score=("max_score", "sum"), items=("score", "size")).reset_index()
        meta_cols = [c for c in ("assessment", "kind", "paper", "round", "date", "form") if c in df.columns]
        meta = df[meta_cols].drop_duplicates("assessment")
        t = t.merge(meta, on="assessment", how="left")
        t = t.join(worker_info(df), on="worker_id")
        t["pct"] = 100 * t["score"] / t["max_score"]
        return t
    return _memo(df, "totals", compute)


def round_totals(df: pd.DataFrame) -> pd.DataFrame:
    """One row per worker and exam round: 得分率 over every exam item of that round."""
    def compute():
        d = exams(df)
        g = d.groupby(["worker_id", "round"], observed=True, sort=False)
        t = g.agg(score=("score", "sum"), max_score=("max_score", "sum")).reset_index()
        t = t[t["max_score"] > 0]
        t = t.join(worker_info(df), on="worker_id")
        t["pct"] = 100 * t["score"] / t["max_score"]
        t["round"] = t["round"].astype(str)
        return t.reset_index(drop=True)
    return _memo(df, "round_totals", compute)


# ---- small statistics ------------------------------------------------------------------


def _withhold(out: pd.DataFrame, cols: list[str], min_n: int = MIN_N) -> pd.DataFrame:
    small = out["n"] < min_n
    cols = [c for c in cols if c in out.columns]
    out[cols] = out[cols].astype(float)
    out.loc[small, cols] = np.nan
    out["withheld"] = small
    return out


def _by_cols(by: str) -> list[str]:
    return ["street", "community"] if by == "community" else [by]


# ---- district views --------------------------------------------------------------------

def participation(df: pd.DataFrame, roster: pd.DataFrame | None = None, by: str = "street") -> pd.DataFrame:
    """Per group and round: workers on the roster, workers with a result, rate (%)."""
    t = round_totals(df)
    keys = _by_cols(by)
    took = t.groupby(keys + ["round"], observed=True).size().rename("took").reset_index()
    src = roster if roster is not None else worker_info(df).reset_index()
    size = src.groupby(keys, observed=True)["worker_id"].nunique().rename("roster_n").reset_index()
    grid = size.merge(pd.DataFrame({"round": round_order(df)}), how="cross")
    for k in keys:
        grid[k] = grid[k].astype(str)
        took[k] = took[k].astype(str)
    out = grid.merge(took, on=keys + ["round"], how="left")
    out["took"] = out["took"].fillna(0).astype(int)
    out["rate"] = 100 * out["took"] / out["roster_n"]
    return _sort(out[keys + ["round", "roster_n", "took", "rate"]], keys, df)


def _sort(out: pd.DataFrame, keys: list[str], df: pd.DataFrame) -> pd.DataFrame:
    order = {r: i for i, r in enumerate(round_order(df))}
    if "round" in out.columns:
        out = out.assign(_r=out["round"].map(order)).sort_values(keys + ["_r"]).drop(columns="_r")
    else:
        out = out.sort_values(keys)
    return out.reset_index(drop=True)


def group_summary(df: pd.DataFrame, by: str = "street", pass_pct: float = PASS_PCT,
                  min_n: int = MIN_N) -> pd.DataFrame:
    """Per group and round: n, mean 得分率 with 95 % interval, pass rate with Wilson
    interval; groups under `min_n` workers withheld."""
    t = round_totals(df)
    keys = _by_cols(by)
    for k in keys:
        t = t.assign(**{k: t[k].astype(str)})
    t = t.assign(passed=(t["pct"] >= pass_pct - 1e-9).astype(int))
    g = t.groupby(keys + ["round"], observed=True)
    out = _mean_ci(g["pct"]).reset_index()
    passed = g["passed"].sum().to_numpy()
    out["pass_rate"] = 100 * passed / out["n"]
    lo, hi = wilson(passed, out["n"].to_numpy())
    out["pass_lo"], out["pass_hi"] = 100 * lo, 100 * hi
    out = _withhold(out, ["mean", "sd", "lo", "hi", "pass_rate", "pass_lo", "pass_hi"], min_n)
    return _sort(out, keys, df)


def district_summary(df: pd.DataFrame, pass_pct: float = PASS_PCT) -> pd.DataFrame:
    """The whole district per round: n, mean, interval, pass rate."""
    t = round_totals(df).assign(district="全区")
    t = t.assign(passed=(t["pct"] >= pass_pct - 1e-9).astype(int))
    g = t.groupby(["district", "round"])
    out = _mean_ci(g["pct"]).reset_index()
    passed = g["passed"].sum().to_numpy()
    out["pass_rate"] = 100 * passed / out["n"]
    lo, hi = wilson(passed, out["n"].to_numpy())
    out["pass_lo"], out["pass_hi"] = 100 * lo, 100 * hi
    return _sort(out.drop(columns="district"), [], df)


def skill_split(skills: pd.Series) -> dict[str, list[str]]:
    """Each distinct ';'-joined skills string → its skills (split once per distinct value)."""
    vals = skills.cat.categories if isinstance(skills.dtype, pd.CategoricalDtype) else skills.unique()
    return {str(v): [s for s in str(v).split(";") if s] for v in vals}


def skill_table(df: pd.DataFrame, by: str | None = "street") -> pd.DataFrame:
    """Long table per group × round × skill: summed score and max, graded items, 得分率.
    An item tagged with two skills counts for both. Aggregates rows by 社区 first (one pass
    over the table), splits skills on the few distinct skill strings, then sums up."""
    def finest():
        d = exams(df)
        keys = ["street", "community", "round", "skills"]
        a = d.groupby(keys, observed=True).agg(score=("score", "sum"), max_score=("max_score", "sum"),
                                               obs=("score", "size")).reset_index()
        a["skill"] = a["skills"].astype(str).map(skill_split(d["skills"]))
        a = a.explode("skill").dropna(subset=["skill"])
        for k in ("street", "community", "round", "skill"):
            a[k] = a[k].astype(str)
        return a.groupby(["street", "community", "round", "skill"], as_index=False)[
            ["score", "max_score", "obs"]].sum()

    def compute():
        base = _memo(df, ("skill_table", "community"), finest)
        keys = (_by_cols(by) if by else []) + ["round", "skill"]
        out = base.groupby(keys, as_index=False)[["score", "max_score", "obs"]].sum()
        out["pct"] = 100 * out["score"] / out["max_score"]
        return out
    if by == "community":
        out = _memo(df, ("skill_table", "community"), finest).copy()
        out["pct"] = 100 * out["score"] / out["max_score"]
        return out
    return _memo(df, ("skill_table", by), compute)


def group_sizes(df: pd.DataFrame, by: str, round_label: str | None = None) -> pd.Series:
    """Workers with a result per group (in one round, or their most recent round); 社区 are
    indexed by (街道, 社区): two streets may each have a 社区 of the same name."""
    t = round_totals(df)
    if round_label:
        t = t[t["round"] == round_label]
    keys = _by_cols(by)
    return t.assign(**{k: t[k].astype(str) for k in keys}).groupby(keys)["worker_id"].nunique()


def skill_matrix(df: pd.DataFrame, by: str = "street", round_label: str | None = None,
                 min_n: int = MIN_N) -> pd.DataFrame:
    """Group × skill 得分率 (%) on the items tagged with that skill (one round, or all);
    a group with fewer than `min_n` workers in that round is withheld (NaN). 社区 rows are
    indexed by (街道, 社区)."""
    s = skill_table(df, by)
    if round_label:
        s = s[s["round"] == round_label]
    keys = _by_cols(by)
    s = s.groupby(keys + ["skill"], as_index=False)[["score", "max_score"]].sum()
    s["pct"] = 100 * s["score"] / s["max_score"]
    m = s.pivot(index=keys, columns="skill", values="pct")
    n = group_sizes(df, by, round_label).reindex(m.index)
    m.loc[n < min_n] = np.nan
    m.columns.name = None
    return m   # unrounded: a page rounds once, when it shows the figure


def skill_progress(df: pd.DataFrame) -> pd.DataFrame:
    """Round × skill 得分率 (%) of the whole district."""
    s = skill_table(df, None)
    m = s.pivot(index="round", columns="skill", values="pct")
    m = m.reindex([r for r in round_order(df) if r in m.index])
    m.columns.name = None
    return m.round(1)


def first_last(df: pd.DataFrame) -> tuple[str, str]:
    r = round_order(df)
    return r[0], r[-1]


def common_items(df: pd.DataFrame, first: str, last: str) -> list[str]:
    d = exams(df)
    a = set(map(str, d.loc[(d["round"] == first).to_numpy(), "item"].unique()))
    b = set(map(str, d.loc[(d["round"] == last).to_numpy(), "item"].unique()))
    return sorted(a & b)


def paired(df: pd.DataFrame, first: str, last: str, by_skill: bool = False) -> pd.DataFrame:
    """Per worker present in both rounds: 得分率 before and after on the items both rounds
    share (all items of each round when they share none), and the gain."""
    idx = ["worker_id"] + (["skill"] if by_skill else [])
    empty = pd.DataFrame(columns=idx + ["pre", "post", "gain", "street", "community", "role"])
    if first == last:
        return empty

    def compute():
        d = exams(df)
        d = d[d["round"].isin([first, last]).to_numpy()]
        items = common_items(df, first, last)
        if items:
            d = d[d["item"].isin(items).to_numpy()]
        keys = ["worker_id", "round"] + (["skills"] if by_skill else [])
        a = d.groupby(keys, observed=True).agg(score=("score", "sum"), max_score=("max_score", "sum")).reset_index()
        if by_skill:
            a["skill"] = a["skills"].astype(str).map(skill_split(d["skills"]))
            a = a.explode("skill")
            a = a.groupby(["worker_id", "round", "skill"], observed=True, as_index=False)[["score", "max_score"]].sum()
        a["round"] = a["round"].astype(str)
        a["pct"] = 100 * a["score"] / a["max_score"]
        w = a.pivot_table(index=idx, columns="round", values="pct", observed=True)
        if first not in w.columns or last not in w.columns:
            return empty
        w = w[[first, last]].dropna().rename(columns={first: "pre", last: "post"})
        w["gain"] = w["post"] - w["pre"]
        w = w.reset_index()
        w = w.join(worker_info(df), on="worker_id")
        w.attrs["items"] = len(items)
        return w
    return _memo(df, ("paired", first, last, by_skill), compute)


def anchor_means(df: pd.DataFrame) -> pd.DataFrame:
    """Per round: the district's mean 得分率 on the items it shares with the first round (the
    blueprint's anchors), so rounds on different papers compare on one scale; n, items."""
    order = round_order(df)
    d = exams(df)
    rows = []
    for r in order:
        items = common_items(df, order[0], r)
        sub = d[(d["round"] == r).to_numpy() & d["item"].isin(items).to_numpy()]
        per = sub.groupby("worker_id", observed=True)[["score", "max_score"]].sum()
        pct = 100 * per["score"] / per["max_score"].where(per["max_score"] > 0)
        rows.append({"round": r, "items": len(items), "n": int(pct.notna().sum()), "mean": float(pct.mean())})
    return pd.DataFrame(rows, columns=["round", "items", "n", "mean"])


GAIN_COLS = ["n", "pre", "post", "gain", "sd", "gain_lo", "gain_hi", "hake_g", "d_z"]


def _gain_stats(g) -> pd.DataFrame:
    out = g.agg(n=("gain", "count"), pre=("pre", "mean"), post=("post", "mean"),
                gain=("gain", "mean"), sd=("gain", "std"))
    half = Z * out["sd"].fillna(0) / np.sqrt(out["n"].clip(lower=1))
    out["gain_lo"], out["gain_hi"] = out["gain"] - half, out["gain"] + half
    out["hake_g"] = (out["post"] - out["pre"]) / (100 - out["pre"]).where(out["pre"] < 100)
    out["d_z"] = out["gain"] / out["sd"].where(out["sd"] > 0)
    return out


def skill_gain(df: pd.DataFrame, first: str | None = None, last: str | None = None) -> pd.DataFrame:
    """Per skill (district): paired gain first → last round, Hake g, effect size d_z."""
    f0, l0 = first_last(df)
    first, last = first or f0, last or l0
    p = paired(df, first, last, by_skill=True)
    if p.empty:
        return pd.DataFrame(columns=["skill"] + GAIN_COLS + ["items"])
    out = _gain_stats(p.groupby("skill")).reset_index()
    out["items"] = out["skill"].map(common_items_per_skill(df, first, last)).fillna(0).astype(int)
    return out


def common_items_per_skill(df: pd.DataFrame, first: str, last: str) -> pd.Series:
    """How many of the items both rounds share carry each skill (an item with two skills
    counts for both)."""
    items = set(common_items(df, first, last))
    d = exams(df)
    pairs = d[["item", "skills"]].astype(str).drop_duplicates()
    pairs = pairs[pairs["item"].isin(items)]
    split = skill_split(pairs["skills"])
    pairs = pairs.assign(skill=pairs["skills"].map(split)).explode("skill").dropna(subset=["skill"])
    return pairs.groupby("skill")["item"].nunique()


def gain_by(df: pd.DataFrame, first: str | None = None, last: str | None = None,
            by: str = "community", min_n: int = MIN_N) -> pd.DataFrame:
    """Per group: paired gain first → last round with 95 % interval, Hake g, d_z; for 社区
    also the gain shrunk toward the 街道's mean gain and its rank with a 90 % interval."""
    f0, l0 = first_last(df)
    first, last = first or f0, last or l0
    p = paired(df, first, last)
    keys = _by_cols(by)
    if p.empty:
        extra = ["gain_est", "est_lo", "est_hi", "shrink", "rank", "rank_lo", "rank_hi"] if by == "community" else []
        return pd.DataFrame(columns=keys + GAIN_COLS + ["items"] + extra + ["withheld"])
    p = p.assign(**{k: p[k].astype(str) for k in keys})
    out = _gain_stats(p.groupby(keys, observed=True)).reset_index()
    out["items"] = len(common_items(df, first, last))
    if by == "community":
        sh = shrink(out["gain"], out["n"], p.groupby(keys, observed=True)["gain"].var(ddof=1).to_numpy(),
                    out["street"], parent_prior(p["gain"], p["street"]))
        out["gain_est"], out["est_lo"], out["est_hi"], out["shrink"] = sh["est"], sh["lo"], sh["hi"], sh["B"]
        out = _ranks(out, "gain_est", sh["post_sd"], min_n)
    # a small group's shrunk figures and B give its raw one back (raw = parent + (est − parent)/B)
    out = _withhold(out, ["pre", "post", "gain", "sd", "gain_lo", "gain_hi", "hake_g", "d_z",
                          "gain_est", "est_lo", "est_hi", "shrink"], min_n)
    sort = "gain_est" if by == "community" else "gain"
    return out.sort_values(sort, ascending=False, na_position="last").reset_index(drop=True)


def ranking(df: pd.DataFrame, round_label: str | None = None, min_n: int = MIN_N,
            pass_pct: float = PASS_PCT) -> pd.DataFrame:
    """社区 ranking in one round (default: the latest): raw mean with 95 % interval, rank by
    the raw mean and its 90 % rank interval (draws from each mean's error as a figure about
    its staff), the mean shrunk toward the 街道's prior (empirical Bayes) with its interval
    for reference; pass rate shrunk with a beta-binomial prior. n < min_n: not ranked."""
    round_label = round_label or round_order(df)[-1]
    t = round_totals(df)
    t = t[t["round"] == round_label].assign(street=lambda x: x["street"].astype(str),
                                           community=lambda x: x["community"].astype(str))
    g = t.groupby(["street", "community"], observed=True)
    out = _mean_ci(g["pct"]).reset_index()
    var = g["pct"].var(ddof=1).to_numpy()
    parent = parent_prior(t["pct"], t["street"])
    # the ranking is about each 社区's staff: its people in the table, and each score's own error
    items = exams(df).groupby(["worker_id", "round"], observed=True).size().rename("items")
    t = t.join(items, on=["worker_id", "round"])
    meas = (t["pct"] * (100 - t["pct"]) / t["items"]).groupby([t["street"], t["community"]]).mean()
    info = worker_info(df).astype(str)
    staff = info.groupby(["street", "community"]).size()
    key = pd.MultiIndex.from_frame(out[["street", "community"]])
    se2 = group_error(var, out["n"], staff.reindex(key).to_numpy(), meas.reindex(key).to_numpy())
    sh = shrink(out["mean"], out["n"], var, out["street"], parent, se2=se2)
    out["parent"] = out["street"].map(parent)
    out["est"], out["est_lo"], out["est_hi"], out["shrink"] = sh["est"], sh["lo"].clip(lower=0), \
        sh["hi"].clip(upper=100), sh["B"]
    # ranked by the raw mean with its own error: on bench/recovery.py the shrunk estimate ranked
    # no better (Spearman with the truth higher on 12 of 20 seeds, ties on the median)
    out = _ranks(out, "mean", np.sqrt(se2), min_n)
    passed = g["pct"].agg(lambda s: int((s >= pass_pct - 1e-9).sum())).to_numpy()
    bb = beta_binomial(passed, out["n"].to_numpy(), out["street"].to_numpy())
    out["pass_rate"] = 100 * passed / out["n"]
    out["pass_est"], out["pass_est_lo"], out["pass_est_hi"] = 100 * bb["est"], 100 * bb["lo"], 100 * bb["hi"]
    # nothing computed from a small group's own data: its shrunk mean and B give the raw mean back
    out = _withhold(out, ["mean", "sd", "lo", "hi", "pass_rate", "est", "est_lo", "est_hi", "shrink",
                          "pass_est", "pass_est_lo", "pass_est_hi"], min_n)
    out.loc[out["withheld"], ["rank", "rank_lo", "rank_hi"]] = np.nan
    return out.sort_values(["rank", "mean", "street", "community"], ascending=[True, False, True, True],
                           na_position="last").reset_index(drop=True)


def score_bins(df: pd.DataFrame, width: float = 5.0) -> pd.DataFrame:
    """Distribution of round 得分率 (district): workers per 5-point band and round."""
    t = round_totals(df)
    edges = np.arange(0, 100 + width, width)
    labels = [f"{a:g}–{b:g}%" for a, b in zip(edges[:-1], edges[1:])]
    # [0, 5), [5, 10) … [95, 100]: a full score belongs to the top band
    band = np.minimum((t["pct"].to_numpy() // width).astype(int), len(labels) - 1)
    t = t.assign(band=pd.Categorical.from_codes(band, labels))
    out = t.groupby(["band", "round"], observed=False).size().unstack("round", fill_value=0)
    out = out.reindex(labels, fill_value=0)
    out.index.name = "band"
    return out[[r for r in round_order(df) if r in out.columns]]


# ---- street views: individual workers (names only in the street reports) ---------------

def worker_skills(df: pd.DataFrame, street: str | None = None) -> pd.DataFrame:
    """Per worker × skill in the worker's latest exam round (plus course exercises): graded
    items, 得分率 with a Wilson 95 % interval; and the first round's 得分率 for the trend."""
    return _memo(df, ("worker_skills", street), lambda: _worker_skills(df, street))


def _worker_skills(df: pd.DataFrame, street: str | None) -> pd.DataFrame:
    from .items import codes

    cols = ["worker_id", "skill", "obs", "pct", "lo", "hi", "used", "first", "change"]
    d = df if street is None else df[(df["street"] == street).to_numpy()]
    if d.empty:
        return pd.DataFrame(columns=cols + ["mastery", "m_lo", "m_hi", "p_below"])
    order = round_order(df)
    pos = {r: i for i, r in enumerate(order)}
    ex = exams(d)
    w_c, w_n = codes(ex["worker_id"])
    r_c, r_n = codes(ex["round"])
    r_rank = np.array([pos.get(r, -1) for r in r_n])[r_c]          # time order of each row's round
    latest = np.full(len(w_n), -1)
    np.maximum.at(latest, w_c, r_rank)
    first = np.full(len(w_n), len(order))
    np.minimum.at(first, w_c, np.where(r_rank >= 0, r_rank, len(order)))
    split = skill_split(d["skills"])
    kind_other = (d["kind"] != "exam").to_numpy() if "kind" in d.columns else np.zeros(len(d), bool)
    other = d[kind_other]

    def per_skill(rows: pd.DataFrame) -> pd.DataFrame:
        a = rows.groupby(["worker_id", "skills"], observed=True).agg(
            score=("score", "sum"), max_score=("max_score", "sum"), obs=("score", "size")).reset_index()
        a["skill"] = a["skills"].astype(str).map(split)
        a = a.explode("skill").dropna(subset=["skill"])
        a["worker_id"] = a["worker_id"].astype(str)
        return a.groupby(["worker_id", "skill"], as_index=False)[["score", "max_score", "obs"]].sum()

    last_rows = ex[r_rank == latest[w_c]]
    cur = per_skill(pd.concat([last_rows, other]) if len(other) else last_rows)
    cur["pct"] = 100 * cur["score"] / cur["max_score"]
    lo, hi = wilson(cur["score"] / cur["max_score"] * cur["obs"], cur["obs"])
    cur["lo"], cur["hi"] = 100 * lo, 100 * hi
    latest_name = pd.Series([order[i] if i >= 0 else "" for i in latest], index=w_n)
    first_name = pd.Series([order[i] if i < len(order) else "" for i in first], index=w_n)
    cur["used"] = cur["worker_id"].map(latest_name).fillna("") + ("+练习" if len(other) else "")
    f = per_skill(ex[r_rank == first[w_c]])
    f["first"] = 100 * f["score"] / f["max_score"]
    cur = cur.merge(f[["worker_id", "skill", "first"]], on=["worker_id", "skill"], how="left")
    same = (cur["worker_id"].map(first_name) == cur["worker_id"].map(latest_name)).to_numpy()
    cur.loc[same, "first"] = np.nan
    cur["change"] = cur["pct"] - cur["first"]
    m = mastery_table(df)   # fitted on the whole table: every street is judged the same way
    cur = cur.merge(m, on=["worker_id", "skill"], how="left")
    return cur[cols + ["mastery", "m_lo", "m_hi", "p_below"]]


def mastery_table(df: pd.DataFrame, threshold: float = MASTERY_PCT) -> pd.DataFrame:
    """Every worker × skill's mastery in their latest round from all their answers
    (analytics.mastery): estimate and 95 % interval (%), and the chance it is under the line."""
    def compute():
        from . import mastery

        cols = ["worker_id", "skill", "mastery", "m_lo", "m_hi", "p_below"]
        order = round_order(df)
        if not order:
            return pd.DataFrame(columns=cols)
        ev = mastery.evidence(df, order, skill_split(df["skills"]))
        info = worker_info(df)
        # (街道, 社区): two streets may each have a 社区 of the same name
        groups = pd.Series((info["street"].astype(str) + "·" + info["community"].astype(str)).to_numpy(),
                           index=info.index.astype(str))
        e = mastery.estimate(ev, threshold=threshold / 100, groups=groups)
        return pd.DataFrame({"worker_id": e["worker_id"].astype(str), "skill": e["skill"].astype(str),
                             "mastery": 100 * e["est"], "m_lo": 100 * e["lo"], "m_hi": 100 * e["hi"],
                             "p_below": e["p_below"]})[cols]
    return _memo(df, ("mastery", threshold), compute)


def _skill_names(names: dict[str, str] | None) -> dict[str, str]:
    """Chinese skill names: as given, else from exams/skills.yaml (ids when unreadable)."""
    if names is not None:
        return names
    try:
        from ..bank import load_skills

        return load_skills()
    except Exception:
        return {}


def worker_profiles(df: pd.DataFrame, roster: pd.DataFrame | None, street: str,
                    skill_names: dict[str, str] | None = None) -> pd.DataFrame:
    """Worker × skill 得分率 table for a street report (names from the roster)."""
    ws = worker_skills(df, street)
    names = _skill_names(skill_names)
    m = ws.pivot(index="worker_id", columns="skill", values="pct")
    m.columns = [names.get(c, c) for c in m.columns]
    info = _people(df, roster, street).set_index("worker_id")
    m = info.join(m, how="left")
    return m.reset_index().sort_values(["community", "worker_id"]).reset_index(drop=True)


def _people(df: pd.DataFrame, roster: pd.DataFrame | None, street: str) -> pd.DataFrame:
    w = worker_info(df).reset_index()
    w = w[(w["street"] == street).to_numpy()].astype(str)
    if roster is not None and "name" in roster.columns:
        w = w.merge(roster[["worker_id", "name"]].astype(str), on="worker_id", how="left")
    else:
        w["name"] = ""
    return w[["worker_id", "name", "community", "role"]]


def worker_progress(df: pd.DataFrame, roster: pd.DataFrame | None, street: str) -> pd.DataFrame:
    """Per worker of a street: 得分率 of every round, and the change first → latest round."""
    t = round_totals(df)
    t = t[(t["street"] == street).to_numpy()]
    rounds = round_order(df)
    w = t.pivot_table(index="worker_id", columns="round", values="pct", observed=True)
    w = w[[r for r in rounds if r in w.columns]]
    first = w.bfill(axis=1).iloc[:, 0] if w.shape[1] else pd.Series(np.nan, index=w.index)
    last = w.ffill(axis=1).iloc[:, -1] if w.shape[1] else pd.Series(np.nan, index=w.index)
    w["change"] = (last - first).where(w.notna().sum(axis=1) >= 2)
    w.index = w.index.astype(str)
    people = _people(df, roster, street).set_index("worker_id")
    out = people.join(w, how="left").reset_index()
    return out.sort_values(["community", "worker_id"]).reset_index(drop=True)


def retraining(df: pd.DataFrame, roster: pd.DataFrame | None, street: str,
               threshold: float = MASTERY_PCT, skill_names: dict[str, str] | None = None) -> pd.DataFrame:
    """The explainable retraining list of a street: each worker × skill the mastery model
    (`mastery_table`, all of the worker's answers) thinks more likely under `threshold` than
    over it. 需再培训 when that chance is at least `SURE`; 建议关注 otherwise. The reason names
    the skill, the latest round's items and 得分率, the estimate with its interval, the
    chance, and the trend since the first round. `df` may be the whole table (the model is
    fitted on it) or one street's rows."""
    ws = worker_skills(df, street)
    names = _skill_names(skill_names)
    low = ws[ws["p_below"] >= WATCH].copy()
    low["level"] = np.where(low["p_below"] >= SURE, "需再培训", "建议关注")
    low["skill_name"] = low["skill"].map(lambda s: names.get(s, s))

    def reason(r) -> str:
        trend = "" if not np.isfinite(r.change) else f"；较首轮 {num(r.change, 0, signed=True)} 个百分点"
        return (f"{r.skill_name}：{r.used} 共 {int(r.obs)} 题，得分率 {r.pct:.0f}%；综合各轮全部作答，"
                f"掌握度估计 {r.mastery:.0f}%（95% 区间 {r.m_lo:.0f}–{r.m_hi:.0f}%），"
                f"低于掌握线 {threshold:.0f}% 的可能性 {100 * r.p_below:.0f}%{trend}")
    low["reason"] = [reason(r) for r in low.itertuples(index=False)]
    people = _people(df, roster, street)
    out = people.merge(low, on="worker_id", how="inner")
    out["_lv"] = (out["level"] != "需再培训").astype(int)
    out = out.sort_values(["_lv", "community", "worker_id", "mastery"]).drop(columns="_lv")
    return out[["community", "name", "worker_id", "role", "skill_name", "obs", "pct", "mastery", "m_lo", "m_hi",
                "p_below", "level", "reason"]].reset_index(drop=True)


def retraining_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Per street: workers with at least one skill on the retraining list (no names)."""
    ws = worker_skills(df)
    low = ws[ws["p_below"] >= WATCH].copy()
    low["sure"] = low["p_below"] >= SURE
    low = low.join(worker_info(df)["street"], on="worker_id")
    low["street"] = low["street"].astype(str)
    a = low[low["sure"]].groupby("street")["worker_id"].nunique().rename("需再培训人数")
    b = low.groupby("street")["worker_id"].nunique().rename("需再培训或关注人数")
    return pd.concat([a, b], axis=1).fillna(0).astype(int)


# ---- presentation -------------------------------------------------------------------------

def num(v, digits: int = 1, signed: bool = False) -> str:
    """A number for people: rounded once, “—” when missing, never “-0”."""
    if v is None or pd.isna(v) or not np.isfinite(float(v)):
        return "—"
    v = round(float(v), digits)
    if v == 0:
        v = 0.0   # -0.0 prints as "-0"
    return f"{v:+.{digits}f}" if signed and v != 0 else f"{v:.{digits}f}"


def label(df: pd.DataFrame, digits: int = 1, skill_names: dict[str, str] | None = None) -> pd.DataFrame:
    """Chinese column labels (which definition each figure is), rounded for reading."""
    out = df.copy()
    if skill_names and "skill" in out.columns:
        out["skill"] = out["skill"].map(lambda s: skill_names.get(s, s))
    for c in out.columns:
        if out[c].dtype.kind == "f":
            out[c] = out[c].round(2 if c in ("hake_g", "d_z", "shrink") else digits)
    drop = [c for c in ("withheld",) if c in out.columns]
    return out.drop(columns=drop).rename(columns=LABELS)


def street_slugs(streets, roster: pd.DataFrame | None = None) -> dict[str, str]:
    """ASCII file names for street reports: street-<街道代码> from the roster's community
    codes, or street-01, street-02 … in sorted order."""
    streets = sorted(map(str, streets))
    codes = {}
    if roster is not None and "community_code" in roster.columns:
        r = roster.drop_duplicates("street")
        codes = {str(s): str(c)[:9] for s, c in zip(r["street"], r["community_code"])}
    out = {}
    for i, s in enumerate(streets, start=1):
        code = codes.get(s)
        out[s] = f"street-{code}" if code and code.isdigit() else f"street-{i:02d}"
    if len(set(out.values())) < len(out):
        out = {s: f"street-{i:02d}" for i, s in enumerate(streets, start=1)}
    return out


def district_tables(df: pd.DataFrame, roster: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Every district view of a report run, computed once: the index page, both workbooks
    and the overview notebook all draw these (no names, no worker ids; `round_totals` keeps
    worker ids for the box plot and is never shown as a table)."""
    first, last = first_last(df)
    return {
        "district": district_summary(df),
        "participation_street": participation(df, roster, "street"),
        "participation_community": participation(df, roster, "community"),
        "summary_street": group_summary(df, "street"),
        "summary_community": group_summary(df, "community"),
        "score_bins": score_bins(df),
        "round_totals": round_totals(df)[["worker_id", "street", "community", "round", "pct"]],
        "skill_matrix_street": skill_matrix(df, "street", last),
        "skill_matrix_community": skill_matrix(df, "community", last),
        "sizes_street": group_sizes(df, "street", last),
        "sizes_community": group_sizes(df, "community", last),
        "skill_progress": skill_progress(df),
        "skill_gain": skill_gain(df, first, last),
        "gain_street": gain_by(df, first, last, "street"),
        "gain_community": gain_by(df, first, last, "community"),
        "ranking": ranking(df, last),
        "anchors": anchor_means(df),
    }


def save_tables(tables: dict, df: pd.DataFrame, path) -> None:
    """Hand the district tables to another process (the report's notebook kernel), with the
    fingerprint of the results table they were computed from."""
    import pickle

    from .items import fingerprint

    with open(path, "wb") as f:
        pickle.dump({"fingerprint": fingerprint(df), "tables": tables}, f, protocol=pickle.HIGHEST_PROTOCOL)


def tables_for(df: pd.DataFrame, roster: pd.DataFrame | None = None, path=None) -> dict[str, pd.DataFrame]:
    """The district tables of `df`: read from `path` when this report run saved them from the
    same table, else computed (a notebook run on its own)."""
    import os
    import pickle

    from .items import fingerprint

    if path and os.path.exists(path):
        with open(path, "rb") as f:
            saved = pickle.load(f)   # our own file, written by report.render in its work folder
        if saved.get("fingerprint") == fingerprint(df):
            return saved["tables"]
    return district_tables(df, roster)


def district_views(df: pd.DataFrame, roster: pd.DataFrame | None = None, analysis=None,
                   skill_names: dict[str, str] | None = None,
                   tables: dict[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """Every district view as a labelled table (the workbook: one sheet per view), from the
    district tables (computed here unless given). No names and no worker ids."""
    from . import items as itemstats

    names = skill_names or {}
    T = tables if tables is not None else district_tables(df, roster)
    last = first_last(df)[1]
    sm = {}
    for by, zh in (("street", "街道"), ("community", "社区")):
        m = T[f"skill_matrix_{by}"].round(1).rename(columns=names)
        m.index.names = ["街道", "社区"] if by == "community" else [zh]
        sm[zh] = m.reset_index()
    ana = analysis if analysis is not None else itemstats.analyse(df)
    return {
        "全区各轮": label(T["district"]),
        "各轮与基线相同的题": label(T["anchors"]).rename(columns={LABELS["mean"]: "这些题的平均得分率(%)",
                                                          LABELS["items"]: "与基线相同的题数"}),
        "参加情况_街道": label(T["participation_street"]),
        "参加情况_社区": label(T["participation_community"]),
        "得分与及格_街道": label(T["summary_street"]),
        "得分与及格_社区": label(T["summary_community"]),
        "得分分布": T["score_bins"].rename_axis("得分率区间").reset_index().astype({"得分率区间": str}),
        f"街道×技能_{last}": sm["街道"],
        f"社区×技能_{last}": sm["社区"],
        "技能各轮": T["skill_progress"].rename(columns=names).rename_axis("轮次").reset_index(),
        "技能进步": label(T["skill_gain"], skill_names=names),
        "社区进步排名": label(T["gain_community"]),
        "街道进步": label(T["gain_street"]),
        "社区得分排名": label(T["ranking"]),
        "试卷信度": itemstats.labelled(ana.papers, itemstats.PAPER_LABELS),
        "题目分析": itemstats.labelled(ana.items),
        "题库题目_跨卷": itemstats.labelled(ana.bank),
        "干扰项_题库选项": itemstats.labelled(ana.bank_distractors, itemstats.DISTRACTOR_LABELS),
    }


DEFINITIONS = f"""本工作簿为区级汇总，不含姓名、工号。全部数据为合成数据。
得分率 = 得分 / 满分（%）；n = 该组该轮有成绩的人数；人数少于 {MIN_N} 的组不显示数值（空白）、不排名。
95% 区间：平均数 ± 1.96 × 标准差 / √n；比例用 Wilson 区间。及格线：得分率 {PASS_PCT:g}%。
进步：同一人前后两轮、只比两轮共同的题目。平均提高 = 后测 − 前测（百分点）；
Hake 归一化增益 g = (后测均值 − 前测均值) / (100 − 前测均值)；效应量 d_z = 平均提高 / 提高值的标准差。
排名：按社区原始平均得分率排名；误差只算缺考者带来的抽样误差和每人分数的测量误差。收缩估计（参考）：向街道先验均值收缩
（经验贝叶斯，正态–正态模型，τ² 用矩估计；街道均值先向全区均值收缩），
及格率用 beta-二项先验收缩；排名 90% 区间为按各社区平均数的误差抽样 {RANK_DRAWS} 次得到的名次第 5–95 百分位。
题目分析（Moodle 定义）：得分率 P = 平均分/满分（越大越容易）；SD；区分度 DI = 题目得分与其余题总分的相关 ×100；
区分效率 DE = cov(题目, 其余)/最大可能 cov ×100；区分度 D = 高分组 27% 得分率 − 低分组 27% 得分率（Ebel：≥0.40 很好，
0.30–0.39 较好，0.20–0.29 需修改，≤0.19 应淘汰）；随机猜测得分：单选 1/k，判断 50%。
Cronbach α（0/1 题即 KR-20）；CIC = 100α（>75 满意，<64 不满意）；误差比 ER = 100√(1−α)；测量标准误 SE = ER × SD / 100。
α 的标准误为正态理论渐近标准误（Duhachek & Iacobucci 2004）。"""


def wide(tbl: pd.DataFrame, keys: list[str], value: str, rounds: list[str], n: str = "n",
         digits: int = 0, unit: str = "") -> pd.DataFrame:
    """Rounds as columns, each cell “value（n=…）”; a withheld value shows “—”."""
    t = tbl.copy()

    def cell(v, k):
        k = "" if pd.isna(k) else f"（n={int(k)}）"
        return ("—" if pd.isna(v) else f"{num(v, digits)}{unit}") + k
    t["_c"] = [cell(v, k) for v, k in zip(t[value], t[n])]
    out = t.pivot(index=keys, columns="round", values="_c")
    out = out[[r for r in rounds if r in out.columns]].fillna("—")
    out.columns.name = None
    return out.reset_index().rename(columns=LABELS)


def workbook(df: pd.DataFrame, roster: pd.DataFrame | None = None,
             computed: dict[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame | str]:
    """The trainers' workbook (build/results/results.xlsx): definitions, every worker's 得分率
    per round (with 工号: not for district distribution), and every district view (the ones
    already computed, when given). The row-level table is in results-excel.csv /
    results.parquet (too big for a sheet)."""
    if not (exams(df)["round"].astype(str) != "").any():
        return {"说明": "结果表中没有带轮次的考试成绩，没有可汇总的视图。"}
    t = round_totals(df)
    per = t.pivot_table(index=["worker_id"], columns="round", values="pct", observed=True)
    per = per[[r for r in round_order(df) if r in per.columns]].round(1)
    per.columns.name = None
    per = worker_info(df).astype(str).join(per, how="right").reset_index()
    note = ("本工作簿含工号（“每人各轮”表），只供培训老师使用；区级报告用 build/report/workbook.xlsx。\n"
            "逐题明细见同目录 results-excel.csv（Excel 可直接打开）或 results.parquet。\n" + DEFINITIONS)
    return {"说明": note, "每人各轮": label(per), **(computed if computed is not None else district_views(df, roster))}


def retraining_summary(plan: pd.DataFrame) -> pd.DataFrame:
    """One row per worker on the retraining list: the skills to retrain and to watch."""
    if plan.empty:
        return pd.DataFrame(columns=["社区", "姓名", "工号", "岗位", "需再培训的技能", "建议关注的技能"])

    def skills(g, level):
        s = g.loc[g["level"] == level, "skill_name"].tolist()
        return "、".join(s)
    rows = []
    for (comm, name, wid, role), g in plan.groupby(["community", "name", "worker_id", "role"], sort=False):
        rows.append({"社区": comm, "姓名": name, "工号": wid, "岗位": role,
                     "需再培训的技能": skills(g, "需再培训"), "建议关注的技能": skills(g, "建议关注")})
    out = pd.DataFrame(rows)
    out["_k"] = (out["需再培训的技能"] == "").astype(int)
    return out.sort_values(["_k", "社区", "工号"]).drop(columns="_k").reset_index(drop=True)
