"""shequ site audit: finds exactly the injected faults, exits 0/1/2, never touches the network,
and never prints a full ID or mobile number."""
import csv
import re
import socket
from datetime import date
from pathlib import Path

import pytest

from shequ import cli
from shequ.paths import DATASETS
from shequ.site import audit, pages
from shequ.site import render as siterender
from shequ.synth import site

WWW = site.site_dir()
AS_OF = site.SNAPSHOT_DATE


def truth(root: Path = DATASETS) -> set[tuple[str, str, str]]:
    with open(root / "site" / "truth.csv", encoding="utf-8", newline="") as f:
        return {(r["page"], r["rule"], r["detail"]) for r in csv.DictReader(f)}


def full_numbers(www: Path) -> set[str]:
    """Every full ID / mobile number that appears anywhere in the snapshot (the leaks)."""
    out = set()
    for page in pages.load_site(www).values():
        text = "\n".join(page.texts)
        out.update(audit.find_ids(text))
        out.update(audit.find_phones(text))
    return out


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("巡检不应联网")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def mini_site(root: Path, news_dates: list[date | None], blank: int = 0) -> Path:
    """A small clean site: one 动态 column per date (None = blank column) plus blank 专栏."""
    files = {"index.html": pages.page_html("index.html", "测试站", "<h1>测试站</h1>")}
    for i, d in enumerate(news_dates, start=1):
        col = f"news{i}/"
        body = "<h1>动态</h1><ul>"
        if d is not None:
            when = f"{d:%Y-%m-%d} 09:00"
            files[col + "a.html"] = pages.page_html(col + "a.html", "一则动态", "<h1>一则动态</h1><p>内容</p>",
                                                   column=f"第{i}动态", pubdate=when, source="居委会", article=True)
            body += '<li><a href="a.html">一则动态</a></li>'
        files[col + "index.html"] = pages.page_html(col + "index.html", f"第{i}动态", body + "</ul>",
                                                   column=f"第{i}动态")
    for i in range(blank):
        col = f"topic{i}/"
        files[col + "index.html"] = pages.page_html(col + "index.html", f"专栏{i}", f"<h1>专栏{i}</h1>",
                                                   column=f"专栏{i}")
    files["static/site.css"] = pages.CSS
    for href, name in pages.NAV:  # the shared template links to every column of the real site
        files.setdefault(href, f"<html><body><h1>{name}</h1></body></html>")
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


# ---------------------------------------------------------------- the snapshot

def test_audit_finds_exactly_the_injected_faults(no_network):
    found = audit.audit(WWW, AS_OF)
    got = {f.key for f in found if f.rule != "link-external"}
    expected = truth()
    assert got - expected == set(), "巡检报告了快照里没有注入的问题"
    assert expected - got == set(), "巡检漏掉了注入的问题"
    assert len(got) == len(found) - 1, "同一问题报告了两次"


def test_audit_finds_the_faults_of_a_differently_seeded_snapshot(tmp_path):
    site.write(tmp_path, seed=7)
    found = audit.audit(site.site_dir(tmp_path), AS_OF)
    assert {f.key for f in found if f.rule != "link-external"} == truth(tmp_path)


def test_external_links_are_listed_once_and_never_fetched(no_network):
    ext = [f for f in audit.audit(WWW, AS_OF) if f.rule == "link-external"]
    assert len(ext) == 1 and ext[0].severity == audit.HINT
    assert "8 个外部链接" in ext[0].detail and "minghu.example.gov.cn" in ext[0].detail


def test_veto_items_come_first_and_stale_columns_cross_the_line():
    found = audit.audit(WWW, AS_OF)
    order = [audit.SEVERITY_ORDER[f.severity] for f in found]
    assert order == sorted(order)
    stale = [f for f in found if f.rule == "column-stale"]
    assert len(stale) == 5 and all(f.severity == audit.VETO for f in stale)
    assert any(f.rule == "column-stale-total" for f in found)
    blank = [f for f in found if f.rule == "column-blank"]
    assert len(blank) == 2 and all(f.severity == audit.SCORE for f in blank)
    assert not any(f.rule == "column-blank-total" for f in found)


def test_boundary_cases_are_not_reported():
    pages = {f.page for f in audit.audit(WWW, AS_OF)}
    assert "news/s03/index.html" not in pages  # latest exactly 14 days before: still fresh
    assert "messages/m11.html" not in pages  # unanswered exactly 3 months: not yet over
    assert "notices/n05.html" not in pages  # publishes masked ID numbers only
    assert "messages/m04.html" not in pages  # shows &lt;b&gt; as text


# ---------------------------------------------------------------- thresholds on small sites

def test_four_stale_columns_only_lose_points_five_are_a_veto(tmp_path):
    old = date(2026, 1, 1)
    four = audit.audit(mini_site(tmp_path / "a", [old] * 4 + [AS_OF]), AS_OF)
    assert {f.severity for f in four if f.rule == "column-stale"} == {audit.SCORE}
    assert not audit.has_veto(four)
    five = audit.audit(mini_site(tmp_path / "b", [old] * 5), AS_OF)
    assert {f.severity for f in five if f.rule == "column-stale"} == {audit.VETO}
    assert any(f.rule == "column-stale-total" for f in five)


def test_five_blank_columns_are_a_veto(tmp_path):
    found = audit.audit(mini_site(tmp_path, [AS_OF], blank=5), AS_OF)
    assert [f.rule for f in found if f.severity == audit.VETO] == ["column-blank"] * 5 + ["column-blank-total"]


def message_page(posted: date, replied: date | None) -> str:
    """A 互动留言 page in the snapshot's markup: <time class="posted">, <time class="replied">."""
    body = f'<h1>留言</h1><p><time class="posted" datetime="{posted:%Y-%m-%d}T09:00">{posted}</time></p>'
    if replied:
        body += f'<p><time class="replied" datetime="{replied:%Y-%m-%d}T10:00">{replied}</time></p>'
    return pages.page_html("m.html", "留言", body, column="互动留言", pubdate=f"{posted:%Y-%m-%d} 09:00",
                          source="网民留言", article=True)


@pytest.mark.parametrize("posted, replied, reported", [
    (date(2025, 11, 1), None, "超过 3 个月未回应"),
    (date(2025, 12, 16), None, None),  # exactly 3 months before the check: not over yet
    (date(2025, 6, 1), date(2025, 10, 2), "答复时间 2025-10-02，超过 3 个月才答复"),
    (date(2025, 6, 1), date(2025, 9, 1), None),  # answered on the day 3 months were up
    (date(2025, 3, 1), date(2025, 8, 1), None),  # late, but before the year the check looks back on
    (date(2025, 3, 20), date(2025, 8, 1), "超过 3 个月才答复"),
])
def test_a_message_answered_after_three_months_counts_like_an_unanswered_one(tmp_path, posted, replied, reported):
    www = mini_site(tmp_path, [AS_OF])
    (www / "msg").mkdir()
    (www / "msg" / "m.html").write_text(message_page(posted, replied), encoding="utf-8")
    found = [f for f in audit.audit(www, AS_OF) if f.rule == "message-unanswered"]
    assert [reported in f.detail for f in found] == ([True] if reported else [])
    overdue = audit.messages_frame(pages.load_site(www), AS_OF)["overdue"].tolist()
    assert overdue == [bool(reported)]


def test_clean_site_has_no_findings_and_exits_zero(tmp_path, capsys):
    www = mini_site(tmp_path, [AS_OF, date(2026, 3, 2)])
    assert [f.rule for f in audit.audit(www, AS_OF)] == ["link-external"]
    assert cli.main(["site", "audit", str(www), "--as-of", "2026-03-16"]) == 0
    assert "未发现单项否决问题" in capsys.readouterr().out


def test_home_page_stale_when_nothing_new_for_two_weeks(tmp_path):
    found = audit.audit(mini_site(tmp_path, [date(2026, 3, 1)]), AS_OF)
    assert [f.rule for f in found if f.severity == audit.VETO] == ["home-stale"]


# ---------------------------------------------------------------- command line

def test_exit_status_is_one_when_a_veto_item_fails(capsys, no_network):
    assert cli.main(["site", "audit", str(WWW), "--as-of", "2026-03-16"]) == 1
    out = capsys.readouterr().out
    assert "存在单项否决问题" in out and "监测时间点：2026-03-16" in out


@pytest.mark.parametrize("argv, message", [
    (["/no/such/dir", "--as-of", "2026-03-16"], "网站目录不存在"),
    ([str(WWW), "--as-of", "2026-13-01"], "日期格式应为 YYYY-MM-DD"),
    ([str(WWW), "--as-of", "16/03/2026"], "日期格式应为 YYYY-MM-DD"),
    ([], "缺少参数：网站目录"),
    ([str(WWW), "--colour"], "无法识别的参数"),
    ([str(DATASETS / "network")], "没有 .html 页面"),
    ([str(WWW), "--as-of", "2026-03-16", "--html", "/no/such/dir/r.html"], "无法写入报告文件"),
])
def test_bad_input_exits_two_with_a_chinese_message(argv, message, capsys):
    try:
        status = cli.main(["site", "audit", *argv])
    except SystemExit as e:  # argparse's own errors end this way
        status = e.code
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and message in err
    assert "Traceback" not in err


def test_help_is_in_chinese_and_exits_zero(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["site", "audit", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("用法：shequ site audit") and "--as-of YYYY-MM-DD" in out and "退出码" in out


def test_html_report_is_written_offline(tmp_path, no_network, capsys):
    out = tmp_path / "report.html"
    assert cli.main(["site", "audit", str(WWW), "--as-of", "2026-03-16", "--html", str(out)]) == 1
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in text
    assert '"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif' in text
    assert not re.search(r"(src|href)\s*=", text), "报告应自包含，不引用外部资源"
    assert "<script" not in text.replace("&lt;script", "")


# ---------------------------------------------------------------- masking

def test_reports_never_show_a_full_number():
    found = audit.audit(WWW, AS_OF)
    numbers = full_numbers(WWW)
    assert len(numbers) == 7  # 4 ID numbers and 3 mobile numbers are leaked on the snapshot
    for text in (siterender.render_text(found, AS_OF), siterender.render_html(found, AS_OF)):
        digits = audit.normalize(text).replace(" ", "").replace("-", "")
        assert not any(n in digits for n in numbers)
        assert audit.find_ids(text) == [] and audit.find_phones(text) == []


def test_render_masks_a_number_even_if_a_finding_carries_one():
    leaky = audit.Finding("id-exposed", "泄露身份证号", audit.VETO, "x.html",
                          "990102199003071233 和 １５４００００１２３４", "")
    html_text = siterender.render_html([leaky])
    assert "990102********1233" in html_text and "154****1234" in html_text
    assert "990102199003071233" not in html_text
    assert "990102199003071233" not in siterender.render_text([leaky])


# ---------------------------------------------------------------- building blocks

@pytest.mark.parametrize("text, ids, phones", [
    ("身份证 990102199003071233。", ["990102199003071233"], []),
    ("９９０１０２１９９００３０７１２３３", ["990102199003071233"], []),
    ("99010219680229005x", ["99010219680229005X"], []),
    ("办件编号 2026031600012345678", [], []),
    ("已脱敏 990102********1233 / 163****5678", [], []),
    ("电话 169 0000 4321、154-0000-1234", [], ["16900004321", "15400001234"]),
    ("请回电：１６３００００５６７８", [], ["16300005678"]),
    ("办公电话 88123401，热线 12345", [], []),
    ("990102199013071233", [], []),  # month 13: not an ID number, and too long for a phone
])
def test_number_detection(text, ids, phones):
    assert audit.find_ids(text) == ids
    assert audit.find_phones(text) == phones


@pytest.mark.parametrize("page, href, target", [
    ("news/s01/a01.html", "../../index.html", "index.html"),
    ("notices/n06.html", "#content", "notices/n06.html"),
    ("notices/n06.html", "./index.html#list", "notices/index.html"),
    ("about.html", "notices/", "notices/index.html"),
    ("about.html", "guides/#content", "guides/index.html"),
    ("news/a.html", "./?page=2", "news/index.html"),
    ("news/a.html", "../../up.html", None),
])
def test_resolve(page, href, target):
    assert pages.resolve(page, href) == target


def test_months_before_clamps_to_the_end_of_the_month():
    assert audit.months_before(date(2026, 3, 16), 6) == date(2025, 9, 16)
    assert audit.months_before(date(2026, 8, 31), 6) == date(2026, 2, 28)
    assert audit.months_before(date(2024, 8, 31), 6) == date(2024, 2, 29)
    assert audit.months_before(date(2026, 3, 16), 12) == date(2025, 3, 16)
    assert audit.window_start("2周", date(2026, 3, 16)) == date(2026, 3, 2)


def test_heading_jumps_and_gbk_pages(tmp_path):
    (tmp_path / "a.html").write_bytes("<html><body><h2>小标题</h2><h4>再下一级</h4></body></html>".encode("gbk"))
    found = audit.audit(tmp_path, AS_OF)
    assert [(f.rule, f.detail) for f in found] == [("heading-order", "首个标题为 h2；h2→h4")]


def test_event_attributes_count_as_unescaped_script():
    page = pages.parse_page('<html><body><img src="x.png" alt="" onerror="alert(1)"></body></html>')
    assert page.scripts == ["事件属性 onerror"]
    assert pages.parse_page('<html><head><script src="a.js"></script></head><body></body></html>').scripts == []


def test_contrast_ratio_follows_wcag():
    assert round(audit.contrast_ratio("#000000", "#ffffff"), 1) == 21.0
    assert round(audit.contrast_ratio("#777777", "#ffffff"), 2) == 4.48
    assert audit.contrast_ratio("#123456", "#123456") == 1.0
