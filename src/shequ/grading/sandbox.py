"""The sandbox around exercise kernels (`python -m shequ.grading.sandbox kernel|zygote`).

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

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

# keep this module's top level light: every sandboxed kernel starts by importing it

SECRET_DIRS = ("source", "manifests", "submitted", "autograded", "feedback", "backups")


SANDBOX_UID_BASE = 61000


OUTPUT_LIMIT = 1_000_000  # characters of printed output per cell that reach the grader


OUTPUT_CUT = "... 输出过长，评分时已截断 ..."


KERNEL_LIMITS = {"fsize": 200 * 2**20, "as": 6 * 2**30, "nproc": 512}


PROC_OK = frozenset("stat status statm cmdline comm limits io oom_score oom_score_adj cgroup sched "
                    "schedstat wchan loginuid sessionid".split())


def protect_course(root: Path, db_url: str) -> None:
    """Owner-only permissions on what holds keys, answers and grades."""
    for d in SECRET_DIRS:
        p = root / d
        if p.is_dir():
            os.chmod(p, 0o700)
    from .. import paths

    db = paths.sqlite_path(db_url)
    if db is not None:
        for p in db.parent.glob(db.name + "*"):
            os.chmod(p, 0o600)


def protected_paths(root: Path, db_url: str) -> list[str]:
    from .. import paths

    out = {str(root), str(paths.ROOT / "grading"), str(paths.COURSES), str(paths.EXAMS),
           str(paths.ROOT / "tests"), str(paths.BUILD)}
    db = paths.sqlite_path(db_url)
    if db is not None:
        out.add(str(db.parent))
    return sorted(os.path.realpath(p) for p in out)


def start_zygote(sock: Path, spec_file: Path):
    """The kernel fork-server of this worker, or None if it does not come up."""
    import select
    import subprocess

    p = subprocess.Popen([sys.executable, "-m", "shequ.grading.sandbox", "zygote", str(sock), str(spec_file)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, cwd=str(sock.parent))
    r, _, _ = select.select([p.stdout], [], [], 120)
    if r and p.stdout.readline().strip() == b"ready":
        return p
    p.kill()
    p.wait()
    return None


def usable_uid(uid: int) -> int | None:
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "kernel":
        _kernel_main(argv[1:])
        return 0
    if argv and argv[0] == "zygote":
        _zygote_main(argv[1:])
        return 0
    print("用法：python -m shequ.grading.sandbox kernel|zygote（供 shequ grade 内部使用）", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
