"""pytest set-up shared by the unit tests and the notebooks run with nbval.

Two promises are kept here for every run of the suite:
- the analytics notebooks read a simulated district's results table (SHEQU_RESULTS), made
  once, in a temporary folder, only when a notebook under analytics/ is about to run;
- the suite leaves the project as it found it: `git status` and build/report/ are compared
  at the end, and a run that changed them fails, naming what changed.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
_made: list[str] = []


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # before nbval starts the notebook's kernel (which inherits this environment)
    if os.environ.get("SHEQU_RESULTS") or not Path(str(item.fspath)).is_relative_to(ROOT / "analytics"):
        return
    from shequ import results
    from shequ.synth import simulate

    tmp = tempfile.mkdtemp(prefix="shequ-test-results-")
    _made.append(tmp)
    df, _ = simulate.district_results(out_root=Path(tmp) / "grading")
    target = results.save(df, Path(tmp) / "results.csv")
    os.environ["SHEQU_RESULTS"] = str(target)


def pytest_sessionstart(session):
    from shequ.tree import snapshot

    session.config._shequ_tree = snapshot(ROOT)


def pytest_sessionfinish(session, exitstatus):
    for tmp in _made:
        shutil.rmtree(tmp, ignore_errors=True)
    before = getattr(session.config, "_shequ_tree", None)
    if before is None or os.environ.get("SHEQU_SKIP_TREE_CHECK"):
        return
    from shequ.tree import changes, snapshot

    changed = changes(before, snapshot(ROOT))
    if changed:
        print("\n测试改动了项目目录（测试只能写临时目录）：\n  " + "\n  ".join(changed[:30]))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
