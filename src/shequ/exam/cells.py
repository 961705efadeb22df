"""The exam cell format: one `q07 = ""` answer cell per objective item, its hidden test cell
`check("q07", typed("q07"), "单选", "B", 2.0, "partial")` (typed: the answer cell's text as
the kernel received it, read like the kernel-free grader reads it), and what nbgrader releases instead of a
solution. The literal reader (grading.literal) and the test-cell parser below both read it.
"""
from __future__ import annotations

import ast
import functools
import json

import nbformat


def _with(c, cid: str, meta: dict | None):
    c.id = cid  # stable cell ids: generated notebooks diff cleanly
    if meta is not None:
        c.metadata["nbgrader"] = meta
    return c


def markdown(source: str, cid: str, nbg: dict | None = None):
    return _with(nbformat.v4.new_markdown_cell(source), cid, nbg)


def code(source: str, cid: str, nbg: dict | None = None):
    return _with(nbformat.v4.new_code_cell(source), cid, nbg)


def nbg(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    d = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
         "solution": solution, "task": False}
    if points is not None:
        d["points"] = points
    return d


HOW_TO = """**作答方法**

- 在每题下面 `q07 = ""` 的引号里填写答案，例如 `q07 = "B"`。
- 单选填一个字母；多选填全部正确字母，如 `"ACD"`（顺序不限，可写 `A、C、D`，全角半角、大小写都可以）。
- 判断题填 `对` 或 `错`（也认 √ ×）。
- 填空题填文字；有多个空时用“；”分隔，按顺序填写。
- 简答题在文本框里直接作答。
- 只在引号里写答案，不要写其他代码：写代码的题目不得分。
- 交卷前运行最后一个单元格，检查是否还有漏答的题。"""


# the grade id of an exam's locked header cell: nbgrader records locked cells in its gradebook,
# so the gradebook itself says which assignments are exams (grading.gradebook.is_exam)
EXAM_MARK = "shequ-exam"

# what nbgrader releases in place of a solution (grading/nbgrader_config.py uses these)
CODE_STUB = "# 请在此处编写代码\nraise NotImplementedError()"


TEXT_STUB = "（请在此处作答）"


@functools.lru_cache(maxsize=4096)  # the same test cells recur in every submission
def parse_check_call(source: str) -> dict | None:
    """Arguments of the `check(...)` call in an exam test cell (all literals); the answer is
    `typed("q07")` (or, in sources built before typed existed, the variable `q07`)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check":
            a = node.args
            try:
                var = ast.literal_eval(a[1].args[0]) if isinstance(a[1], ast.Call) else a[1].id
                return {"qid": ast.literal_eval(a[0]), "var": var, "kind": ast.literal_eval(a[2]),
                        "key": ast.literal_eval(a[3]), "points": ast.literal_eval(a[4]),
                        "policy": ast.literal_eval(a[5]) if len(a) > 5 else "partial"}
            except (ValueError, AttributeError, IndexError):
                return None
    return None


def answer_cell(qid: str, key_text: str):
    """The answer cell: released as `q07 = ""`, the reference answer between solution marks."""
    return code(f'{qid} = ""\n### BEGIN SOLUTION\n{qid} = {json.dumps(key_text, ensure_ascii=False)}\n'
                "### END SOLUTION", qid, nbg(qid, solution=True))


def test_cell(qid: str, kind: str, key, points: float, scoring: str):
    """The hidden test that scores the answer with `shequ.answers.check` (stock nbgrader runs it)."""
    key_repr = json.dumps(key, ensure_ascii=False)
    return code(
        "# 本题由系统自动评分\n### BEGIN HIDDEN TESTS\nfrom shequ.answers import check, typed\n"
        f'check("{qid}", typed("{qid}"), "{kind}", {key_repr}, {points!r}, "{scoring}")\n'
        "### END HIDDEN TESTS", f"{qid}-test", nbg(f"{qid}-test", grade=True, locked=True, points=points))


def essay_cell(qid: str, reference: str, points: float):
    """A 简答 answer: a whole-cell markdown solution, released as the text stub, graded by hand."""
    return markdown(f"**参考答案**：{reference}", qid, nbg(qid, solution=True, grade=True, points=points))
