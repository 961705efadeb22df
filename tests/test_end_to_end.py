"""The real pipeline on a small cohort: nbgrader generate, release, autograde, gradebook.

Scores that reach the gradebook must equal the scores the simulation meant each typed
answer to earn, both through `nbgrader autograde` (LiteralGrader inside nbgrader) and
through the bulk kernel-free grader; and no released file may hold a key.
"""
import json

import nbformat
import pandas as pd
import pytest

from shequ import bank, paths, results
from shequ.exam import paper
from shequ.grading import bulk as fastgrade
from shequ.grading import course as nbcourse
from shequ.grading import gradebook
from shequ.report import render as report
from shequ.synth import simulate

pytestmark = pytest.mark.slow
ASSIGNMENT = "basics-r2"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def course(request, tmp_path_factory, use_course, postgres_admin_url, new_database):
    """The whole pipeline with the gradebook in SQLite (the default) and in PostgreSQL."""
    drop = None
    if request.param == "postgresql":  # a fresh database on the server .ci/postgres-start runs

        url, drop = new_database(postgres_admin_url())
    mp = pytest.MonkeyPatch()
    root = use_course(mp, tmp_path_factory.mktemp("grading"), url if drop else None)
    items = bank.load_ok()
    (m,) = paper.build("basics", "r2", forms=1, bank_items=items)
    nbcourse.generate(ASSIGNMENT)
    nbcourse.release(ASSIGNMENT)
    roster = pd.read_csv(paths.DATASETS / "staff.csv", dtype=str)
    rows = roster.to_dict("records")[:14]
    gradebook.sync_students(rows)
    cohort = simulate.make_cohort(rows, list(bank.load_skills()), seed=11)
    released = nbformat.read(str(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), 4)
    taken = simulate.take_paper(cohort, m, 1, rows)
    for wid, ans in taken.items():
        nbcourse.submit(ASSIGNMENT, wid, simulate.fill_notebook(released, ans), "2026-06-15 10:00:00 UTC")
    yield {"root": root, "manifest": m, "taken": taken, "roster": roster}
    mp.undo()
    if drop:
        drop()


def intended(taken):
    return {(w, q): s for w, ans in taken.items() for q, (_, s) in ans.items()}


def gradebook_scores(manifest, roster):
    df = results.build(gradebook.db_url(), roster, {manifest["assignment"]: manifest})
    return {(r.worker_id, r.cell): r.score for r in df.itertuples()}, df


def test_no_released_file_contains_a_key_or_hidden_test(course):
    text = "".join(p.read_text(encoding="utf-8") for p in (course["root"] / "release").rglob("*") if p.is_file())
    assert "BEGIN HIDDEN TESTS" not in text and "check(" not in text and "BEGIN SOLUTION" not in text
    nb = json.loads(text)
    for cell in course["manifest"]["cells"]:  # no 解析 either
        assert not cell["explanation"] or cell["explanation"][:20] not in text
    for c in nb["cells"]:
        gid = c["metadata"].get("nbgrader", {}).get("grade_id", "")
        if c["cell_type"] == "code" and c["metadata"]["nbgrader"].get("solution"):
            assert "".join(c["source"]) == f'{gid} = ""'
    # no key, in any form: not as the source's solution line, not as a quoted 多选/填空 key
    for cell in course["manifest"]["cells"]:
        key = cell["key"] if isinstance(cell["key"], str) else cell["key"][0][0]
        assert f'{cell["cell"]} = {json.dumps(key, ensure_ascii=False)}' not in text
        if cell["type"] == "多选":
            assert f'"{key}"' not in text
    # nor a 填空 variant next to its question
    for cell in course["manifest"]["cells"]:
        if cell["type"] == "填空":
            for variant in cell["key"][0]:
                assert f'"{variant}"' not in text


def test_nbgrader_autograde_scores_equal_the_simulated_intent(course):
    nbcourse.autograde(ASSIGNMENT, jobs=2)
    got, df = gradebook_scores(course["manifest"], course["roster"])
    want = intended(course["taken"])
    assert want and got == pytest.approx(want)
    assert set(df["street"]) and df["skills"].str.len().min() > 0


def test_bulk_grader_gives_the_same_gradebook_scores(course):
    rep = fastgrade.grade_exam(ASSIGNMENT)
    assert sorted(rep.graded) == sorted(course["taken"]) and not rep.failed
    got, _ = gradebook_scores(course["manifest"], course["roster"])
    assert got == pytest.approx(intended(course["taken"]))
    # the formgrader shows the autograded notebook: hidden tests restored, scores as outputs
    w = sorted(course["taken"])[0]
    nb = json.loads((course["root"] / "autograded" / w / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text("utf-8"))
    test_cells = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id", "").endswith("-test")]
    assert all("check(" in c["source"] and c["outputs"] for c in test_cells)


def test_report_renders_from_the_gradebook_results(course, tmp_path):
    _, df = gradebook_scores(course["manifest"], course["roster"])
    index = report.render(df, course["roster"], out_dir=tmp_path, notebooks=False)
    html = index.read_text(encoding="utf-8")
    assert "各街道各轮平均得分率" in html and "合成数据" in html
    images = sorted(tmp_path.glob("img/*.png"))
    assert len(images) == 3 and all(img.stat().st_size > 5000 for img in images)
    assert course["roster"]["name"].iloc[0] not in html  # district report: no names


def test_feedback_shows_answers_key_and_explanation_but_no_test_code(course):
    from shequ.report import feedback

    fastgrade.grade_exam(ASSIGNMENT)
    out = feedback.generate(ASSIGNMENT)
    assert sorted(out["offline"]) == sorted(course["taken"])  # simulated: not via the exchange
    w = sorted(course["taken"])[0]
    page = (course["root"] / "feedback-offline" / w / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text("utf-8")
    cells = course["manifest"]["cells"]
    assert "各知识点得分" in page and "逐题对照" in page
    assert all(c["explanation"][:20] in page for c in cells if c["explanation"])
    for leak in ("check(", "HIDDEN TESTS", "BEGIN SOLUTION", "from shequ"):
        assert leak not in page
    total = sum(course["taken"][w][c["cell"]][1] for c in cells if c["cell"] in course["taken"][w])
    assert f"<b>{total:g} / " in page
