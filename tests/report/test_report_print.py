"""The report on paper and on a phone, in headless Chromium (Debian's /usr/bin/chromium,
driven by Playwright): every page is printed to an A4 PDF and, laid out for print at the A4
content width, keeps every table column and chart on the page; at 390 px the page itself
never scrolls sideways (tables scroll in their own box); column headers sort and long
tables filter. Screenshots (1280 and 390 px) and the PDFs go to build/screenshots/report/."""
from __future__ import annotations

import re
import shutil

import pytest
from report_shapes import ARGS, CHROMIUM, browser_report

from shequ import paths

pytestmark = pytest.mark.slow
SHOTS = paths.BUILD / "screenshots" / "report"
DESKTOP, PHONE = 1280, 390
A4_CONTENT = int((210 - 2 * 10) / 25.4 * 96)   # css px across A4 less the @page side margins (10 mm)
TABLES = "table.data, table.heat"

# what a page looks like in the browser: widths of the page, every table (and its last
# header, and the box that scrolls it, if any), every image, filter boxes and nav links
MEASURE = """() => {
  const W = document.documentElement.clientWidth;
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const tables = [...document.querySelectorAll('table')].map(t => {
    const r = t.getBoundingClientRect();
    const head = t.tHead ? t.tHead.rows[t.tHead.rows.length - 1] : t.rows[0];
    const last = head.cells[head.cells.length - 1].getBoundingClientRect();
    let box = t.parentElement;
    while (box && !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) box = box.parentElement;
    const b = box && box.getBoundingClientRect();
    const scope = [...t.querySelectorAll('thead th')].every(th => th.getAttribute('scope') === 'col');
    const prev = (t.closest('.scroll') || t).previousElementSibling;
    return {name: (t.caption ? t.caption.textContent : head.textContent).slice(0, 40), left: r.left,
            right: r.right, lastHeader: last.right, box: b ? [b.left, b.right] : null, scope: scope,
            rows: t.tBodies.length ? t.tBodies[0].rows.length : 0,
            filter: !!(prev && prev.classList.contains('filter')) && shown(prev),
            sortable: t.querySelectorAll('thead button.sort').length};
  });
  const imgs = [...document.images].map(i => ({src: i.src.slice(0, 50), left: i.getBoundingClientRect().left,
                                               right: i.getBoundingClientRect().right}));
  const breaks = [...document.querySelectorAll('h2')].map(h => getComputedStyle(h).breakBefore);
  const rows = [...document.querySelectorAll('tr')].every(r => getComputedStyle(r).breakInside === 'avoid');
  return {W: W, scrollWidth: document.documentElement.scrollWidth, tables: tables, imgs: imgs, breaks: breaks,
          unsplitRows: rows, nav: [...document.querySelectorAll('.links')].filter(shown).length};
}"""


@pytest.fixture(scope="module")
def built(tmp_path_factory, simulated_results):
    return browser_report(tmp_path_factory, simulated_results)["out"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def _open(browser, width: int, errors: list, **kw):
    ctx = browser.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1, **kw)
    page = ctx.new_page()
    page.on("console", lambda m: errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"requestfailed: {r.url}"))
    return ctx, page


@pytest.fixture(scope="module")
def survey(built, browser):
    """{mode: {page: measurements}} for desktop, phone and print (A4 width, print media),
    with a screenshot per page at desktop and phone width and a PDF per page."""
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    names = sorted(str(p.relative_to(built)) for p in built.rglob("*.html"))
    found: dict = {"pages": names, "errors": {}, "pdfs": {}}
    for mode, width in (("desktop", DESKTOP), ("phone", PHONE), ("print", A4_CONTENT)):
        errors: list[str] = []
        ctx, page = _open(browser, width, errors)
        if mode == "print":
            page.emulate_media(media="print")
        found[mode] = {}
        for name in names:
            errors.clear()
            page.goto((built / name).resolve().as_uri(), wait_until="load")
            found[mode][name] = page.evaluate(MEASURE)
            stem = name.replace("/", "_").removesuffix(".html")
            if mode == "print":
                pdf = SHOTS / f"{stem}.pdf"
                page.pdf(path=str(pdf), format="A4", prefer_css_page_size=True, print_background=True)
                found["pdfs"][name] = pdf
            else:
                shot = SHOTS / f"{stem}-{width}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 10_000, shot
            found["errors"][mode, name] = list(errors)
        ctx.close()
    return found


def _outside(found: dict, slack: float = 1.0) -> list:
    W = found["W"]
    bad = [("table", t["name"], t["right"]) for t in found["tables"] if t["right"] > W + slack or t["left"] < -slack]
    bad += [("last column header", t["name"], t["lastHeader"]) for t in found["tables"] if t["lastHeader"] > W + slack]
    bad += [("image", i["src"], i["right"]) for i in found["imgs"] if i["right"] > W + slack or i["left"] < -slack]
    return bad


def test_printed_pages_keep_every_column_and_chart_inside_the_a4_page(survey):
    assert len(survey["pages"]) >= 5
    for name in survey["pages"]:
        p = survey["print"][name]
        assert p["W"] == A4_CONTENT
        assert _outside(p) == [], name
        assert p["scrollWidth"] <= A4_CONTENT, name
        assert p["tables"] and all(t["box"] is None for t in p["tables"]), name   # nothing clipped in a scroll box
        assert survey["errors"]["print", name] == [], name


def test_printed_pages_are_a4_pdfs_with_a_page_per_section_and_no_links_or_filter_boxes(survey):
    for name, pdf in survey["pdfs"].items():
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF") and len(data) > 20_000, name
        # A4 is 595 × 842 pt: every page of the PDF (the @page size, not a default Letter)
        boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
        assert boxes and all(abs(float(w) - 595.3) < 2 and abs(float(h) - 841.9) < 2 for w, h in boxes), name
        p = survey["print"][name]
        assert p["nav"] == 0 and not any(t["filter"] for t in p["tables"]), name
        # a new page for every h2 section but the first; no table row split across pages
        assert p["breaks"] == ["auto"] + ["page"] * (len(p["breaks"]) - 1) and len(p["breaks"]) >= 3, name
        assert p["unsplitRows"], name


def test_phone_width_page_never_scrolls_sideways_and_tables_scroll_in_their_own_box(survey):
    for name in survey["pages"]:
        p = survey["phone"][name]
        assert p["W"] <= PHONE and p["scrollWidth"] <= PHONE, (name, p["scrollWidth"])
        for t in p["tables"]:
            fits = t["left"] >= -1 and t["right"] <= p["W"] + 1
            scrolls = t["box"] is not None and t["box"][0] >= -1 and t["box"][1] <= p["W"] + 1
            assert fits or scrolls, (name, t["name"])
        assert [i for i in p["imgs"] if i["right"] > p["W"] + 1 or i["left"] < -1] == [], name
        assert survey["errors"]["phone", name] == [], name


def test_every_table_sorts_and_long_tables_have_a_filter_box(survey):
    checked = 0
    for name in survey["pages"]:
        for t in survey["desktop"][name]["tables"]:
            assert t["scope"] and t["sortable"] >= 2, (name, t["name"])
            assert t["filter"] == (t["rows"] > 10), (name, t["name"], t["rows"])
            checked += t["filter"]
        assert survey["errors"]["desktop", name] == [], name
    assert checked >= 3


def _column(page, table: int, col: int) -> list[str]:
    return page.evaluate("([t, c]) => [...document.querySelectorAll('table.data, table.heat')[t].tBodies[0].rows]"
                         ".map(r => r.cells[c].textContent.trim())", [table, col])


def _number(text: str) -> float:
    return float(re.match(r"-?\d+(\.\d+)?", text.replace("−", "-")).group())


def test_clicking_headers_sorts_numbers_both_ways_with_withheld_last_and_text_in_chinese_order(built, browser):
    errors: list[str] = []
    ctx, page = _open(browser, DESKTOP, errors)
    page.goto((built / "overview.html").resolve().as_uri(), wait_until="load")
    # a long table with a numeric column that has withheld cells (“—（n=3）”): the communities
    target = page.evaluate("""() => {
      const ts = [...document.querySelectorAll('table.data, table.heat')];
      for (let t = 0; t < ts.length; t++) {
        const rows = [...ts[t].tBodies[0].rows];
        const n = ts[t].tHead.rows[0].cells.length;
        for (let c = 1; c < n; c++) {
          const v = rows.map(r => r.cells[c].textContent.trim());
          if (rows.length > 10 && v.some(x => x.startsWith('—')) && v.filter(x => /^\\d/.test(x)).length > 5) return [t, c];
        }
      }
      return null;
    }""")
    assert target, "no long numeric column with withheld cells on overview.html"
    t, c = target
    header = page.locator(TABLES).nth(t).locator("thead th").nth(c)
    before = _column(page, t, c)
    for direction in ("ascending", "descending"):
        header.locator("button").click(timeout=5000)
        assert header.get_attribute("aria-sort") == direction
        after = _column(page, t, c)
        assert sorted(after) == sorted(before)
        shown = [x for x in after if not x.startswith("—")]
        assert all(x.startswith("—") for x in after[len(shown):])       # withheld last, both ways
        values = [_number(x) for x in shown]
        assert values == sorted(values, reverse=direction == "descending")
    # a text column (社区) in Chinese collation order
    page.locator(TABLES).nth(t).locator("thead th").nth(1).locator("button").click(timeout=5000)
    names = _column(page, t, 1)
    assert names == page.evaluate("v => [...v].sort(new Intl.Collator('zh-CN').compare)", names) != sorted(names)
    others = page.locator(TABLES).nth(t).locator("thead th[aria-sort]")
    assert [others.nth(k).get_attribute("aria-sort") for k in range(others.count())].count("none") == others.count() - 1
    ctx.close()
    assert errors == []


def test_typing_in_a_filter_box_hides_rows_without_the_text(built, browser):
    errors: list[str] = []
    ctx, page = _open(browser, DESKTOP, errors)
    page.goto((built / "overview.html").resolve().as_uri(), wait_until="load")
    box = page.locator(".filter").first
    table = page.evaluate_handle("() => { const f = document.querySelector('.filter'); "
                                 "const s = f.nextElementSibling; return s.matches('table') ? s : s.querySelector('table'); }")
    rows = table.evaluate("t => [...t.tBodies[0].rows].map(r => r.textContent)")
    word = _a_word(rows)
    assert "筛选" in box.inner_text()
    box.locator("input").fill(word)
    seen = table.evaluate("t => [...t.tBodies[0].rows].map(r => [r.textContent, r.getClientRects().length > 0])")
    assert all((word in text) == visible for text, visible in seen)
    assert 0 < sum(v for _, v in seen) < len(seen)
    assert re.search(r"显示 \d+ / \d+ 行", box.inner_text())
    box.locator("input").fill("")
    assert all(table.evaluate("t => [...t.tBodies[0].rows].map(r => r.getClientRects().length > 0)"))
    ctx.close()
    assert errors == []


def _a_word(rows: list[str]) -> str:
    """Some cell text found in some rows but not all (a street name, say)."""
    for r in rows:
        for w in re.findall(r"[\u4e00-\u9fff]{2,}", r):
            if 0 < sum(w in x for x in rows) < len(rows):
                return w
    raise AssertionError("no word that tells rows apart")


def test_without_javascript_tables_are_complete_and_headers_are_scoped(built, browser):
    errors: list[str] = []
    ctx, page = _open(browser, DESKTOP, errors, java_script_enabled=False)
    for name in ("index.html", "overview.html"):
        page.goto((built / name).resolve().as_uri(), wait_until="load")
        state = page.evaluate("""() => ({
          rows: [...document.querySelectorAll('tbody tr')].filter(r => r.getClientRects().length === 0).length,
          filters: document.querySelectorAll('.filter').length,
          scoped: [...document.querySelectorAll('table.heat tbody th')].every(th => th.getAttribute('scope') === 'row')
            && [...document.querySelectorAll('thead th')].every(th => th.getAttribute('scope') === 'col'),
        })""")
        assert state == {"rows": 0, "filters": 0, "scoped": True}, name
    ctx.close()
    assert errors == []


