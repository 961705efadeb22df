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
from ..answers import read_cell
from ..exam.cells import TEXT_STUB
from . import gradebook
from .course import GradingError, course_root
from .literal import grade_literally
from .submissions import read_submission, source_text


@dataclass
class Report:
    graded: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)   # worker -> reason (Chinese)
    notes: dict[str, list[str]] = field(default_factory=dict)  # worker -> what the trainer should look at
    unknown: dict[str, str] = field(default_factory=dict)  # id not in the roster -> its folder (not graded)


def cell_notes(release_nb, submitted_nb, manifest: dict) -> list[str]:
    """What the trainer should know about one exam submission (Chinese): deleted answer cells,
    edited locked cells, answer cells holding code or text that cannot be read (with the item
    and the raw text, so a person can decide). The same checks as for exercises."""
    sub = _cell_map(submitted_nb)
    items = {c["cell"]: c["item"] for c in manifest.get("cells", [])}
    deleted, edited, unread = [], [], []
    for cell in release_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if not gid:
            continue
        given = sub.get(gid)
        if given is None or given.get("cell_type") != cell.cell_type:
            if meta.get("solution"):
                deleted.append(gid)
            continue
        text = given.get("source", "")
        if meta.get("locked") and not meta.get("solution") and source_text(text) != source_text(cell.source):
            edited.append(gid)
        elif meta.get("solution") and cell.cell_type == "code":
            value, why = read_cell(text, gid)
            if why:
                raw = source_text(text)
                raw = raw if len(raw) <= 80 else raw[:80] + "…"
                unread.append(f"{gid}（题目 {items.get(gid, '?')}）{why}，原文：{raw!r}，记 0 分，请人工复核")
    notes = []
    if deleted:
        notes.append("删除了作答格 " + "、".join(deleted) + "（这些题不得分）")
    if edited:
        notes.append("改动了锁定的单元格 " + "、".join(edited) + "（评分时按原样恢复）")
    notes += unread
    return notes


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
    if not gradebook.is_exam(assignment, root, db_url):
        raise GradingError(f"{assignment} 不是试卷（grading/source/ 的源笔记本和清单都没有试卷标记）。")
    manifest = manifests.exam_manifest(assignment, root)
    source_nb = nbformat.read(str(root / "source" / assignment / f"{assignment}.ipynb"), 4)
    release = root / "release" / assignment / f"{assignment}.ipynb"
    release_nb = nbformat.read(str(release), 4) if release.exists() else source_nb
    subs = sorted(p for p in (root / "submitted").glob(f"*/{assignment}") if p.is_dir())
    report = Report()
    with gradebook.open_gradebook(db_url or gradebook.db_url(root)) as gb:
        try:
            nb_row = gb.find_notebook(assignment, assignment)
            cell_names = {c.id: c.name for c in nb_row.grade_cells}
        except MissingEntry:
            raise GradingError(f"成绩库中没有作业 {assignment}：先运行 nbgrader generate_assignment。") from None
        roster = {s.id for s in gb.students}
        for n, d in enumerate(subs, start=1):
            worker = d.parent.name
            if worker not in roster:  # e.g. the OS user of a shared JupyterLab: never a nameless student
                report.unknown[worker] = str(d)
                continue
            nb_path = d / f"{assignment}.ipynb"
            submitted, why = read_submission(nb_path)
            if submitted is None:
                report.failed[worker] = why
                continue
            graded_nb, scores = grade_notebook(source_nb, submitted, manifest)
            notes = cell_notes(release_nb, submitted, manifest)
            if notes:
                report.notes[worker] = notes
            ts_file = d / "timestamp.txt"
            ts = ts_file.read_text(encoding="utf-8").strip() if ts_file.exists() else None
            with gb.db.no_autoflush:  # nbgrader's add_submission otherwise flushes half-built rows
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
