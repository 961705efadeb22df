"""Answers typed the way Chinese input methods produce them score like the clean answer."""
import pytest

from shequ.answers import check, choice_letters, truth_value

FILL = [["一千户至三千户", "1000户至3000户", "1000-3000户"]]


@pytest.mark.parametrize("typed", ["B", "b", " B ", "Ｂ", "ｂ", "B。", "\u3000B"])
def test_single_choice_accepts_case_width_and_spaces(typed):
    assert check("q1", typed, "单选", "B", 1) == 1.0


@pytest.mark.parametrize("typed", ["A", "AB", "", "E", "选B", "B C"])
def test_single_choice_rejects_wrong_blank_or_several_letters(typed):
    assert check("q1", typed, "单选", "B", 1) == 0.0


@pytest.mark.parametrize("typed", ["ACD", "DCA", "a,c,d", "A、C、D", "Ａ，Ｃ，Ｄ", "A；C；D", "c a d", "A C D"])
def test_multiple_choice_accepts_any_order_and_separator(typed):
    assert check("q1", typed, "多选", "ACD", 2) == 2.0


def test_multiple_choice_partial_policy_half_for_correct_subset_zero_for_any_wrong():
    assert check("q1", "AC", "多选", "ACD", 2) == 1.0
    assert check("q1", "ACB", "多选", "ACD", 2) == 0.0
    assert check("q1", "ABCD", "多选", "ACD", 2) == 0.0
    assert check("q1", "AC", "多选", "ACD", 2, "all_or_nothing") == 0.0


@pytest.mark.parametrize("typed,value", [("对", True), ("√", True), ("正确", True), ("T", True), ("t", True),
                                         ("错", False), ("×", False), ("错误", False), ("F", False), ("x", False)])
def test_true_false_words(typed, value):
    assert truth_value(typed) is value
    assert check("q1", typed, "判断", "对" if value else "错", 1) == 1.0


@pytest.mark.parametrize("typed", ["一千户至三千户", " 1000户至3000户 ", "１０００户至３０００户", "1000-3000户。"])
def test_fill_in_accepts_listed_variants_in_any_width(typed):
    assert check("q1", typed, "填空", FILL, 1) == 1.0


def test_fill_in_scores_each_blank():
    key = [["地址码"], ["校验码"]]
    assert check("q1", "地址码；校验码", "填空", key, 2) == 2.0
    assert check("q1", "地址码,顺序码", "填空", key, 2) == 1.0
    assert check("q1", "", "填空", key, 2) == 0.0


@pytest.mark.parametrize("weird", [None, [], {"a": 1}, object(), 3.5, True, "🙂" * 1000, "\x00"])
def test_nonsense_scores_zero_and_never_raises(weird):
    for kind, key in [("单选", "A"), ("多选", "AB"), ("判断", "对"), ("填空", FILL)]:
        assert check("q1", weird, kind, key, 1) in (0.0, 1.0)
    assert check("q1", weird, "单选", "A", 1) == 0.0


def test_letters_outside_the_options_are_not_a_choice():
    assert choice_letters("AZ") is None
    assert choice_letters("") == frozenset()
