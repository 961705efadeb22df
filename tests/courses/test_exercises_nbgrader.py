"""Every course exercise through real nbgrader: `shequ course build` → generate_assignment →
autograde (`shequ grade`, 2 processes, all exercises in one batch).

For each exercise: the source solution scores full marks; the blank release fails every graded
test; every plausible wrong solution (tests/files/wrong-solutions/<assignment>--*.json) fails at
least one test; and the graded scores reach the results table under the exercise's skills.
"""
import json
import re

import nbformat
import pandas as pd
import pytest
import yaml

from shequ import paths, results
from shequ.exam import exercise as course
from shequ.grading import course as nbcourse
from shequ.grading import gradebook
from shequ.grading import run as gradeops

pytestmark = pytest.mark.slow
EXERCISES = course.exercises()
NAMES = [a for a, _ in EXERCISES]
WRONG = sorted((paths.ROOT / "tests" / "files" / "wrong-solutions").glob("*--*.json"))
SOL = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION\n?", re.S | re.M)


def gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def student(wrong_file):
    return "t-" + wrong_file.stem.split("--", 1)[1]


@pytest.fixture(scope="module")
def graded(tmp_path_factory, use_course):
    mp = pytest.MonkeyPatch()
    root = use_course(mp, tmp_path_factory.mktemp("exercises") / "grading")
    manifests = {m["assignment"]: m for m in course.build(out_root=root)}
    nbcourse.generate_many(NAMES)  # one nbgrader process for all of them

    def put(a, who, nb):
        d = root / "submitted" / who / a
        d.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(d / f"{a}.ipynb"))
        (d / "timestamp.txt").write_text("2026-06-01 10:00:00.000000 UTC", encoding="utf-8")

    for a in NAMES:
        source = nbformat.read(root / "source" / a / f"{a}.ipynb", 4)
        release = nbformat.read(root / "release" / a / f"{a}.ipynb", 4)
        put(a, "t-source", source)      # the source notebook itself, solutions and all
        if a == NAMES[0]:
            put(a, "20240001", source)  # a purely numeric worker id
        put(a, "t-blank", release)      # handed in untouched
        solved = {gid(c): SOL.sub(lambda m: m.group(1), c.source) for c in source.cells
                  if c.metadata.get("nbgrader", {}).get("solution")}
        for w in WRONG:
            if w.name.split("--")[0] != a:
                continue
            replace = json.loads(w.read_text(encoding="utf-8"))
            nb = nbformat.from_dict(json.loads(nbformat.writes(release)))
            for c in nb.cells:  # the rest answered right, so only the wrong part can fail
                if gid(c) in solved:
                    c.source = replace.get(gid(c), solved[gid(c)])
            put(a, student(w), nb)
    gradebook.sync_students([{"worker_id": d.name, "name": "测试员"} for d in sorted((root / "submitted").iterdir())])
    rep = gradeops.grade(NAMES, jobs=2, timeout=120, out=lambda *a, **k: None)
    yield {"root": root, "rep": rep, "manifests": manifests}
    mp.undo()


def outcome(graded, a, who):
    o = graded["rep"].outcome(who, a)
    assert o is not None and o.ok, f"{a}/{who}: {o}"
    return o


def test_every_submission_was_graded(graded):
    assert not graded["rep"].failed, [(o.assignment, o.worker, o.reason) for o in graded["rep"].failed]


@pytest.mark.parametrize("a", NAMES)
def test_source_solution_scores_full_marks(graded, a):
    o = outcome(graded, a, "t-source")
    points = {c["cell"]: c["points"] for c in graded["manifests"][a]["cells"]}
    assert o.cells == pytest.approx(points) and o.score == o.max_score == sum(points.values())


@pytest.mark.parametrize("a", NAMES)
def test_blank_release_fails_every_graded_test(graded, a):
    o = outcome(graded, a, "t-blank")
    assert set(o.cells) == {c["cell"] for c in graded["manifests"][a]["cells"]}
    assert all(s == 0 for s in o.cells.values()), o.cells


@pytest.mark.parametrize("wrong", WRONG, ids=lambda p: p.stem)
def test_wrong_solution_fails_a_test(graded, wrong):
    a = wrong.name.split("--")[0]
    assert a in NAMES, f"{wrong.name}: 没有这个练习"
    o = outcome(graded, a, student(wrong))
    assert o.score < o.max_score and any(s == 0 for s in o.cells.values()), o.cells


@pytest.mark.parametrize("a", NAMES)
def test_scores_reach_the_results_table_under_their_skills(graded, a):
    roster = pd.read_csv(paths.DATASETS / "staff.csv", dtype=str)
    df = results.build(gradebook.db_url(), roster, graded["manifests"])
    mine = df[(df["assessment"] == a) & (df["worker_id"] == "t-source")]
    nb = json.loads((paths.ROOT / "courses").joinpath(*_course_path(a)).read_text(encoding="utf-8"))
    want = {k: ";".join(v) for k, v in nb["metadata"]["shequ"]["skills"].items()}
    assert dict(zip(mine["cell"], mine["skills"])) == want
    assert set(mine["kind"]) == {"exercise"} and set(mine["type"]) == {"练习"}
    assert mine["score"].sum() == mine["max_score"].sum() == graded["manifests"][a]["max_score"]
    per_skill = results.by_skill(mine).groupby("skill")["score"].sum()
    assert set(per_skill.index) == {s for v in nb["metadata"]["shequ"]["skills"].values() for s in v}


def _course_path(a):
    nb = dict((n, p) for n, p in EXERCISES)[a]
    return nb.relative_to(paths.COURSES).parts


def test_a_purely_numeric_worker_id_is_graded_and_stays_a_string(graded):
    o = outcome(graded, NAMES[0], "20240001")
    assert o.score == o.max_score
    df = gradebook.read_grades(gradebook.db_url())
    assert "20240001" in set(df["worker_id"]) and all(isinstance(w, str) for w in df["worker_id"])


def test_course_build_copies_notebooks_byte_for_byte_with_their_data_files(graded):
    root = graded["root"]
    for a, nb_path in EXERCISES:
        assert (root / "source" / a / f"{a}.ipynb").read_bytes() == nb_path.read_bytes()
        files = json.loads(nb_path.read_text(encoding="utf-8"))["metadata"]["shequ"]["files"]
        for f in files:
            assert (root / "source" / a / f.split("/")[-1]).read_bytes() == (paths.DATASETS / f).read_bytes()
        # released with the data files beside the notebook, without solutions or hidden tests
        rel = root / "release" / a
        assert sorted(p.name for p in rel.iterdir()) == sorted([f"{a}.ipynb"] + [f.split("/")[-1] for f in files])
        text = (rel / f"{a}.ipynb").read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text


def test_assignment_names_follow_the_course_prefix():
    assert {a.split("-")[0] for a in NAMES} == {"ic", "sm"}
    assert "ic-01-id-check" in NAMES and "sm-01-freshness" in NAMES


def test_course_build_rejects_unknown_skills_and_writes_nothing(tmp_path, monkeypatch):
    courses = tmp_path / "courses"
    ex = courses / "demo-course" / "exercises"
    ex.mkdir(parents=True)
    src = EXERCISES[0][1]
    nb = json.loads(src.read_text(encoding="utf-8"))
    first = next(iter(nb["metadata"]["shequ"]["skills"]))
    nb["metadata"]["shequ"]["skills"][first] = ["no-such-skill"]
    (ex / "01-broken.ipynb").write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(paths, "COURSES", courses)
    with pytest.raises(course.CourseError, match="no-such-skill"):
        course.build("demo-course", out_root=tmp_path / "grading")
    assert not (tmp_path / "grading").exists()
    skills = {s["id"] for s in yaml.safe_load(paths.SKILLS.read_text(encoding="utf-8"))["skills"]}
    assert "no-such-skill" not in skills
