"""District analytics on a simulated cohort whose true effects are known.

The cohort is the seeded simulation of the demo (every worker of datasets/staff.csv, three
rounds of the basics paper in A/B forms) with effects planted on purpose: one 社区 learns
much faster than all others, one 街道 is far stronger in one skill, one worker is far
weaker in one skill, and one item is miskeyed (cohort.broken_items). The analytics must
find each of them; district outputs must carry no names or worker ids.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shequ import analytics as an
from shequ import paths
from shequ.analytics import items as itemstats
from shequ.exam import paper

STRONG = ("西关街道", "privacy", 2.5)  # planted by the simulated_results fixture (tests/conftest.py)


@pytest.fixture(scope="module")
def sim(tmp_path_factory, simulated_results):
    df, cohort, facts = simulated_results(tmp_path_factory.mktemp("grading"))
    return {"df": df, "cohort": cohort, "roster": pd.read_csv(paths.DATASETS / "staff.csv", dtype=str), **facts}


def test_the_community_given_the_largest_learning_gain_ranks_first(sim):
    df = sim["df"]
    first, last = an.first_last(df)
    g = an.gain_by(df, first, last, "community")
    top = g.iloc[0]
    assert top["community"] == sim["fast"] and top["rank"] == 1
    assert top["gain_lo"] > 0 and top["d_z"] > 0.8           # a large, clearly positive effect
    # ahead of every other 社区 by its raw gain too
    assert top["gain"] > g.loc[g["community"] != sim["fast"], "gain"].max()


def test_the_street_made_strong_in_one_skill_tops_that_skill_column(sim):
    df = sim["df"]
    street, skill, _ = STRONG
    last = an.round_order(df)[-1]
    m = an.skill_matrix(df, "street", last)
    assert m[skill].idxmax() == street
    lead = m[skill] - m.drop(columns=[skill]).mean(axis=1)
    assert lead.idxmax() == street


def test_the_miskeyed_item_is_flagged_in_every_form_and_round(sim):
    ana = itemstats.analyse(sim["df"], itemstats.info_for(sim["df"]))
    row = ana.bank.set_index("item").loc[sim["broken"]]
    assert row["severity"] == "应复查" and "区分度DI为负" in row["flags"]
    assert row["severe_in"] == "6/6"
    assert ana.bank.sort_values("di").iloc[0]["item"] == sim["broken"]
    per_form = ana.items[ana.items["item"] == sim["broken"]]
    assert (per_form["di"] < 0).all() and len(per_form) == 6
    # honest items are not condemned wholesale
    others = ana.bank[ana.bank["item"] != sim["broken"]]
    assert (others["di"] > 0).all()


def test_the_weak_worker_is_on_the_retraining_list_with_an_explanation(sim):
    w = sim["weak"]
    plan = an.retraining(sim["df"], sim["roster"], w["street"])
    mine = plan[(plan["worker_id"] == w["worker_id"]) & (plan["skill_name"] == "信息采集")]
    assert len(mine) == 1
    r = mine.iloc[0]
    assert r["level"] == "需再培训" and r["p_below"] >= an.SURE and r["m_hi"] < an.MASTERY_PCT
    assert r["name"] == w["name"]
    assert "信息采集" in r["reason"] and f"共 {int(r['obs'])} 题" in r["reason"] and "95% 区间" in r["reason"]
    assert f"可能性 {100 * r['p_below']:.0f}%" in r["reason"]
    # the list is the model's rule: more likely under the line than over it; 需再培训 when sure
    assert (plan["p_below"] >= an.WATCH).all()
    assert ((plan["level"] == "需再培训") == (plan["p_below"] >= an.SURE)).all()


def test_small_communities_are_withheld_and_not_ranked(sim):
    df = sim["df"]
    last = an.round_order(df)[-1]
    victim = sim["fast"]
    keep = df["worker_id"].isin(df.loc[df["community"] == victim, "worker_id"].unique()[:3]) | (df["community"] != victim)
    small = df[keep.to_numpy()]
    s = an.group_summary(small, "community")
    row = s[(s["community"] == victim) & (s["round"] == last)].iloc[0]
    assert 1 <= row["n"] <= 3 and row["withheld"] and np.isnan(row["mean"]) and np.isnan(row["pass_rate"])
    r = an.ranking(small, last)
    assert np.isnan(r.loc[r["community"] == victim, "rank"]).all()
    assert r["rank"].dropna().sort_values().tolist() == list(range(1, int(r["rank"].max()) + 1))
    m = an.skill_matrix(small, "community", last)
    assert m.xs(victim, level="community").isna().all().all()


def test_shrunk_estimates_lie_between_the_raw_mean_and_the_street_prior(sim):
    r = an.ranking(sim["df"])
    ok = r[~r["withheld"]]
    # 0 ≤ B ≤ 1, and the estimate lies between the raw mean and the street's prior mean
    assert ((ok["shrink"] >= 0) & (ok["shrink"] <= 1)).all()
    lo = np.minimum(ok["mean"], ok["parent"]) - 1e-9
    hi = np.maximum(ok["mean"], ok["parent"]) + 1e-9
    assert ((ok["est"] >= lo) & (ok["est"] <= hi)).all()
    assert (ok["rank_lo"] <= ok["rank"]).all() and (ok["rank"] <= ok["rank_hi"]).all()


def test_progress_is_paired_and_on_common_items(sim):
    df = sim["df"]
    first, last = an.first_last(df)
    p = an.paired(df, first, last)
    both = set(df.loc[df["round"] == first, "worker_id"]) & set(df.loc[df["round"] == last, "worker_id"])
    assert set(p["worker_id"]) == set(map(str, both))
    assert p.attrs["items"] == paper.load_blueprint("basics").anchors   # later rounds share only the anchors
    s = an.skill_gain(df)
    assert (s["gain"] > 0).all()                       # everyone learns something in the simulation


def test_district_views_carry_no_names_or_worker_ids(sim):
    views = an.district_views(sim["df"], sim["roster"])
    ids = set(sim["roster"]["worker_id"])
    names = set(sim["roster"]["name"])
    for name, t in views.items():
        text = t.astype(str).to_numpy().ravel().tolist() + [str(c) for c in t.columns]
        assert not ids & set(text), name
        assert not names & set(text), name
        assert "工号" not in t.columns and "姓名" not in t.columns, name


def test_participation_and_pass_rate_show_n(sim):
    p = an.participation(sim["df"], sim["roster"], "street")
    assert {"roster_n", "took", "rate"} <= set(p.columns)
    assert (p["took"] <= p["roster_n"]).all()
    s = an.group_summary(sim["df"], "street")
    assert (s["n"] > 0).all() and ((s["pass_lo"] <= s["pass_rate"]) & (s["pass_rate"] <= s["pass_hi"])).all()
    wide = an.wide(s, ["street"], "mean", an.round_order(sim["df"]), digits=1)
    assert wide.iloc[0, 1].endswith(f"（n={int(s.iloc[0]['n'])}）")


def test_wilson_interval_matches_a_known_value():
    lo, hi = an.wilson(np.array([8.0]), np.array([10.0]))
    assert lo[0] == pytest.approx(0.4902, abs=1e-4) and hi[0] == pytest.approx(0.9433, abs=1e-4)
