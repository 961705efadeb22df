"""`shequ grade`: grade every submission of an assignment, safely, in parallel, resumably.

- Exams (an exam manifest in grading/manifests/) go through the kernel-free bulk grader
  `bulk.grade_exam`: nothing a worker typed runs.
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

How worker code is kept away from keys and grades: see `sandbox`; the worker
processes and their protocol: `worker`.
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

from ..exam import manifest as manifests
from . import bulk, gradebook, sandbox, submissions
from .course import GradingError, course_root
from .submissions import source_text
from .worker import Worker

STATE_FILE = "grade-state.json"
DEFAULT_TIMEOUT = 60


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
    unknown: list = field(default_factory=list)    # (assignment, worker, folder): id not in the roster
    backup: str = ""
    protection: list = field(default_factory=list)  # what protection was in force (Chinese)
    seconds: float = 0.0
    log: str = ""                                   # this run's log file

    def summary(self) -> list[str]:
        """The run in Chinese, line by line: what the command line prints and the log keeps."""
        lines = list(self.protection)
        lines.append(f"评分完成：{len(self.graded)} 份已评分，{len(self.skipped)} 份未改动跳过，"
                     f"{len(self.failed)} 份无法评分（用时 {self.seconds:.0f} 秒）。")
        noted = [o for o in self.graded if o.notes]
        if noted:
            lines.append("已评分，但需要留意：")
            lines += [f"  {o.worker}（{o.assignment}，{_pts(o.score)}/{_pts(o.max_score)} 分）：" + "；".join(o.notes)
                      for o in noted]
        if self.unknown:
            lines.append("工号不在花名册中，没有评分（先 shequ roster sync，或删除这些作答）：")
            lines += [f"  {w}（{a}）：{d}" for a, w, d in self.unknown]
        if self.failed:
            lines.append("无法评分（原有成绩保留不变）：")
            lines += [f"  {o.worker}（{o.assignment}）：{o.reason}" + ("；" + "；".join(o.notes) if o.notes else "")
                      for o in self.failed]
        return lines

    def outcome(self, worker: str, assignment: str | None = None) -> Outcome | None:
        for o in self.graded + self.failed:
            if o.worker == worker and (assignment is None or o.assignment == assignment):
                return o
        return None


# ---- helpers shared by the parent and the workers ----------------------------------------

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


def _pts(x) -> str:
    return "—" if x is None else f"{x:g}"


def _prepare(assignment: str, root: Path, state: dict, force: bool, db_url: str,
             roster: set[str], unknown: list) -> tuple[list, list, list, dict]:
    """(todo [(worker, key, notes)], failed [Outcome], skipped [worker], release info); ids
    not in the roster go to `unknown`, never graded."""
    release = root / "release" / assignment / f"{assignment}.ipynb"
    ref = {}
    if release.exists():
        rnb = json.loads(release.read_text(encoding="utf-8"))
        for c in rnb.get("cells", []):
            g = c.get("metadata", {}).get("nbgrader", {})
            if g.get("grade_id"):
                ref[g["grade_id"]] = (c.get("cell_type"), source_text(c.get("source", "")), bool(g.get("locked")),
                                      bool(g.get("grade") or g.get("solution")))
    src_hash = _source_hash(root, assignment)
    todo, failed, skipped = [], [], []
    seen = state.get(assignment, {})
    in_gradebook = gradebook.graded_totals(db_url, assignment) if seen and not force else {}
    for d in sorted(p for p in (root / "submitted").glob(f"*/{assignment}") if p.is_dir()):
        worker = d.parent.name
        if worker not in roster:  # e.g. the OS user of a shared JupyterLab: never a nameless student
            unknown.append((assignment, worker, str(d)))
            continue
        key = submission_key(d, assignment, src_hash)
        # unchanged and still in the gradebook with the score recorded then (a reset gradebook regrades)
        recorded = seen.get(worker, {})
        if not force and recorded.get("key") == key and worker in in_gradebook \
                and recorded.get("score") is not None and abs(in_gradebook[worker] - recorded["score"]) < 1e-6:
            skipped.append(worker)
            continue
        nb, why = submissions.read_submission(d / f"{assignment}.ipynb")
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
                  and source_text(have[gid].get("source", "")) != r[1]]
        if edited:
            notes.append("改动了锁定的单元格 " + "、".join(edited) + "（评分时已恢复原样）")
        todo.append((worker, key, notes))
    return todo, failed, skipped, {"source_hash": src_hash}


def grade(assignments: list[str] | str, jobs: int = 1, timeout: int | None = None, force: bool = False,
          out=print, root: Path | None = None, db_url: str | None = None) -> Report:
    """Grade the submissions of one or more assignments (see the module docstring)."""
    if isinstance(assignments, str):
        assignments = [assignments]
    root = Path(root or course_root())
    db_url = db_url or gradebook.db_url(root)
    timeout = int(timeout or os.environ.get("SHEQU_CELL_TIMEOUT") or DEFAULT_TIMEOUT)
    jobs = max(1, int(jobs))
    t0 = time.monotonic()
    rep = Report()
    state = _load_state(root)
    for a in assignments:
        if not (root / "source" / a).is_dir():
            raise GradingError(f"没有作业 {a}：grading/source/{a}/ 不存在"
                                       "（先运行 shequ course build 或 shequ paper build）。")
    exams = [a for a in assignments if gradebook.is_exam(a, root, db_url)]
    for a in exams:  # an exam without a readable manifest is refused before anything is graded
        manifests.exam_manifest(a, root)
    exercises = [a for a in assignments if a not in exams]
    plan = {}
    roster = gradebook.student_ids(db_url)
    for a in exercises:
        gradebook.check_assignment(a, db_url)
        plan[a] = _prepare(a, root, state, force, db_url, roster, rep.unknown)
    anything = exams or any(p[0] for p in plan.values())
    if anything:
        rep.backup = gradebook.backup_gradebook(db_url, root)
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
        sandbox.protect_course(root, db_url)
        _run_pool(todo, root, db_url, timeout, jobs, state, rep, out)
    if rep.skipped:
        out(f"  {len(rep.skipped)} 份作答自上次评分以来没有改动，已跳过（--force 可全部重评）。")
    rep.seconds = time.monotonic() - t0
    rep.log = str(_write_log(root, rep))
    return rep


def _write_log(root: Path, rep: Report) -> Path:
    """Every run leaves its summary in grading/logs/ (the pool adds the workers' output)."""
    d = root / "logs"
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    path = d / f"grade-{time.strftime('%Y%m%d-%H%M%S')}.log"
    with open(path, "a", encoding="utf-8") as f:
        f.write("\n".join(rep.summary()) + "\n")
    return path


def _grade_exam(assignment: str, root: Path, db_url: str, state: dict, rep: Report, out) -> None:
    subs = sorted(p for p in (root / "submitted").glob(f"*/{assignment}") if p.is_dir())
    bar = Progress(assignment, max(len(subs), 1), out)
    r = bulk.grade_exam(assignment, root=root, db_url=db_url, progress=lambda n, total: bar(n))
    src_hash = _source_hash(root, assignment)
    scores = gradebook.submission_scores(db_url, assignment, r.graded)
    seen = state.setdefault(assignment, {})
    rep.unknown += [(assignment, w, d) for w, d in r.unknown.items()]
    for w in r.graded:
        s, m, cells, auto = scores.get(w, (None, None, {}, None))
        rep.graded.append(Outcome(assignment, w, True, s, m, cells, notes=r.notes.get(w, [])))
        seen[w] = {"key": submission_key(root / "submitted" / w / assignment, assignment, src_hash),
                   "score": auto, "max_score": m}
    for w, why in r.failed.items():
        rep.failed.append(Outcome(assignment, w, False, reason=why))
    _save_state(root, state)


def _run_pool(todo: list, root: Path, db_url: str, timeout: int, jobs: int, state: dict,
              rep: Report, out) -> None:
    import queue

    scratch = Path(tempfile.mkdtemp(prefix="shequ-grade-"))
    os.chmod(scratch, 0o711)  # a sandboxed kernel may pass through, never list
    log_path = root / "logs" / f"grade-{time.strftime('%Y%m%d-%H%M%S')}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(log_path.parent, 0o700)
    cfg = {"root": str(root), "db_url": db_url, "timeout": timeout, "scratch": str(scratch),
           "protect": sandbox.protected_paths(root, db_url)}
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
                    w = Worker(k, cfg, log)
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
    live: list[Worker] = []
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


# ---- the worker process -------------------------------------------------------------------


# ---- the sandboxed kernel -----------------------------------------------------------------
