"""What one report is about: an assessment series (a blueprint's rounds), and the rest.

A report follows one series: the exam rounds of one paper (blueprint), in the blueprint's
order, under the blueprint's round names. Other papers and course exercises are never a
round of that series: `others` summarises them on their own. Results whose worker id is not
on the roster are left out of every figure (`known`), and listed for the trainer.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ShequError
from .stats import _mean_ci
from .views import MIN_N, _natural


class SeriesError(ShequError):
    """The series asked for has no results."""


@dataclass
class Round:
    label: str      # as in the results table (r1)
    name: str       # as the blueprint names it (基线测评); the label when it has none
    date: str


@dataclass
class Series:
    paper: str
    title: str
    rounds: list[Round] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [r.name for r in self.rounds]


def known(df: pd.DataFrame, roster: pd.DataFrame | None) -> tuple[pd.DataFrame, list[str]]:
    """The rows of workers on the roster, and the ids left out (sorted). Without a roster,
    rows without a 街道 are left out (they cannot be placed in any group)."""
    ids = df["worker_id"].astype(str)
    if roster is not None and "worker_id" in roster.columns:
        ok = ids.isin(set(roster["worker_id"].astype(str))).to_numpy()
    else:
        ok = (df["street"].astype(str) != "").to_numpy()
    left_out = sorted(set(ids[~ok]))
    return (df if ok.all() else df[ok].reset_index(drop=True)), left_out


def _blueprint(paper: str):
    from ..exam.paper import load_blueprint

    try:
        return load_blueprint(paper)
    except Exception:  # a paper whose blueprint is not in exams/papers/ (a trial, an old paper)
        return None


def _exam_rounds(df: pd.DataFrame) -> pd.DataFrame:
    """paper, round, date (earliest) of every exam round in the table."""
    d = df if "kind" not in df.columns else df[(df["kind"] == "exam").to_numpy()]
    r = d[["paper", "round", "date"]].astype(str).drop_duplicates()
    r = r[r["round"] != ""]
    return r.groupby(["paper", "round"], as_index=False)["date"].min()


def all_series(df: pd.DataFrame) -> list[Series]:
    """Every paper with exam rounds in the table: most rounds first (then most recent)."""
    r = _exam_rounds(df)
    out = []
    for paper, g in r.groupby("paper", sort=True):
        bp = _blueprint(paper)
        named = {str(x.get("label")): x for x in (bp.rounds if bp else [])}
        order = [str(x.get("label")) for x in (bp.rounds if bp else [])]
        dates = dict(zip(g["round"], g["date"]))
        # the blueprint's order first, then any other round by date
        labels = [lb for lb in order if lb in dates] + sorted(
            (lb for lb in dates if lb not in order), key=lambda x: (dates[x], _natural(x)))
        rounds, used = [], set()
        for lb in labels:
            name = str(named.get(lb, {}).get("name") or lb)
            if name in used:
                name = f"{name}（{lb}）"
            used.add(name)
            rounds.append(Round(lb, name, str(named.get(lb, {}).get("date") or dates[lb])))
        out.append(Series(str(paper), bp.title if bp else str(paper), rounds))
    return sorted(out, key=lambda s: (-len(s.rounds), tuple(-_day(r.date) for r in s.rounds[-1:]), s.paper))


def _day(date: str) -> int:
    digits = "".join(ch for ch in str(date) if ch.isdigit())
    return int(digits) if digits else 0


def choose(df: pd.DataFrame, paper: str | None = None, found: list[Series] | None = None) -> Series | None:
    """The series a report is about: `paper`, or the one with the most rounds (among
    `found`, when the caller has listed them already)."""
    found = all_series(df) if found is None else found
    if paper is None:
        return found[0] if found else None
    for s in found:
        if s.paper == paper:
            return s
    have = "、".join(s.paper for s in found) or "（没有）"
    raise SeriesError(f"结果表中没有试卷 {paper} 的考试成绩。有成绩的试卷：{have}。")


def _in_series(df: pd.DataFrame, s: Series) -> np.ndarray:
    """The rows of series `s`'s exam rounds."""
    mask = (df["paper"].astype(str) == s.paper).to_numpy() & (df["round"].astype(str) != "").to_numpy()
    if "kind" in df.columns:
        mask &= (df["kind"] == "exam").to_numpy()
    return mask


def series_table(df: pd.DataFrame, s: Series) -> pd.DataFrame:
    """The exam rows of series `s`, rounds renamed to the blueprint's names (categorical), and
    the course-exercise rows of the same workers (a worker's mastery counts their exercises;
    exercises are never a round)."""
    from .. import results

    exam = (df["kind"] == "exam").to_numpy() if "kind" in df.columns else np.ones(len(df), bool)
    mine = _in_series(df, s)
    takers = set(df.loc[mine, "worker_id"].astype(str))
    extra = ~exam & df["worker_id"].astype(str).isin(takers).to_numpy()
    out = df[mine | extra].reset_index(drop=True)
    rename = {**{r.name: r.name for r in s.rounds}, **{r.label: r.name for r in s.rounds}, "": ""}  # idempotent
    out["round"] = out["round"].astype(str).map(rename).fillna("")
    out["date"] = out["round"].map({**{r.name: r.date for r in s.rounds}, "": ""}).fillna("")
    out = out.astype({"round": str, "date": str})
    for c in results.CATEGORICAL:
        if c in out.columns and not isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype("category")
        elif c in out.columns:
            out[c] = out[c].cat.remove_unused_categories()
    return out


def report_table(df: pd.DataFrame, roster: pd.DataFrame | None, paper: str | None = None) -> pd.DataFrame:
    """What a report page reads: the known workers' rows of one series (see `series_table`);
    a table that already is one (the report hands its notebooks one) comes back the same."""
    df, _ = known(df, roster)
    s = choose(df, paper)
    return series_table(df, s) if s is not None else df.iloc[0:0]


def others(df: pd.DataFrame, s: Series | None, min_n: int = MIN_N) -> pd.DataFrame:
    """Every assessment outside the series (other papers' rounds, course exercises), one row
    each: what it is, how many took it and their mean 得分率 (withheld under `min_n`)."""
    cols = ["assessment", "kind", "paper", "round", "date", "n", "mean", "lo", "hi"]
    d = df[~_in_series(df, s)] if s is not None else df
    if d.empty:
        return pd.DataFrame(columns=cols)
    keys = [c for c in ("assessment", "kind", "paper", "round", "date") if c in d.columns]
    per = d.groupby(["worker_id"] + keys, observed=True).agg(score=("score", "sum"), max_score=("max_score", "sum"))
    per = per[per["max_score"] > 0].reset_index()
    per["pct"] = 100 * per["score"] / per["max_score"]
    for k in keys:
        per[k] = per[k].astype(str)
    out = _mean_ci(per.groupby(keys)["pct"]).reset_index()
    small = out["n"] < min_n
    out.loc[small, ["mean", "lo", "hi"]] = np.nan
    for c in cols:
        if c not in out.columns:
            out[c] = ""
    return out[cols].sort_values(["kind", "paper", "date", "assessment"]).reset_index(drop=True)
