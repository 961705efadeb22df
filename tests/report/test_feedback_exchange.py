"""A worker who takes an exam through the exchange (fetch, answer, submit) gets the Chinese
feedback page back through the exchange (fetch_feedback), as the assignment list does it, and
only once the trainer has released it."""
import getpass
import random
import subprocess
import sys

import nbformat
import pytest

from shequ.exam import paper
from shequ.grading import bulk as fastgrade
from shequ.grading import course as nbcourse
from shequ.grading import gradebook, submissions
from shequ.report import feedback
from shequ.synth import simulate

pytestmark = pytest.mark.slow  # starts kernels / nbgrader


def nbgrader_as_worker(course, *args, ok=True):
    r = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"], cwd=course,
                       capture_output=True, text=True)
    if ok:
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return r


def test_exam_taken_through_the_exchange_gets_feedback_through_the_exchange(tmp_path, use_course):
    mp = pytest.MonkeyPatch()
    try:
        course = use_course(mp, tmp_path / "grading")
        (m,) = paper.build("basics", "r1", forms=1)
        a, worker = m["assignment"], getpass.getuser()   # nbgrader's student id is the login name
        nbcourse.generate_many([a], release=True)
        gradebook.sync_students([{"worker_id": worker, "name": "测试员"}])

        nbgrader_as_worker(course, "fetch_assignment", a)
        fetched = tmp_path / "assignments" / a / f"{a}.ipynb"    # Exchange.assignment_dir
        rng = random.Random(3)
        cells = [c for c in m["cells"] if c["type"] != "简答"]
        answers = {c["cell"]: simulate.answer_item(c, k % 2 == 0, rng) for k, c in enumerate(cells)}
        nbformat.write(simulate.fill_notebook(nbformat.read(fetched, 4), answers), fetched)
        nbgrader_as_worker(course, "submit", a)

        submissions.collect(a)
        rep = fastgrade.grade_exam(a)
        assert len(rep.graded) == 1 and not rep.failed
        out = feedback.generate(a)
        assert out == {"written": [worker], "offline": []}   # came through the exchange: releasable
        pages = lambda: list((tmp_path / "assignments" / a / "feedback").glob(f"*/{a}.html"))  # noqa: E731
        early = nbgrader_as_worker(course, "fetch_feedback", a, ok=False)
        # written, not yet released by the trainer: the worker gets nothing
        assert early.returncode != 0 and "not found" in early.stderr and pages() == []
        feedback.release(a)

        nbgrader_as_worker(course, "fetch_feedback", a)
        assert len(pages()) == 1
        text = pages()[0].read_text(encoding="utf-8")
        assert "解析" in text and worker in text
        typed = next(v[0] for v in answers.values() if v[0].strip())
        assert typed.strip() in text   # the worker's own answer is shown back
    finally:
        mp.undo()
