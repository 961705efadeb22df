"""The mastery model (analytics.mastery) on small districts built by hand, where what it
should conclude is known, and once on a simulated district against the simulation's truth."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shequ.analytics import mastery

SPLIT = {"a": ["a"], "b": ["b"]}


def district(people: dict[str, dict[tuple[str, str], tuple[int, int]]], others: int = 40,
             seed: int = 0) -> pd.DataFrame:
    """Rows of a results table: `people` = {worker: {(skill, round): (right, items)}}, plus
    `others` ordinary workers answering 70 % right, 10 items of each skill per round."""
    rng = np.random.default_rng(seed)
    rows = []

    def add(w, skill, rnd, right, items, community="c1"):
        for i in range(items):
            rows.append({"worker_id": w, "skills": skill, "round": rnd, "kind": "exam", "community": community,
                         "score": float(i < right), "max_score": 1.0})
    for k in range(others):
        for skill in ("a", "b"):
            for rnd in ("r1", "r2"):
                add(f"o{k:02d}", skill, rnd, int(rng.binomial(10, 0.7)), 10, community=f"c{k % 4}")
    for w, cells in people.items():
        for (skill, rnd), (right, items) in cells.items():
            add(w, skill, rnd, right, items)
    return pd.DataFrame(rows)


def fit(df: pd.DataFrame) -> pd.DataFrame:
    ev = mastery.evidence(df, ["r1", "r2"], SPLIT)
    groups = df.drop_duplicates("worker_id").set_index("worker_id")["community"]
    return mastery.estimate(ev, groups=groups).set_index(["worker_id", "skill"])


def test_two_items_in_a_skill_are_judged_with_help_from_the_other_skill():
    df = district({"weak": {("a", "r2"): (0, 2), ("b", "r2"): (2, 20), ("b", "r1"): (3, 20)},
                   "strong": {("a", "r2"): (0, 2), ("b", "r2"): (19, 20), ("b", "r1"): (18, 20)}})
    e = fit(df)
    weak, strong = e.loc[("weak", "a")], e.loc[("strong", "a")]
    # the same 0 of 2 in skill a: the one weak everywhere else is judged weaker, with more certainty
    assert weak["est"] < strong["est"] - 0.1
    assert weak["p_below"] > 0.9 and strong["p_below"] < weak["p_below"] - 0.1
    assert 0 < weak["lo"] < weak["est"] < weak["hi"] < 1


def test_more_items_give_a_narrower_interval_and_an_estimate_nearer_the_rate():
    df = district({"few": {("a", "r2"): (2, 4), ("b", "r2"): (7, 10)},
                   "many": {("a", "r2"): (10, 20), ("b", "r2"): (7, 10)}})
    e = fit(df)
    few, many = e.loc[("few", "a")], e.loc[("many", "a")]
    assert many["hi"] - many["lo"] < few["hi"] - few["lo"]
    assert abs(many["est"] - 0.5) < abs(few["est"] - 0.5)


def test_the_latest_round_decides_and_earlier_rounds_only_inform_the_prior():
    df = district({"learnt": {("a", "r1"): (1, 10), ("a", "r2"): (9, 10), ("b", "r1"): (7, 10), ("b", "r2"): (7, 10)},
                   "forgot": {("a", "r1"): (9, 10), ("a", "r2"): (1, 10), ("b", "r1"): (7, 10), ("b", "r2"): (7, 10)}})
    e = fit(df)
    assert e.loc[("learnt", "a"), "est"] > 0.6 > e.loc[("forgot", "a"), "est"]
    assert e.loc[("learnt", "a"), "n"] == 10   # the data are the latest round's items


def test_course_exercises_count_as_current_evidence():
    df = district({"w": {("a", "r2"): (1, 2), ("b", "r2"): (7, 10)}})
    base = fit(df).loc[("w", "a")]
    extra = pd.DataFrame([{"worker_id": "w", "skills": "a", "round": "", "kind": "exercise", "community": "c1",
                           "score": 1.0, "max_score": 1.0}] * 6)
    more = fit(pd.concat([df, extra], ignore_index=True)).loc[("w", "a")]
    assert more["n"] == base["n"] + 6 and more["est"] > base["est"]


@pytest.mark.slow
def test_on_a_simulated_district_the_lists_find_the_truly_weak_better_than_the_old_rule(tmp_path):
    from shequ import results
    from shequ.synth import simulate, truth

    df, cohort = simulate.district_results(seed=21, out_root=tmp_path, realism=simulate.REALISTIC)
    f = truth.recovery(results.categorise(df), cohort)
    # the old rule (≥ 4 items, Wilson interval under 60 %): medians 0.90 / 0.15 and 0.59 / 0.41 on bench/recovery.py
    assert f["prec_sure"] >= 0.8 and f["rec_sure"] >= 0.3
    assert f["prec_any"] >= 0.65 and f["rec_any"] >= 0.55
    assert 0.85 <= f["cov_mastery_p"] <= 0.99 and 0.90 <= f["cov_mastery_e"] <= 0.99   # bench medians 0.89, 0.95
    assert f["rmse_mastery"] < 0.6 * f["rmse_pct"]
