"""Scratch nbgrader courses for tests."""
from pathlib import Path

import pytest

from shequ import grading, paths


def use_course(mp: pytest.MonkeyPatch, root: Path, db_url: str | None = None) -> Path:
    """Make `root` a course folder with the project's nbgrader configuration and the current
    course (paths.GRADING, SHEQU_GRADING), its gradebook SQLite beside it unless `db_url`."""
    grading.new_course(root)
    mp.setattr(paths, "GRADING", root)
    mp.setenv("SHEQU_GRADING", str(root))
    if db_url:
        mp.setenv("SHEQU_DB_URL", db_url)
    else:
        mp.delenv("SHEQU_DB_URL", raising=False)
    return root
