"""信息采集 course: lessons are stored clean, every exercise source passes its own tests,
and every plausible wrong solution fails at least one hidden test.

(Running the lessons themselves is `pytest --nbval-lax courses/info-collection/*.ipynb`.)
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

COURSE = paths.COURSES / "info-collection"
LESSONS = sorted(COURSE.glob("[0-9][0-9]-*.ipynb"))
EXERCISES = sorted((COURSE / "exercises").glob("[0-9][0-9]-*.ipynb"))
WRONG = sorted((paths.ROOT / "tests" / "files" / "wrong-solutions").glob("ic-*--*.json"))
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def assignment(nb_path: Path) -> str:
    return "ic-" + nb_path.stem


def nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def run(nb, workdir: Path, allow_errors=False):
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(workdir)}}).execute()
    return nb


def prepare(nb_path: Path, tmp_path: Path):
    """The notebook and a folder holding its data files, as `shequ course build` releases them."""
    nb = nbformat.read(nb_path, as_version=4)
    for rel in nb.metadata["shequ"]["files"]:
        shutil.copy(paths.DATASETS / rel, tmp_path / Path(rel).name)
    return nb


def test_course_has_six_lessons_and_four_exercises():
    assert len(LESSONS) >= 6 and len(EXERCISES) >= 4


@pytest.mark.parametrize("path", LESSONS + EXERCISES, ids=lambda p: p.name)
def test_notebook_is_stored_clean_with_stable_ids(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    ids = [c.get("id") for c in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids)
    for c in nb.cells:
        if c.cell_type == "code":
            assert c.outputs == [] and c.execution_count is None, f"{path.name}: 有输出未清除"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_says_data_is_synthetic_and_ends_with_practice(path):
    nb = nbformat.read(path, as_version=4)
    assert "合成数据" in nb.cells[0].source
    assert any("练一练" in c.source for c in nb.cells[-3:] if c.cell_type == "markdown")


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
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


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_exercise_source_passes_its_own_tests(path, tmp_path):
    run(prepare(path, tmp_path), tmp_path)  # raises CellExecutionError on any failing cell


def test_every_exercise_has_two_wrong_solutions():
    names = [w.name.split("--")[0] for w in WRONG]
    for ex in EXERCISES:
        assert names.count(assignment(ex)) >= 2, assignment(ex)


@pytest.mark.parametrize("wrong", WRONG, ids=lambda p: p.stem)
def test_wrong_solution_fails_a_hidden_test(wrong, tmp_path):
    name = wrong.name.split("--")[0]
    ex = next(e for e in EXERCISES if assignment(e) == name)
    nb = prepare(ex, tmp_path)
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
