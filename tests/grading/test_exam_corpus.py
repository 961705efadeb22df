"""Exam grading cannot be knocked over: every broken or hostile exam submission in
tests/files/exam-submissions/ gets its expected score and report line from `shequ grade`
(kernel-free) and from formgrader's autograde (nbgrader with LiteralGrader); quote
variants score the same under stock nbgrader execution of the hidden tests; an honest
worker graded in the same runs keeps every score; and an exam whose manifest is missing
is never executed on any of the three paths, whatever the submitted file's metadata says."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from shequ import bank
from shequ.exam import paper
from shequ.exam.manifest import ManifestError
from shequ.grading import course as nbcourse
from shequ.grading import gradebook
from shequ.grading import run as gradeops

pytestmark = pytest.mark.slow  # nbgrader generate / autograde, kernels for the stock path
FILES = Path(__file__).parents[1] / "files" / "exam-submissions"
CORPUS = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(FILES.glob("*.json"))}
HONEST = "w0001"
PWNED = "PWNED-by-exam-answer"


def singles(m: dict) -> list[dict]:
    return [c for c in m["cells"] if c["type"] == "单选"]


def resolve(m: dict, ref: str) -> dict:
    """"@2" is the paper's second 单选 cell; "@2-test" its hidden test."""
    return singles(m)[int(ref.strip("@").split("-")[0]) - 1]


def honest_nb(release: Path, m: dict):
    nb = nbformat.read(release, 4)
    keys = {c["cell"]: c for c in m["cells"]}
    for c in nb.cells:
        g = c.metadata.get("nbgrader", {})
        if g.get("solution") and c.cell_type == "code":
            k = keys[g["grade_id"]]
            answer = k["key"] if k["type"] != "填空" else "；".join(v[0] for v in k["key"])
            c.source = f'{g["grade_id"]} = {json.dumps(answer, ensure_ascii=False)}'
    return nb


def write_submission(root: Path, assignment: str, worker: str, spec: dict, base, m: dict) -> None:
    d = root / "submitted" / worker / assignment
    d.mkdir(parents=True, exist_ok=True)
    (d / "timestamp.txt").write_text("2026-03-15 10:00:00.000000 UTC", encoding="utf-8")
    target = d / f"{assignment}.ipynb"
    if "raw" in spec:
        target.write_text(spec["raw"], encoding="utf-8")
        return
    nb = nbformat.from_dict(json.loads(nbformat.writes(base)))
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    for ref, template in spec.get("cells", {}).items():
        c = resolve(m, ref)
        by_id[c["cell"]].source = template.format(q=c["cell"], key=c["key"])
    for ref, text in spec.get("edit", {}).items():
        by_id[resolve(m, ref)["cell"] + "-test"].source = text
    gone = {resolve(m, ref)["cell"] for ref in spec.get("delete", [])}
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in gone]
    nb.metadata.update(spec.get("metadata", {}))
    if spec.get("as_version") == 3:
        nbformat.write(nbformat.convert(nb, 3), str(target), version=3)
    else:
        nbformat.write(nb, str(target))


def worker_of(name: str) -> str:
    return CORPUS[name].get("worker") or f"w9{sorted(CORPUS).index(name):03d}"


@pytest.fixture(scope="module")
def exam(tmp_path_factory, use_course):
    mp = pytest.MonkeyPatch()
    root = use_course(mp, tmp_path_factory.mktemp("exam-corpus") / "grading")
    mp.chdir(root)  # where hostile code would write if it ever ran
    (m,) = paper.build("basics", "r1", forms=1, bank_items=bank.load_ok())
    a = m["assignment"]
    nbcourse.generate(a)
    release = root / "release" / a / f"{a}.ipynb"
    ids = [HONEST] + [worker_of(n) for n in CORPUS if not CORPUS[n].get("unknown")]
    gradebook.sync_students([{"worker_id": w, "name": "测试员"} for w in ids])
    base = honest_nb(release, m)  # every other item answered right: only the scenario's change can cost points
    write_submission(root, a, HONEST, {}, base, m)
    alone = gradeops.grade(a, out=lambda *x, **k: None)
    for name, spec in CORPUS.items():
        write_submission(root, a, worker_of(name), spec, base, m)
    rep = gradeops.grade(a, out=lambda *x, **k: None)
    yield {"root": root, "m": m, "a": a, "alone": alone, "rep": rep, "base": base}
    mp.undo()


@pytest.mark.parametrize("name", [n for n in CORPUS if "expect" in CORPUS[n]])
def test_each_scenario_gets_its_expected_scores_and_report_line(exam, name):
    spec, m = CORPUS[name], exam["m"]
    o = exam["rep"].outcome(worker_of(name))
    assert o is not None and o.ok, f"{name}: {o}"
    for ref, want in spec["expect"].items():
        c = resolve(m, ref)
        got = o.cells.get(f"{c['cell']}-test")
        assert got == (c["points"] if want == "full" else want), f"{name} {ref}: {got}"
    others = [c for c in m["cells"] if c["type"] != "简答" and c["cell"] not in
              {resolve(m, r)["cell"] for r in spec["expect"]}]
    assert all(o.cells[f"{c['cell']}-test"] == c["points"] for c in others), name  # nothing else moved
    notes = "；".join(o.notes)
    if spec.get("report"):
        assert spec["report"] in notes, f"{name}: {notes}"
    else:
        assert not o.notes, f"{name}: {notes}"


@pytest.mark.parametrize("name", [n for n in CORPUS if "failed" in CORPUS[n]])
def test_a_file_that_is_no_notebook_is_reported_with_its_real_cause(exam, name):
    o = next(o for o in exam["rep"].failed if o.worker == worker_of(name))
    assert CORPUS[name]["failed"] in o.reason


def test_an_id_not_in_the_roster_is_not_graded_and_is_listed_with_its_path(exam):
    unknown = {w: d for _, w, d in exam["rep"].unknown}
    assert set(unknown) == {"x9999"} and unknown["x9999"].endswith(f"x9999/{exam['a']}")
    assert "x9999" not in gradebook.student_ids() and "工号不在花名册中" in "\n".join(exam["rep"].summary())


def test_the_honest_worker_keeps_every_score(exam):
    assert exam["alone"].outcome(HONEST).cells == exam["rep"].outcome(HONEST).cells
    assert exam["rep"].outcome(HONEST).score == exam["m"]["max_score"] - sum(
        c["points"] for c in exam["m"]["cells"] if c["type"] == "简答")


def test_hostile_answers_never_ran_and_every_run_left_a_log(exam):
    assert not list(exam["root"].rglob(PWNED)) and not (Path.cwd() / PWNED).exists()
    log = Path(exam["rep"].log).read_text(encoding="utf-8")
    assert "写了代码" in log and "x9999" in log


def test_formgrader_autograde_gives_the_same_scores_without_running_anything(exam):
    """nbgrader's own autograde (what formgrader's button calls) with the project config."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    root, a = exam["root"], exam["a"]
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    for name in ("chinese-quotes", "code-in-answer", "metadata-says-exercise"):
        res = api.autograde(a, worker_of(name), force=True, create=False)
        assert res["success"], res.get("log", "") + res.get("error", "")
    assert not list(root.rglob(PWNED))
    again = {(w, r.cell): r.auto_score for r in gradebook.read_grades(gradebook.db_url()).itertuples()
             for w in [r.worker_id]}
    for name in ("chinese-quotes", "code-in-answer", "metadata-says-exercise"):
        o = exam["rep"].outcome(worker_of(name))
        assert {c: again[(worker_of(name), c)] for c in o.cells} == o.cells, name


def test_stock_execution_of_the_hidden_tests_reads_quotes_the_same_way(exam, tmp_path, use_course, monkeypatch):
    """nbgrader running every cell (the trial's explicit opt-in): `typed()` in the hidden test
    reads the answer cell's text from the kernel's history with the same reader."""
    src = exam["root"]
    root = use_course(monkeypatch, tmp_path / "grading")
    import shutil

    for d in ("source", "release", "manifests"):
        shutil.copytree(src / d, root / d)
    shutil.copy(src / "gradebook.db", root / "gradebook.db")
    names = [n for n in CORPUS if CORPUS[n].get("stock")]
    for n in names:
        shutil.copytree(src / "submitted" / worker_of(n), root / "submitted" / worker_of(n))
    r = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", exam["a"], "--force",
                        "--LiteralGrader.execute_exams=True", "--log-level=WARN"],
                       cwd=root, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    stock = {(x.worker_id, x.cell): x.auto_score for x in gradebook.read_grades(gradebook.db_url()).itertuples()}
    for n in names:
        o = exam["rep"].outcome(worker_of(n))
        assert {c: stock[(worker_of(n), c)] for c in o.cells if c.endswith("-test")} == \
            {c: s for c, s in o.cells.items() if c.endswith("-test")}, n


def test_without_its_manifest_an_exam_is_refused_on_every_path_and_never_executed(exam, tmp_path, use_course,
                                                                                   monkeypatch):
    import shutil

    src = exam["root"]
    root = use_course(monkeypatch, tmp_path / "grading")
    monkeypatch.chdir(root)
    for d in ("source", "release"):
        shutil.copytree(src / d, root / d)
    shutil.copy(src / "gradebook.db", root / "gradebook.db")
    for n in ("code-in-answer", "metadata-says-exercise"):
        shutil.copytree(src / "submitted" / worker_of(n), root / "submitted" / worker_of(n))
    a = exam["a"]
    (root / "manifests").mkdir(exist_ok=True)  # empty: the manifest is gone
    with pytest.raises(ManifestError, match="清单不见了"):
        gradeops.grade(a, out=lambda *x, **k: None)  # 1. shequ grade
    r = subprocess.run([sys.executable, "-m", "shequ", "grade", a], cwd=root, capture_output=True, text=True,
                       env={**__import__("os").environ, "SHEQU_GRADING": str(root)})
    assert r.returncode == 2 and "清单不见了" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", a, "--force", "--log-level=ERROR"],
                       cwd=root, capture_output=True, text=True)  # 2. stock nbgrader with the project config
    assert "清单" in r.stdout + r.stderr
    from nbgrader.apps import NbGraderAPI  # 3. formgrader's autograde
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    res = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config).autograde(
        a, worker_of("code-in-answer"), force=True, create=False)
    assert not res["success"] and "清单" in res.get("log", "") + res.get("error", "")
    assert not list(root.rglob(PWNED)) and not list(tmp_path.rglob(PWNED))


def test_the_gradebook_alone_still_knows_an_exam_when_source_and_manifest_are_lost(exam, tmp_path, use_course,
                                                                                    monkeypatch):
    import shutil

    src = exam["root"]
    root = use_course(monkeypatch, tmp_path / "grading")
    shutil.copytree(src / "release", root / "release")
    (root / "source" / exam["a"]).mkdir(parents=True)  # the source folder is there, its notebook is not
    shutil.copy(src / "gradebook.db", root / "gradebook.db")
    shutil.copytree(src / "submitted" / worker_of("code-in-answer"), root / "submitted" / worker_of("code-in-answer"))
    assert gradebook.is_exam(exam["a"], root)
    with pytest.raises(ManifestError):
        gradeops.grade(exam["a"], out=lambda *x, **k: None)
    assert not list(tmp_path.rglob(PWNED))
