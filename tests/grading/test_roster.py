"""`shequ roster sync`: exports from Excel/WPS in any of the usual encodings and headers become
nbgrader students; bad rows are reported by row number and then nothing is written."""
import csv
import os
import shutil
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from shequ import idcard, paths
from shequ.grading import course as nbcourse
from shequ.grading import gradebook, roster
from shequ.grading.course import COURSE_ID

pytestmark = pytest.mark.slow  # creates nbgrader gradebooks (nbgrader runs its alembic migrations)

FILES = paths.ROOT / "tests" / "files" / "roster"


@pytest.fixture(scope="module")
def empty_gradebook(tmp_path_factory):
    """A new gradebook costs nbgrader an `alembic` run: make one, copy it for each test."""
    p = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    with Gradebook(f"sqlite:///{p}", course_id=COURSE_ID):
        pass
    return p


@pytest.fixture
def course(tmp_path, monkeypatch, empty_gradebook, use_course):
    root = use_course(monkeypatch, tmp_path / "grading")
    shutil.copy(empty_gradebook, root / "gradebook.db")
    return root


def students(db_url=None):
    with Gradebook(db_url or gradebook.db_url(), course_id=COURSE_ID) as gb:
        return {s.id: (s.last_name, s.first_name) for s in gb.students}


def test_the_committed_staff_list_loads_without_problems():
    loaded = roster.load()
    with open(paths.DATASETS / "staff.csv", encoding="utf-8") as f:
        n = sum(1 for _ in csv.DictReader(f))
    assert not loaded.problems and len(loaded.rows) == n


@pytest.mark.parametrize("name", ["excel-utf8-bom.csv", "wps-gbk.csv", "english-headers.csv", "excel.xlsx"])
def test_each_export_format_is_read(name):
    loaded = roster.load(FILES / name)
    assert not loaded.problems and loaded.rows
    for r in loaded.rows:
        assert r["worker_id"] and r["last_name"] and r["first_name"] and r["street"].endswith("街道")
        assert r["last_name"] + r["first_name"] == r["name"]


def test_a_number_typed_into_excel_stays_a_worker_id():
    ids = [r["worker_id"] for r in roster.load(FILES / "excel.xlsx").rows]
    assert "30001" in ids  # not 30001.0


@pytest.mark.parametrize("name,split", [("李娜", ("李", "娜")), ("欧阳晓明", ("欧阳", "晓明")),
                                        ("司马光", ("司马", "光")), ("马光", ("马", "光"))])
def test_names_are_split_into_surname_and_given_name(name, split):
    assert idcard.split_name(name) == split


def test_bad_rows_are_reported_by_row_number():
    problems = roster.load(FILES / "bad-rows.csv").problems
    text = "\n".join(problems)
    assert len(problems) == 5, text
    assert "第 4 行" in text and "与第 2 行重复" in text
    assert "第 5 行：街道“月亮街道”不在本区" in text
    assert "第 6 行：社区“火星社区”不在本区" in text
    assert "第 7 行：社区“湖滨社区”不属于东城街道" in text
    assert "第 8 行：缺少姓名" in text
    assert "第 9 行" not in text


def test_nothing_is_written_when_any_row_is_bad(course):
    r = subprocess.run([sys.executable, "-m", "shequ", "roster", "sync", str(FILES / "bad-rows.csv")],
                       capture_output=True, text=True, env={**os.environ, "SHEQU_GRADING": str(course)})
    assert r.returncode == 1 and "没有写入任何人" in r.stderr and "第 8 行" in r.stderr
    assert "Traceback" not in r.stderr
    assert students() == {}


def test_a_file_that_is_not_a_roster_is_refused_with_a_clear_message(course, tmp_path):
    bad = tmp_path / "成绩.csv"
    bad.write_text("题号,答案\nq01,A\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "shequ", "roster", "sync", str(bad)],
                       capture_output=True, text=True, env={**os.environ, "SHEQU_GRADING": str(course)})
    assert r.returncode == 2 and "缺少“工号”列" in r.stderr and "Traceback" not in r.stderr


def test_sync_is_idempotent_and_updates_changed_names(course):
    rows = roster.load().rows
    first = gradebook.sync_students(rows)
    assert len(first.created) == len(rows) and not first.updated
    again = gradebook.sync_students(rows)
    assert not again.created and not again.updated and len(again.unchanged) == len(rows)
    rows[0] = {**rows[0], "last_name": "欧阳", "first_name": "新名"}
    third = gradebook.sync_students(rows)
    assert third.updated == [rows[0]["worker_id"]]
    assert students()[rows[0]["worker_id"]] == ("欧阳", "新名")


def test_numeric_worker_ids_stay_strings_in_the_gradebook(course):
    gradebook.sync_students(roster.load(FILES / "numeric-ids.csv").rows)
    got = students()
    assert got["20240001"] == ("欧阳", "晓明") and got["00123"] == ("李", "娜")  # leading zero kept


@pytest.mark.filterwarnings("ignore:Supporting extra quotes:DeprecationWarning")
def test_numeric_ids_are_quoted_for_the_nbgrader_command_line():
    """Quoted (`--student='"00123"'`), a numeric id reaches nbgrader as the string "00123" with
    every traitlets version; traitlets 5 also keeps the unquoted form a string."""
    from nbgrader.apps import AutogradeApp
    from nbgrader.coursedir import CourseDirectory

    assert nbcourse.student_option("00123") == '--student="00123"'
    assert nbcourse.student_option("w0012") == "--student=w0012"
    app = AutogradeApp()
    app.parse_command_line(["ic-01-id-check", nbcourse.student_option("00123")])
    assert CourseDirectory(config=app.config).student_id == "00123"


def test_cli_sync_reports_counts_in_chinese(course):
    env = {**os.environ, "SHEQU_GRADING": str(course)}
    cmd = [sys.executable, "-m", "shequ", "roster", "sync", str(FILES / "wps-gbk.csv")]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "新增 6 人" in r.stdout, r.stderr
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert "新增 0 人" in r.stdout and "未变 6 人" in r.stdout
