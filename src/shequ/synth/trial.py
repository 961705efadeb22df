"""A scratch course for grading trials (differential test, benchmark): one exam form,
varied simulated submissions, and stock nbgrader grading of them (the kernel-free way is
`grading.bulk.grade_exam`)."""
from __future__ import annotations

import random
from pathlib import Path

import nbformat
import pandas as pd

from .. import bank, results
from ..exam import paper
from ..grading import course, gradebook, roster
from . import simulate


def varied_answers(manifest: dict, rng: random.Random, p_right: float = 0.6) -> dict:
    """Every answer style the simulation knows, right and wrong, plus blanks."""
    return {c["cell"]: simulate.answer_item(c, rng.random() < p_right, rng)
            for c in manifest["cells"] if c["type"] != "简答"}


def setup(root: Path, paper_name: str, round_label: str, n: int, seed: int = 5):
    """Build one form in a fresh course folder `root` and submit n varied answers.
    Returns (manifest, roster rows). Callers point paths.GRADING at root first."""
    course.new_course(root)
    (m,) = paper.build(paper_name, round_label, forms=1, bank_items=bank.load_ok())
    course.generate(m["assignment"])
    staff = roster.frame()
    # more submissions than staff: synthetic extra workers in real 社区
    rows = [dict(r, worker_id=f"t{k:04d}") for k, r in
            enumerate(staff.to_dict("records") * (n // len(staff) + 1))][:n]
    gradebook.sync_students(rows)
    released = nbformat.read(str(root / "release" / m["assignment"] / f"{m['assignment']}.ipynb"), 4)
    rng = random.Random(seed)
    for r in rows:
        course.submit(m["assignment"], r["worker_id"], simulate.fill_notebook(released, varied_answers(m, rng)),
                       "2026-09-15 10:00:00 UTC")
    return m, rows


def grade_stock(assignment: str, jobs: int = 2) -> None:
    """Stock nbgrader: LiteralGrader told to execute exams (the trial's explicit opt-in), so
    every notebook and its hidden tests run in a kernel, exactly as without shequ."""
    course.autograde(assignment, jobs, "--LiteralGrader.execute_exams=True")


def scores(manifest: dict, rows: list[dict]) -> pd.Series:
    """Gradebook scores indexed by (worker, cell)."""
    df = results.build(gradebook.db_url(), pd.DataFrame(rows), {manifest["assignment"]: manifest})
    return df.set_index(["worker_id", "cell"])["score"]
