"""Kernel-free reading of exam answers: literals only; code in an answer cell scores 0."""
import pytest

from shequ.exam.cells import parse_check_call
from shequ.grading.literal import INVALID, literal_answer


@pytest.mark.parametrize("src,value", [
    ('q01 = ""', ""), ('q01 = "B"', "B"), ("q01 = 'a、c'", "a、c"), ('q01 = "对"  # 我的答案', "对"),
    ('q01 = "A"\nq01 = "C"', "C"), ("q01 = 1000", 1000), ("", None), ("# 没写", None),
])
def test_literal_answers_are_read(src, value):
    assert literal_answer(src, "q01") == value


@pytest.mark.parametrize("src", [
    'q01 = open("/etc/passwd").read()',
    '__import__("os").system("rm -rf /")',
    'import os\nq01 = "A"',
    'q01 = "A"; print(1)',
    'q01 = f"{1+1}"',
    'q01 = "A" + "B"',
    'q02 = "A"',
    "q01 = (",
    'q01 = "A" if True else "B"',
])
def test_anything_but_a_literal_assignment_is_invalid(src):
    assert literal_answer(src, "q01") is INVALID


def test_check_call_is_parsed_from_the_hidden_test():
    src = ('# 本题由系统自动评分\n### BEGIN HIDDEN TESTS\nfrom shequ.answers import check\n'
           'check("q03", q03, "填空", [["甲", "乙"]], 1.0, "partial")\n### END HIDDEN TESTS')
    call = parse_check_call(src)
    assert call == {"qid": "q03", "var": "q03", "kind": "填空", "key": [["甲", "乙"]],
                    "points": 1.0, "policy": "partial"}
    assert parse_check_call("# 本题由系统自动评分") is None
