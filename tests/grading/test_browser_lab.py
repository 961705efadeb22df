"""JupyterLab in a real browser (headless Debian Chromium driven by Playwright), started the way
`make lab` starts it (`shequ lab`: cwd grading/, notebook root = the project).

A worker's assignment list shows the released exam, fetches it and submits it; the trainer's
formgrader lists the submission and opens its 简答 answer for manual grading; the server's
formgrader API lists the demo exam. Screenshots go to build/screenshots/.
"""
import getpass
import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from shequ import paths
from shequ.exam import paper
from shequ.grading import course as nbcourse
from shequ.grading import gradebook, submissions
from shequ.grading import run as gradeops
from shequ.grading.course import COURSE_ID

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = paths.BUILD / "screenshots"
EXAM = "short-answer"
BLUEPRINT = """\
title: 阅卷演示卷（两道单选、一道简答）
time_limit_minutes: 20
pass_mark: 4
seed: 7
sections:
  - type: 单选
    count: 2
    points: 1
  - type: 简答
    count: 1
    points: 5
"""
ANSWER = "先核实身份，再按最小必要原则登记，告知用途，并妥善保管采集到的信息。"


def need_browser():
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("pip 包 playwright")
    if not os.path.exists(CHROMIUM):
        missing.append(f"{CHROMIUM}（Debian 包 chromium）")
    if missing:
        msg = "没有 " + "、".join(missing) + "：运行 make system-deps"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI 中浏览器测试不能跳过：" + msg)
        pytest.skip("跳过真实浏览器测试！" + msg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, token):
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read().decode("utf-8"))


@pytest.fixture(scope="module")
def lab(tmp_path_factory, use_course):
    need_browser()
    project = tmp_path_factory.mktemp("project")  # a scratch copy of the course's project
    mp = pytest.MonkeyPatch()
    course = use_course(mp, project / "grading")
    papers = project / "papers"
    papers.mkdir()
    (papers / f"{EXAM}.yaml").write_text(BLUEPRINT, encoding="utf-8")
    built = paper.build(EXAM, papers_dir=papers, out_root=course)
    demo = paper.build("basics", "r1", out_root=course)  # the demo exam
    nbcourse.generate_many([m["assignment"] for m in built + demo])
    nbcourse.release(EXAM)
    port, token = free_port(), secrets.token_hex(16)
    argv, cwd, env = nbcourse.lab_command(project_root=project, course=course, port=port, token=token,
                                         browser=False, extra=["--ServerApp.ip=127.0.0.1"])
    log = open(project / "lab.log", "w", encoding="utf-8")
    server = subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            get(f"{base}/api/status", token)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("JupyterLab 没有启动：\n" + (project / "lab.log").read_text(encoding="utf-8")[-3000:])
            time.sleep(0.5)
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page.set_default_timeout(60_000)
    page.goto(f"{base}/lab?token={token}")  # logs in: the token becomes a cookie
    page.wait_for_selector("#jp-main-dock-panel")
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield {"base": base, "token": token, "page": page, "project": project, "course": course,
           "demo": [m["assignment"] for m in demo]}
    browser.close()
    pw.stop()
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
    log.close()
    mp.undo()


def test_the_formgrader_api_lists_the_demo_exam(lab):
    names = {a["name"] for a in get(f"{lab['base']}/formgrader/api/assignments", lab["token"])}
    assert set(lab["demo"]) | {EXAM} <= names


def test_make_lab_starts_jupyterlab_from_the_course_folder_with_the_exchange_inside():
    dry = subprocess.run(["make", "-n", "lab"], cwd=paths.ROOT, capture_output=True, text=True)
    assert "shequ lab" in dry.stdout, dry.stdout + dry.stderr
    argv, cwd, env = nbcourse.lab_command(browser=False)
    assert cwd == paths.GRADING and (cwd / "nbgrader_config.py").exists()  # the formgrader reads it
    assert str(paths.GRADING) in env["JUPYTER_CONFIG_PATH"].split(os.pathsep)  # so does the assignment list
    assert f"--ServerApp.root_dir={paths.ROOT}" in argv
    assert ("--allow-root" in argv) == (os.geteuid() == 0)


def open_assignment_list(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
    page.locator("#released_assignments_list, #fetched_assignments_list").first.wait_for()


def test_a_worker_fetches_and_submits_and_the_trainer_grades_the_short_answer(lab):
    page = lab["page"]
    # the worker: the assignment list shows the released exam; Fetch puts a copy in assignments/
    open_assignment_list(page)
    released = page.locator("#released_assignments_list .list_item", has_text=EXAM)
    released.wait_for()
    page.screenshot(path=str(SHOTS / "assignment-list-released.png"))
    released.locator("button", has_text="Fetch").click()
    fetched = page.locator("#fetched_assignments_list .list_item", has_text=EXAM).first
    fetched.wait_for()
    nb_path = lab["project"] / "assignments" / EXAM / f"{EXAM}.ipynb"
    assert nb_path.exists()
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    for c in nb["cells"]:  # the worker answers (as if typed in the notebook) …
        g = c["metadata"].get("nbgrader", {})
        if g.get("solution"):
            c["source"] = ANSWER if c["cell_type"] == "markdown" else f'{g["grade_id"]} = "C"'
    nb_path.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    page.screenshot(path=str(SHOTS / "assignment-list-fetched.png"))
    fetched.locator("button", has_text="Submit").click()  # … and hands in from the list
    page.locator("#submitted_assignments_list .list_item", has_text=EXAM).first.wait_for()
    page.screenshot(path=str(SHOTS / "assignment-list-submitted.png"))

    # the trainer: collect from the exchange, grade (kernel-free for an exam), grade 简答 by hand
    submissions.collect(EXAM)
    worker = getpass.getuser()
    gradebook.sync_students([{"worker_id": worker, "name": "测试员"}])  # the one-machine worker is on the roster
    rep = gradeops.grade(EXAM, out=lambda *a, **k: None)
    assert rep.outcome(worker) is not None and not rep.failed
    page.goto(f"{lab['base']}/formgrader/manage_submissions/{EXAM}")
    row = page.locator("tr", has_text=worker).first
    row.wait_for()
    assert "needs manual grading" in row.inner_text()
    page.screenshot(path=str(SHOTS / "formgrader-submissions.png"))
    page.goto(f"{lab['base']}/formgrader/gradebook/{EXAM}/{EXAM}")
    page.get_by_text("Submission #1").click()
    score = page.locator("input.score#q03")
    score.wait_for()
    assert ANSWER in page.inner_text("body") and "阅卷参考" in page.inner_text("body")
    score.fill("4")
    score.press("Tab")  # the formgrader saves on leaving the field
    from nbgrader.api import Gradebook

    deadline = time.monotonic() + 60
    while True:
        with Gradebook(gradebook.db_url(), course_id=COURSE_ID) as gb:
            q03 = next(g for g in gb.find_submission(EXAM, worker).notebooks[0].grades if g.name == "q03")
            saved = (q03.manual_score, q03.needs_manual_grade)
        if saved == (4, False) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    page.screenshot(path=str(SHOTS / "formgrader-short-answer.png"), full_page=True)
    assert saved == (4, False)  # the hand-given score is in the gradebook
