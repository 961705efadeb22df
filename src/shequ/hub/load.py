"""A bounded load on a district server: N workers log in, start their servers, fetch, answer
and submit at once through the hub's pages and REST API; the trainer collects and grades.
Checks that every submission arrives exactly once and is graded, and measures spawn times
and memory (bench/hub_load.py prints them; tests/hub/test_hub_load.py checks the counts)."""
from __future__ import annotations

import glob
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from .scratch import QUIZ, ScratchHub, Visitor, answer_file


@dataclass
class LoadResult:
    workers: int
    spawn_s: list[float] = field(default_factory=list)
    submit_s: list[float] = field(default_factory=list)
    server_rss_mb: list[float] = field(default_factory=list)
    kernel_rss_mb: float = 0.0
    arrived: dict[str, int] = field(default_factory=dict)     # login -> submissions in the exchange
    graded: dict[str, int] = field(default_factory=dict)      # login -> submissions in the gradebook
    wall_s: float = 0.0

    def lines(self) -> list[str]:
        med = statistics.median
        return [
            f"workers: {self.workers} (concurrent log-in, spawn, fetch, submit)",
            f"spawn time: median {med(self.spawn_s):.1f} s, max {max(self.spawn_s):.1f} s",
            f"submit (through the server, nbgrader submit): median {med(self.submit_s):.1f} s, max {max(self.submit_s):.1f} s",
            f"memory per idle server (RSS): median {med(self.server_rss_mb):.0f} MB, max {max(self.server_rss_mb):.0f} MB",
            f"memory per kernel (RSS, python3 idle): {self.kernel_rss_mb:.0f} MB",
            f"arrived exactly once: {sum(v == 1 for v in self.arrived.values())}/{self.workers}; "
            f"graded exactly once: {sum(v == 1 for v in self.graded.values())}/{self.workers}",
            f"wall time: {self.wall_s:.0f} s",
        ]


def rss_mb(uid: int, name_part: str) -> list[float]:
    """Resident memory of the processes of `uid` whose command line contains name_part."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            st = os.stat(f"/proc/{pid}")
            if st.st_uid != uid:
                continue
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if name_part not in cmd:
                continue
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return out


def run(hub: ScratchHub, n: int | None = None) -> LoadResult:
    import pwd

    logins = hub.logins[: n or len(hub.logins)]
    res = LoadResult(workers=len(logins))
    t0 = time.monotonic()
    people = {x: Visitor(hub, x) for x in logins}

    def arrive(login):
        v = people[login]
        if v.log_in() != 302:
            raise RuntimeError(f"{login} 登录失败")
        return v.start_server()

    with ThreadPoolExecutor(len(logins)) as ex:
        res.spawn_s = list(ex.map(arrive, logins))
    time.sleep(2)   # idle: let start-up work settle before reading memory
    for x in logins:
        res.server_rss_mb += rss_mb(pwd.getpwnam(hub.layout.os_user(x)).pw_uid, "jupyterhub-singleuser")
    res.kernel_rss_mb = _kernel_rss(hub, people[logins[0]])

    def hand_in(login):
        v = people[login]
        if not v.step("fetch")["ok"]:
            raise RuntimeError(f"{login} 领取失败")
        answer_file(hub, login, {"q01": "A", "q02": "B", "q03": "对"})
        t = time.monotonic()
        r = v.step("submit")
        if not r["ok"]:
            raise RuntimeError(f"{login} 提交失败：{r['message']}")
        return time.monotonic() - t

    with ThreadPoolExecutor(len(logins)) as ex:
        res.submit_s = list(ex.map(hand_in, logins))
    trainer = Visitor(hub, hub.trainer_logins[0])
    trainer.log_in()
    trainer.start_server()
    for step in ("collect", "grade"):
        r = trainer.step(step)
        if not r["ok"]:
            raise RuntimeError(f"{step}: {r['message']}")
    inbound = hub.layout.exchange / "shequ" / "inbound"
    res.arrived = {x: len(glob.glob(str(inbound / x / f"{x}+{QUIZ}+*"))) for x in logins}
    engine = sa.create_engine(f"sqlite:///{hub.layout.course / 'gradebook.db'}")
    with engine.connect() as con:
        rows = con.execute(sa.text(
            "SELECT s.student_id, count(*) FROM submitted_assignment s JOIN assignment a ON a.id = s.assignment_id "
            "WHERE a.name = :a AND s.id IN (SELECT DISTINCT n.assignment_id FROM submitted_notebook n "
            "JOIN grade g ON g.notebook_id = n.id WHERE g.auto_score IS NOT NULL) GROUP BY s.student_id"),
            {"a": QUIZ}).all()
    engine.dispose()
    res.graded = {x: 0 for x in logins} | {sid: c for sid, c in rows}
    res.wall_s = time.monotonic() - t0
    return res


def _kernel_rss(hub: ScratchHub, v: Visitor) -> float:
    """Start one python3 kernel in a worker's server through its REST API, read its memory."""
    import pwd

    x = next(c.value for c in v.s.cookies if c.name == "_xsrf" and c.path.startswith("/user/"))
    url = f"{hub.url}/user/{v.login}/api/kernels"
    k = v.s.post(url, json={"name": "python3"}, headers={"X-XSRFToken": x}, timeout=120).json()
    uid = pwd.getpwnam(hub.layout.os_user(v.login)).pw_uid
    mem = []
    for _ in range(60):
        mem = rss_mb(uid, "ipykernel_launcher")
        if mem:
            break
        time.sleep(0.5)
    time.sleep(2)
    mem = rss_mb(uid, "ipykernel_launcher") or mem
    v.s.delete(f"{url}/{k['id']}", headers={"X-XSRFToken": x}, timeout=60)
    return max(mem) if mem else 0.0
