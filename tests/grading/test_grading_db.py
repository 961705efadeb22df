"""The gradebook in a real PostgreSQL server (SHEQU_DB_URL=postgresql://…): roster sync, parallel
exercise grading with `shequ grade`, the pg_dump backup, and the results table.

Needs a server: `.ci/run` starts one with `.ci/postgres-start` and exports SHEQU_TEST_POSTGRES.
Outside CI without a server these tests are skipped (loudly); in CI (CI=true) they fail.
"""
import re

import nbformat
import pandas as pd
import pytest

from shequ import paths, results
from shequ.exam import exercise as course
from shequ.grading import course as nbcourse
from shequ.grading import gradebook, roster
from shequ.grading import run as gradeops

pytestmark = pytest.mark.slow
A = "sm-01-freshness"
SOL = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION\n?", re.S | re.M)


@pytest.fixture(scope="module")
def pg_course(tmp_path_factory, use_course, postgres_admin_url, new_database):
    url, drop = new_database(postgres_admin_url())
    mp = pytest.MonkeyPatch()
    root = use_course(mp, tmp_path_factory.mktemp("pgcourse") / "grading", url)
    manifests = {m["assignment"]: m for m in course.build("site-maintenance", out_root=root)}
    nbcourse.generate_many([A])
    loaded = roster.load()
    gradebook.sync_students(loaded.rows[:6])
    source = nbformat.read(root / "source" / A / f"{A}.ipynb", 4)
    release = nbformat.read(root / "release" / A / f"{A}.ipynb", 4)
    solved = {c.metadata["nbgrader"]["grade_id"]: SOL.sub(lambda m: m.group(1), c.source)
              for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    workers = [r["worker_id"] for r in loaded.rows[:6]]
    for k, w in enumerate(workers[:4]):
        nb = nbformat.from_dict(nbformat.reads(nbformat.writes(release), 4))
        for c in nb.cells:  # worker k answers the first k questions right
            g = c.metadata.get("nbgrader", {})
            if g.get("solution") and list(solved).index(g["grade_id"]) < k:
                c.source = solved[g["grade_id"]]
        d = root / "submitted" / w / A
        d.mkdir(parents=True)
        nbformat.write(nb, str(d / f"{A}.ipynb"))
        (d / "timestamp.txt").write_text("2026-06-01 10:00:00.000000 UTC", encoding="utf-8")
    rep = gradeops.grade(A, jobs=2, out=lambda *a, **k: None)
    yield {"root": root, "url": url, "rep": rep, "workers": workers, "manifests": manifests, "loaded": loaded}
    mp.undo()
    drop()


def test_the_gradebook_is_in_postgresql(pg_course):
    assert gradebook.db_url().split("://")[1] == pg_course["url"].split("://")[1]
    assert gradebook.db_url().startswith("postgresql+")  # the installed driver (psycopg2) is named
    assert not (pg_course["root"] / "gradebook.db").exists()


def test_roster_sync_reaches_postgresql_and_is_idempotent(pg_course):
    rows = pg_course["loaded"].rows[:6]
    again = gradebook.sync_students(rows)
    assert len(again.unchanged) == 6 and not again.created
    assert set(pg_course["workers"]) <= gradebook.student_ids()


def test_parallel_exercise_grading_writes_every_score(pg_course):
    rep = pg_course["rep"]
    assert not rep.failed and len(rep.graded) == 4
    points = [c["points"] for c in pg_course["manifests"][A]["cells"]]
    for k, w in enumerate(pg_course["workers"][:4]):
        assert rep.outcome(w).score == sum(points[:k]), w  # answers 1..k right, the rest blank


def test_backup_uses_pg_dump(pg_course):
    assert "pg_dump" in pg_course["rep"].backup
    dumps = list((pg_course["root"] / "backups").glob("gradebook-*.sql"))
    assert dumps and "CREATE TABLE" in dumps[0].read_text(encoding="utf-8")


def test_results_table_is_built_from_postgresql(pg_course):
    staff = pd.read_csv(paths.DATASETS / "staff.csv", dtype=str)
    df = results.build(gradebook.db_url(), staff, pg_course["manifests"])
    df = df[df["assessment"] == A]
    assert len(df) == 4 * len(pg_course["manifests"][A]["cells"])
    assert set(df["street"]) <= set(staff["street"]) and df["street"].notna().all()


def test_a_rerun_skips_everything(pg_course):
    rep = gradeops.grade(A, jobs=2, out=lambda *a, **k: None)
    assert not rep.graded and len(rep.skipped) == 4
