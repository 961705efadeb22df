"""Both courses (信息采集; 网站维护与网络维护): notebooks are stored clean, every exercise source
passes its own tests, hidden tests stand on their own, a blank release fails every test, and
every plausible wrong solution fails at least one hidden test.

(Running the lessons themselves is `pytest --nbval-lax courses/*/*.ipynb`.)
"""
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

from shequ import paths
from shequ.exam import exercise as course

COURSES = course.courses()
LESSONS = [p for c in COURSES for p in sorted((paths.COURSES / c).glob("[0-9][0-9]-*.ipynb"))]
EXERCISES = dict((name, nb) for name, nb in course.exercises())            # assignment -> notebook
WRONG = sorted((paths.ROOT / "tests" / "files" / "wrong-solutions").glob("*--*.json"))
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n.*?### END SOLUTION\n?", re.S | re.M)


def rel(p: Path) -> str:
    return str(p.relative_to(paths.COURSES))


def nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def run(nb, workdir: Path, allow_errors=False):
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return nb


def prepare(nb_path: Path, tmp_path: Path):
    """The notebook and its data files copied beside it, as `shequ course build` releases them."""
    nb = nbformat.read(nb_path, as_version=4)
    for f in nb.metadata["shequ"]["files"]:
        shutil.copy(paths.DATASETS / f, tmp_path / Path(f).name)
    return nb


def exec_cells(nb, workdir: Path, monkeypatch, strict: bool = True) -> dict[str, BaseException | None]:
    """Run the code cells in-process (fast; exercises use only stdlib and pandas), going on
    after an error as nbgrader does. Returns {grade_id: error or None} for the graded test
    cells; with `strict`, an error in any other cell but an answer cell fails the test.
    """
    monkeypatch.chdir(workdir)
    ns: dict = {"__name__": "__main__"}
    results: dict[str, BaseException | None] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            exec(compile(cell.source, f"<{nbgrader(cell).get('grade_id', cell.id)}>", "exec"), ns)
            err = None
        except Exception as e:  # noqa: BLE001 - a failing cell is the thing under test
            err = e
        if nbgrader(cell).get("grade"):
            results[nbgrader(cell)["grade_id"]] = err
        elif err is not None and strict and not nbgrader(cell).get("solution"):
            raise AssertionError(f"非测试单元格出错：{cell.id}: {err!r}")
    return results


@pytest.mark.parametrize("name", COURSES)
def test_course_has_six_lessons_and_four_exercises(name):
    assert len([p for p in LESSONS if p.parent.name == name]) >= 6
    assert len([a for a in EXERCISES if a.startswith(course.prefix(name) + "-")]) >= 4


@pytest.mark.parametrize("path", LESSONS + list(EXERCISES.values()), ids=rel)
def test_notebook_is_stored_clean_with_stable_ids(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    ids = [c.get("id") for c in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids)
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None, f"{path.name}: 有输出未清除"


@pytest.mark.parametrize("path", LESSONS, ids=rel)
def test_lesson_says_data_is_synthetic_and_ends_with_practice(path):
    nb = nbformat.read(path, as_version=4)
    assert "合成数据" in nb.cells[0].source
    assert any("练一练" in c.source for c in nb.cells[-3:] if c.cell_type == "markdown")


@pytest.mark.parametrize("path", EXERCISES.values(), ids=rel)
def test_exercise_metadata_follows_course_conventions(path):
    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata["shequ"]
    skills = {s["id"] for s in yaml.safe_load(paths.SKILLS.read_text(encoding="utf-8"))["skills"]}
    tests = [nbgrader(c) for c in nb.cells if nbgrader(c).get("grade")]
    answers = [nbgrader(c) for c in nb.cells if nbgrader(c).get("solution")]
    assert meta["title"].startswith("练习") and tests and answers
    assert set(meta["skills"]) == {t["grade_id"] for t in tests}
    assert all(set(v) <= skills for v in meta["skills"].values())
    assert all((paths.DATASETS / f).exists() for f in meta["files"])
    for t in tests:
        assert t["locked"] and t["points"] > 0 and not t["solution"]
    source = "\n".join(c.source for c in nb.cells)
    assert not re.search(r"^\s*(import|from)\s+shequ", source, re.M), "练习里不能 import shequ"
    for c in nb.cells:
        if nbgrader(c).get("solution"):
            assert "### BEGIN SOLUTION" in c.source and "### END SOLUTION" in c.source
        if nbgrader(c).get("grade"):
            assert HIDDEN.search(c.source), f"{nbgrader(c)['grade_id']} 没有隐藏测试"
            assert re.search(r"assert .+, \"[^\"]*[\u4e00-\u9fff]", c.source), "测试要有中文提示"


@pytest.mark.slow  # executes the notebook in a kernel
@pytest.mark.parametrize("path", EXERCISES.values(), ids=rel)
def test_exercise_source_passes_its_own_tests(path, tmp_path):
    run(prepare(path, tmp_path), tmp_path)  # raises CellExecutionError on any failing cell


@pytest.mark.slow  # executes the notebook in a kernel
@pytest.mark.parametrize("path", EXERCISES.values(), ids=rel)
def test_hidden_tests_stand_alone_and_pass_on_the_solution(path, tmp_path, monkeypatch):
    # the wrong-solution check runs hidden tests without the visible part: they must not need it
    nb = prepare(path, tmp_path)
    for cell in nb.cells:
        if nbgrader(cell).get("grade"):
            cell.source = "".join(HIDDEN.findall(cell.source))
    results = exec_cells(nb, tmp_path, monkeypatch)
    assert results and not any(results.values()), {k: repr(v) for k, v in results.items() if v}


@pytest.mark.slow  # executes the notebook in a kernel
@pytest.mark.parametrize("path", EXERCISES.values(), ids=rel)
def test_blank_release_fails_every_test(path, tmp_path, monkeypatch):
    nb = prepare(path, tmp_path)
    for cell in nb.cells:
        if nbgrader(cell).get("solution"):  # what nbgrader's ClearSolutions leaves in the cell
            cell.source = SOLUTION.sub(lambda m: f"{m.group(1)}# 请在此处编写代码\n{m.group(1)}"
                                                 "raise NotImplementedError()\n", cell.source)
    # cells that call the worker's functions fail too (NotImplementedError): nbgrader goes on
    results = exec_cells(nb, tmp_path, monkeypatch, strict=False)
    assert results and all(results.values()), [k for k, v in results.items() if v is None]


def test_every_exercise_has_two_wrong_solutions():
    names = [w.name.split("--")[0] for w in WRONG]
    assert set(names) <= set(EXERCISES), set(names) - set(EXERCISES)
    for name in EXERCISES:
        assert names.count(name) >= 2, name


@pytest.mark.slow  # executes the notebook in a kernel
@pytest.mark.parametrize("wrong", WRONG, ids=lambda p: p.stem)
def test_wrong_solution_fails_a_hidden_test(wrong, tmp_path):
    nb = prepare(EXERCISES[wrong.name.split("--")[0]], tmp_path)
    replace = json.loads(wrong.read_text(encoding="utf-8"))
    answer_ids = {nbgrader(c)["grade_id"] for c in nb.cells if nbgrader(c).get("solution")}
    assert set(replace) <= answer_ids, f"未知的作答单元格：{set(replace) - answer_ids}"
    for cell in nb.cells:
        meta = nbgrader(cell)
        if meta.get("grade_id") in replace:
            cell.source = replace[meta["grade_id"]]
        elif meta.get("grade"):  # keep only the hidden tests, so only they can fail
            cell.source = "".join(HIDDEN.findall(cell.source))
    run(nb, tmp_path, allow_errors=True)
    failed = [nbgrader(c)["grade_id"] for c in nb.cells if nbgrader(c).get("grade")
              and any(o.output_type == "error" for o in c.outputs)]
    assert failed, f"{wrong.name} 通过了全部隐藏测试"
    broken = [nbgrader(c)["grade_id"] for c in nb.cells if nbgrader(c).get("solution")
              and any(o.output_type == "error" for o in c.outputs)]
    assert not broken, f"{wrong.name} 的作答单元格本身就报错，不是似是而非的答案：{broken}"
