"""`shequ grade`: grade every submission of an assignment, safely, in parallel, resumably.

- Exams (an exam manifest in grading/manifests/) go through the kernel-free bulk grader
  `fastgrade.grade_exam`: nothing a worker typed runs.
- Course exercises go through nbgrader's own autograde (`Autograde` via `NbGraderAPI`), in
  `jobs` worker processes fed one submission at a time from a shared queue (no idle worker
  while another still has a backlog), with a progress bar and ETA. Each worker has a kernel
  fork-server that has imported ipykernel and pandas once and forks a fresh kernel for every
  notebook (it never runs a worker's code itself), which halves the CPU cost of a submission.
- Resumable and idempotent: `grading/grade-state.json` keeps a content hash of every graded
  submission (notebook + timestamp + the exercise source); a re-run grades only what changed.
- The gradebook is backed up before anything is written (SQLite: a copy under
  grading/backups/; PostgreSQL: pg_dump when it is installed).
- Each bad submission is isolated and reported with its reason; the others are graded and
  nothing already graded is lost (a submission that cannot be graded keeps its old grade).

Protection of the answer key and the gradebook from the code a worker hands in (exercises
execute that code):

1. each submission is graded in a fresh scratch course outside the project holding only the
   submission and the exercise's data files (no source notebook, no manifest, no gradebook,
   no other submission, no configuration naming the database); the database URL reaches the
   worker process through a pipe, never through its environment or command line;
2. the kernel starts with a scrubbed environment (no SHEQU_*/PG*/database variables, its own
   HOME and temp folder) and resource limits (file size, memory, processes);
3. when grading runs as root, the kernel drops to a private unprivileged uid (one per worker
   process) and `shequ grade` makes the gradebook and grading/{source,manifests,submitted,
   autograded,feedback,backups} owner-only, so the kernel cannot open them at all;
4. in every case a Python audit hook inside the kernel refuses to open, list, connect to or
   spawn anything under the course, the project's courses/ exams/ tests/ grading/, other
   processes' /proc entries, and refuses subprocesses and new ctypes symbols; each refusal is
   logged and reported.

Limits: (4) is defence in depth, not a boundary (a native extension can bypass audit hooks),
so without root only (1), (2) and (4) apply; and the tests run in the same kernel as the
worker's code, so a determined worker can still fake passing tests (e.g. objects that
compare equal to anything). See README (评分) for the trainer's view.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

# keep this module's top level light: the sandboxed kernel wrapper imports it

STATE_FILE = "grade-state.json"
SECRET_DIRS = ("source", "manifests", "submitted", "autograded", "feedback", "backups")
SANDBOX_UID_BASE = 61000
DEFAULT_TIMEOUT = 60
OUTPUT_LIMIT = 1_000_000  # characters of printed output per cell that reach the grader
OUTPUT_CUT = "... 输出过长，评分时已截断 ..."
KERNEL_LIMITS = {"fsize": 200 * 2**20, "as": 6 * 2**30, "nproc": 512}
PROC_OK = frozenset("stat status statm cmdline comm limits io oom_score oom_score_adj cgroup sched "
                    "schedstat wchan loginuid sessionid".split())
_DROP_ENV_PREFIXES = ("SHEQU_", "PG", "DATABASE", "JUPYTER_PATH", "JPY_SESSION")


# ---- results -----------------------------------------------------------------------------

@dataclass
class Outcome:
    assignment: str
    worker: str
    ok: bool
    score: float | None = None
    max_score: float | None = None
    cells: dict = field(default_factory=dict)
    reason: str = ""
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    auto: float | None = None  # sum of the automatic scores (what a re-run compares against)


@dataclass
class Report:
    graded: list = field(default_factory=list)     # Outcome (ok)
    failed: list = field(default_factory=list)     # Outcome (not ok): kept old grade
    skipped: list = field(default_factory=list)    # (assignment, worker): unchanged since last run
    backup: str = ""
    protection: list = field(default_factory=list)  # what protection was in force (Chinese)
    seconds: float = 0.0

    def outcome(self, worker: str, assignment: str | None = None) -> Outcome | None:
        for o in self.graded + self.failed:
            if o.worker == worker and (assignment is None or o.assignment == assignment):
                return o
        return None


# ---- helpers shared by the parent and the workers ----------------------------------------

def _kind(assignment: str, root: Path) -> str:
    p = root / "manifests" / f"{assignment}.json"
    if p.exists():
        try:
            return json.loads(p.read_text(encoding="utf-8")).get("kind", "exam")
        except json.JSONDecodeError:
            pass
    return "exercise"


def _load_state(root: Path) -> dict:
    p = root / STATE_FILE
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _save_state(root: Path, state: dict) -> None:
    p = root / STATE_FILE
    tmp = p.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, p)


def submission_key(sub_dir: Path, assignment: str, source_hash: str) -> str:
    """What a grade depends on: the notebook, its timestamp and the exercise's source."""
    h = hashlib.sha256(source_hash.encode())
    for name in (f"{assignment}.ipynb", "timestamp.txt"):
        p = sub_dir / name
        h.update(name.encode() + b"\0" + (p.read_bytes() if p.exists() else b"<missing>") + b"\0")
    return h.hexdigest()


def _source_hash(root: Path, assignment: str) -> str:
    d = root / "source" / assignment
    h = hashlib.sha256()
    for p in sorted(d.rglob("*")) if d.is_dir() else []:
        if p.is_file():
            h.update(str(p.relative_to(d)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


# ---- backups and permissions --------------------------------------------------------------

def backup_gradebook(db_url: str, root: Path) -> str:
    """Back up the gradebook before writing; returns a Chinese sentence saying what was done."""
    import subprocess

    stamp = time.strftime("%Y%m%d-%H%M%S")
    bdir = root / "backups"
    if db_url.startswith("sqlite:///"):
        src = Path(db_url[len("sqlite:///"):])
        if not src.exists():
            return "成绩库尚不存在，无需备份。"
        import sqlite3

        bdir.mkdir(parents=True, exist_ok=True)
        os.chmod(bdir, 0o700)
        dest = bdir / f"gradebook-{stamp}.db"
        n = 1
        while dest.exists():
            n += 1
            dest = bdir / f"gradebook-{stamp}-{n}.db"
        with sqlite3.connect(src) as s, sqlite3.connect(dest) as d:
            s.backup(d)  # a consistent copy even while another process writes
        os.chmod(dest, 0o600)
        olds = sorted(bdir.glob("gradebook-*.db"))
        for old in olds[:-20]:  # keep the latest 20
            old.unlink()
        return f"已备份成绩库：{dest}"
    if db_url.startswith("postgresql"):
        pg_dump = shutil.which("pg_dump") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_dump"),
                                                              reverse=True)), None)
        from sqlalchemy.engine import URL, make_url

        u = make_url(db_url)
        env = {**os.environ, "PGPASSWORD": u.password or ""}  # not on the command line, where ps shows it
        url = URL.create("postgresql", username=u.username, host=u.host, port=u.port, database=u.database,
                         query=u.query).render_as_string(hide_password=False)
        if not pg_dump:
            return ("成绩库在 PostgreSQL 中，本机没有 pg_dump，未自动备份："
                    "请先在数据库服务器上备份（pg_dump）。")
        bdir.mkdir(parents=True, exist_ok=True)
        os.chmod(bdir, 0o700)
        dest = bdir / f"gradebook-{stamp}.sql"
        r = subprocess.run([str(pg_dump), "--no-owner", "--file", str(dest), "--dbname", url],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            dest.unlink(missing_ok=True)
            return f"成绩库在 PostgreSQL 中，pg_dump 备份失败（{r.stderr.strip()[-300:]}）：请手工备份。"
        os.chmod(dest, 0o600)
        return f"已用 pg_dump 备份 PostgreSQL 成绩库：{dest}"
    return "成绩库不是 SQLite 或 PostgreSQL，未自动备份：请手工备份。"


def protect_course(root: Path, db_url: str) -> None:
    """Owner-only permissions on what holds keys, answers and grades."""
    for d in SECRET_DIRS:
        p = root / d
        if p.is_dir():
            os.chmod(p, 0o700)
    if db_url.startswith("sqlite:///"):
        db = Path(db_url[len("sqlite:///"):])
        for p in db.parent.glob(db.name + "*"):
            os.chmod(p, 0o600)


def protected_paths(root: Path, db_url: str) -> list[str]:
    from . import paths

    out = {str(root), str(paths.ROOT / "grading"), str(paths.COURSES), str(paths.EXAMS),
           str(paths.ROOT / "tests"), str(paths.BUILD)}
    if db_url.startswith("sqlite:///"):
        out.add(str(Path(db_url[len("sqlite:///"):]).parent))
    return sorted(os.path.realpath(p) for p in out)


# ---- the parent: plan, pool, progress -----------------------------------------------------

class Progress:
    """A progress bar with ETA: one line rewritten on a terminal, a line per ~10% otherwise."""

    def __init__(self, label: str, total: int, out=print, tty: bool | None = None):
        self.label, self.total, self.out = label, total, out
        self.t0 = time.monotonic()
        self.tty = sys.stdout.isatty() if tty is None else tty
        self.last = -1

    def __call__(self, done: int) -> None:
        el = time.monotonic() - self.t0
        eta = el / done * (self.total - done) if done else 0
        bar = "#" * int(20 * done / max(self.total, 1))
        line = f"  {self.label} [{bar:<20}] {done}/{self.total}，已用 {el:.0f} 秒，预计还需 {eta:.0f} 秒"
        if self.tty:
            self.out("\r" + line, end="" if done < self.total else "\n", flush=True)
        else:
            step = int(10 * done / max(self.total, 1))
            if step != self.last or done == self.total:
                self.last = step
                self.out(line, flush=True)


def _graded_scores(db_url: str, assignment: str) -> dict[str, float]:
    """{worker: total auto score} of the submissions the gradebook has fully autograded."""
    import sqlalchemy as sa

    sql = sa.text("""
        SELECT st.id AS worker, SUM(g.auto_score) AS score, COUNT(*) AS n, COUNT(g.auto_score) AS scored
        FROM grade g
        JOIN submitted_notebook sn ON g.notebook_id = sn.id
        JOIN submitted_assignment sa ON sn.assignment_id = sa.id
        JOIN student st ON sa.student_id = st.id
        JOIN assignment a ON sa.assignment_id = a.id
        WHERE a.name = :a GROUP BY st.id""")
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as con:
            rows = con.execute(sql, {"a": assignment}).fetchall()
    finally:
        engine.dispose()
    return {r.worker: float(r.score) for r in rows if r.n == r.scored and r.score is not None}


def _prepare(assignment: str, root: Path, state: dict, force: bool, db_url: str) -> tuple[list, list, list, dict]:
    """(todo [(worker, key, notes)], failed [Outcome], skipped [worker], release info)."""
    from . import fastgrade

    release = root / "release" / assignment / f"{assignment}.ipynb"
    ref = {}
    if release.exists():
        rnb = json.loads(release.read_text(encoding="utf-8"))
        for c in rnb.get("cells", []):
            g = c.get("metadata", {}).get("nbgrader", {})
            if g.get("grade_id"):
                ref[g["grade_id"]] = (c.get("cell_type"), _src(c.get("source", "")), bool(g.get("locked")),
                                      bool(g.get("grade") or g.get("solution")))
    src_hash = _source_hash(root, assignment)
    todo, failed, skipped = [], [], []
    seen = state.get(assignment, {})
    in_gradebook = _graded_scores(db_url, assignment) if seen and not force else {}
    for d in sorted(p for p in (root / "submitted").glob(f"*/{assignment}") if p.is_dir()):
        worker = d.parent.name
        key = submission_key(d, assignment, src_hash)
        # unchanged and still in the gradebook with the score recorded then (a reset gradebook regrades)
        recorded = seen.get(worker, {})
        if not force and recorded.get("key") == key and worker in in_gradebook \
                and recorded.get("score") is not None and abs(in_gradebook[worker] - recorded["score"]) < 1e-6:
            skipped.append(worker)
            continue
        nb, why = fastgrade.read_submission(d / f"{assignment}.ipynb")
        if nb is None:
            failed.append((worker, key, Outcome(assignment, worker, False, reason=why)))
            continue
        notes = []
        have = {}
        for c in nb.cells:
            g = c.get("metadata", {}).get("nbgrader", {})
            if g.get("grade_id"):
                have.setdefault(g["grade_id"], c)
        missing = [gid for gid, r in ref.items() if gid not in have]
        if missing:
            graded_missing = [gid for gid in missing if ref[gid][3]]
            notes.append("删除了单元格 " + "、".join(missing) +
                         ("（评分时已补回测试单元格；删掉的作答不得分）" if graded_missing else ""))
        edited = [gid for gid, r in ref.items() if gid in have and r[2] and r[0] == have[gid].get("cell_type")
                  and _src(have[gid].get("source", "")) != r[1]]
        if edited:
            notes.append("改动了锁定的单元格 " + "、".join(edited) + "（评分时已恢复原样）")
        todo.append((worker, key, notes))
    return todo, failed, skipped, {"source_hash": src_hash}


def _src(s) -> str:
    return ("".join(s) if isinstance(s, list) else str(s)).strip()


def grade(assignments: list[str] | str, jobs: int = 1, timeout: int | None = None, force: bool = False,
          out=print, root: Path | None = None, db_url: str | None = None) -> Report:
    """Grade the submissions of one or more assignments (see the module docstring)."""
    from . import grading

    if isinstance(assignments, str):
        assignments = [assignments]
    root = Path(root or grading.course_root())
    db_url = db_url or grading.db_url()
    timeout = int(timeout or os.environ.get("SHEQU_CELL_TIMEOUT") or DEFAULT_TIMEOUT)
    jobs = max(1, int(jobs))
    t0 = time.monotonic()
    rep = Report()
    state = _load_state(root)
    for a in assignments:
        if not (root / "source" / a).is_dir():
            raise grading.GradingError(f"没有作业 {a}：grading/source/{a}/ 不存在"
                                       "（先运行 shequ course build 或 shequ paper build）。")
    exams = [a for a in assignments if _kind(a, root) == "exam"]
    exercises = [a for a in assignments if a not in exams]
    plan = {}
    for a in exercises:
        _check_in_gradebook(a, db_url)
        plan[a] = _prepare(a, root, state, force, db_url)
    anything = exams or any(p[0] for p in plan.values())
    if anything:
        rep.backup = backup_gradebook(db_url, root)
        out(rep.backup)
    for a in exams:
        _grade_exam(a, root, db_url, state, rep, out)
    todo = []
    for a, (items, failed, skipped, info) in plan.items():
        rep.skipped += [(a, w) for w in skipped]
        for w, key, o in failed:
            rep.failed.append(o)
        todo += [(a, w, key, notes) for w, key, notes in items]
    if todo:
        protect_course(root, db_url)
        _run_pool(todo, root, db_url, timeout, jobs, state, rep, out)
    if rep.skipped:
        out(f"  {len(rep.skipped)} 份作答自上次评分以来没有改动，已跳过（--force 可全部重评）。")
    rep.seconds = time.monotonic() - t0
    return rep


def _check_in_gradebook(assignment: str, db_url: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    from . import grading

    with Gradebook(db_url, course_id="shequ") as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise grading.GradingError(
                f"成绩库中没有作业 {assignment}：先运行 `shequ course release {assignment}`"
                f"（或 nbgrader generate_assignment {assignment}）。") from None


def _grade_exam(assignment: str, root: Path, db_url: str, state: dict, rep: Report, out) -> None:
    from . import fastgrade

    subs = sorted(p for p in (root / "submitted").glob(f"*/{assignment}") if p.is_dir())
    bar = Progress(assignment, max(len(subs), 1), out)
    r = fastgrade.grade_exam(assignment, root=root, db_url=db_url, progress=lambda n, total: bar(n))
    src_hash = _source_hash(root, assignment)
    scores = _scores(db_url, assignment, r.graded)
    seen = state.setdefault(assignment, {})
    for w in r.graded:
        s, m, cells, auto = scores.get(w, (None, None, {}, None))
        rep.graded.append(Outcome(assignment, w, True, s, m, cells))
        seen[w] = {"key": submission_key(root / "submitted" / w / assignment, assignment, src_hash),
                   "score": auto, "max_score": m}
    for w, why in r.failed.items():
        rep.failed.append(Outcome(assignment, w, False, reason=why))
    _save_state(root, state)


def _scores(db_url: str, assignment: str, workers) -> dict:
    from nbgrader.api import Gradebook, MissingEntry

    out = {}
    with Gradebook(db_url, course_id="shequ") as gb:
        for w in workers:
            try:
                s = gb.find_submission(assignment, w)
            except MissingEntry:
                continue
            cells = {g.name: g.score for nb in s.notebooks for g in nb.grades}
            auto = sum(g.auto_score or 0.0 for nb in s.notebooks for g in nb.grades)
            out[w] = (float(s.score), float(s.max_score), cells, float(auto))
    return out


def _worker_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP_ENV_PREFIXES)}
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


def _run_pool(todo: list, root: Path, db_url: str, timeout: int, jobs: int, state: dict,
              rep: Report, out) -> None:
    import queue

    scratch = Path(tempfile.mkdtemp(prefix="shequ-grade-"))
    os.chmod(scratch, 0o711)  # a sandboxed kernel may pass through, never list
    log_path = root / "logs" / f"grade-{time.strftime('%Y%m%d-%H%M%S')}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(log_path.parent, 0o700)
    cfg = {"root": str(root), "db_url": db_url, "timeout": timeout, "scratch": str(scratch),
           "protect": protected_paths(root, db_url)}
    n = min(jobs, len(todo))
    q: queue.Queue = queue.Queue()
    for item in todo:
        q.put(item)
    cells = {}
    lock = threading.Lock()
    done = [0]
    bar = Progress("评分" if len({t[0] for t in todo}) > 1 else todo[0][0], len(todo), out)
    protection: set = set()

    def record(o: Outcome, key: str) -> None:
        if stop.is_set():
            return
        with lock:
            (rep.graded if o.ok else rep.failed).append(o)
            if o.ok:
                state.setdefault(o.assignment, {})[o.worker] = {
                    "key": key, "score": o.auto, "max_score": o.max_score}
                _save_state(root, state)
            done[0] += 1
            bar(done[0])

    stop = threading.Event()

    def run(k: int, log) -> None:
        try:
            work(k, log)
        except Exception:  # noqa: BLE001 - only when stopping: the workers were killed under us
            if not stop.is_set():
                raise

    def work(k: int, log) -> None:
        w = None
        while not stop.is_set():
            try:
                a, worker, key, notes = q.get_nowait()
            except queue.Empty:
                break
            if a not in cells:
                cells[a] = _code_cells(root, a)
            deadline = timeout * (cells[a] + 2) + 120
            for attempt in (1, 2):
                if w is None:
                    w = _Worker(k, cfg, log)
                    live.append(w)
                    if w.protection:
                        protection.add(w.protection)
                t = time.monotonic()
                res = w.grade(a, worker, deadline)
                if res is None:  # the worker hung or died: kill it, report, go on
                    w.kill()
                    w = None
                    res = {"ok": False, "reason": f"评分超过 {deadline} 秒仍未结束，已强行停止（代码可能卡死了评分进程）",
                           "retry": False}
                if res.get("retry") and attempt == 1:
                    continue
                break
            o = Outcome(a, worker, bool(res.get("ok")), res.get("score"), res.get("max_score"),
                        res.get("cells", {}), res.get("reason", ""), notes + res.get("notes", []),
                        time.monotonic() - t, res.get("auto"))
            record(o, key)
        if w is not None:
            w.close()

    threads = []
    live: list[_Worker] = []
    import signal

    def on_term(signum, frame):  # `kill`: stop like Ctrl+C, so workers and scratch are cleaned up
        raise KeyboardInterrupt
    main = threading.current_thread() is threading.main_thread()
    old_term = signal.signal(signal.SIGTERM, on_term) if main else None
    log = open(log_path, "a", encoding="utf-8")
    try:
        for k in range(n):
            th = threading.Thread(target=run, args=(k, log), daemon=True)
            th.start()
            threads.append(th)
        for th in threads:
            th.join()
    except BaseException:  # Ctrl+C: stop the workers and their kernels; what was graded is kept
        stop.set()
        for w in list(live):
            w.kill()
        for th in threads:
            th.join(timeout=10)
        raise
    finally:
        if main:
            signal.signal(signal.SIGTERM, old_term)
        log.close()
        shutil.rmtree(scratch, ignore_errors=True)
    rep.protection = sorted(protection)


def _code_cells(root: Path, assignment: str) -> int:
    p = root / "release" / assignment / f"{assignment}.ipynb"
    try:
        return sum(c.get("cell_type") == "code" for c in json.loads(p.read_text(encoding="utf-8"))["cells"])
    except (OSError, ValueError, KeyError):
        return 30


class _Worker:
    """One `python -m shequ.gradeops worker` process, fed a submission at a time."""

    def __init__(self, k: int, cfg: dict, log):
        import subprocess

        self.p = subprocess.Popen([sys.executable, "-m", "shequ.gradeops", "worker"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                  env=_worker_env(), cwd=cfg["scratch"], start_new_session=True)
        self.buf = b""
        self._send({**cfg, "index": k})
        hello = self._recv(120)
        self.protection = (hello or {}).get("protection", "")

    def _send(self, obj) -> None:
        self.p.stdin.write((json.dumps(obj, ensure_ascii=False) + "\n").encode())
        self.p.stdin.flush()

    def _recv(self, seconds: float) -> dict | None:
        import select

        end = time.monotonic() + seconds
        fd = self.p.stdout.fileno()
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def grade(self, assignment: str, worker: str, deadline: float) -> dict | None:
        try:
            self._send({"assignment": assignment, "worker": worker})
        except (BrokenPipeError, OSError):
            return None
        return self._recv(deadline)

    def kill(self) -> None:
        import signal

        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.p.wait()

    def close(self) -> None:
        try:
            self.p.stdin.close()
            self.p.wait(timeout=30)
        except Exception:  # noqa: BLE001 - a stuck worker is killed instead
            self.kill()


# ---- the worker process -------------------------------------------------------------------

def _worker_main() -> int:
    # protocol on private copies of fd 0/1; the kernels inherit /dev/null and stderr instead
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    cfg = json.loads(proto_in.readline())
    w = _GradingWorker(cfg)

    def send(obj):
        proto_out.write((json.dumps(obj, ensure_ascii=False) + "\n").encode())
        proto_out.flush()

    send({"hello": True, "protection": w.protection})
    for line in proto_in:
        job = json.loads(line)
        try:
            res = w.grade(job["assignment"], job["worker"])
        except Exception as e:  # noqa: BLE001 - reported for this submission, the worker goes on
            import traceback

            traceback.print_exc()
            res = {"ok": False, "reason": f"评分程序出错：{type(e).__name__}: {e}"}
        send(res)
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown: kernels are gone, the fork-server dies with us


class _GradingWorker:
    def __init__(self, cfg: dict):
        from traitlets.config.loader import PyFileConfigLoader

        self.cfg = cfg
        self.root = Path(cfg["root"])
        self.db_url = cfg["db_url"]
        self.scratch = Path(cfg["scratch"])
        self.kernels = self.scratch / "kernels"
        self.kernels.mkdir(exist_ok=True)
        os.chmod(self.kernels, 0o711)
        self.uid = None
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            self.uid = _usable_uid(SANDBOX_UID_BASE + int(cfg.get("index", 0)))
        if self.uid is not None:
            self.protection = f"沙箱：内核以无特权用户 uid {self.uid} 运行（成绩库与答案目录仅所有者可读写），并有审计钩子"
        elif hasattr(os, "geteuid") and os.geteuid() == 0:
            self.protection = (f"沙箱：Python 环境（{sys.base_prefix}）对无特权用户不可读，内核未降权；"
                               "仅隔离工作目录、清理环境变量、限制资源并用审计钩子拦截")
        else:
            self.protection = "沙箱：非 root 运行，内核未降权；仅隔离工作目录、清理环境变量、限制资源并用审计钩子拦截"
        # a kernelspec named python3 that starts the sandboxed kernel; found first via JUPYTER_PATH
        kdir = self.scratch / f"jupyter-{cfg.get('index', 0)}"
        spec_dir = kdir / "kernels" / "python3"
        spec_dir.mkdir(parents=True, exist_ok=True)
        spec = {"uid": self.uid, "kernels": str(self.kernels), "scratch": str(self.scratch),
                "protect": cfg["protect"], "limits": KERNEL_LIMITS}
        spec_file = kdir / "sandbox.json"
        spec_file.write_text(json.dumps(spec), encoding="utf-8")
        os.chmod(spec_file, 0o600)
        self.zygote = _start_zygote(kdir / "zygote.sock", spec_file)
        if self.zygote is not None:  # kernels are forked from it from now on
            spec["zygote"] = str(kdir / "zygote.sock")
            spec_file.write_text(json.dumps(spec), encoding="utf-8")
        (spec_dir / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "shequ.gradeops", "kernel", "-f", "{connection_file}"],
            "display_name": "Python 3 (shequ sandbox)", "language": "python",
            "env": {"SHEQU_SANDBOX_SPEC": str(spec_file)}}), encoding="utf-8")
        os.environ["JUPYTER_PATH"] = str(kdir)
        self.config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        c = self.config
        c.CourseDirectory.db_url = self.db_url
        c.CourseDirectory.course_id = "shequ"
        c.Execute.timeout = int(cfg["timeout"])
        c.Execute.kernel_name = "python3"  # whatever kernel a submission names
        c.Execute.startup_timeout = 120
        c.Execute.shutdown_kernel = "immediate"  # the scratch folder is thrown away: no graceful exit needed
        c.OverwriteCells.add_missing_cells = True
        c.LiteralGrader.manifest_dir = str(self.root / "manifests")
        from nbgrader.converters import Autograde

        from .grading import HideNotebookFiles

        pre = c.Autograde.autograde_preprocessors if "autograde_preprocessors" in c.Autograde else \
            Autograde.class_traits()["autograde_preprocessors"].default()
        c.Autograde.autograde_preprocessors = [HideNotebookFiles, *pre]
        from nbgrader.apps import NbGraderAPI  # noqa: F401 - import once, before the first job

    def grade(self, assignment: str, worker: str) -> dict:
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        sub = Path(tempfile.mkdtemp(prefix="s-", dir=self.scratch))
        os.chmod(sub, 0o711)
        try:
            src = self.root / "source" / assignment
            dst = sub / "source" / assignment
            dst.mkdir(parents=True)
            for p in src.iterdir() if src.is_dir() else []:
                if p.is_file() and p.suffix != ".ipynb":  # data files only: no answer key here
                    shutil.copy2(p, dst / p.name)
            shutil.copytree(self.root / "submitted" / worker / assignment, sub / "submitted" / worker / assignment)
            self.config.CourseDirectory.root = str(sub)
            coursedir = CourseDirectory(config=self.config)
            api = NbGraderAPI(coursedir=coursedir, config=self.config)
            res = api.autograde(assignment, worker, force=True, create=True)
            log = res.get("log", "") + res.get("error", "")
            if not res.get("success"):
                print(log, file=sys.stderr, flush=True)
                return {"ok": False, "reason": _reason(log), "retry": "database is locked" in log,
                        "notes": _sandbox_notes(sub)}
            graded = sub / "autograded" / worker / assignment
            notes = _notes(graded / f"{assignment}.ipynb") + _sandbox_notes(sub)
            target = self.root / "autograded" / worker / assignment
            tmp = target.parent / (f".{assignment}.new")
            shutil.rmtree(tmp, ignore_errors=True)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(graded, tmp)
            old = target.parent / (f".{assignment}.old")
            shutil.rmtree(old, ignore_errors=True)
            if target.exists():
                os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
            s, m, cells, auto = _scores(self.db_url, assignment, [worker]).get(worker, (None, None, {}, None))
            return {"ok": True, "score": s, "max_score": m, "cells": cells, "notes": notes, "auto": auto}
        finally:
            shutil.rmtree(sub, ignore_errors=True)


def _start_zygote(sock: Path, spec_file: Path):
    """The kernel fork-server of this worker, or None if it does not come up."""
    import select
    import subprocess

    p = subprocess.Popen([sys.executable, "-m", "shequ.gradeops", "zygote", str(sock), str(spec_file)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, cwd=str(sock.parent))
    r, _, _ = select.select([p.stdout], [], [], 120)
    if r and p.stdout.readline().strip() == b"ready":
        return p
    p.kill()
    p.wait()
    return None


def _usable_uid(uid: int) -> int | None:
    """A uid the kernel can drop to and still run this Python; None if there is none."""
    import site
    import sysconfig

    need = [os.path.realpath(sys.executable)]
    need += [p for p in {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib"),
                         sysconfig.get_path("purelib"), sysconfig.get_path("platlib"),
                         *site.getsitepackages()} if p and os.path.isdir(p)]
    for cand in (uid, 65534):
        pid = os.fork()
        if pid == 0:  # child: become cand, then check it can reach the interpreter and its packages
            code = 1
            try:
                os.setgroups([])
                os.setgid(cand)
                os.setuid(cand)
                code = 0 if all(os.access(p, os.R_OK | os.X_OK) for p in need) else 1
            except BaseException:  # noqa: BLE001
                code = 1
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) == 0:
            return cand
    return None


def _reason(log: str) -> str:
    low = log.lower()
    if "deadkernel" in low or "kernel died" in low:
        return "内核意外退出（代码可能耗尽了内存或结束了进程）"
    if "unresponsivekernel" in low or "became unresponsive" in low:
        return "内核无响应（死循环且无法中断）"
    if "notjson" in low or "does not appear to be json" in low or "jsondecodeerror" in low:
        return "文件不是有效的笔记本（JSON 无法解析）"
    if "schema" in low or "validationerror" in low or "metadata" in low and "changed" in low:
        return "笔记本结构或 nbgrader 元数据被改坏，无法评分"
    if "database is locked" in low:
        return "成绩库被占用（database is locked），稍后重新运行 shequ grade"
    if "kernel didn't respond" in low or "timeout waiting" in low:
        return "内核启动超时"
    lines = [ln for ln in log.strip().splitlines() if ln.strip()]
    return "nbgrader 无法评分：" + (lines[-1][-300:] if lines else "未知原因")


def _notes(nb_path: Path) -> list[str]:
    try:
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    timeouts, truncated = [], []
    for c in nb.get("cells", []):
        gid = c.get("metadata", {}).get("nbgrader", {}).get("grade_id") or c.get("id", "?")
        for o in c.get("outputs", []):
            if o.get("output_type") == "error" and o.get("ename") == "CellTimeoutError":
                timeouts.append(gid)
            text = _src(o.get("text", "")) if o.get("output_type") == "stream" else ""
            if "... Output truncated ..." in text or OUTPUT_CUT in text:
                truncated.append(gid)
    notes = []
    if timeouts:
        notes.append("单元格 " + "、".join(dict.fromkeys(timeouts)) + " 运行超时，已中断（死循环？）")
    if truncated:
        notes.append("单元格 " + "、".join(dict.fromkeys(truncated)) + " 输出过长，已截断")
    return notes


def _sandbox_notes(sub: Path) -> list[str]:
    p = sub / "sandbox.log"
    if not p.exists():
        return []
    lines = list(dict.fromkeys(ln.strip() for ln in p.read_text(encoding="utf-8", errors="replace").splitlines()
                               if ln.strip()))
    if not lines:
        return []
    lines.sort(key=lambda ln: "/proc/" in ln)  # files of the course first, then other processes
    shown = "；".join(lines[:4]) + (f" 等 {len(lines)} 处" if len(lines) > 4 else "")
    return [f"代码试图访问评分环境之外的受保护资源，已阻止（{shown}）"]


# ---- the sandboxed kernel -----------------------------------------------------------------

def _kernel_main(argv: list[str]) -> None:
    """The kernel jupyter_client starts. With a kernel fork-server (one per grading worker) it is
    a thin proxy: the fork-server forks a kernel that has ipykernel and pandas imported already
    (saves ~1 s of CPU per submission); the proxy forwards signals to it and exits with it, and
    the kernel exits when the proxy is killed. Without one, the kernel starts in this process."""
    import socket

    spec = json.loads(Path(os.environ["SHEQU_SANDBOX_SPEC"]).read_text(encoding="utf-8"))
    req = {"argv": argv, "cwd": os.getcwd(),
           "env": {k: os.environ[k] for k in ("JPY_PARENT_PID", "NBGRADER_EXECUTION", "TZ") if k in os.environ}}
    zs = spec.get("zygote")
    sock = None
    if zs:
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(zs)
            sock.sendall(json.dumps(req).encode() + b"\n")
            reply = sock.makefile("rb")
            pid = int(reply.readline())
        except (OSError, ValueError):
            sock = None
    if sock is None:  # no fork-server: start the kernel here
        _kernel_child(req, spec, None)
        return
    import signal

    def forward(signum, frame):
        try:
            os.kill(pid, signum)
        except OSError:
            pass
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(sig, forward)
    line = reply.readline()  # the fork-server writes the kernel's exit status when it ends
    os._exit(int(line) if line.strip().lstrip(b"-").isdigit() else 1)


def _zygote_main(argv: list[str]) -> None:
    """Kernel fork-server: imports what every kernel needs once, then forks one kernel per request
    on its UNIX socket (root-only, inside the scratch folder). It never runs a worker's code."""
    import select
    import signal
    import socket

    sock_path, spec_file = argv[:2]
    for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[k] = "1"  # no thread pools before fork()
    from ipykernel.kernelapp import IPKernelApp  # noqa: F401 - preloaded for every kernel
    for mod in ("IPython", "numpy", "pandas"):
        try:
            __import__(mod)
        except ImportError:
            pass
    spec = json.loads(Path(spec_file).read_text(encoding="utf-8"))
    _die_with_parent()
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(sock_path)
    os.chmod(sock_path, 0o600)
    srv.listen(16)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nobody reads this pipe any more: kernels must not block on it
    children: dict[int, object] = {}
    while True:
        ready, _, _ = select.select([srv], [], [], 0.05)
        while children:  # reap finished kernels and tell their proxies
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            conn = children.pop(pid, None)
            if conn is not None:
                try:
                    conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
                except OSError:
                    pass
                conn.close()
        if not ready:
            continue
        conn, _ = srv.accept()
        try:
            conn.settimeout(30)
            req = json.loads(conn.makefile("rb").readline())
            conn.settimeout(None)
        except (OSError, ValueError):
            conn.close()
            continue
        pid = os.fork()
        if pid == 0:  # the kernel
            code = 1
            try:
                srv.close()
                for other in children.values():
                    other.close()
                for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
                    signal.signal(sig, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.default_int_handler)
                _kernel_child(req, spec, conn)
                code = 0
            except BaseException:  # noqa: BLE001
                import traceback

                traceback.print_exc()
            os._exit(code)
        children[pid] = conn
        try:
            conn.sendall(f"{pid}\n".encode())
        except OSError:
            pass


def _kernel_child(req: dict, spec: dict, proxy) -> None:
    """Become a sandboxed IPython kernel: scrubbed environment, limits, lower uid, audit hook."""
    import random
    import resource
    import threading as _threading

    argv = list(req["argv"])
    conn = argv[argv.index("-f") + 1]
    kdir = tempfile.mkdtemp(prefix="k-", dir=spec["kernels"])
    new_conn = os.path.join(kdir, "connection.json")
    shutil.copyfile(conn, new_conn)
    argv = [new_conn if a == conn else a for a in argv]
    cwd = req["cwd"]
    os.chdir(cwd)
    if sys.path and sys.path[0] != cwd:
        sys.path[0] = cwd  # like `python -m` started in the kernel's folder
    scratch = os.path.realpath(spec["scratch"])
    # cwd = <scratch>/<sub>/autograded/<worker>/<assignment>: the refusal log goes to <sub>
    parts = Path(os.path.realpath(cwd)).relative_to(scratch).parts if os.path.realpath(cwd).startswith(
        scratch + os.sep) else ()
    log_fd = -1
    if len(parts) >= 2:
        log_fd = os.open(os.path.join(scratch, parts[0], "sandbox.log"),
                         os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    env = dict(req.get("env", {}))
    env.update({
        "PATH": os.path.dirname(sys.executable) + ":/usr/local/bin:/usr/bin:/bin",
        "HOME": kdir, "TMPDIR": kdir, "IPYTHONDIR": os.path.join(kdir, "ipython"),
        "MPLCONFIGDIR": os.path.join(kdir, "mpl"), "JUPYTER_CONFIG_DIR": os.path.join(kdir, "jupyter"),
        "JUPYTER_DATA_DIR": os.path.join(kdir, "jupyter"), "JUPYTER_RUNTIME_DIR": kdir,
        "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    })
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = kdir
    random.seed()  # not the fork-server's state
    lim = spec["limits"]
    for res, value in ((resource.RLIMIT_FSIZE, lim["fsize"]), (resource.RLIMIT_AS, lim["as"]),
                       (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(res, (value, value))
        except (ValueError, OSError):
            pass
    uid = spec.get("uid")
    if uid is not None:
        for p in (kdir, new_conn):
            os.chown(p, uid, uid)
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        try:
            resource.setrlimit(resource.RLIMIT_NPROC, (lim["nproc"], lim["nproc"]))
        except (ValueError, OSError):
            pass
    _die_with_parent()
    if proxy is not None:  # the proxy jupyter_client manages was killed: end with it
        def watch():
            try:
                proxy.recv(1)
            finally:
                os._exit(0)
        _threading.Thread(target=watch, daemon=True).start()
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(argv)
    _limit_output(app, OUTPUT_LIMIT)
    own = [os.path.realpath(cwd), kdir]
    _install_guard(spec["protect"] + [scratch], own, log_fd)
    app.start()


def _limit_output(app, limit: int) -> None:
    """At most `limit` characters of stdout/stderr per cell reach the grader; the rest is dropped
    in the kernel (a million printed lines would otherwise flood the grading process)."""
    state = {"n": 0, "cut": False}

    def reset(*_):
        state["n"], state["cut"] = 0, False

    app.shell.events.register("pre_execute", reset)
    for stream in (sys.stdout, sys.stderr):
        def write(s, _orig=stream.write):
            if state["cut"]:
                return len(s)
            state["n"] += len(s)
            if state["n"] > limit:
                state["cut"] = True
                _orig("\n" + OUTPUT_CUT + "\n")
                return len(s)
            return _orig(s)
        stream.write = write


def _die_with_parent() -> None:
    """PR_SET_PDEATHSIG: the kernel dies with the grading worker (set after setuid)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _install_guard(protect: list[str], allow: list[str], log_fd: int) -> None:
    """Audit hook: refuse access to protected paths, other processes, spawning, new C symbols."""
    import os as _os
    import sys as _sys

    realpath, fsdecode, sep = _os.path.realpath, _os.fsdecode, _os.sep
    prot = tuple(realpath(p).rstrip(sep) + sep for p in protect)
    ok = tuple(realpath(p).rstrip(sep) + sep for p in allow)
    me = _os.getpid()
    own_proc = (f"/proc/{me}/", "/proc/self/", "/proc/thread-self/")
    logged = [0]
    path_events = {"socket.connect": 1, "open": 0, "os.listdir": 0, "os.scandir": 0, "os.chdir": 0, "sqlite3.connect": 0,
                   "shutil.copyfile": 0, "shutil.copytree": 0, "os.rename": 0, "os.remove": 0,
                   "os.rmdir": 0, "os.truncate": 0, "os.chmod": 0, "os.chown": 0, "os.utime": 0,
                   "os.link": 0, "os.symlink": 1, "os.mkdir": 0, "shutil.rmtree": 0, "os.chroot": 0}
    spawn = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
             "os.forkpty", "pty.spawn", "ctypes.dlopen", "ctypes.dlsym", "os.kill", "os.killpg",
             }

    def refuse(what: str) -> None:
        if log_fd >= 0 and logged[0] < 20:
            logged[0] += 1
            try:
                _os.write(log_fd, (what + "\n").encode("utf-8", "replace"))
            except OSError:
                pass
        raise PermissionError(f"评分环境禁止此操作：{what}")

    def hook(event, args):
        if event in path_events:
            if not args:
                return
            arg = args[path_events[event]] if len(args) > path_events[event] else args[0]
            if isinstance(arg, int) or arg is None:
                return
            try:
                s = fsdecode(arg)
                if s.startswith("file:"):  # sqlite URI
                    s = s[5:].split("?", 1)[0]
                p = realpath(s)
            except (TypeError, ValueError):
                return
            q = p.rstrip(sep) + sep
            if q.endswith(".ipynb" + sep):  # the notebook being graded holds the hidden tests
                refuse(f"{event} {p}")
            if q.startswith(ok):
                return
            if q.startswith(prot):
                refuse(f"{event} {p}")
            if q.startswith("/proc/") and not q.startswith(own_proc):
                seg = q.split("/")
                # another process: harmless status files only, never environ, cwd, fd, root, mem…
                if seg[2].isdigit() and len(seg) > 4 and seg[3] not in PROC_OK:
                    refuse(f"{event} {p}")
        elif event in spawn:
            if event in ("os.kill", "os.killpg") and args and args[0] in (me, 0):
                return
            refuse(event)

    _sys.addaudithook(hook)


def _batch_main(argv: list[str]) -> int:
    """`nbgrader generate_assignment` (and `release_assignment` with --release) for many
    assignments in one process: nbgrader's start-up is paid once, not once per assignment."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    release = "--release" in argv
    names = [a for a in argv if not a.startswith("--")]
    config = PyFileConfigLoader("nbgrader_config.py", path=os.getcwd()).load_config()
    api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
    failed = 0
    for a in names:
        steps = [("generate_assignment", lambda: api.generate_assignment(a, force=True, create=True))]
        if release:
            steps.append(("release_assignment", lambda: api.release_assignment(a)))
        for what, step in steps:
            res = step()
            if not res.get("success"):
                failed += 1
                print(f"nbgrader {what} {a} 失败：\n{res.get('log', '')[-3000:]}\n{res.get('error', '')[-3000:]}",
                      file=sys.stderr)
                break
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "batch":
        return _batch_main(argv[1:])
    if argv and argv[0] == "worker":
        return _worker_main()
    if argv and argv[0] == "kernel":
        _kernel_main(argv[1:])
        return 0
    if argv and argv[0] == "zygote":
        _zygote_main(argv[1:])
        return 0
    print("用法：python -m shequ.gradeops worker|kernel（供 shequ grade 内部使用）", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
