"""Differential test: over 100+ varied submissions, kernel-free exam scores equal the scores
stock nbgrader gives by executing the same hidden tests in a kernel."""
import pytest

from shequ import paths
from shequ.grading import bulk as fastgrade
from shequ.synth import trial

pytestmark = pytest.mark.slow
N = 100


def test_kernel_free_scores_equal_stock_nbgrader_execution(tmp_path, monkeypatch):
    root = tmp_path / "grading"
    monkeypatch.setattr(paths, "GRADING", root)
    m, rows = trial.setup(root, "basics", "r3", N)
    trial.grade_stock(m["assignment"], jobs=2)
    stock = trial.scores(m, rows)
    assert (root / "autograded" / rows[0]["worker_id"] / m["assignment"]).exists()
    assert len(stock) == N * len(m["cells"]) and stock.notna().all()

    rep = fastgrade.grade_exam(m["assignment"])
    assert len(rep.graded) == N and not rep.failed
    kernel_free = trial.scores(m, rows)
    diff = (stock - kernel_free).abs()
    assert (diff < 1e-9).all(), f"{(diff >= 1e-9).sum()} cells differ: {diff[diff >= 1e-9].head()}"
    # not trivially equal: full, half (多选 subset) and zero scores all occur
    values = set(kernel_free.round(2))
    assert {0.0, 1.0, 2.0} <= values and 1.0 in values
