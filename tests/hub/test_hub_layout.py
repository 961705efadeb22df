"""The project's modes on the district server, with the default state folder inside the
project (build/hub/, what `make hub` uses): closed to workers, except the way to their homes."""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from shequ.hub import system
from shequ.hub.layout import Layout

from conftest import need_root  # tests/hub/conftest.py


@pytest.fixture
def project():
    need_root()
    root = Path(tempfile.mkdtemp(prefix="shequ-hub-layout-"))
    for d in ("src/shequ", ".venv/bin", "exams/bank", "grading", "build/report", "build/hub/home/w0001"):
        (root / d).mkdir(parents=True)
    (root / "exams/bank/a.yaml").write_text("key: B\n")
    (root / "build/report/index.html").write_text("<p>名单</p>")
    os.chmod(root / "build/hub", 0o711)
    os.chmod(root / "build/hub/home", 0o711)
    lay = Layout(state=root / "build/hub", course=root / "grading", project=root, prefix="tlay-")
    yield lay
    system.delete_group(lay.group("trainer"))
    import shutil
    shutil.rmtree(root, ignore_errors=True)


def others(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode) & 0o007


def test_the_project_is_closed_to_workers_but_not_the_way_to_the_state_folder(project):
    lay = project
    home = lay.home("w0001")
    before = stat.S_IMODE(home.stat().st_mode), stat.S_IMODE(lay.homes.stat().st_mode)
    changed = system.secure_project(lay)
    p = lay.project
    assert others(p / "exams") == 0 and others(p / "exams/bank/a.yaml") == 0
    assert others(p / "grading") == 0 and others(p / "build/report/index.html") == 0
    assert others(p / "src") == 0o005 and others(p / ".venv") == 0o005
    assert others(p) == 0o001 and others(p / "build") == 0o001     # pass through, never list
    assert (stat.S_IMODE(home.stat().st_mode), stat.S_IMODE(lay.homes.stat().st_mode)) == before
    system.restore(changed)
    assert others(p / "exams") == 0o005 and others(p / "build/report/index.html") == 0o004
