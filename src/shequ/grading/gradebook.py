"""Every read and write of nbgrader's gradebook: where it is (SQLite beside the course or
PostgreSQL through SHEQU_DB_URL), the students, per-cell grades, the one definition of a
score, the one rule of what is an exam (`is_exam`), and backups before anything is written.
"""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import paths
from ..exam import manifest as manifests
from ..exam.cells import EXAM_MARK
from ..idcard import split_name
from .course import COURSE_ID, GradingError

if TYPE_CHECKING:
    import pandas as pd


def db_url(root: Path | None = None) -> str:
    """The gradebook: SHEQU_DB_URL (e.g. postgresql://user:pw@host/db) or SQLite beside the
    course (`root`, default the project's grading/). grading/nbgrader_config.py calls this too."""
    return normalise_db_url(os.environ.get("SHEQU_DB_URL") or sqlite_url((root or paths.GRADING) / "gradebook.db"))


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


sqlite_path = paths.sqlite_path


def exists(url: str) -> bool:
    """False only for a SQLite gradebook whose file is not there yet."""
    f = sqlite_path(url)
    return f is None or f.exists()


def open_gradebook(url: str | None = None):
    """nbgrader's Gradebook on this course (use as a context manager)."""
    from nbgrader.api import Gradebook

    return Gradebook(url or db_url(), course_id=COURSE_ID)


def normalise_db_url(url: str) -> str:
    """`postgresql://…` names a driver: SQLAlchemy 2.1 picks psycopg 3 by default, the project
    installs psycopg2 (psycopg2-binary). Pick the one that is installed."""
    if url.startswith(("postgresql://", "postgres://")):
        import importlib.util

        rest = url.split("://", 1)[1]
        driver = "psycopg" if importlib.util.find_spec("psycopg") else "psycopg2"
        return f"postgresql+{driver}://{rest}"
    return url


GRADES_SQL = """
SELECT st.id AS worker_id, a.name AS assessment, n.name AS notebook, bc.name AS cell,
       g.auto_score, g.manual_score, g.extra_credit, gc.max_score
FROM grade g
JOIN grade_cells gc ON g.cell_id = gc.id
JOIN base_cell bc ON bc.id = gc.id
JOIN submitted_notebook sn ON g.notebook_id = sn.id
JOIN submitted_assignment sa ON sn.assignment_id = sa.id
JOIN student st ON sa.student_id = st.id
JOIN assignment a ON sa.assignment_id = a.id
JOIN notebook n ON sn.notebook_id = n.id
"""


def read_grades(db_url: str) -> pd.DataFrame:
    """Every grade in the gradebook with its cell and worker (scores may be None)."""
    import pandas as pd  # here: nbgrader_config loads this module in every nbgrader command
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as con:
            df = pd.read_sql(sa.text(GRADES_SQL), con)
    finally:
        engine.dispose()
    return df


def marked_exam(url: str, assignment: str) -> bool:
    """Whether nbgrader recorded the exam marker cell (exam.cells.EXAM_MARK) for an assignment
    when it generated it: the gradebook's own record of what is an exam."""
    import sqlalchemy as sa

    if not exists(url):
        return False
    engine = sa.create_engine(url)
    try:
        with engine.connect() as con:
            n = con.execute(sa.text(
                "SELECT COUNT(*) FROM source_cell sc JOIN notebook n ON sc.notebook_id = n.id "
                "JOIN assignment a ON n.assignment_id = a.id WHERE a.name = :a AND sc.name = :m"),
                {"a": assignment, "m": EXAM_MARK}).scalar()
    except sa.exc.SQLAlchemyError:  # no gradebook tables yet
        return False
    finally:
        engine.dispose()
    return bool(n)


def is_exam(assignment: str, root: Path, url: str | None = None, source_dir: Path | None = None) -> bool:
    """The one rule for every grader: an assignment is an exam when the trainer's side says so:
    its source notebook's marker or its manifest (`exam.manifest.files_say_exam`), or the exam marker
    cell nbgrader recorded in the gradebook. Never the submitted file. Exams are never executed."""
    return manifests.files_say_exam(assignment, root, source_dir) or marked_exam(url or db_url(root), assignment)


def final_score(grades: pd.DataFrame) -> pd.Series:
    """The one definition of a cell's score: a manual score, once given, overrides the automatic
    one (nbgrader's own rule), plus any extra credit. NaN: not graded yet (needs a person).
    Feedback pages, the results table and the reports all use this."""
    score = grades["manual_score"].where(grades["manual_score"].notna(), grades["auto_score"])
    return score + grades["extra_credit"].fillna(0)


def backup_gradebook(db_url: str, root: Path) -> str:
    """Back up the gradebook before writing; returns a Chinese sentence saying what was done."""
    import subprocess

    stamp = time.strftime("%Y%m%d-%H%M%S")
    bdir = root / "backups"
    src = sqlite_path(db_url)
    if src is not None:
        if not src.exists():
            return "成绩库尚不存在，无需备份。"
        import sqlite3

        bdir.mkdir(parents=True, exist_ok=True)
        os.chmod(bdir, 0o700)
        dest = bdir / f"gradebook-{stamp}.db"
        n = 1
        while dest.exists():
            n += 1
            dest = bdir / f"gradebook-{stamp}-{n}.db"
        with sqlite3.connect(src) as s, sqlite3.connect(dest) as d:
            s.backup(d)  # a consistent copy even while another process writes
        os.chmod(dest, 0o600)
        olds = sorted(bdir.glob("gradebook-*.db"))
        for old in olds[:-20]:  # keep the latest 20
            old.unlink()
        return f"已备份成绩库：{dest}"
    if db_url.startswith("postgresql"):
        pg_dump = shutil.which("pg_dump") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"),
                                                              reverse=True)), None)
        from sqlalchemy.engine import URL, make_url

        u = make_url(db_url)
        env = {**os.environ, "PGPASSWORD": u.password or ""}  # not on the command line, where ps shows it
        url = URL.create("postgresql", username=u.username, host=u.host, port=u.port, database=u.database,
                         query=u.query).render_as_string(hide_password=False)
        if not pg_dump:
            return ("成绩库在 PostgreSQL 中，本机没有 pg_dump，未自动备份："
                    "请先在数据库服务器上备份（pg_dump）。")
        bdir.mkdir(parents=True, exist_ok=True)
        os.chmod(bdir, 0o700)
        dest = bdir / f"gradebook-{stamp}.sql"
        r = subprocess.run([str(pg_dump), "--no-owner", "--file", str(dest), "--dbname", url],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            dest.unlink(missing_ok=True)
            return f"成绩库在 PostgreSQL 中，pg_dump 备份失败（{r.stderr.strip()[-300:]}）：请手工备份。"
        os.chmod(dest, 0o600)
        return f"已用 pg_dump 备份 PostgreSQL 成绩库：{dest}"
    return "成绩库不是 SQLite 或 PostgreSQL，未自动备份：请手工备份。"


def graded_totals(db_url: str, assignment: str) -> dict[str, float]:
    """{worker: total auto score} of the submissions the gradebook has fully autograded."""
    import sqlalchemy as sa

    sql = sa.text("""
        SELECT st.id AS worker, SUM(g.auto_score) AS score, COUNT(*) AS n, COUNT(g.auto_score) AS scored
        FROM grade g
        JOIN submitted_notebook sn ON g.notebook_id = sn.id
        JOIN submitted_assignment sa ON sn.assignment_id = sa.id
        JOIN student st ON sa.student_id = st.id
        JOIN assignment a ON sa.assignment_id = a.id
        WHERE a.name = :a GROUP BY st.id""")
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as con:
            rows = con.execute(sql, {"a": assignment}).fetchall()
    finally:
        engine.dispose()
    return {r.worker: float(r.score) for r in rows if r.n == r.scored and r.score is not None}


def check_assignment(assignment: str, db_url: str) -> None:
    """Raise GradingError unless nbgrader knows the assignment (generate_assignment ran)."""
    from nbgrader.api import MissingEntry

    with open_gradebook(db_url) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise GradingError(
                f"成绩库中没有作业 {assignment}：先运行 `shequ course release {assignment}`"
                f"（或 nbgrader generate_assignment {assignment}）。") from None


def submission_scores(db_url: str, assignment: str, workers) -> dict:
    """{worker: (score, max score, {cell: score}, total auto score)} from nbgrader's records."""
    from nbgrader.api import MissingEntry

    out = {}
    with open_gradebook(db_url) as gb:
        for w in workers:
            try:
                s = gb.find_submission(assignment, w)
            except MissingEntry:
                continue
            cells = {g.name: g.score for nb in s.notebooks for g in nb.grades}
            auto = sum(g.auto_score or 0.0 for nb in s.notebooks for g in nb.grades)
            out[w] = (float(s.score), float(s.max_score), cells, float(auto))
    return out


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def sync_students(rows: list[dict], db_url: str | None = None) -> SyncResult:
    """Create or update the gradebook's students; never deletes one (they may have grades)."""
    from nbgrader.api import MissingEntry

    res = SyncResult()
    with open_gradebook(db_url) as gb:
        for r in rows:
            wid = str(r["worker_id"])  # a purely numeric id stays a string (nbgrader needs it quoted on the CLI)
            last, first = (r["last_name"], r.get("first_name", "")) if r.get("last_name") \
                else split_name(r.get("name", ""))
            want = {"last_name": last, "first_name": first}
            if r.get("email"):
                want["email"] = r["email"]
            try:
                st = gb.find_student(wid)
            except MissingEntry:
                gb.add_student(wid, **want)
                res.created.append(wid)
                continue
            if all(getattr(st, k) == v for k, v in want.items()):
                res.unchanged.append(wid)
            else:
                gb.update_or_create_student(wid, **want)
                res.updated.append(wid)
    return res


def student_ids(url: str | None = None) -> set[str]:
    """Ids of the gradebook's students (empty when there is no gradebook yet)."""
    url = url or db_url()
    if not exists(url):
        return set()
    with open_gradebook(url) as gb:
        return {s.id for s in gb.students}
