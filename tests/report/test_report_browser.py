"""The report in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright) opens build/report/index.html, follows every link, checks that every chart
image loads, that the console stays free of errors and that the Chinese font is there,
and saves screenshots under build/screenshots/report-links/."""
from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from report_shapes import ARGS, CHROMIUM, browser_report

from shequ import analytics, paths
from shequ.report import render as report

pytestmark = pytest.mark.slow
SHOTS = paths.BUILD / "screenshots" / "report-links"   # its own folder: other browser tests save beside it


@pytest.fixture(scope="module")
def built(tmp_path_factory, simulated_results):
    return browser_report(tmp_path_factory, simulated_results)


@pytest.fixture(scope="module")
def visited(built):
    from playwright.sync_api import sync_playwright

    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    out = built["out"].resolve()
    pages, files, problems = {}, set(), []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
        console: list[str] = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.on("requestfailed", lambda r: console.append(f"requestfailed: {r.url}"))
        todo, seen = [built["index"].resolve().as_uri()], set()
        while todo:
            url = todo.pop(0)
            if url in seen:
                continue
            seen.add(url)
            console.clear()
            page.goto(url, wait_until="load")
            path = Path(unquote(urlparse(url).path))
            rel = path.relative_to(out)
            imgs = page.eval_on_selector_all("img", "els => els.map(e => [e.getAttribute('src').slice(0, 40), "
                                                    "e.complete, e.naturalWidth])")
            text = page.inner_text("body")
            font = page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '街道')")
            family = page.evaluate("getComputedStyle(document.body).fontFamily")
            name = str(rel).replace("/", "_").replace(".html", ".png")
            page.screenshot(path=str(SHOTS / name), full_page=rel.name == "index.html")
            pages[str(rel)] = {"imgs": imgs, "text": text, "errors": list(console), "font": font, "family": family}
            for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                target = href.split("#")[0]
                if not target.startswith("file://"):
                    problems.append(f"{rel}: link leaves the report: {href}")
                    continue
                tp = Path(unquote(urlparse(target).path))
                if not tp.exists():
                    problems.append(f"{rel}: broken link {href}")
                elif tp.suffix == ".html":
                    todo.append(target)
                else:
                    files.add(tp)
        browser.close()
    return {"pages": pages, "files": files, "problems": problems}


def test_every_link_resolves_and_every_page_is_reached(built, visited):
    assert not visited["problems"]
    pages = set(visited["pages"])
    streets = sorted(built["df"]["street"].astype(str).unique())
    assert {"index.html", "overview.html", "item-analysis.html"} <= pages
    assert len([p for p in pages if p.startswith("streets/")]) == len(streets) >= 2
    slugs = analytics.street_slugs(streets, built["roster"])
    assert {f.name for f in visited["files"]} == {report.WORKBOOK} | {f"{slugs[s]}.xlsx" for s in streets}
    assert all(f.stat().st_size > 5000 for f in visited["files"])


def test_every_chart_image_loads(visited):
    total = 0
    for name, p in visited["pages"].items():
        for src, complete, width in p["imgs"]:
            assert complete and width > 0, (name, src)
            total += 1
    assert total >= 8   # index charts plus the notebooks' charts


def test_no_console_errors_on_any_page(visited):
    assert {n: p["errors"] for n, p in visited["pages"].items() if p["errors"]} == {}


def test_pages_use_the_chinese_font_stack(visited):
    for name, p in visited["pages"].items():
        assert p["font"], name
        assert p["family"].startswith('"Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC"'), (name, p["family"])


def test_names_only_in_street_reports_and_never_code(built, visited):
    names = list(built["roster"]["name"])
    ids = list(built["roster"]["worker_id"])
    for name, p in visited["pages"].items():
        shown = [n for n in names if n in p["text"]] + [w for w in ids if w in p["text"]]
        if name.startswith("streets/"):
            assert shown, name          # the street report lists its people
        else:
            assert not shown, (name, shown[:3])
        assert "import " not in p["text"] and "results.load" not in p["text"], name


def test_screenshots_are_saved(visited):
    shots = sorted(SHOTS.glob("*.png"))
    assert len(shots) == len(visited["pages"])
    assert all(s.stat().st_size > 10_000 for s in shots)
