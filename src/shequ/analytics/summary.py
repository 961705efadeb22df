"""The few Chinese sentences each report page opens with, generated from the same tables the
page shows (tests read the numbers back and compare them with the tables)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import views
from .views import MIN_N, num


@dataclass
class Facts:
    """The figures a summary states, for one scope (全区 or one 街道)."""
    scope: str
    latest: str
    date: str = ""
    took: int = 0
    roster_n: int = 0
    mean: float = np.nan
    lo: float = np.nan
    hi: float = np.nan
    pass_rate: float = np.nan
    first: str = ""
    gain_n: int = 0
    gain: float = np.nan
    gain_lo: float = np.nan
    gain_hi: float = np.nan
    items: int = 0
    retest: bool = False   # the later round repeated every item of the first: gains may be memory
    behind: list[tuple[str, float]] = field(default_factory=list)   # (街道社区, mean) lowest first
    weak: list[tuple[str, float]] = field(default_factory=list)     # (技能, 得分率) lowest first
    retrain: int = 0
    watch: int = 0


def sentences(f: Facts) -> list[str]:
    """The summary as sentences (plain text; numbers as the tables round them)."""
    out = []
    when = f"（{f.date}）" if f.date else ""
    if f.took == 0:
        return [f"{f.scope}在“{f.latest}”{when}没有成绩。"]
    took = f"共 {f.took} 人参加" + (f"（应参加 {f.roster_n} 人，参加率 {num(100 * f.took / f.roster_n, 0)}%）"
                               if f.roster_n else "")
    if np.isfinite(f.mean):
        out.append(f"最近一轮“{f.latest}”{when}：{f.scope}{took}，平均得分率 {num(f.mean)}%"
                   f"（95% 区间 {num(f.lo)}–{num(f.hi)}%），及格率 {num(f.pass_rate, 0)}%。")
    else:
        out.append(f"最近一轮“{f.latest}”{when}：{f.scope}{took}；人数少于 {MIN_N}，不显示平均得分率。")
    if f.first and f.first != f.latest:
        if f.gain_n >= MIN_N and np.isfinite(f.gain):
            sure = ("有提高" if f.gain_lo > 0 else "有下降" if f.gain_hi < 0 else "变化不能确定（区间含 0）")
            memo = "两轮是同一批题，提高中可能有记住题目的成分。" if f.retest else ""
            out.append(f"与“{f.first}”相比：两轮都参加的 {f.gain_n} 人在两轮共同的 {f.items} 道题上"
                       f"平均变化 {num(f.gain, signed=True)} 个百分点（95% 区间 {num(f.gain_lo, signed=True)}–"
                       f"{num(f.gain_hi, signed=True)}），{sure}。{memo}")
        else:
            out.append(f"与“{f.first}”相比：两轮都参加的只有 {f.gain_n} 人，少于 {MIN_N} 人，不计算进步。")
    if f.behind:
        out.append("平均得分率最低的社区：" + "、".join(f"{c}（{num(v)}%）" for c, v in f.behind) + "。")
    if f.weak:
        out.append("得分率最低的技能：" + "、".join(f"{s}（{num(v)}%）" for s, v in f.weak) + "。")
    out.append(f"需再培训 {f.retrain} 人；需再培训或建议关注共 {f.watch} 人。")
    return out


def _lowest(pairs: pd.Series, k: int = 3) -> list[tuple[str, float]]:
    s = pairs.dropna()
    s = s.iloc[np.lexsort((np.array(s.index, dtype=str), s.to_numpy()))]  # ties by name: stable
    return [(str(i), float(v)) for i, v in s.head(k).items()]


def _gain(df: pd.DataFrame, first: str, last: str) -> dict:
    p = views.paired(df, first, last)
    if p.empty:
        return {"gain_n": 0}
    g = views._gain_stats(p.assign(_all=1).groupby("_all")).iloc[0]
    d = views.exams(df)
    later = set(map(str, d.loc[(d["round"] == last).to_numpy(), "item"].unique()))
    items = int(p.attrs.get("items", 0))
    return {"gain_n": int(g["n"]), "gain": float(g["gain"]), "gain_lo": float(g["gain_lo"]),
            "gain_hi": float(g["gain_hi"]), "items": items, "retest": bool(later) and items == len(later)}


def _weak(df: pd.DataFrame, last: str, names: dict[str, str], k: int = 3) -> list[tuple[str, float]]:
    s = views.skill_table(df, None)
    s = s[s["round"] == last].set_index("skill")["pct"]
    return [(names.get(i, i), v) for i, v in _lowest(s, k)]


def _behind(summary_community: pd.DataFrame, last: str, k: int = 3, with_street: bool = True):
    c = summary_community[summary_community["round"] == last]
    label = (c["street"] + c["community"]) if with_street else c["community"]
    return _lowest(pd.Series(c["mean"].to_numpy(), index=label.to_numpy()), k)


def _facts(df, scope, summary_row, part_rows, summary_community, names, counts, with_street) -> Facts:
    rounds = views.round_order(df)
    first, last = rounds[0], rounds[-1]
    dates = df[["round", "date"]].astype(str).drop_duplicates().groupby("round")["date"].min()
    f = Facts(scope=scope, latest=last, date=str(dates.get(last, "")), first=first,
              took=int(part_rows["took"].sum()), roster_n=int(part_rows["roster_n"].sum()))
    if len(summary_row):
        r = summary_row.iloc[0]
        f.mean, f.lo, f.hi, f.pass_rate = (float(r[c]) for c in ("mean", "lo", "hi", "pass_rate"))
    for k, v in _gain(df, first, last).items():
        setattr(f, k, v)
    f.behind = _behind(summary_community, last, with_street=with_street)
    f.weak = _weak(df, last, names)
    f.retrain, f.watch = counts
    return f


def district_facts(df: pd.DataFrame, T: dict, names: dict[str, str]) -> Facts:
    """The district's figures, from the district tables `T` of the series table `df`."""
    last = views.round_order(df)[-1]
    d = T["district"]
    part = T["participation_street"]
    c = views.retraining_counts(df)
    counts = tuple(int(c[k].sum()) if k in c else 0 for k in ("需再培训人数", "需再培训或关注人数"))
    f = _facts(df, "全区", d[d["round"] == last], part[part["round"] == last], T["summary_community"],
               names, counts, with_street=True)
    # the district's n is everyone with a result (participation counts roster members only)
    f.took = int(d.loc[d["round"] == last, "n"].sum())
    return f


def street_facts(df: pd.DataFrame, roster: pd.DataFrame | None, street: str, names: dict[str, str],
                 plan: pd.DataFrame | None = None) -> Facts:
    """One 街道's figures (`df`: that 街道's rows of the series table; `plan`: its retraining
    list, judged on the whole table — computed from `df` alone when not given)."""
    last = views.round_order(df)[-1]
    s = views.group_summary(df, "street")
    part = views.participation(df, roster[roster["street"] == street] if roster is not None else None, "street")
    plan = plan if plan is not None else views.retraining(df, roster, street, skill_names=names)
    counts = (int(plan.loc[plan["level"] == "需再培训", "worker_id"].nunique()), int(plan["worker_id"].nunique()))
    return _facts(df, street, s[(s["street"] == street) & (s["round"] == last)], part[part["round"] == last],
                  views.group_summary(df, "community"), names, counts, with_street=False)


def html(f: Facts) -> str:
    import html as h

    items = "".join(f"<li>{h.escape(x)}</li>" for x in sentences(f))
    # not a heading: the page's sections (h2) start after it
    return f'<div class="summary"><p class="summary-title"><b>一分钟看懂</b></p><ul>{items}</ul></div>'
