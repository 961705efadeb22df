"""The audit as people read it (text for the terminal, HTML to forward) and its command line:
exit 0 no veto item, 1 a veto item, 2 bad input."""
from __future__ import annotations

import html
import sys
from datetime import date, datetime
from pathlib import Path

from ..errors import ShequError
from . import audit
from .audit import HINT, SCORE, SEVERITY_ORDER, VETO, Finding, has_veto, redact


def _summary(findings: list[Finding]) -> str:
    n = {s: sum(f.severity == s for f in findings) for s in SEVERITY_ORDER}
    verdict = "存在单项否决问题（判定不合格）" if n[VETO] else "未发现单项否决问题"
    return f"{verdict}；否决 {n[VETO]} 项，扣分 {n[SCORE]} 项，提示 {n[HINT]} 项。"


def _groups(findings: list[Finding]):
    """(severity, [(rule, [findings])]) in report order."""
    for sev in SEVERITY_ORDER:
        group = [f for f in findings if f.severity == sev]
        if group:
            rules = list(dict.fromkeys(f.rule for f in group))
            yield sev, [(r, [f for f in group if f.rule == r]) for r in rules]


def render_text(findings: list[Finding], as_of: date | None = None, site: str = "") -> str:
    """纯文本中文报告（完整号码一律脱敏）。"""
    lines = ["网站巡检报告"]
    if site:
        lines.append(f"网站目录：{site}")
    if as_of:
        lines.append(f"监测时间点：{as_of:%Y-%m-%d}")
    lines += ["结论：" + _summary(findings), ""]
    for sev, rules in _groups(findings):
        lines.append(f"【{sev}】{sum(len(fs) for _r, fs in rules)} 项")
        for _rule, fs in rules:
            lines.append(f"  ▶ {fs[0].name}（{len(fs)}）　整改：{fs[0].hint}")
            lines += [f"    - {f.page or '（全站）'}｜{f.detail}" for f in fs]
        lines.append("")
    return redact("\n".join(lines).rstrip() + "\n")


_CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em;color:#1a1a1a;background:#fff}
h1{font-size:1.5em}table{border-collapse:collapse;width:100%;margin-bottom:1.5em}
th,td{border:1px solid #888;padding:.35em .6em;text-align:left;vertical-align:top}
th{background:#e8eef5}.veto{color:#a40000;font-weight:bold}.score{color:#7a4b00}.hint{color:#245}"""


def render_html(findings: list[Finding], as_of: date | None = None, site: str = "") -> str:
    """自包含的中文 HTML 报告（内嵌样式、无外部资源；完整号码一律脱敏）。"""
    e = html.escape
    cls = {VETO: "veto", SCORE: "score", HINT: "hint"}
    head = []
    if site:
        head.append(f"<p>网站目录：{e(site)}</p>")
    if as_of:
        head.append(f"<p>监测时间点：{as_of:%Y-%m-%d}</p>")
    body = [f"<p class=\"{'veto' if has_veto(findings) else 'hint'}\">结论：{e(_summary(findings))}</p>"]
    for sev, rules in _groups(findings):
        body.append(f"<h2 class=\"{cls[sev]}\">{sev}项（{sum(len(fs) for _r, fs in rules)}）</h2>")
        body.append("<table><thead><tr><th>问题</th><th>页面</th><th>说明</th><th>整改提示</th></tr></thead><tbody>")
        for _rule, fs in rules:
            for i, f in enumerate(fs):
                first = (f"<td rowspan=\"{len(fs)}\">{e(f.name)}</td>" if i == 0 else "")
                last = (f"<td rowspan=\"{len(fs)}\">{e(f.hint)}</td>" if i == 0 else "")
                body.append(f"<tr>{first}<td>{e(f.page or '（全站）')}</td><td>{e(f.detail)}</td>{last}</tr>")
        body.append("</tbody></table>")
    doc = ("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<title>网站巡检报告</title>\n<style>\n" + _CSS + "\n</style>\n</head>\n<body>\n"
           "<h1>网站巡检报告</h1>\n" + "\n".join(head + body) + "\n</body>\n</html>\n")
    return redact(doc)


class AuditInputError(ShequError):
    """The site folder, date or output file given to `shequ site audit` is unusable."""


def parse_date(s: str) -> date:
    try:
        return datetime.strptime(s, "%Y-%m-%d").date()
    except ValueError:
        raise AuditInputError(f"日期格式应为 YYYY-MM-DD（例如 2026-03-16），收到：{s}") from None


def run(site_dir: str, as_of: str | None = None, html_out: str | None = None) -> int:
    """`shequ site audit`: prints the report (and writes it as HTML); 0 no veto item, 1 a veto item fails."""
    day = parse_date(as_of) if as_of else date.today()
    root = Path(site_dir)
    if not root.is_dir():
        raise AuditInputError(f"网站目录不存在或不是目录：{root}")
    if not any(root.rglob("*.html")):
        raise AuditInputError(f"目录中没有 .html 页面：{root}")
    findings = audit.audit(root, day)
    if html_out:
        try:
            Path(html_out).write_text(render_html(findings, day, str(root)), encoding="utf-8")
        except OSError:
            raise AuditInputError(f"无法写入报告文件 {html_out}（所在目录不存在或没有写权限）") from None
    sys.stdout.write(render_text(findings, day, str(root)))
    if html_out:
        print(f"HTML 报告已写入：{html_out}")
    return 1 if has_veto(findings) else 0
