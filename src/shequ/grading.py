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
from nbgrader.preprocessors import ClearSolutions, Execute, NbGraderPreprocessor
from traitlets import Unicode

from . import paths
from .answers import check
from .errors import ShequError

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


def kernel_ipc_prefix() -> str:
    """Where this process's kernels put their sockets (KernelManager.ip with transport "ipc").
    With TCP, parallel grading processes race for the same free port ("Address already in use",
    a kernel that dies before it answers, a submission failed for nothing); socket files named
    by process id cannot collide, and within a process jupyter_client skips files that exist."""
    import tempfile

    return os.path.join(tempfile.gettempdir(), f"shequ-kernel-{os.getpid()}")


# ---- running nbgrader --------------------------------------------------------------------

def course_root() -> Path:
    return paths.GRADING


class HideNotebookFiles(NbGraderPreprocessor):
    """Before the kernel starts: the notebook files beside it (which hold the restored hidden
    tests) become owner-only, so a kernel running as another user cannot read them."""

    def preprocess(self, nb, resources):
        folder = resources.get("metadata", {}).get("path")
        if folder and os.path.isdir(folder):
            for p in Path(folder).glob("*.ipynb"):
                os.chmod(p, 0o600)
        return nb, resources


def student_option(worker_id: str) -> str:
    """`--student=…` for nbgrader's command line. A purely numeric id is quoted
    (`--student='"12345"'`) so that it stays a string whatever the traitlets version (older
    ones read it as a number; traitlets 5 keeps it a string either way, with a deprecation
    warning for the quotes)."""
    return f'--student="{worker_id}"' if worker_id.isdigit() else f"--student={worker_id}"


def lab_command(project_root: Path | None = None, course: Path | None = None, port: int | None = None,
                token: str | None = None, browser: bool = True, extra: list[str] | None = None):
    """(argv, cwd, env) of JupyterLab for the trainer and workers on one machine.

    cwd is the course folder, so the formgrader reads grading/nbgrader_config.py; the assignment
    list loads its config from the notebook root and JUPYTER_CONFIG_PATH, so the course folder is
    put on JUPYTER_CONFIG_PATH too (it then uses grading/exchange/)."""
    project_root = Path(project_root or paths.ROOT)
    course = Path(course or course_root())
    (course / "exchange").mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={project_root}"]
    if port:
        argv.append(f"--ServerApp.port={port}")
    if token is not None:
        argv.append(f"--IdentityProvider.token={token}")
    if not browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # Jupyter refuses to run as root without it (CI, containers)
    argv += list(extra or [])
    env = dict(os.environ)
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(course), *filter(None, [env.get("JUPYTER_CONFIG_PATH")])])
    env["SHEQU_GRADING"] = str(course)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return argv, course, env


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


class GradingError(ShequError):
    pass


def ensure_course_dirs() -> None:
    for d in ("source", "release", "submitted", "autograded", "feedback", "exchange", "manifests"):
        (course_root() / d).mkdir(parents=True, exist_ok=True)


def new_course(root: Path) -> Path:
    """A course folder with the project's nbgrader configuration (scratch courses for tests,
    trials and benchmarks); returns root."""
    import shutil

    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(paths.ROOT / "grading" / "nbgrader_config.py", root)
    return root


def generate(assignment: str) -> None:
    ensure_course_dirs()
    nbgrader("generate_assignment", assignment, "--force")


def generate_many(assignments: list[str], release: bool = False) -> None:
    """generate_assignment (and release_assignment) for many assignments in one nbgrader process."""
    if not assignments:
        return
    ensure_course_dirs()
    cmd = [sys.executable, "-m", "shequ.gradeops", "batch", *assignments] + (["--release"] if release else [])
    r = subprocess.run(cmd, cwd=course_root(), capture_output=True, text=True,
                       env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    if r.returncode != 0 or "Exception while loading config" in r.stderr:
        raise GradingError(f"生成作业失败：\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")


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
    """The gradebook: SHEQU_DB_URL (e.g. postgresql://user:pw@host/db) or SQLite beside the course."""
    return normalise_db_url(os.environ.get("SHEQU_DB_URL") or f"sqlite:///{course_root() / 'gradebook.db'}")


def normalise_db_url(url: str) -> str:
    """`postgresql://…` names a driver: SQLAlchemy 2.1 picks psycopg 3 by default, the project
    installs psycopg2 (psycopg2-binary). Pick the one that is installed."""
    if url.startswith(("postgresql://", "postgres://")):
        import importlib.util

        rest = url.split("://", 1)[1]
        driver = "psycopg" if importlib.util.find_spec("psycopg") else "psycopg2"
        return f"postgresql+{driver}://{rest}"
    return url


def student_patterns(jobs: int) -> list[str]:
    """Split workers into `jobs` groups by the last digit of their id (ids end in digits)."""
    jobs = max(1, min(jobs, 10))
    groups = [[d for d in "0123456789"[k::jobs]] for k in range(jobs)]
    return ["*[" + "".join(g) + "]" for g in groups] if jobs > 1 else ["*"]


def autograde(assignment: str, jobs: int = 1, *extra: str) -> None:
    """Autograde every submission of an assignment, in `jobs` parallel nbgrader processes
    (`extra`: more nbgrader options)."""
    import tempfile

    procs = []
    for pat in student_patterns(jobs):
        cmd = [sys.executable, "-m", "nbgrader", "autograde", assignment, "--force",
               f"--student={pat}", "--log-level=WARN", *extra]
        # a file, not a pipe: a pipe nobody reads yet fills up and stalls that process behind the others
        log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        procs.append((subprocess.Popen(cmd, cwd=course_root(), stdout=log, stderr=subprocess.STDOUT), log))
    errors = []
    for p, log in procs:
        p.wait()
        log.seek(0)
        out = log.read()
        log.close()
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
