"""A worker's whole path through the district server in a real browser (headless Debian
Chromium, Playwright): log in → 我的作业 → 领取 → answer in JupyterLab → 提交; a second
worker too; the trainer 收取 → 评分 → 发布反馈; each worker then sees their own feedback and
no one else's. Every step is in Chinese; screenshots go to build/screenshots/hub/."""
from __future__ import annotations

import re

import pytest

from report_shapes import ARGS, CHROMIUM
from shequ import paths
from shequ.hub.scratch import QUIZ

pytestmark = pytest.mark.slow
SHOTS = paths.BUILD / "screenshots" / "hub"
# words a Chinese page may still show: product names, the worker's ids, code
ALLOWED = {"JupyterLab", "JupyterHub", "Jupyter", "Python", "UTC", "ipykernel", "Formgrader"}


def english_words(text: str, allowed=frozenset()) -> set[str]:
    text = text.replace(QUIZ, "")          # the assignment's id is shown under its Chinese title
    words = set(re.findall(r"[A-Za-z]{4,}", text))
    return {w for w in words if w not in ALLOWED | set(allowed) and not re.fullmatch(r"[a-z]\d+", w)}


def _need_browser():
    import os

    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("没有 pip 包 playwright")
    if not os.path.exists(CHROMIUM):
        msg = f"没有 {CHROMIUM}（Debian 包 chromium）：运行 make system-deps"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture(scope="module")
def browser_hub(scratch_hub):
    _need_browser()
    from playwright.sync_api import sync_playwright

    hub = scratch_hub(workers=2, trainers=1)
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield hub, browser
    browser.close()
    pw.stop()


def person(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 860}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(90_000)
    return page


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def visible_text(page) -> str:
    return page.evaluate("document.body.innerText")


def log_in(page, hub, login, name):
    page.goto(f"{hub.url}/hub/login")
    assert not english_words(visible_text(page)), english_words(visible_text(page))
    if name:
        shot(page, name)
    page.fill("input[name=username]", login)
    page.fill("input[name=password]", hub.passwords[login])
    page.click("[type=submit]")
    page.wait_for_url(re.compile(rf"/user/{login}/shequ"), timeout=180_000)
    page.wait_for_selector("#rows tr td")
    page.wait_for_function("!document.querySelector('#rows').innerText.includes('正在读取')")


def click_step(page, label, expect):
    page.click(f"button:has-text('{label}')")
    page.wait_for_function(f"document.querySelector('#msg').innerText.includes({expect!r})", timeout=600_000)


def answer_in_lab(page, hub, login, answers: dict[str, str]):
    """Open the quiz from 我的作业 and type answers into the cells, as a worker does."""
    with page.expect_navigation():
        page.click("#rows a:has-text('打开')")
    page.wait_for_selector(".jp-Notebook .jp-Cell")
    page.wait_for_selector("text=文件")                       # JupyterLab's menu bar, in Chinese
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert {"文件", "编辑", "查看"} <= set(menus), menus
    for q, value in answers.items():
        cell = page.locator(".jp-CodeCell", has_text=re.compile(rf"\b{q} = \"")).first
        cell.locator(".cm-content").click()
        page.keyboard.press("Control+A")
        page.keyboard.type(f'{q} = "{value}"')
    page.keyboard.press("Control+S")
    page.wait_for_timeout(1500)


def test_a_workers_whole_path_is_in_chinese_and_each_sees_only_their_own_feedback(browser_hub):
    hub, browser = browser_hub
    a, b = hub.logins
    t = hub.trainer_logins[0]
    pa, pb, pt = (person(browser) for _ in range(3))

    log_in(pa, hub, a, "01-login")
    text = visible_text(pa)
    assert "我的作业" in text and "可领取" in text
    assert not english_words(text), english_words(text)
    shot(pa, "02-my-assignments")
    click_step(pa, "领取", "已领取")
    shot(pa, "03-fetched")
    answer_in_lab(pa, hub, a, {"q01": "A", "q02": "B", "q03": "对"})
    shot(pa, "04-answering-in-jupyterlab")
    pa.goto(f"{hub.url}/user/{a}/shequ")
    pa.wait_for_selector("button:has-text('提交')")
    click_step(pa, "提交", "已提交")
    assert not english_words(visible_text(pa)), english_words(visible_text(pa))
    shot(pa, "05-submitted")

    log_in(pb, hub, b, None)
    click_step(pb, "领取", "已领取")
    click_step(pb, "提交", "已提交")

    log_in(pt, hub, t, None)
    assert "阅卷台" in visible_text(pt) and "已交 2 人" in visible_text(pt)
    for label, done in (("收取", "已收取"), ("评分", "已评分"), ("发布反馈", "反馈已发布")):
        click_step(pt, label, done)
    shot(pt, "06-trainer-graded")

    for page, login, other, name in ((pa, a, b, "07-feedback"), (pb, b, a, None)):
        page.reload()
        page.wait_for_selector("button:has-text('获取反馈')")
        click_step(page, "获取反馈", "已取回反馈")
        with page.context.expect_page() as new:
            page.click("a:has-text('查看反馈')")
        fb = new.value
        fb.wait_for_load_state()
        text = visible_text(fb)
        assert login in text and other not in text, text[:500]
        assert "解析" in text or "正确答案" in text
        if name:
            shot(fb, name)
