"""The answer reader and scorer never raise, whatever a worker typed (property-based, with
hypothesis): any characters including lone surrogates, any size up to the import limit, any
nesting, every kind of quote. And what a worker meant is read: quotes of any kind around or
inside the answer."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequ.answers import INVALID, KINDS, MAX_CELL, QUOTES, check, read_cell

EXAMPLES = 10_000
ANY_CHAR = st.characters(codec=None, exclude_categories=())  # surrogates too
PIECES = st.sampled_from(["q01", " = ", "=", "(", ")", "[", "]", "{", "}", ",", ":", "\n", "\\", "#", "+", "*",
                          "1", "1e999", "0x", "j", "B", "对", "lambda", "import os", "\x00", *QUOTES])
TYPED = st.one_of(  # what people type: any text, token soups, quotes of every kind
    st.text(ANY_CHAR, max_size=200),
    st.lists(PIECES, max_size=80).map("".join),
    st.builds(lambda q, s, q2: f"q01 = {q}{s}{q2}", st.sampled_from(QUOTES), st.text(ANY_CHAR, max_size=20),
              st.sampled_from(QUOTES)),
)
SOURCES = st.one_of(  # … and what knocks parsers over: deep nesting, long expressions, huge literals
    TYPED,
    st.builds(lambda n, o, c: "q01 = " + o * n + c * n, st.integers(0, 5_000), st.sampled_from("([{"),
              st.sampled_from(")]}")),
    st.builds(lambda n, op: "q01 = " + op.join(["1"] * n), st.integers(1, 5_000), st.sampled_from("+-*|,")),
    st.builds(lambda n: 'q01 = "' + "B" * n + '"', st.integers(0, MAX_CELL + 10)),
)
SLOW_OK = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.mark.slow  # 10,000 examples, some of them 10 KB expressions or 100,000-character literals
@SLOW_OK
@given(SOURCES, st.sampled_from(KINDS), st.sampled_from(["B", "AC", "对", [["甲", "乙"]]]))
def test_reading_and_scoring_any_answer_cell_never_raises(source, kind, key):
    value, why = read_cell(source, "q01")
    assert (value is INVALID) == bool(why)
    assert 0.0 <= check("q01", value, kind, key, 2.0) <= 2.0


@pytest.mark.parametrize("source", [
    'q01 = "B"', "q01 = 'B'", "q01 = “B”", 'q01 = ""B""', 'q01 = "“B”"', "q01 = ‘B’", "q01 = 「B」",
    "q01 = ＂B＂", "# 我的答案\nq01 = “B”", 'q01 = " b "', "q01 = “Ｂ”",
])
def test_what_the_worker_meant_is_read_whatever_the_quotes(source):
    value, why = read_cell(source, "q01")
    assert not why and check("q01", value, "单选", "B", 2.0) == 2.0


@pytest.mark.parametrize("source, why", [
    ('q01 = "B"\nimport os', "代码"), ("q01 = B", "代码"), ('q02 = "B"', "代码"), ("q01 = B C ) (", "无法读取"),
    ('q01 = """B', "无法读取"), ("q01 = " + "(" * 5000 + ")" * 5000, "无法读取"), ("x" * (MAX_CELL + 1), "超过"),
])
def test_a_cell_that_cannot_be_read_says_why_and_scores_zero(source, why):
    value, reason = read_cell(source, "q01")
    assert value is INVALID and why in reason and check("q01", value, "单选", "B", 2.0) == 0.0


def test_a_blank_cell_is_blank_not_invalid():
    assert read_cell("", "q01") == (None, "") and read_cell('q01 = ""', "q01") == ("", "")
