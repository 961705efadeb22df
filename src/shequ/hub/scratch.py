"""A throw-away district server for tests and benchmarks: its own state folder, course,
OS-account prefix and ports, a small synthetic roster, one released quiz; removed afterwards
(hub stopped, OS accounts and groups deleted, ACL entries taken back).

Nothing here touches the project's build/ or grading/: everything lives under `root`.
"""
from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import string
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import accounts, server, system
from .layout import Layout

QUIZ = "hub-quiz"
BLUEPRINT = """\
title: 平台演示小测（两道单选、一道判断）
time_limit_minutes: 10
pass_mark: 60
seed: 7
sections:
  - type: 单选
    count: 2
    points: 1
  - type: 判断
    count: 1
    points: 1
"""


def free_port_block(n: int = 3) -> int:
    """A port p with p..p+n-1 free on loopback (the hub uses three)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p + n >= 65535:
            continue
        ok = True
        for q in range(p, p + n):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", q))
                except OSError:
                    ok = False
                    break
        if ok:
            return p
    raise RuntimeError("no free ports")


@dataclass
class ScratchHub:
    root: Path
    workers: int = 2
    trainers: int = 1
    layout: Layout = field(init=False)
    proc: object = None
    passwords: dict[str, str] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)
    trainer_logins: list[str] = field(default_factory=list)
    changed: list = field(default_factory=list)    # project modes before the hub closed them

    def __post_init__(self):
        self.root = Path(self.root)
        prefix = "t" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(4)) + "-"
        from .. import paths

        self.layout = Layout(state=self.root / "state", course=self.root / "course",
                             project=paths.ROOT.resolve(), prefix=prefix, port=free_port_block())

    # ---- set-up -------------------------------------------------------------------------------
    def build(self) -> ScratchHub:
        system.require_root("测试用的区培训平台")
        from ..exam import paper
        from ..grading import course as nbcourse
        from ..synth import district

        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o711)
        nbcourse.new_course(self.layout.course)
        staff = district.staff()[: self.workers]
        roster = self.root / "roster.csv"
        roster.write_text(district.csv_text(staff), encoding="utf-8")
        tr = district.trainers()[: self.trainers]
        trainers = self.root / "trainers.csv"
        trainers.write_text(district.csv_text(tr), encoding="utf-8")
        self.logins = [r["worker_id"] for r in staff]
        self.trainer_logins = [r["worker_id"] for r in tr]
        with self.env():
            self.changed += server.prepare(self.layout)   # what sync would do first; recorded
            rep = accounts.sync(self.layout, accounts.people(roster, trainers),
                                db_url=f"sqlite:///{self.layout.course / 'gradebook.db'}")
            self.passwords = read_passwords(rep.password_files)
            papers = self.root / "papers"
            papers.mkdir(exist_ok=True)
            (papers / f"{QUIZ}.yaml").write_text(BLUEPRINT, encoding="utf-8")
            built = paper.build(QUIZ, papers_dir=papers, out_root=self.layout.course)
            nbcourse.generate_many([m["assignment"] for m in built])
            # hub.json first: release goes to the hub's exchange
            self.changed += server.prepare(self.layout)
            nbcourse.release(QUIZ)
        return self

    @contextlib.contextmanager
    def env(self):
        """This hub's variables in os.environ (what its commands and config read)."""
        from .. import paths

        saved = {k: os.environ.get(k) for k in [*self.layout.env(), "SHEQU_DB_URL"]}
        old_grading = paths.GRADING
        os.environ.update(self.layout.env())
        os.environ.pop("SHEQU_DB_URL", None)
        paths.GRADING = self.layout.course
        try:
            yield
        finally:
            paths.GRADING = old_grading
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def start(self) -> ScratchHub:
        with self.env():
            log = open(self.root / "hub.log", "ab")
            self.proc = server.start(self.layout, wait=False, log=log)
            server.wait_up(self.layout, self.proc, timeout=90)
        return self

    @property
    def url(self) -> str:
        return self.layout.url.rstrip("/")

    def log_text(self) -> str:
        p = self.root / "hub.log"
        return p.read_text(encoding="utf-8", errors="replace") if p.exists() else ""

    # ---- tear-down ----------------------------------------------------------------------------
    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            import signal

            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except Exception:
                self.proc.kill()
        # servers the hub could not stop: everything run by this hub's accounts
        for user in self.os_users():
            os.system(f"pkill -KILL -u {user} >/dev/null 2>&1")
        time.sleep(0.5)
        with contextlib.suppress(Exception):
            system.let_through(self.layout, [self.layout.state, self.layout.course,
                                             *system.interpreter_dirs(), self.layout.project / "src"], remove=True)
        for user in self.os_users():
            with contextlib.suppress(Exception):
                system.delete_user(user)
        # the project as it was before this hub: the rest of a test run reads it as before
        system.restore(self.changed)
        for role in ("worker", "trainer"):
            with contextlib.suppress(Exception):
                system.delete_group(self.layout.group(role))
        shutil.rmtree(self.root, ignore_errors=True)

    def os_users(self) -> list[str]:
        import pwd

        return [p.pw_name for p in pwd.getpwall() if p.pw_name.startswith(self.layout.prefix)]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_passwords(files) -> dict[str, str]:
    """{login: password} from the per-street workbooks (what a 街道 hands out)."""
    import openpyxl

    out = {}
    for f in files:
        ws = openpyxl.load_workbook(f, read_only=True).active
        rows = list(ws.iter_rows(values_only=True))
        head = next(i for i, r in enumerate(rows) if r and r[0] == "工号（登录名）")
        for r in rows[head + 1:]:
            if r and r[0]:
                out[str(r[0])] = str(r[3])
    return out


class Visitor:
    """One person using the hub with requests: log in, start their server, call /shequ."""

    def __init__(self, hub: ScratchHub, login: str, password: str | None = None):
        import requests

        self.hub, self.login = hub, login
        self.password = password if password is not None else hub.passwords[login]
        self.s = requests.Session()

    def log_in(self) -> int:
        base = self.hub.url
        self.s.get(f"{base}/hub/login", timeout=30)
        r = self.s.post(f"{base}/hub/login", timeout=60, allow_redirects=False,
                        data={"username": self.login, "password": self.password, "_xsrf": self.s.cookies.get("_xsrf", path="/hub/")})
        return r.status_code

    def start_server(self, timeout: float = 180) -> float:
        """Ask the hub for this person's server and wait until /shequ answers; seconds taken."""
        t0 = time.monotonic()
        # the hub's spawn page starts the server (there is no options form) and redirects to
        # the pending page; the server is up once its /shequ API answers
        r = self.s.get(f"{self.hub.url}/hub/spawn", timeout=60, allow_redirects=False)
        if r.status_code not in (200, 302):
            raise RuntimeError(f"{self.login}: {r.status_code} {r.text[:300]}")
        while time.monotonic() - t0 < timeout:
            r = self.s.get(f"{self.hub.url}/user/{self.login}/shequ/api/assignments", timeout=60)
            if r.status_code == 200 and r.headers.get("content-type", "").startswith("application/json"):
                return time.monotonic() - t0
            time.sleep(0.5)
        raise TimeoutError(f"{self.login} 的服务器 {timeout} 秒内没有启动")

    def assignments(self) -> list[dict]:
        return self.s.get(f"{self.hub.url}/user/{self.login}/shequ/api/assignments", timeout=60).json()["assignments"]

    def step(self, step: str, assignment: str = QUIZ) -> dict:
        x = next(c.value for c in self.s.cookies if c.name == "_xsrf" and c.path.startswith("/user/"))
        r = self.s.post(f"{self.hub.url}/user/{self.login}/shequ/api/{step}/{assignment}",
                        headers={"X-XSRFToken": x}, timeout=600)
        return r.json()

    def contents(self, path: str, owner: str | None = None):
        """The Jupyter server's contents API (owner: whose server; default their own)."""
        x = next((c.value for c in self.s.cookies if c.name == "_xsrf" and c.path.startswith("/user/")), "")
        return self.s.get(f"{self.hub.url}/user/{owner or self.login}/api/contents/{path}",
                          headers={"X-XSRFToken": x}, timeout=60, allow_redirects=False)


def answer_file(hub: ScratchHub, login: str, answers: dict[str, str]) -> Path:
    """Fill `qNN = "…"` answer cells of the worker's fetched quiz, as the worker would (the
    file is written as their OS account)."""
    import json
    import pwd
    import subprocess

    nb = hub.layout.home(login) / "assignments" / QUIZ / f"{QUIZ}.ipynb"
    code = (
        "import json,sys,re\n"
        f"p={str(nb)!r}\n"
        "nb=json.load(open(p,encoding='utf-8'))\n"
        f"ans={json.dumps(answers)}\n"
        "for c in nb['cells']:\n"
        "    src=''.join(c['source'])\n"
        "    m=re.match(r'\\s*(q\\d+)\\s*=', src)\n"
        "    if c['cell_type']=='code' and m and m.group(1) in ans:\n"
        "        c['source']=f'{m.group(1)} = \"{ans[m.group(1)]}\"'\n"
        "json.dump(nb,open(p,'w',encoding='utf-8'),ensure_ascii=False)\n")
    user = hub.layout.os_user(login)
    pwd.getpwnam(user)
    subprocess.run(["runuser", "-u", user, "--", str(hub.layout.bin / "python"), "-c", code], check=True)
    return nb

