"""Start, stop and prepare the district server.

prepare() lays out the state folder with the owners and modes the design needs (see
shequ.hub.exchange and shequ.hub.system), copies what workers may read (datasets, lesson
notebooks) into share/, and writes each role's Jupyter configuration. start() runs
JupyterHub in the foreground with shequ's configuration; stop() ends it from elsewhere.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from ..errors import ShequError
from . import system
from .layout import Layout

from .. import paths
from ..grading.course import COURSE_ID

CONFIG_FILE = Path(__file__).resolve().parent / "jupyterhub_config.py"
TEMPLATES = paths.HUB_TEMPLATES
LOCALE = "zh_CN"

# what a worker's JupyterLab must not show: nbgrader's English panels (the assignment list is
# replaced by shequ's Chinese page, shequ.hub.workspace)
WORKER_LAB_OFF = {"@jupyter/nbgrader": True}
TRAINER_LAB_OFF = {"@jupyter/nbgrader:assignment-list": True}
NBGRADER_SERVER = ("formgrader", "validate_assignment", "assignment_list", "course_list")


def _mkdir(path: Path, mode: int, user: str | None = None, group: str | None = None) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    system.own(path, user or "root", group or "root", mode)
    return path


def prepare(layout: Layout) -> list:
    """The state folder, its modes, the shared read-only copies and each role's config.
    Returns the project's modes as they were before (system.restore puts them back)."""
    system.require_root("区培训平台")
    wg, tg = layout.group("worker"), layout.group("trainer")
    for g in (wg, tg):
        system.ensure_group(g)
    layout.state.mkdir(parents=True, exist_ok=True)
    system.own(layout.state, "root", "root", 0o711)
    _mkdir(layout.private, 0o700)
    _mkdir(layout.passwords, 0o700)
    _mkdir(layout.homes, 0o711)
    _mkdir(layout.state / "config", 0o755)
    _mkdir(layout.exchange, 0o755, group=tg)
    course = _mkdir(layout.exchange / COURSE_ID, 0o2775, group=tg)
    _mkdir(course / "outbound", 0o2775, group=tg)
    _mkdir(course / "inbound", 0o751, group=tg)    # trainers list it; workers only pass through
    _mkdir(course / "feedback", 0o751, group=tg)
    _share(layout)
    _role_configs(layout)
    layout.course.mkdir(parents=True, exist_ok=True)
    (layout.course / "hub.json").write_text(json.dumps({"state": str(layout.state), "prefix": layout.prefix}, ensure_ascii=False))
    changed = system.secure_project(layout)
    system.let_through(layout, [layout.state, layout.course, *system.interpreter_dirs(), layout.project / "src"])
    return changed


def _share(layout: Layout) -> None:
    """datasets/ and the lesson notebooks, read-only for everyone (no exercise sources)."""
    share = _mkdir(layout.share, 0o755)
    shutil.copytree(paths.DATASETS, share / "datasets", dirs_exist_ok=True)
    for course in sorted(p for p in paths.COURSES.iterdir() if p.is_dir()):
        dest = share / "courses" / course.name
        dest.mkdir(parents=True, exist_ok=True)
        for nb in sorted(course.glob("[0-9][0-9]-*.ipynb")):
            shutil.copy2(nb, dest / nb.name)
    for p in [share, *share.rglob("*")]:
        os.chown(p, 0, 0)
        os.chmod(p, 0o755 if p.is_dir() else 0o644)


def _role_configs(layout: Layout) -> None:
    for role in ("worker", "trainer"):
        d = _mkdir(layout.config_dir(role), 0o755)
        ext = {f"nbgrader.server_extensions.{e}": role == "trainer" and e in ("formgrader", "course_list")
               for e in NBGRADER_SERVER}
        ext["shequ.hub.workspace"] = True
        ext["jupyter_lsp"] = False   # no language servers installed: it only scans for them at each start
        server = {"ServerApp": {"jpserver_extensions": ext}}
        (d / "jupyter_server_config.json").write_text(json.dumps(server, indent=1))
        _mkdir(d / "labconfig", 0o755)
        off = WORKER_LAB_OFF if role == "worker" else TRAINER_LAB_OFF
        (d / "labconfig" / "page_config.json").write_text(json.dumps({"disabledExtensions": off}, indent=1))
        (d / "nbgrader_config.py").write_text(_nbgrader_config(layout, role), encoding="utf-8")
        # jupyter_core writes this marker into the config folder once; read-only here, so ahead
        (d / "migrated").write_text("shequ\n")
        for f in d.rglob("*"):
            os.chmod(f, 0o755 if f.is_dir() else 0o644)


def _nbgrader_config(layout: Layout, role: str) -> str:
    lines = ["# written by shequ hub (shequ.hub.server); do not edit, rerun `shequ hub start`",
             "import os", "from shequ.hub.exchange import factory_config", "c = get_config()  # noqa: F821",
             f"c.CourseDirectory.course_id = {COURSE_ID!r}",
             f"c.Exchange.root = {str(layout.exchange)!r}", "factory_config(c)"]
    if role == "worker":
        lines += ["# who submits is the hub login, not the OS account (sq-w0001)",
                  "c.CourseDirectory.student_id = os.environ['JUPYTERHUB_USER']",
                  "c.Exchange.assignment_dir = os.path.join(os.environ['HOME'], 'assignments')"]
    else:
        lines += [f"c.CourseDirectory.root = {str(layout.course)!r}",
                  f"load_subconfig({str(layout.course / 'nbgrader_config.py')!r})  # noqa: F821"]
    return "\n".join(lines) + "\n"


def prepare_person(layout: Layout, person) -> None:
    """The person's OS account and, for a worker, their own inbound and feedback folders."""
    user = layout.os_user(person.login)
    system.ensure_user(user, layout.home(person.login), layout.group(person.role))
    if person.role == "worker":
        course = layout.exchange / COURSE_ID
        _mkdir(course / "inbound" / person.login, 0o2750, user=user, group=layout.group("trainer"))
        _mkdir(course / "feedback" / person.login, 0o2770, user=user, group=layout.group("trainer"))


# ---- running the hub ---------------------------------------------------------------------------

def hub_command(layout: Layout) -> tuple[list[str], dict]:
    argv = [str(layout.bin / "jupyterhub"), "-f", str(CONFIG_FILE)]
    env = {**os.environ, **layout.env(), "PATH": f"{layout.bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    return argv, env


def running_pid(layout: Layout) -> int | None:
    try:
        pid = int(layout.pid_file.read_text().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def start(layout: Layout, wait: bool = True, log=None):
    """Run the hub; with wait, until Ctrl+C (returns its exit code), else return the Popen."""
    from . import accounts

    system.require_root("区培训平台")
    if running_pid(layout):
        raise ShequError(f"区培训平台已在运行（进程 {running_pid(layout)}）：先 shequ hub stop。")
    if not accounts.existing(layout):
        raise ShequError("还没有任何账号：先运行 shequ hub users sync（由花名册建立账号）。")
    prepare(layout)
    argv, env = hub_command(layout)
    out = log if log is not None else open(layout.log_file, "ab")
    proc = subprocess.Popen(argv, cwd=layout.private, env=env, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)
    if not wait:
        return proc
    try:
        wait_up(layout, proc)
        print(f"区培训平台已启动：{layout.url}（日志 {layout.log_file}）。按 Ctrl+C 或运行 shequ hub stop 停止。",
              flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        print("区培训平台已停止。")
        return 0


def wait_up(layout: Layout, proc=None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ShequError(f"区培训平台没能启动（退出码 {proc.returncode}）：见日志 {layout.log_file}")
        try:
            with urllib.request.urlopen(layout.url + "hub/api/", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise ShequError(f"区培训平台 {timeout:.0f} 秒内没有响应：见日志 {layout.log_file}")


def stop(layout: Layout, timeout: float = 60) -> bool:
    """Stop a running hub (and, with it, every user's server); False if none was running."""
    pid = running_pid(layout)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running_pid(layout) is None:
            return True
        time.sleep(0.2)
    raise ShequError(f"区培训平台（进程 {pid}）{timeout:.0f} 秒内没有停止。")


