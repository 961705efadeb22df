"""Fixtures every test package shares: scratch nbgrader courses, a simulated district's
results table, a throw-away PostgreSQL database. Helpers live here, never in test modules
that import each other."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pandas as pd
import pytest

from shequ import bank, paths, results
from shequ.answers import check
from shequ.exam import paper
from shequ.grading import course
from shequ.grading import roster as rostermod
from shequ.synth import simulate


def _use_course(mp: pytest.MonkeyPatch, root: Path, db_url: str | None = None) -> Path:
    """Make `root` a course folder with the project's nbgrader configuration and the current
    course (paths.GRADING, SHEQU_GRADING), its gradebook SQLite beside it unless `db_url`."""
    course.new_course(root)
    mp.setattr(paths, "GRADING", root)
    mp.setenv("SHEQU_GRADING", str(root))
    if db_url:
        mp.setenv("SHEQU_DB_URL", db_url)
    else:
        mp.delenv("SHEQU_DB_URL", raising=False)
    return root


@pytest.fixture(scope="session")
def use_course():
    """use_course(monkeypatch, root, db_url=None): a scratch nbgrader course at root."""
    return _use_course


FAST_COMMUNITY_GAIN = 1.2   # logits per round; everyone else learns 0.1
STRONG = ("西关街道", "privacy", 2.5)
WEAK_SKILL = "collection"


def _simulated_results(out_root, seed: int = 11, plant: bool = True, workers: int | None = None):
    """(results table with answers and perms, cohort, planted facts) without nbgrader."""
    roster = rostermod.frame()
    rows = roster.to_dict("records")[:workers] if workers else roster.to_dict("records")
    items = bank.load_ok()
    bp = paper.load_blueprint("basics")
    by_round = [paper.build("basics", r["label"], bank_items=items, out_root=out_root) for r in bp.rounds]
    cohort = simulate.make_cohort(rows, list(bank.load_skills()), seed=seed)
    facts = {}
    if plant:
        sizes = pd.Series([w["community"] for w in rows]).value_counts()
        fast = sorted(sizes[sizes >= 8].index)[0]
        cohort.gain = {c: (FAST_COMMUNITY_GAIN if c == fast else 0.1) for c in cohort.gain}
        street, skill, boost = STRONG
        for w in rows:
            if w["street"] == street:
                cohort.ability[(w["worker_id"], skill)] += boost
        weak = next(w for w in rows if w["street"] == "湖滨街道" and w["role"] == "网格员")
        cohort.ability[(weak["worker_id"], WEAK_SKILL)] = -5.0
        # a 单选 item of every round and form (an anchor: the later rounds repeat it)
        every = set.intersection(*({c["item"] for c in forms[0]["cells"]} for forms in by_round))
        broken = next(c["item"] for c in by_round[0][0]["cells"] if c["type"] == "单选" and c["item"] in every)
        cohort.broken_items = {broken}
        facts = {"fast": fast, "weak": weak, "broken": broken}
    info = roster.set_index("worker_id")
    out = []
    for k, forms in enumerate(by_round):
        for f, m in enumerate(forms):
            cells = {c["cell"]: c for c in m["cells"]}
            takers = [w for i, w in enumerate(rows) if i % len(forms) == f]
            for wid, ans in simulate.take_paper(cohort, m, k, takers).items():
                w = info.loc[wid]
                for q, (typed, _) in ans.items():
                    c = cells[q]
                    out.append({"worker_id": wid, "assessment": m["assignment"], "kind": "exam",
                                "paper": m["paper"], "round": m["round"], "date": m["date"], "form": m["form"],
                                "cell": q, "item": c["item"], "type": c["type"], "level": c["level"],
                                "skills": ";".join(c["skills"]),
                                "score": check(q, typed, c["type"], c["key"], c["points"], c["scoring"]),
                                "max_score": c["points"], "street": w["street"], "community": w["community"],
                                "role": w["role"], "answer": typed, "perm": c["perm"]})
    return results.categorise(pd.DataFrame(out)), cohort, facts


@pytest.fixture(scope="session")
def simulated_results():
    """simulated_results(out_root, seed=11, plant=True, workers=None) -> (table, cohort, facts)."""
    return _simulated_results


def _postgres_admin_url() -> str:
    url = os.environ.get("SHEQU_TEST_POSTGRES")
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("CI 中必须有 PostgreSQL：.ci/run 应先运行 .ci/postgres-start 并导出 SHEQU_TEST_POSTGRES")
    pytest.skip("没有 PostgreSQL 服务器，跳过 PostgreSQL 成绩库测试！运行 "
                "`eval \"$(bash .ci/postgres-start)\"` 后再测（CI 中不会跳过）")


def _new_database(admin_url: str) -> tuple[str, callable]:
    """A fresh, empty database on the test server: (its URL, a function dropping it)."""
    import psycopg2

    name = "shequ_" + uuid.uuid4().hex[:10]
    con = psycopg2.connect(admin_url)
    con.autocommit = True
    con.cursor().execute(f'CREATE DATABASE "{name}"')
    con.close()

    def drop():
        c = psycopg2.connect(admin_url)
        c.autocommit = True
        c.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        c.close()

    return admin_url.rsplit("/", 1)[0] + "/" + name, drop


@pytest.fixture(scope="session")
def postgres_admin_url():
    """postgres_admin_url(): the test server's URL (skips without one; fails in CI)."""
    return _postgres_admin_url


@pytest.fixture(scope="session")
def new_database():
    """new_database(admin_url) -> (url of a fresh empty database, drop function)."""
    return _new_database


def _run_shequ(*args, env: dict | None = None):
    """`shequ ARGS…` run in this process (no interpreter start-up): a CompletedProcess with the
    exit status and what it printed. An exception the command line does not handle propagates
    (the test fails with it), just as a traceback would fail the subprocess check."""
    import contextlib
    import io
    import subprocess

    from shequ import cli

    out, err = io.StringIO(), io.StringIO()
    mp = pytest.MonkeyPatch()
    for k, v in (env or {}).items():
        mp.setenv(k, v)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = cli.main([str(a) for a in args])
            except SystemExit as e:  # argparse's own exits (usage errors, --help)
                rc = e.code if isinstance(e.code, int) else 1
    finally:
        mp.undo()
    return subprocess.CompletedProcess(["shequ", *map(str, args)], rc, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def run_shequ():
    """run_shequ(*args, env=None) -> CompletedProcess of the `shequ` command line, in-process."""
    return _run_shequ
