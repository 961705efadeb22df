"""Item statistics against a paper worked out by hand (tests/files/item-stats/README.md)."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shequ import results
from shequ.analytics import items as itemstats

FILES = Path(__file__).parents[1] / "files" / "item-stats"


@pytest.fixture(scope="module")
def small():
    return results.load(FILES / "small-paper.csv")


@pytest.fixture(scope="module")
def ana(small):
    return itemstats.analyse(small)


def test_every_item_statistic_equals_the_hand_computation(ana):
    want = pd.read_csv(FILES / "expected-items.csv").set_index("cell")
    got = ana.items.set_index("cell")
    for col in ["n", "facility", "sd", "di", "de", "ebel_d", "p_upper", "p_lower", "guess"]:
        assert got[col].to_numpy(dtype=float) == pytest.approx(want[col].to_numpy(dtype=float), abs=1e-3), col
    assert list(got["severity"]) == list(want["severity"])
    assert list(got["item"]) == list(want["item"])


def test_paper_alpha_error_ratio_and_standard_errors_equal_the_hand_computation(ana):
    want = pd.read_csv(FILES / "expected-paper.csv").iloc[0]
    got = ana.papers.iloc[0]
    for col in ["n", "k", "max_score", "mean", "median", "sd", "alpha", "alpha_se", "cic", "er", "se", "se_marks"]:
        assert float(got[col]) == pytest.approx(float(want[col]), abs=1e-3), col
    assert "信度不满意" in got["reading"]


def test_distractors_are_counted_per_bank_option_through_the_form_permutation(ana):
    want = pd.read_csv(FILES / "expected-distractors.csv", keep_default_na=False)
    got = ana.distractors[["cell", "option", "key", "n", "pct", "pct_upper", "pct_lower", "mean_total", "flag"]]
    assert len(got) == len(want)
    for (_, g), (_, w) in zip(got.iterrows(), want.iterrows()):
        assert (g["cell"], g["option"], bool(g["key"]), int(g["n"]), g["flag"]) == \
            (w["cell"], w["option"], str(w["key"]) == "True", int(w["n"]), w["flag"])
        for col in ("pct", "pct_upper", "pct_lower"):
            assert g[col] == pytest.approx(float(w[col]), abs=1e-6)
        if w["mean_total"] == "":
            assert np.isnan(g["mean_total"])
        else:
            assert g["mean_total"] == pytest.approx(float(w["mean_total"]), abs=1e-6)
    # the keys read from full-mark answers are the bank keys, not the displayed letters
    assert ana.distractors.attrs["keys"] == {"itm-q1": "B", "itm-q2": "C", "itm-q3": "错", "itm-q4": "AB"}


def test_the_same_items_on_a_form_with_other_option_orders_pool_by_bank_option(small, ana):
    # form B shows q1 in bank order and q4 as EDCBA: the workers choose the same bank options
    b = small.copy()
    for c in ("assessment", "form", "answer", "perm"):
        b[c] = b[c].astype(str)
    b["assessment"], b["form"] = "quiz-b", "B"
    remap = {"q1": ("ABCD", {"A": "B", "a": "b", "Ａ": "Ｂ", " A ": " B ", "B": "C", "D": "A"}),
             "q4": ("EDCBA", {"AC": "ED", "C、A": "D、E", "A": "E", "c": "d", "C": "D", "AD": "EB"})}
    for cell, (perm, m) in remap.items():
        rows = b["cell"] == cell
        b.loc[rows, "perm"] = perm
        b.loc[rows, "answer"] = b.loc[rows, "answer"].map(lambda a: m.get(a, a))
    both = itemstats.analyse(pd.concat([small.astype({c: str for c in ("assessment", "form", "answer", "perm")}), b]))
    one = ana.bank_distractors.set_index(["item", "option"])["n"]
    two = both.bank_distractors.set_index(["item", "option"])["n"]
    assert (two == 2 * one.reindex(two.index)).all()
    assert both.distractors.attrs["keys"]["itm-q4"] == "AB"
    # every bank item is traced to both forms
    assert set(both.bank.loc[both.bank["item"] == "itm-q4", "forms"]) == {"quiz-a/q4、quiz-b/q4"}


def test_bank_choice_maps_displayed_letters_back_to_bank_letters():
    assert itemstats.bank_choice("单选", "ａ", "CADB") == "C"
    assert itemstats.bank_choice("多选", "B、D", "CADB") == "AB"
    assert itemstats.bank_choice("多选", "", "ABCD") == ""
    assert itemstats.bank_choice("单选", "Z", "ABCD") == "?"
    assert itemstats.bank_choice("判断", "√", "") == "对"
    assert itemstats.bank_choice("判断", "也许", "") == "?"
    assert itemstats.bank_choice("填空", "x", "") is None


def test_random_guess_scores_follow_the_reference():
    assert itemstats.guess_score("单选", 4) == 25
    assert itemstats.guess_score("判断") == 50
    assert itemstats.guess_score("多选", 5, 2) == pytest.approx(100 * 2 / 31)
    assert itemstats.guess_score("多选", 5, 2, "all_or_nothing") == pytest.approx(100 / 31)
    assert itemstats.guess_score("填空") == 0


def test_readings_use_moodle_and_ebel_bands():
    assert itemstats.facility_reading(3) == "极难或题目有误"
    assert itemstats.facility_reading(50) == "适中"
    assert itemstats.facility_reading(97) == "极易"
    assert [itemstats.ebel_reading(d) for d in (0.45, 0.35, 0.25, 0.1)] == ["很好", "较好", "需修改", "应淘汰"]


def test_negative_alpha_is_reported_not_an_error():
    # two items that move against each other: α < 0
    rows = []
    for w, (a, b) in enumerate([(1, 0), (0, 1), (1, 0), (0, 1), (1, 1), (0, 0)]):
        for cell, s in (("q1", a), ("q2", b), ("q3", b)):
            rows.append({"worker_id": f"w{w}", "assessment": "x", "kind": "exam", "paper": "x", "round": "r1",
                         "date": "", "form": "A", "cell": cell, "item": cell, "type": "判断", "level": "",
                         "skills": "s", "score": float(s), "max_score": 1.0, "street": "s", "community": "c",
                         "role": "r"})
    p = itemstats.analyse(pd.DataFrame(rows)).papers.iloc[0]
    assert np.isfinite(p["alpha"])


def test_first_attempts_only_a_repeated_cell_is_ignored(small):
    again = small[small["worker_id"] == "w8"].copy()
    again["score"] = again["max_score"]           # a later, perfect attempt by w8
    twice = pd.concat([small, again], ignore_index=True)
    a = itemstats.analyse(twice).items.set_index("cell")
    b = itemstats.analyse(small).items.set_index("cell")
    assert a["facility"].to_numpy() == pytest.approx(b["facility"].to_numpy())


def test_alpha_standard_error_agrees_with_the_bootstrap_on_a_larger_paper():
    rng = np.random.default_rng(3)
    theta = rng.normal(0, 1, 400)
    b = rng.normal(0, 1, 20)
    X = (rng.random((400, 20)) < 1 / (1 + np.exp(-(theta[:, None] - b)))).astype(float)
    m = itemstats.Matrix("p", np.arange(400).astype(str), [f"q{i}" for i in range(20)], [""] * 20, ["判断"] * 20,
                         [""] * 20, np.ones(20), X)
    ase = itemstats.paper_statistics(m)["alpha_se"]
    boots = []
    for _ in range(400):
        Y = X[rng.integers(0, 400, 400)]
        V = np.cov(Y, rowvar=False)
        boots.append(20 / 19 * (1 - np.trace(V) / V.sum()))
    assert ase == pytest.approx(np.std(boots), rel=0.25)


def test_labelled_tables_name_the_definition_of_every_figure(ana):
    t = itemstats.labelled(ana.items)
    assert "得分率P(%)" in t.columns and "区分度DI(%)·题-余相关" in t.columns and "区分度D(高低27%)" in t.columns
    assert "Cronbach α(KR-20)" in itemstats.labelled(ana.papers, itemstats.PAPER_LABELS).columns
