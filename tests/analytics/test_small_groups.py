"""A 社区 under five workers stays hidden: no figure computed from its own data (raw mean,
shrunk estimate, B, rank) appears in any view, page table or workbook sheet, and the
attack the shrinkage formula invites (raw = parent + (estimate − parent) / B) finds nothing
to work with."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from shequ import analytics as an
from shequ.grading import roster as rostermod
from shequ.report import html as tables
from shequ.report import render as report


@pytest.fixture(scope="module")
def hidden(tmp_path_factory, simulated_results):
    df, _, _ = simulated_results(tmp_path_factory.mktemp("grading"), seed=9, plant=False)
    sizes = df.groupby("community", observed=True)["worker_id"].nunique()
    victim = str(sizes[sizes >= 8].index[0])
    few = df.loc[(df["community"] == victim).to_numpy(), "worker_id"].unique()[:4]
    keep = df["worker_id"].isin(few).to_numpy() | (df["community"] != victim).to_numpy()
    small = df[keep].reset_index(drop=True)
    t = an.round_totals(small)
    rounds = an.round_order(small)
    raw = {r: t.loc[(t["community"] == victim) & (t["round"] == r), "pct"].mean() for r in rounds}
    p = an.paired(small, rounds[0], rounds[-1])
    raw_gain = p.loc[p["community"] == victim, "gain"].mean()
    return {"df": small, "victim": victim, "raw": raw, "raw_gain": raw_gain, "last": rounds[-1]}


def recovered(frame: pd.DataFrame, victim: str, est: str, b: str, parent: str | None) -> list[float]:
    """Every value the shrinkage formula gives back for the victim's rows of `frame`."""
    rows = frame[frame.iloc[:, :3].astype(str).eq(victim).any(axis=1)]
    out = []
    for _, r in rows.iterrows():
        e, bb = r.get(est), r.get(b)
        par = r.get(parent) if parent else None
        if e is not None and np.isfinite(e):
            out.append(float(e))   # the estimate itself is derived from the group
            if bb is not None and np.isfinite(bb) and bb > 0 and par is not None and np.isfinite(par):
                out.append(float(par + (e - par) / bb))
    return out


def test_a_small_communitys_ranking_row_gives_nothing_back(hidden):
    r = an.ranking(hidden["df"], hidden["last"])
    row = r[r["community"] == hidden["victim"]].iloc[0]
    assert row["n"] < an.MIN_N and row["withheld"]
    for c in ("mean", "lo", "hi", "est", "est_lo", "est_hi", "shrink", "rank", "rank_lo", "rank_hi",
              "pass_rate", "pass_est", "pass_est_lo", "pass_est_hi"):
        assert np.isnan(row[c]), c
    assert not recovered(r, hidden["victim"], "est", "shrink", "parent")


def test_a_small_communitys_gain_row_gives_nothing_back(hidden):
    df = hidden["df"]
    first, last = an.first_last(df)
    g = an.gain_by(df, first, last, "community")
    row = g[g["community"] == hidden["victim"]].iloc[0]
    assert 2 <= row["n"] < an.MIN_N
    for c in ("gain", "gain_est", "est_lo", "est_hi", "shrink", "rank", "pre", "post"):
        assert np.isnan(row[c]), c
    assert np.isfinite(hidden["raw_gain"])   # there is something to hide
    page = str(tables.interval_table(g, "提高", value="gain_est", raw="gain", unit="", scale=None))
    line = next(x for x in page.split("<tr") if f"<td>{hidden['victim']}</td>" in x)
    assert "iv-dot" not in line and "iv-raw" not in line   # no drawn estimate either


def test_no_sheet_of_the_district_workbook_lets_the_hidden_mean_be_recovered(hidden, tmp_path):
    roster = rostermod.frame()
    report.render(hidden["df"], roster, out_dir=tmp_path / "report", notebooks=False)
    wb = load_workbook(tmp_path / "report" / report.WORKBOOK)
    L = an.LABELS
    truth = [v for v in hidden["raw"].values() if np.isfinite(v)] + [hidden["raw_gain"]]
    checked = 0
    for ws in wb.worksheets:
        rows = [r for r in ws.iter_rows(values_only=True)]
        head_i = next((i for i, r in enumerate(rows) if r and L["community"] in r), None)
        if head_i is None:
            continue
        frame = pd.DataFrame(rows[head_i + 1:], columns=[str(c) for c in rows[head_i]])
        for c in frame.columns:   # numbers as numbers, text stays text
            num = pd.to_numeric(frame[c], errors="coerce")
            if num.notna().sum() >= frame[c].notna().sum():
                frame[c] = num
        mine = frame[frame[L["community"]].astype(str) == hidden["victim"]]
        if mine.empty:
            continue
        checked += 1
        for est, b in ((L["est"], L["shrink"]), (L["gain_est"], L["shrink"])):
            got = recovered(mine.reset_index(drop=True).assign(_c=hidden["victim"])[["_c", *mine.columns]],
                            hidden["victim"], est, b, L["parent"]) if est in mine.columns else []
            assert not got, (ws.title, got)
        for c in mine.columns:   # no raw figure of the group either (counts and participation are not scores)
            if "参加" in c or "人数" in c or c in ("n", L["withheld"]):
                continue
            vals = pd.to_numeric(mine[c], errors="coerce").dropna()
            for v in vals:
                assert not any(abs(v - t) < 0.05 for t in truth), (ws.title, c, v)
    assert checked >= 3   # participation, summary, ranking and gain sheets list the 社区
