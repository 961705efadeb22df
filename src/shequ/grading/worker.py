"""Grading worker processes (`python -m shequ.grading.worker worker`): the parent's handle
`Worker` and the process itself, which grades one exercise submission at a time with
nbgrader's autograde in a scratch course (see `sandbox`) and answers on its stdout; and
`batch`, which generates (and releases) many assignments in one nbgrader process.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from . import gradebook, sandbox
from .course import COURSE_ID
from .submissions import source_text

_DROP_ENV_PREFIXES = ("SHEQU_", "PG", "DATABASE", "JUPYTER_PATH", "JPY_SESSION")


def _worker_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP_ENV_PREFIXES)}
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    return env


class Worker:
    """One `python -m shequ.grading.worker worker` process, fed a submission at a time."""

    def __init__(self, k: int, cfg: dict, log):
        import subprocess

        self.p = subprocess.Popen([sys.executable, "-m", "shequ.grading.worker", "worker"],
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
            self.uid = sandbox.usable_uid(sandbox.SANDBOX_UID_BASE + int(cfg.get("index", 0)))
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
                "protect": cfg["protect"], "limits": sandbox.KERNEL_LIMITS}
        spec_file = kdir / "sandbox.json"
        spec_file.write_text(json.dumps(spec), encoding="utf-8")
        os.chmod(spec_file, 0o600)
        self.zygote = sandbox.start_zygote(kdir / "zygote.sock", spec_file)
        if self.zygote is not None:  # kernels are forked from it from now on
            spec["zygote"] = str(kdir / "zygote.sock")
            spec_file.write_text(json.dumps(spec), encoding="utf-8")
        (spec_dir / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "shequ.grading.sandbox", "kernel", "-f", "{connection_file}"],
            "display_name": "Python 3 (shequ sandbox)", "language": "python",
            "env": {"SHEQU_SANDBOX_SPEC": str(spec_file)}}), encoding="utf-8")
        os.environ["JUPYTER_PATH"] = str(kdir)
        self.config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        c = self.config
        c.CourseDirectory.db_url = self.db_url
        c.CourseDirectory.course_id = COURSE_ID
        c.Execute.timeout = int(cfg["timeout"])
        c.Execute.kernel_name = "python3"  # whatever kernel a submission names
        c.Execute.startup_timeout = 120
        c.Execute.shutdown_kernel = "immediate"  # the scratch folder is thrown away: no graceful exit needed
        c.OverwriteCells.add_missing_cells = True
        c.LiteralGrader.manifest_dir = str(self.root / "manifests")
        c.LiteralGrader.source_dir = str(self.root / "source")  # the scratch course has no source notebooks
        from nbgrader.converters import Autograde

        from .plugins import HideNotebookFiles

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
            s, m, cells, auto = gradebook.submission_scores(self.db_url, assignment, [worker]).get(worker, (None, None, {}, None))
            return {"ok": True, "score": s, "max_score": m, "cells": cells, "notes": notes, "auto": auto}
        finally:
            shutil.rmtree(sub, ignore_errors=True)


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
    if "kernel didn't respond" in low:
        return "内核启动超时（内核没有在规定时间内启动，可稍后重新评分）"
    if "timeout waiting for execute reply" in low or "celltimeouterror" in low or "cell timed out" in low:
        return "单元格运行超时（超过 --timeout 秒仍未结束，也无法中断）"
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
            text = source_text(o.get("text", "")) if o.get("output_type") == "stream" else ""
            if "... Output truncated ..." in text or sandbox.OUTPUT_CUT in text:
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
    print("用法：python -m shequ.grading.worker worker|batch（供 shequ grade 内部使用）", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
