"""The nbgrader course: where it lives, its one course id, and running nbgrader's own steps
(generate, release, stock autograde, submit) in it with the project's configuration.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

from .. import paths
from ..errors import ShequError

COURSE_ID = "shequ"  # nbgrader's course id: grading/nbgrader_config.py and every Gradebook use it
COURSE_DIRS = ("source", "release", "submitted", "autograded", "feedback", "exchange", "manifests")

# nbgrader migrates its gradebook by running the `alembic` executable from PATH: make the
# interpreter's own bin folder (the venv's) reachable even when the venv is not activated
_BIN = str(Path(sys.executable).parent)
if _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


# ---- running nbgrader --------------------------------------------------------------------

def course_root() -> Path:
    return paths.GRADING


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
    for d in COURSE_DIRS:
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
    cmd = [sys.executable, "-m", "shequ.grading.worker", "batch", *assignments] + (["--release"] if release else [])
    r = subprocess.run(cmd, cwd=course_root(), capture_output=True, text=True,
                       env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    if r.returncode != 0 or "Exception while loading config" in r.stderr:
        raise GradingError(f"生成作业失败：\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")


def release(assignment: str) -> None:
    """Release to the exchange (what workers see in the assignment list)."""
    ensure_course_dirs()
    nbgrader("release_assignment", assignment, "--force")


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
