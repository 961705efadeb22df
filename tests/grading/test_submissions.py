"""`shequ submissions import`: notebooks collected offline (a folder or a zip) are filed where
nbgrader collects submissions; unknown workers, duplicates and stray files are reported."""
import datetime as dt
import json
import os
import subprocess
import sys
import time
import zipfile

import nbformat
import pytest
from nbgrader.utils import parse_utc

from shequ import paths
from shequ.grading import submissions

A = "basics-r1"
KNOWN = {"w0012", "w0013", "w0014", "20240001"}


def notebook(text: str) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f'q01 = "{text}"')]
    return nbformat.writes(nb).encode("utf-8")


@pytest.fixture
def course(tmp_path):
    root = tmp_path / "grading"
    for a in (A, "basics-r2", "ic-01-id-check"):
        (root / "source" / a).mkdir(parents=True)
    return root


def write(folder, name, data, when):
    p = folder / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    os.utime(p, (when, when))
    return p


def said(data: bytes) -> str:
    return "".join(json.loads(data)["cells"][0]["source"])


def answer(root, worker, assignment=A):
    nb = json.loads((root / "submitted" / worker / assignment / f"{assignment}.ipynb").read_text("utf-8"))
    return "".join(nb["cells"][0]["source"])


def test_a_folder_is_filed_by_worker_with_stray_files_and_strangers_reported(course, tmp_path):
    inbox = tmp_path / "U盘"
    t = time.time() - 3600
    write(inbox, "w0012.ipynb", notebook("A"), t)
    write(inbox, "w0013_basics-r1.ipynb", notebook("B"), t)
    write(inbox, "街道一/20240001-基础测评.ipynb", notebook("C"), t)  # subfolders are fine
    write(inbox, "w9999.ipynb", notebook("D"), t)
    write(inbox, "w0014_basics-r2.ipynb", notebook("E"), t)  # another assignment
    write(inbox, "说明.txt", b"hello", t)
    write(inbox, ".DS_Store", b"\0", t)
    rep = submissions.import_(A, inbox, known=KNOWN, root=course)
    assert sorted(rep.imported) == ["20240001", "w0012", "w0013"]
    assert answer(course, "w0012") == 'q01 = "A"' and answer(course, "20240001") == 'q01 = "C"'
    assert rep.unknown == ["w9999.ipynb（工号 w9999 不在花名册中）"]
    assert rep.not_notebooks == ["说明.txt"]
    assert any("w0014_basics-r2.ipynb" in s and "basics-r2" in s for s in rep.skipped)
    ts = (course / "submitted" / "w0012" / A / "timestamp.txt").read_text(encoding="utf-8")
    assert abs(parse_utc(ts).replace(tzinfo=dt.timezone.utc).timestamp() - t) < 1  # nbgrader reads it


def test_the_latest_copy_wins_and_the_older_is_kept_aside(course, tmp_path):
    inbox = tmp_path / "inbox"
    t = time.time() - 7200
    write(inbox, "w0012.ipynb", notebook("old"), t)
    write(inbox, "w0012_basics-r1 (1).ipynb", notebook("new"), t + 600)
    rep = submissions.import_(A, inbox, known=KNOWN, root=course)
    assert answer(course, "w0012") == 'q01 = "new"'
    aside = list((course / "submitted-superseded" / "w0012" / A).iterdir())
    assert len(aside) == 1 and said(aside[0].read_bytes()) == 'q01 = "old"'
    assert len(rep.superseded) == 1 and "w0012.ipynb" in rep.superseded[0]


def test_an_older_copy_never_replaces_a_newer_import(course, tmp_path):
    t = time.time() - 7200
    first, second = tmp_path / "first", tmp_path / "second"
    write(first, "w0012.ipynb", notebook("newer"), t + 600)
    write(second, "w0012.ipynb", notebook("older"), t)
    submissions.import_(A, first, known=KNOWN, root=course)
    rep = submissions.import_(A, second, known=KNOWN, root=course)
    assert answer(course, "w0012") == 'q01 = "newer"' and not rep.imported
    assert any("较旧" in s or "旧" in s for s in rep.superseded)
    write(second, "w0012.ipynb", notebook("newest"), t + 1200)
    rep = submissions.import_(A, second, known=KNOWN, root=course)
    assert answer(course, "w0012") == 'q01 = "newest"' and rep.imported == {"w0012": "w0012.ipynb"}
    kept = sorted(said(p.read_bytes()) for p in (course / "submitted-superseded" / "w0012" / A).iterdir())
    assert kept == ['q01 = "newer"', 'q01 = "older"']


class GbkName(zipfile.ZipInfo):
    """What zip tools on Chinese Windows write: GBK file names, no UTF-8 flag."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("gbk"), self.flag_bits


def test_a_zip_from_chinese_windows_uses_its_stored_dates_and_gbk_names(course, tmp_path):
    z = tmp_path / "第一小组.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for name, text, date in (("w0012_基础测评.ipynb", "old", (2026, 3, 15, 9, 0, 0)),
                                 ("w0012_基础测评(2).ipynb", "new", (2026, 3, 15, 9, 30, 0)),
                                 ("w0013.ipynb", "B", (2026, 3, 15, 9, 5, 0)),
                                 ("成绩说明.docx", "x", (2026, 3, 15, 9, 5, 0))):
            info = GbkName(name, date_time=date)
            zf.writestr(info, notebook(text) if name.endswith(".ipynb") else b"doc")
    rep = submissions.import_(A, z, known=KNOWN, root=course)
    assert sorted(rep.imported) == ["w0012", "w0013"]
    assert rep.imported["w0012"] == "w0012_基础测评(2).ipynb" and answer(course, "w0012") == 'q01 = "new"'
    assert rep.not_notebooks == ["成绩说明.docx"]
    ts = (course / "submitted" / "w0013" / A / "timestamp.txt").read_text(encoding="utf-8")
    assert parse_utc(ts).replace(tzinfo=dt.timezone.utc) == dt.datetime(2026, 3, 15, 9, 5).astimezone(dt.timezone.utc)


def test_a_broken_notebook_is_imported_with_a_warning(course, tmp_path):
    write(tmp_path / "in", "w0012.ipynb", b'{"cells": [', time.time())
    rep = submissions.import_(A, tmp_path / "in", known=KNOWN, root=course)
    assert rep.imported == {"w0012": "w0012.ipynb"} and "不是有效的笔记本" in rep.warnings[0]


def test_worker_ids_must_be_followed_by_a_separator():
    assert submissions.worker_of("w00123.ipynb", {"w0012"}) is None
    assert submissions.worker_of("w0012-练习一.ipynb", {"w0012"}) == "w0012"
    assert submissions.worker_of("2024000123.ipynb", {"20240001", "2024000123"}) == "2024000123"


def test_the_command_line_reports_in_chinese(course, tmp_path):
    inbox = tmp_path / "inbox"
    write(inbox, "w0001.ipynb", notebook("A"), time.time())
    write(inbox, "w9999.ipynb", notebook("A"), time.time())
    env = {**os.environ, "SHEQU_GRADING": str(course)}
    r = subprocess.run([sys.executable, "-m", "shequ", "submissions", "import", A, str(inbox)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "已导入 1 份" in r.stdout and "w9999" in r.stdout and "不在花名册中" in r.stdout
    r = subprocess.run([sys.executable, "-m", "shequ", "submissions", "import", "no-such", str(inbox)],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "没有作业 no-such" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "shequ", "submissions", "import", A, str(tmp_path / "nowhere")],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "找不到" in r.stderr and "Traceback" not in r.stderr
    assert paths.DATASETS.exists()


def test_a_file_that_is_no_notebook_never_displaces_a_valid_earlier_one(course, tmp_path):
    first = tmp_path / "first"
    write(first, "w0012.ipynb", notebook("A"), time.time() - 7200)
    submissions.import_(A, first, known=KNOWN, root=course)
    later = tmp_path / "later"
    write(later, "w0012.ipynb", b"PK\x03\x04 a .docx renamed .ipynb", time.time() - 60)  # newer, but no notebook
    write(later, "w0013.ipynb", notebook("B"), time.time() - 120)
    write(later, "w0013-修改.ipynb", b"not json at all", time.time() - 30)       # newer than the valid one
    rep = submissions.import_(A, later, known=KNOWN, root=course)
    assert answer(course, "w0012") == 'q01 = "A"' and answer(course, "w0013") == 'q01 = "B"'
    said_ = "\n".join(rep.warnings)
    assert "w0012" in said_ and "w0013-修改" in said_ and "没有替换有效的笔记本" in said_
    kept = sorted(p.name for p in (course / "submitted-superseded").rglob("*.ipynb"))
    assert any("w0012" in k for k in kept) and any("w0013" in k for k in kept)


def test_an_empty_file_and_a_huge_one_are_told_apart(course, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    write(inbox, "w0012.ipynb", b"", time.time())
    write(inbox, "w0013.ipynb", b" " * 2048, time.time())
    monkeypatch.setattr(submissions, "MAX_NOTEBOOK_BYTES", 1024)
    rep = submissions.import_(A, inbox, known=KNOWN, root=course)
    skipped = "\n".join(rep.skipped)
    assert "w0012.ipynb：文件是空的（0 字节）" in skipped and "w0013.ipynb：文件超过" in skipped
    assert not rep.imported


def test_an_nbformat_3_notebook_is_upgraded_not_refused():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('q01 = "B"')]
    old = nbformat.writes(nbformat.convert(nb, 3), version=3).encode("utf-8")
    parsed, why = submissions.parse_notebook(old)
    assert not why and parsed.nbformat == 4 and parsed.cells[0].source == 'q01 = "B"'
