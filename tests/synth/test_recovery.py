"""The simulation's realism options and the truth behind a simulated district
(shequ.synth.truth, used by bench/recovery.py)."""
import hashlib
import math

import pytest

from shequ import bank
from shequ.exam import paper
from shequ.grading import roster as rostermod
from shequ.synth import simulate, truth

# fingerprints of the defaults, taken before the realism options existed
COHORT_SEED_7 = "21c6baa4ed0589b00366c19df2b6e123d7b077f4"   # ability and gain, whole roster
ANSWERS_SEED_5 = "eebb9798622d26e28070776ea98e57208869f076"  # 40 workers, basics r1 form A, k=2


def _sha(obj) -> str:
    return hashlib.sha1(repr(obj).encode()).hexdigest()


@pytest.fixture(scope="module")
def rows():
    return rostermod.frame().to_dict("records")


@pytest.fixture(scope="module")
def skills():
    return list(bank.load_skills())


def test_default_cohort_is_the_same_as_before_the_realism_options(rows, skills):
    c = simulate.make_cohort(rows, skills, seed=7)
    assert _sha((sorted(c.ability.items()), sorted(c.gain.items()))) == COHORT_SEED_7


def test_default_answers_are_the_same_as_before_the_realism_options(rows, skills, tmp_path):
    c = simulate.make_cohort(rows[:40], skills, seed=5)
    # r1: the baseline paper, which the anchors of later rounds leave as it was
    m = paper.build("basics", "r1", bank_items=bank.load_ok(), out_root=tmp_path)[0]
    assert _sha(sorted(simulate.take_paper(c, m, 2).items())) == ANSWERS_SEED_5


def test_realism_with_everything_off_changes_nothing(rows, skills):
    a = simulate.make_cohort(rows, skills, seed=3)
    b = simulate.make_cohort(rows, skills, seed=3, realism=simulate.Realism())
    assert a.ability == b.ability and a.gain == b.gain and not b.skill_gain


def test_street_effect_shifts_each_streets_ability_by_its_own_amount(rows, skills):
    base = simulate.make_cohort(rows, skills, seed=3)
    c = simulate.make_cohort(rows, skills, seed=3, realism=simulate.Realism(street_sd=0.5))
    shifts = c.street_shift
    assert len(set(shifts.values())) == len(shifts) > 1
    for street, shift in shifts.items():
        ws = [w for w in rows if w["street"] == street]
        diff = [c.ability[(w["worker_id"], s)] - base.ability[(w["worker_id"], s)] for w in ws for s in skills]
        assert max(diff) == pytest.approx(shift) and min(diff) == pytest.approx(shift)
    # and every street's mean chance of a right answer moves the way its shift points
    for street, shift in shifts.items():
        ws = [w for w in rows if w["street"] == street]
        mean = [sum(simulate.p_correct(co, w, ["policy"], 0.6, 0) for w in ws) / len(ws) for co in (base, c)]
        assert math.copysign(1, mean[1] - mean[0]) == math.copysign(1, shift)


def test_skill_gain_multiplier_scales_each_communitys_learning(rows, skills):
    base = simulate.make_cohort(rows, skills, seed=3)
    double = simulate.make_cohort(rows, skills, seed=3, realism=simulate.Realism(skill_gain=(2.0, 2.0)))
    none = simulate.make_cohort(rows, skills, seed=3, realism=simulate.Realism(skill_gain=(0.0, 0.0)))
    w = rows[0]
    com = w["community"]
    assert double.learning(com, ["policy"]) == pytest.approx(2 * base.gain[com])
    assert none.learning(com, ["policy", "privacy"]) == 0.0
    assert simulate.p_correct(none, w, ["policy"], 0.6, 2) == simulate.p_correct(none, w, ["policy"], 0.6, 0)


def test_absence_rate_is_per_round_and_the_last_rate_repeats(rows, skills):
    c = simulate.make_cohort(rows[:50], skills, seed=3, realism=simulate.Realism(absent=(0.0, 1.0)))
    m = {"assignment": "t", "cells": [{"cell": "q01", "item": "i1", "type": "判断", "skills": ["policy"],
                                       "facility": 0.6, "points": 1.0, "key": "对", "perm": ""}]}
    assert len(simulate.take_paper(c, m, 0)) == 50
    assert simulate.take_paper(c, m, 1) == {} and simulate.take_paper(c, m, 2) == {}


# ---- truth on a hand-made district --------------------------------------------------------

def _cell(item, skills, facility, kind="判断", points=1.0, key="对"):
    return {"cell": item, "item": item, "type": kind, "skills": skills, "facility": facility,
            "points": points, "key": key, "perm": "", "scoring": "partial"}


@pytest.fixture()
def tiny():
    """Two workers, skills s and t; round r1 has two s-items of facility 0.2 and 0.8 and
    one item tagged s and t. Worker a: ability 0 on s, 3 on t; b: 2 on s."""
    workers = [{"worker_id": "a", "street": "甲街道", "community": "一社区", "role": "委员"},
               {"worker_id": "b", "street": "甲街道", "community": "一社区", "role": "委员"}]
    ability = {("a", "s"): 0.0, ("a", "t"): 3.0, ("b", "s"): 2.0, ("b", "t"): 0.0}
    c = simulate.Cohort(workers, ability, {"一社区": 0.0}, seed=1)
    c.papers = [[{"round": "r1", "cells": [_cell("i1", ["s"], 0.2), _cell("i2", ["s"], 0.8),
                                           _cell("i3", ["s", "t"], 0.5)]}]]
    return c


def test_true_p_averages_the_chance_over_items_on_the_skills_own_ability(tiny):
    t = truth.true_skill_p(tiny).set_index(["worker_id", "skill"])
    # a, skill s: items at facility 0.2, 0.8, 0.5 with θ = 0 (t's 3.0 not blended in)
    assert t.loc[("a", "s"), "p"] == pytest.approx((0.2 + 0.8 + 0.5) / 3)
    assert t.loc[("a", "s"), "items"] == 3
    # a, skill t: only the shared item, on t's ability: sigmoid(3)
    assert t.loc[("a", "t"), "p"] == pytest.approx(1 / (1 + math.exp(-3)))


def test_truly_weak_is_below_60_percent_and_nothing_else(tiny):
    weak = truth.truly_weak(truth.true_skill_p(tiny))
    # a on s: 0.5 → weak; b on t: θ 0 at facility 0.5 → 0.5 → weak; b on s and a on t are strong
    assert weak == {("a", "s"), ("b", "t")}


def test_expected_pct_counts_blanks_and_half_points():
    c = simulate.Cohort([{"worker_id": "a", "community": "一"}], {("a", "s"): 0.0}, {"一": 0.0}, seed=1)
    multi = _cell("m", ["s"], 0.5, kind="多选", points=2.0, key="ABC")
    # p = 0.5: right half the time (2 points), wrong half the time with 40 % of 1 point; blanks 3 %
    want = 100 * (1 - simulate.BLANK) * (0.5 * 2 + 0.5 * 0.4 * 1) / 2
    assert truth.expected_pct(c, c.workers[0], [multi], 0) == pytest.approx(want)


def test_precision_and_recall_on_a_hand_made_list():
    found = {("a", "s"), ("b", "s"), ("c", "s")}
    true = {("b", "s"), ("c", "s"), ("d", "s"), ("e", "s")}
    assert truth.precision_recall(found, true) == (pytest.approx(2 / 3), pytest.approx(2 / 4))
    p, r = truth.precision_recall(set(), true)
    assert math.isnan(p) and r == 0.0


def test_spearman_and_coverage_on_hand_made_numbers():
    assert truth.spearman([1, 2, 3, 4], [10, 100, 1000, 10**4]) == pytest.approx(1.0)
    assert truth.spearman([1, 2, 3, float("nan")], [3, 2, 1, 0]) == pytest.approx(-1.0)
    assert truth.coverage([0, 0, 5, float("nan")], [10, 1, 6, 1], [5, 5, 5, 0]) == pytest.approx(2 / 3)
