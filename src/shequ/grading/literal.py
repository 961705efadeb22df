"""The kernel-free reader of exam answers: an answer cell is read as a literal assignment
(`q07 = "B"`), never executed, and scored with `answers.check` from the key in its hidden test."""
from __future__ import annotations

from typing import Any

import nbformat

from .. import answers
from ..answers import check
from ..exam.cells import parse_check_call

INVALID = answers.INVALID


def literal_answer(source: str, name: str) -> Any:
    """The value assigned to `name` in an answer cell, or INVALID (`answers.read_cell`)."""
    return answers.read_cell(source, name)[0]


def grade_literally(nb, manifest: dict | None = None) -> dict[str, float]:
    """Score every exam test cell in place; returns {qid: score}."""
    answers: dict[str, Any] = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
            answers[meta["grade_id"]] = literal_answer(cell.source, meta["grade_id"])
    scores = {}
    rubric = {c["cell"]: c for c in (manifest or {}).get("cells", []) if c["type"] == "简答"}
    out_cells = []
    for cell in nb.cells:
        out_cells.append(cell)
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            call = parse_check_call(cell.source) if isinstance(cell.source, str) else None
            if call is None:
                continue
            ans = answers.get(call["var"])
            score = 0.0 if ans is INVALID else check(call["qid"], ans, call["kind"], call["key"],
                                                     call["points"], call["policy"])
            scores[call["qid"]] = score
            # built by hand: nbformat's new_output validates each one (slow in bulk)
            cell.outputs = [nbformat.NotebookNode(
                output_type="execute_result", data={"text/plain": repr(float(score))},
                metadata={}, execution_count=1)]
            cell.execution_count = 1
        if meta.get("grade_id") in rubric and meta.get("solution"):
            out_cells.append(nbformat.v4.new_markdown_cell(_rubric_md(rubric[meta["grade_id"]])))
    nb.cells = out_cells
    return scores


def _rubric_md(c: dict) -> str:
    pts = "\n".join(f"- {r['point']}（{r['score']:g} 分）" for r in c.get("rubric", []))
    return (f"> **阅卷参考（仅阅卷老师可见，题目 {c['item']}）**\n>\n> 参考答案：{c.get('answer', '')}\n>\n"
            + "\n".join("> " + line for line in pts.splitlines()))
