"""Each worker is themselves, and only themselves: tried as a logged-in worker, through the
file system (commands run as their OS account, which is what their terminal and kernel are)
and through the Jupyter server API."""
from __future__ import annotations

import glob
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from shequ import paths
from shequ.hub import scratch

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hub(scratch_hub):
    h = scratch_hub(workers=2, trainers=2)
    a, b = h.logins
    va, vb, vt = scratch.Visitor(h, a), scratch.Visitor(h, b), scratch.Visitor(h, h.trainer_logins[0])
    for v in (va, vb, vt):
        assert v.log_in() == 302, h.log_text()[-3000:]
        v.start_server()
    assert va.step("fetch")["ok"]
    scratch.answer_file(h, a, {"q01": "A", "q02": "B", "q03": "对"})
    assert va.step("submit")["ok"]
    for step in ("collect", "grade", "release"):
        assert vt.step(step)["ok"], step
    assert va.step("feedback")["ok"]
    return {"hub": h, "a": a, "b": b, "va": va, "vb": vb, "vt": vt}


def as_user(hub, login: str, *cmd: str) -> subprocess.CompletedProcess:
    """A shell command run as the worker's OS account (as their terminal or kernel would)."""
    return subprocess.run(["runuser", "-u", hub.layout.os_user(login), "--", "sh", "-c", " ".join(cmd)],
                          capture_output=True, text=True)


def inbound(h, login) -> Path:
    return h.layout.exchange / "shequ" / "inbound" / login


def a_submission(h, login) -> Path:
    (sub,) = [Path(p) for p in glob.glob(str(inbound(h, login) / f"{login}+{scratch.QUIZ}+*"))]
    return sub


def test_a_submission_is_recorded_under_the_hub_login_not_the_os_account(hub):
    h, a = hub["hub"], hub["a"]
    sub = a_submission(h, a)
    assert sub.name.startswith(f"{a}+{scratch.QUIZ}+")          # nbgrader's student id is the login
    import pwd
    assert pwd.getpwuid(sub.stat().st_uid).pw_name == h.layout.os_user(a) != a
    assert (h.layout.course / "submitted" / a / scratch.QUIZ / f"{scratch.QUIZ}.ipynb").exists()
    engine = sa.create_engine(f"sqlite:///{h.layout.course / 'gradebook.db'}")
    with engine.connect() as con:
        ids = {r[0] for r in con.execute(sa.text("SELECT student_id FROM submitted_assignment"))}
    engine.dispose()
    assert ids == {a}


def test_another_worker_cannot_list_read_change_or_delete_a_submission(hub):
    h, a, b = hub["hub"], hub["a"], hub["b"]
    sub = a_submission(h, a)
    nb = sub / f"{scratch.QUIZ}.ipynb"
    before = nb.read_bytes()
    for cmd in (f"ls '{inbound(h, a)}'", f"ls '{inbound(h, a).parent}'", f"cat '{nb}'",
                f"rm -rf '{sub}'", f"echo x > '{nb}'", f"touch '{inbound(h, a)}/{a}+{scratch.QUIZ}+x+y'",
                f"mv '{sub}' /tmp/stolen"):
        r = as_user(h, b, cmd)
        assert r.returncode != 0 and "Permission denied" in r.stderr, (cmd, r.stdout, r.stderr)
    assert nb.read_bytes() == before


def test_another_worker_cannot_read_feedback_or_home(hub):
    h, a, b = hub["hub"], hub["a"], hub["b"]
    (fb,) = list((h.layout.exchange / "shequ" / "feedback" / a).glob("*.html"))
    (fetched,) = list((h.layout.home(a) / "assignments" / scratch.QUIZ / "feedback").glob("*/*.html"))
    for cmd in (f"cat '{fb}'", f"ls '{fb.parent}'", f"cat '{fetched}'", f"ls '{h.layout.home(a)}'",
                f"rm -f '{fb}'"):
        r = as_user(h, b, cmd)
        assert r.returncode != 0 and "Permission denied" in r.stderr, (cmd, r.stderr)
    assert fb.exists() and fetched.exists()
    # and the owner can: the same commands work for them
    assert as_user(h, a, f"cat '{fetched}'").returncode == 0


def test_a_worker_cannot_read_keys_manifests_the_gradebook_sources_or_the_hub_database(hub):
    h, b = hub["hub"], hub["b"]
    course = h.layout.course
    secrets_ = [course / "gradebook.db", *course.glob("manifests/*"), *course.glob("source/*/*.ipynb"),
                *course.glob("autograded/*/*/*.ipynb"), course / "nbgrader_config.py",
                next(paths.BANK.glob("*.yaml")), paths.ROOT / "grading" / "nbgrader_config.py",
                *paths.COURSES.glob("*/exercises/*.ipynb"), h.layout.hub_db,
                *h.layout.passwords.rglob("*.xlsx")]
    assert len(secrets_) >= 8
    for p in secrets_:
        r = as_user(h, b, f"cat '{p}' > /dev/null")
        assert r.returncode != 0 and "Permission denied" in r.stderr, (str(p), r.stderr)
    for d in (course, paths.EXAMS, paths.ROOT / "grading", paths.ROOT, h.layout.private):
        r = as_user(h, b, f"ls '{d}'")
        assert r.returncode != 0 and "Permission denied" in r.stderr, (str(d), r.stderr)


def test_a_worker_cannot_hand_in_as_somebody_else(hub):
    h, a, b = hub["hub"], hub["a"], hub["b"]
    vb = hub["vb"]
    assert vb.step("fetch")["ok"]
    # their own nbgrader config claiming the other login: the exchange refuses the folder
    cfg = h.layout.home(b) / "nbgrader_config.py"
    r = as_user(h, b, f"echo \"c = get_config(); c.CourseDirectory.student_id = '{a}'\" > '{cfg}'")
    assert r.returncode == 0, r.stderr
    before = sorted(p.name for p in inbound(h, a).iterdir())
    assert not vb.step("submit")["ok"]
    assert sorted(p.name for p in inbound(h, a).iterdir()) == before
    as_user(h, b, f"rm -f '{cfg}'")
    # a folder in their own inbound named as the other worker's: collect leaves it out
    fake = inbound(h, b) / f"{a}+{scratch.QUIZ}+2099-01-01 00:00:00.000000 UTC+forged"
    r = as_user(h, b, f"mkdir '{fake}' && cp '{h.layout.home(b)}/assignments/{scratch.QUIZ}/{scratch.QUIZ}.ipynb' '{fake}/'"
                f" && echo '2099-01-01 00:00:00.000000 UTC' > '{fake}/timestamp.txt'")
    assert r.returncode == 0, r.stderr
    stamp = (h.layout.course / "submitted" / a / scratch.QUIZ / "timestamp.txt").read_text()
    assert hub["vt"].step("collect")["ok"]
    assert (h.layout.course / "submitted" / a / scratch.QUIZ / "timestamp.txt").read_text() == stamp


def test_through_the_server_api_a_worker_reaches_only_their_own_workspace(hub):
    h, a, va, vb = hub["hub"], hub["a"], hub["va"], hub["vb"]
    own = va.contents("")
    assert own.status_code == 200
    names = {c["name"] for c in own.json()["content"]}
    assert {"lessons", "assignments"} <= names and not names & {"src", "grading", "exams", "tests", "datasets"}
    # the other worker's server, its files and its assignment page: refused
    assert vb.contents("", owner=a).status_code == 403
    assert vb.contents(f"assignments/{scratch.QUIZ}", owner=a).status_code == 403
    x = next(c.value for c in vb.s.cookies if c.name == "_xsrf" and c.path.startswith("/user/"))
    r = vb.s.post(f"{h.url}/user/{a}/shequ/api/submit/{scratch.QUIZ}", headers={"X-XSRFToken": x}, timeout=60)
    assert r.status_code == 403
    # out of their own root: the contents API stays inside the home folder
    # (percent-encoded, so that the client does not resolve the dots itself)
    for path in ("%2E%2E", f"%2E%2E%2F{a}", "..%2F..%2Fcourse", str(h.layout.course).lstrip("/")):
        r = vb.contents(path)
        assert r.status_code in (400, 403, 404), (path, r.status_code, r.text[:200])


def test_a_worker_sees_feedback_only_for_themselves(hub):
    va, vb = hub["va"], hub["vb"]
    (qa,) = [x for x in va.assignments() if x["id"] == scratch.QUIZ]
    (qb,) = [x for x in vb.assignments() if x["id"] == scratch.QUIZ]
    assert qa["feedback"] and not qb["feedback"] and not qb["feedback_ready"]
    page = va.s.get(f"{hub['hub'].url}/user/{hub['a']}/files/{qa['feedback'][0]}", timeout=60)
    assert page.status_code == 200 and hub["a"] in page.text


def test_every_trainer_grades_the_same_course_in_the_formgrader(hub):
    h = hub["hub"]
    for t in h.trainer_logins:
        v = hub["vt"] if t == h.trainer_logins[0] else scratch.Visitor(h, t)
        if v is not hub["vt"]:
            assert v.log_in() == 302
            v.start_server()
        x = next(c.value for c in v.s.cookies if c.name == "_xsrf" and c.path.startswith("/user/"))
        r = v.s.get(f"{h.url}/user/{t}/formgrader/api/assignments", headers={"X-XSRFToken": x}, timeout=60)
        assert r.status_code == 200, r.text[:300]   # JSON (the formgrader labels it text/html)
        (quiz,) = [a for a in r.json() if a["name"] == scratch.QUIZ]
        assert quiz["num_submissions"] >= 1
