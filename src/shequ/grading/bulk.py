"""Kernel-free bulk grading of exam submissions straight into nbgrader's gradebook.

Same scores as `nbgrader autograde` with LiteralGrader (a test checks), without nbgrader's
per-cell round trips: one gradebook session per assignment, the key read once from the
source notebook's hidden tests, each answer read as a literal. It writes what nbgrader's
autograde writes: the gradebook rows the formgrader lists, and the autograded notebook
(hidden tests restored, scores as outputs, rubric for 简答) the formgrader shows.
"""
from __future__ import annotations

import copy
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import MissingEntry

from ..exam import manifest as manifests
from ..exam.cells import TEXT_STUB
from . import gradebook
from .course import GradingError, course_root
from .literal import grade_literally
from .submissions import read_submission


@dataclass
class Report:
    graded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)   # worker -> reason (Chinese)


def _cell_map(nb) -> dict[str, dict]:
    out = {}
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        if gid and gid not in out:  # like nbgrader's DeduplicateIds: the first one counts
            out[gid] = c
    return out


def grade_notebook(source_nb, submitted_nb, manifest: dict) -> tuple[object, dict[str, float | None]]:
    """The autograded notebook and {grade cell: score}; None means 'needs a person'."""
    nb = copy.deepcopy(source_nb)
    sub = _cell_map(submitted_nb)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if meta.get("solution"):
            # the worker's answer replaces the reference one; a deleted cell is blank
            given = sub.get(gid)
            ok = given is not None and given.get("cell_type") == cell.cell_type
            cell.source = given.get("source", "") if ok else ""
    scores: dict[str, float | None] = {}
    for qid, s in grade_literally(nb, manifest).items():
        scores[f"{qid}-test"] = s
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and meta.get("grade"):  # 简答: blank scores 0, else by hand
            text = cell.source.strip()
            scores[meta["grade_id"]] = 0.0 if not text or text == TEXT_STUB else None
    return nb, scores


def grade_exam(assignment: str, root: Path | None = None, db_url: str | None = None,
               progress=None) -> Report:
    """Grade every submission of an exam assignment; bad submissions are reported, not fatal."""
    root = root or course_root()
    manifest = manifests.load_manifest(assignment, root)
    if not manifests.is_exam(manifest):
        raise GradingError(f"{assignment} 不是试卷（grading/manifests/ 中没有它的清单）。")
    source_nb = nbformat.read(str(root / "source" / assignment / f"{assignment}.ipynb"), 4)
    subs = sorted(p for p in (root / "submitted").glob(f"*/{assignment}") if p.is_dir())
    report = Report()
    with gradebook.open_gradebook(db_url or gradebook.db_url(root)) as gb:
        try:
            nb_row = gb.find_notebook(assignment, assignment)
            cell_names = {c.id: c.name for c in nb_row.grade_cells}
        except MissingEntry:
            raise GradingError(f"成绩库中没有作业 {assignment}：先运行 nbgrader generate_assignment。") from None
        for n, d in enumerate(subs, start=1):
            worker = d.parent.name
            nb_path = d / f"{assignment}.ipynb"
            submitted, why = read_submission(nb_path)
            if submitted is None:
                report.failed[worker] = why
                continue
            graded_nb, scores = grade_notebook(source_nb, submitted, manifest)
            ts_file = d / "timestamp.txt"
            ts = ts_file.read_text(encoding="utf-8").strip() if ts_file.exists() else None
            with gb.db.no_autoflush:  # nbgrader's add_submission otherwise flushes half-built rows
                gb.update_or_create_student(worker)
                sub = gb.update_or_create_submission(assignment, worker, **({"timestamp": ts} if ts else {}))
            for g in sub.notebooks[0].grades:
                s = scores.get(cell_names[g.cell_id])
                g.auto_score = s
                g.needs_manual_grade = s is None
            gb.db.commit()
            out = root / "autograded" / worker / assignment
            out.mkdir(parents=True, exist_ok=True)
            # compact JSON via the C encoder: nbformat.write validates and indents (slow in bulk)
            (out / f"{assignment}.ipynb").write_text(json.dumps(graded_nb, ensure_ascii=False),
                                                     encoding="utf-8")
            if ts_file.exists():
                shutil.copy(ts_file, out / "timestamp.txt")
            report.graded.append(worker)
            if progress:
                progress(n, len(subs))
    return report
