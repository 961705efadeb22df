"""nbgrader integration: exam-aware preprocessors and the course's grading steps.

Exams are graded without a kernel: `LiteralGrader` reads each answer as a literal from its
cell (nothing a worker typed runs), scores it with `answers.check` from the key in the
restored hidden test, and writes the score as that test cell's output, so nbgrader's own
SaveAutoGrades puts it in the gradebook. Everything else (course exercises) is executed
by stock nbgrader.
"""
from __future__ import annotations

import ast
import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbgrader.preprocessors import ClearSolutions, Execute
from traitlets import Unicode

from . import paths
from .answers import check

# what nbgrader releases in place of a solution (grading/nbgrader_config.py uses these)
CODE_STUB = "# 请在此处编写代码\nraise NotImplementedError()"
TEXT_STUB = "（请在此处作答）"
INVALID = object()  # an answer cell that holds anything but literal assignments

# nbgrader migrates its gradebook by running the `alembic` executable from PATH: make the
# interpreter's own bin folder (the venv's) reachable even when the venv is not activated
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


def is_exam(nb) -> bool:
    return nb.metadata.get("shequ", {}).get("kind") == "exam"


class ExamClearSolutions(ClearSolutions):
    """An exam answer cell is released as `q07 = ""`, not as a NotImplementedError stub."""

    _exam = False

    def preprocess(self, nb, resources):
        self._exam = is_exam(nb)
        return super().preprocess(nb, resources)

    def _replace_solution_region(self, cell, language):
        if not (self._exam and cell.cell_type == "code"):
            return super()._replace_solution_region(cell, language)
        saved = self.code_stub
        self.code_stub = {**saved, language: ""}
        try:
            replaced = super()._replace_solution_region(cell, language)
        finally:
            self.code_stub = saved
        cell.source = cell.source.rstrip()
        return replaced


def literal_answer(source: str, name: str) -> Any:
    """The value assigned to `name` if the cell holds only literal assignments to it."""
    if not isinstance(source, str):
        return INVALID
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return INVALID
    value: Any = None  # an emptied cell counts as blank
    for stmt in tree.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == name):
            return INVALID
        try:
            value = ast.literal_eval(stmt.value)  # evaluates literals only, runs nothing
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return INVALID
    return value


@functools.lru_cache(maxsize=4096)  # the same test cells recur in every submission
def parse_check_call(source: str) -> dict | None:
    """Arguments of the `check(...)` call in an exam test cell (all literals)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check":
            a = node.args
            try:
                return {"qid": ast.literal_eval(a[0]), "var": a[1].id, "kind": ast.literal_eval(a[2]),
                        "key": ast.literal_eval(a[3]), "points": ast.literal_eval(a[4]),
                        "policy": ast.literal_eval(a[5]) if len(a) > 5 else "partial"}
            except (ValueError, AttributeError, IndexError):
                return None
    return None


def grade_literally(nb, manifest: dict | None = None) -> dict[str, float]:
    """Score every exam test cell in place; returns {qid: score}."""
    answers: dict[str, Any] = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
            answers[meta["grade_id"]] = literal_answer(cell.source, meta["grade_id"])
    scores = {}
    rubric = {c["cell"]: c for c in (manifest or {}).get("cells", []) if c["type"] == "简答"}
    out_cells = []
    for cell in nb.cells:
        out_cells.append(cell)
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            call = parse_check_call(cell.source) if isinstance(cell.source, str) else None
            if call is None:
                continue
            ans = answers.get(call["var"])
            score = 0.0 if ans is INVALID else check(call["qid"], ans, call["kind"], call["key"],
                                                     call["points"], call["policy"])
            scores[call["qid"]] = score
            # built by hand: nbformat's new_output validates each one (slow in bulk)
            cell.outputs = [nbformat.NotebookNode(
                output_type="execute_result", data={"text/plain": repr(float(score))},
                metadata={}, execution_count=1)]
            cell.execution_count = 1
        if meta.get("grade_id") in rubric and meta.get("solution"):
            out_cells.append(nbformat.v4.new_markdown_cell(_rubric_md(rubric[meta["grade_id"]])))
    nb.cells = out_cells
    return scores


def _rubric_md(c: dict) -> str:
    pts = "\n".join(f"- {r['point']}（{r['score']:g} 分）" for r in c.get("rubric", []))
    return (f"> **阅卷参考（仅阅卷老师可见，题目 {c['item']}）**\n>\n> 参考答案：{c.get('answer', '')}\n>\n"
            + "\n".join("> " + line for line in pts.splitlines()))


class LiteralGrader(Execute):
    """Grades exam notebooks from literals; executes every other notebook as stock."""

    manifest_dir = Unicode("", help="Folder of paper manifests (grading/manifests).").tag(config=True)

    def preprocess(self, nb, resources):
        assignment = resources.get("nbgrader", {}).get("assignment", "")
        manifest = None
        if self.manifest_dir and assignment:
            p = Path(self.manifest_dir) / f"{assignment}.json"
            if p.exists():
                manifest = json.loads(p.read_text(encoding="utf-8"))
        # the manifest, not the submitted file's metadata, decides: workers cannot opt out
        if manifest is None or manifest.get("kind") != "exam":
            return super().preprocess(nb, resources)
        grade_literally(nb, manifest)
        return nb, resources


def speed_up_metadata_validation() -> None:
    """nbgrader validates every cell with `jsonschema.validate`, which re-checks the schema
    itself each time: two thirds of kernel-free grading time. Validate with one compiled
    validator per schema instead (same schema, same errors raised)."""
    import jsonschema
    from nbgrader.nbgraderformat import common

    if getattr(common.jsonschema, "_shequ_cached", False):
        return
    cache: dict[str, Any] = {}

    class CachedJsonschema:
        _shequ_cached = True
        ValidationError = jsonschema.ValidationError

        @staticmethod
        def validate(instance, schema):
            key = json.dumps(schema, sort_keys=True)
            if key not in cache:
                cls = jsonschema.validators.validator_for(schema)
                cls.check_schema(schema)
                cache[key] = cls(schema)
            error = jsonschema.exceptions.best_match(cache[key].iter_errors(instance))
            if error is not None:
                raise error

    common.jsonschema = CachedJsonschema


# ---- running nbgrader --------------------------------------------------------------------

def course_root() -> Path:
    return paths.GRADING


def nbgrader(*args: str, check_rc: bool = True, quiet: bool = True) -> subprocess.CompletedProcess:
    """Run an nbgrader command in the course folder (its nbgrader_config.py applies)."""
    cmd = [sys.executable, "-m", "nbgrader", *args]
    if quiet:
        cmd.append("--log-level=WARN")
    r = subprocess.run(cmd, cwd=course_root(), capture_output=True, text=True,
                       env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    # nbgrader only logs a broken config file and goes on with defaults: make it fatal
    if check_rc and (r.returncode != 0 or "Exception while loading config" in r.stderr):
        raise GradingError(f"nbgrader {' '.join(args)} 失败：\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


class GradingError(Exception):
    pass


def ensure_course_dirs() -> None:
    for d in ("source", "release", "submitted", "autograded", "feedback", "exchange", "manifests"):
        (course_root() / d).mkdir(parents=True, exist_ok=True)


def generate(assignment: str) -> None:
    ensure_course_dirs()
    nbgrader("generate_assignment", assignment, "--force")


def release(assignment: str) -> None:
    """Release to the exchange (what workers see in the assignment list)."""
    ensure_course_dirs()
    nbgrader("release_assignment", assignment, "--force")


def sync_students(rows: list[dict[str, str]]) -> None:
    """Create or update the gradebook's students from roster rows (id, name)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url(), course_id="shequ") as gb:
        for r in rows:
            name = r.get("name", "")
            gb.update_or_create_student(r["worker_id"], last_name=name[:1], first_name=name[1:])


def db_url() -> str:
    return os.environ.get("SHEQU_DB_URL") or f"sqlite:///{course_root() / 'gradebook.db'}"


def student_patterns(jobs: int) -> list[str]:
    """Split workers into `jobs` groups by the last digit of their id (ids end in digits)."""
    jobs = max(1, min(jobs, 10))
    groups = [[d for d in "0123456789"[k::jobs]] for k in range(jobs)]
    return ["*[" + "".join(g) + "]" for g in groups] if jobs > 1 else ["*"]


def autograde(assignment: str, jobs: int = 1) -> None:
    """Autograde every submission of an assignment, in `jobs` parallel nbgrader processes."""
    procs = []
    for pat in student_patterns(jobs):
        cmd = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force",
               f"--student={pat}", "--log-level=WARN"]
        procs.append(subprocess.Popen(cmd, cwd=course_root(), stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    errors = []
    for p in procs:
        out, _ = p.communicate()
        if p.returncode != 0:
            errors.append(out[-3000:])
    if errors:
        raise GradingError(f"nbgrader autograde {assignment} 失败：\n" + "\n".join(errors))


def submit(assignment: str, worker_id: str, nb, timestamp: str) -> Path:
    """Place a worker's notebook where nbgrader collects submissions."""
    d = course_root() / "submitted" / worker_id / assignment
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"{assignment}.ipynb"
    nbformat.write(nb, str(p))
    (d / "timestamp.txt").write_text(timestamp, encoding="utf-8")
    return p
