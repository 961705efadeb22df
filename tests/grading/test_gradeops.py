"""`shequ grade` on exercise submissions (real nbgrader autograde, 2 worker processes).

Every bad submission in tests/files/submissions/ is isolated and reported with its reason while
every other one is graded and nothing already graded is lost; hostile code can neither read the
answer key nor write the gradebook; a re-run grades only what changed and gives the same scores.
"""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from shequ import paths
from shequ.exam import exercise as course
from shequ.grading import course as nbcourse
from shequ.grading import gradebook
from shequ.grading import run as gradeops

pytestmark = pytest.mark.slow
A = "ic-01-id-check"
FILES = paths.ROOT / "tests" / "files" / "submissions"
TIMEOUT = 20  # per cell: the infinite loop is stopped after this
SCENARIOS = {  # file -> worker id
    "deleted-cell": "w0101", "edited-locked-cell": "w0102", "infinite-loop": "w0103",
    "invalid-json": "w0104", "million-lines": "w0105", "reads-answer-key": "w0106",
    "writes-gradebook": "w0107",
}
SOL = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION\n?", re.S | re.M)


def gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def honest(root):
    """The released notebook with the reference solutions typed into the answer cells."""
    src = {gid(c): c.source for c in nbformat.read(root / "source" / A / f"{A}.ipynb", 4).cells}
    nb = nbformat.read(root / "release" / A / f"{A}.ipynb", 4)
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("solution"):
            c.source = SOL.sub(lambda m: m.group(1), src[gid(c)])
    return nb


def put(root, worker, nb_or_path):
    d = root / "submitted" / worker / A
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(nb_or_path, os.PathLike):
        shutil.copyfile(nb_or_path, d / f"{A}.ipynb")
    else:
        nbformat.write(nb_or_path, str(d / f"{A}.ipynb"))
    (d / "timestamp.txt").write_text("2026-06-01 10:00:00.000000 UTC", encoding="utf-8")


def printed(root, worker):
    """Everything the graded notebook printed (outputs only, not the code)."""
    nb = nbformat.read(root / "autograded" / worker / A / f"{A}.ipynb", 4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def grades(db_url):
    return {(r.worker_id, r.cell): r.auto_score for r in gradebook.read_grades(db_url).itertuples()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, use_course):
    mp = pytest.MonkeyPatch()
    root = use_course(mp, tmp_path_factory.mktemp("gradeops") / "grading")
    mp.chdir(root)  # like a trainer in grading/: hostile code can learn this folder from /proc
    course.build("info-collection", out_root=root)
    nbcourse.generate(A)
    # the roster: every worker whose submission is graded here (w0300–w0303 hand in later)
    gradebook.sync_students([{"worker_id": w, "name": "测试员"} for w in
                             ["w0001", "w0002", "w0200", *SCENARIOS.values(), *(f"w03{k:02d}" for k in range(4))]])
    put(root, "w0001", honest(root))
    put(root, "w0002", nbformat.read(root / "release" / A / f"{A}.ipynb", 4))  # handed in blank
    first = gradeops.grade(A, jobs=2, timeout=TIMEOUT, out=lambda *a, **k: None)
    before = grades(gradebook.db_url())
    for name, worker in SCENARIOS.items():
        put(root, worker, FILES / f"{name}.ipynb")
    probe = honest(root)  # an honest worker who also prints what the grading kernel can see
    probe.cells.insert(2, nbformat.v4.new_code_cell(
        "import os, json\nprint('ENV=' + json.dumps(sorted(k for k in os.environ if k.startswith(('SHEQU', 'PG')))))\n"
        "print('CWD=' + os.getcwd())\nprint('FILES=' + json.dumps(sorted(os.listdir('.'))))\n"
        "print('UID=' + str(os.getuid()))"))
    put(root, "w0200", probe)
    second = gradeops.grade(A, jobs=2, timeout=TIMEOUT, out=lambda *a, **k: None)
    yield {"root": root, "first": first, "second": second, "before": before}
    mp.undo()


@pytest.fixture
def course_copy(graded, tmp_path, monkeypatch, use_course):
    """The graded course as the fixture left it, copied: a test that grades again or changes
    submissions works on its own copy, so no test depends on which ran before it."""
    root = tmp_path / "grading"
    shutil.copytree(graded["root"], root, symlinks=True)
    use_course(monkeypatch, root)
    monkeypatch.chdir(root)
    return root


def outcome(rep, name):
    o = rep.outcome(SCENARIOS.get(name, name), A)
    assert o is not None, f"{name} 没有评分结果"
    return o


def test_honest_work_scores_full_marks_and_blank_work_zero(graded):
    rep = graded["first"]
    assert not rep.failed
    assert outcome(rep, "w0001").score == outcome(rep, "w0001").max_score == 10
    assert outcome(rep, "w0002").score == 0


def test_every_bad_submission_is_reported_and_every_other_one_graded(graded):
    rep = graded["second"]
    assert [o.worker for o in rep.failed] == [SCENARIOS["invalid-json"]]
    assert sorted(o.worker for o in rep.graded) == sorted(
        [w for n, w in SCENARIOS.items() if n != "invalid-json"] + ["w0200"])
    assert sorted(w for _, w in rep.skipped) == ["w0001", "w0002"]  # unchanged: not graded again


def test_invalid_json_is_reported_with_its_reason_and_left_ungraded(graded):
    o = outcome(graded["second"], "invalid-json")
    assert not o.ok and "JSON" in o.reason
    assert not any(w == SCENARIOS["invalid-json"] for w, _ in grades(gradebook.db_url()))


def test_deleted_cells_are_put_back_and_the_deleted_answer_scores_zero(graded):
    o = outcome(graded["second"], "deleted-cell")
    assert o.cells == {"test-check-digit": 3, "test-is-valid": 4, "test-batch": 0}
    assert any("删除了单元格" in n and "answer-batch" in n for n in o.notes)


def test_an_edited_locked_test_is_restored_before_grading(graded):
    o = outcome(graded["second"], "edited-locked-cell")
    assert o.cells["test-check-digit"] == 0  # the emptied test was put back and failed
    assert any("锁定" in n and "test-check-digit" in n for n in o.notes)


def test_an_infinite_loop_is_stopped_and_the_other_tests_still_count(graded):
    o = outcome(graded["second"], "infinite-loop")
    assert o.cells == {"test-check-digit": 3, "test-is-valid": 4, "test-batch": 0}
    assert any("超时" in n for n in o.notes) and o.seconds >= TIMEOUT


def test_a_million_lines_of_output_are_cut_and_the_work_still_graded(graded):
    o = outcome(graded["second"], "million-lines")
    assert o.score == 10
    assert any("输出过长" in n for n in o.notes)
    nb = graded["root"] / "autograded" / SCENARIOS["million-lines"] / A / f"{A}.ipynb"
    assert nb.stat().st_size < 1_000_000


def test_code_that_looks_for_the_answer_key_finds_nothing(graded):
    o = outcome(graded["second"], "reads-answer-key")
    assert o.score == 0  # its honest score: it wrote no answer of its own
    assert any("已阻止" in n for n in o.notes)
    text = printed(graded["root"], o.worker)
    assert "没找到答案" in text and "找到答案了" not in text


def test_code_that_tries_to_rewrite_the_gradebook_changes_nothing(graded):
    o = outcome(graded["second"], "writes-gradebook")
    assert o.cells["test-check-digit"] == 3 and o.score == 3  # its own honest work only
    assert any("已阻止" in n for n in o.notes)
    assert "没成功" in printed(graded["root"], o.worker)
    now = grades(gradebook.db_url())
    assert {k: v for k, v in now.items() if k in graded["before"]} == graded["before"]
    with sqlite3.connect(graded["root"] / "gradebook.db") as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert max(r[0] for r in con.execute("SELECT auto_score FROM grade") if r[0] is not None) <= 4


def test_the_gradebook_is_backed_up_before_each_run(graded):
    backups = sorted((graded["root"] / "backups").glob("gradebook-*.db"))
    assert len(backups) >= 2
    with sqlite3.connect(backups[-1]) as con:  # taken before the second run: the first run's grades
        assert con.execute("SELECT count(*) FROM submitted_assignment").fetchone()[0] == 2
    assert "备份" in graded["second"].backup


def test_hostile_code_does_find_the_key_and_the_gradebook_without_the_sandbox(graded, tmp_path, monkeypatch):
    """The attacks are real: run unprotected inside a copy of the course, they succeed. (Their
    search is cut down to the copy here, so that they cannot reach any real gradebook.)"""
    monkeypatch.chdir(tmp_path)
    ctl = tmp_path / "grading"
    shutil.copytree(graded["root"] / "source", ctl / "source")
    shutil.copy(graded["root"] / "gradebook.db", ctl / "gradebook.db")
    work = ctl / "autograded" / "w9999" / A
    work.mkdir(parents=True)
    shutil.copy(paths.DATASETS / "exercises" / "ic-id-sample.csv", work)
    only_the_copy = f"def _candidates():\n    return [{str(ctl)!r}]\n\n\ndef _unused():"
    for name, said in (("reads-answer-key", "找到答案了"), ("writes-gradebook", "改成绩")):
        nb = nbformat.read(FILES / f"{name}.ipynb", 4)
        nb.cells = [c for c in nb.cells if c.cell_type == "code" and not (gid(c) or "").startswith("test-")]
        for c in nb.cells:
            c.source = c.source.replace("def _candidates():", only_the_copy, 1).replace(
                "_candidates() + _search_tmp()", "_candidates()")
        NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(work)}}).execute()
        out = "".join(o.get("text", "") for c in nb.cells for o in c.outputs)
        assert said in out and "没成功" not in out and "没找到答案" not in out, f"{name}: {out[-500:]}"
    assert (ctl / "gradebook.db").stat().st_size == 0  # rewritten, then wiped


def test_a_rerun_grades_nothing_new_and_keeps_every_score(course_copy):
    before = grades(gradebook.db_url())
    rep = gradeops.grade(A, jobs=2, timeout=TIMEOUT, out=lambda *a, **k: None)
    assert rep.graded == [] and len(rep.skipped) == len(SCENARIOS) - 1 + 3
    assert [o.worker for o in rep.failed] == [SCENARIOS["invalid-json"]]  # still reported
    assert grades(gradebook.db_url()) == before


def test_a_broken_resubmission_keeps_the_old_grade_and_a_fixed_one_is_regraded(course_copy):
    root = course_copy
    nb_path = root / "submitted" / "w0001" / A / f"{A}.ipynb"
    good = nb_path.read_bytes()
    nb_path.write_bytes(good[: len(good) // 3])
    rep = gradeops.grade(A, jobs=1, timeout=TIMEOUT, out=lambda *a, **k: None)
    assert "w0001" in [o.worker for o in rep.failed] and not rep.graded
    assert grades(gradebook.db_url())[("w0001", "test-batch")] == 3  # nothing already graded is lost
    nb = nbformat.reads(good.decode("utf-8"), 4)
    nb.cells.append(nbformat.v4.new_markdown_cell("（改了一处说明）"))
    nbformat.write(nb, str(nb_path))
    rep = gradeops.grade(A, jobs=1, timeout=TIMEOUT, out=lambda *a, **k: None)
    assert [o.worker for o in rep.graded] == ["w0001"]
    assert rep.graded[0].score == 10  # the same score as before: grading is idempotent


def test_the_command_line_reports_in_chinese_with_a_nonzero_exit(course_copy):
    env = {**os.environ, "SHEQU_GRADING": str(course_copy)}
    r = subprocess.run([sys.executable, "-m", "shequ", "grade", A, "--jobs", "2", "--timeout", "5"],
                       capture_output=True, text=True, env=env, cwd=course_copy)
    assert r.returncode == 1, r.stderr
    assert "无法评分" in r.stdout and SCENARIOS["invalid-json"] in r.stdout and "JSON" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    r = subprocess.run([sys.executable, "-m", "shequ", "grade", "no-such-exercise"],
                       capture_output=True, text=True, env=env, cwd=course_copy)
    assert r.returncode == 2 and "没有作业" in r.stderr and "Traceback" not in r.stderr


def test_the_grading_kernel_gets_neither_the_database_url_nor_the_course_paths(graded):
    """What the kernel sees, printed from inside a sandboxed grading run."""
    root = graded["root"]
    assert graded["second"].outcome("w0200").score == 10
    text = printed(root, "w0200")
    assert "ENV=[]" in text
    cwd = re.search(r"CWD=(.*)", text).group(1)
    assert str(root) not in cwd and str(paths.ROOT) not in cwd
    files = json.loads(re.search(r"FILES=(.*)", text).group(1))
    assert set(files) <= {"ic-id-sample.csv", f"{A}.ipynb", "timestamp.txt"}, files
    uid = int(re.search(r"UID=(\d+)", text).group(1))
    protection = " ".join(graded["second"].protection)
    assert protection.startswith("沙箱")
    if "无特权用户 uid" in protection:  # root, and the Python environment is readable by others
        assert uid != 0 and uid != os.geteuid()
    else:
        assert uid == os.geteuid()


def test_an_interrupted_run_resumes_where_it_stopped(course_copy):
    root = course_copy
    new = [f"w03{k:02d}" for k in range(4)]
    for w in new:
        put(root, w, honest(root))
    env = {**os.environ, "SHEQU_GRADING": str(root)}
    run = subprocess.Popen([sys.executable, "-m", "shequ", "grade", A, "--jobs", "1"], cwd=root, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    state = root / gradeops.STATE_FILE
    deadline = time.monotonic() + 300
    while not any(w in json.loads(state.read_text(encoding="utf-8")).get(A, {}) for w in new):
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()
        time.sleep(0.2)
    run.send_signal(signal.SIGTERM)  # as if the trainer's session ended
    out, err = run.communicate(timeout=120)
    assert run.returncode == 130 and "已中断" in err and "Traceback" not in err
    done = {w for w in new if w in json.loads(state.read_text(encoding="utf-8"))[A]}
    assert 1 <= len(done) < len(new)
    rep = gradeops.grade(A, jobs=2, timeout=TIMEOUT, out=lambda *a, **k: None)
    assert sorted(o.worker for o in rep.graded) == sorted(set(new) - done)  # only what was left
    assert all(o.score == 10 for o in rep.graded)


def test_an_exercise_from_an_id_not_in_the_roster_is_listed_not_graded(course_copy):
    put(course_copy, "root", honest(course_copy))  # e.g. the OS user of a shared JupyterLab
    rep = gradeops.grade(A, jobs=1, timeout=TIMEOUT, out=lambda *a, **k: None)
    assert [(w, Path(d).parts[-2:]) for _, w, d in rep.unknown] == [("root", ("root", A))]
    assert rep.outcome("root") is None and "root" not in gradebook.student_ids()
    assert "工号不在花名册中" in Path(rep.log).read_text(encoding="utf-8")
