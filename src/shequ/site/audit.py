"""网站每周巡检（`shequ site audit`）：离线检查一个静态网站目录，按检查指标列出问题。

依据：
- 国办秘函〔2019〕19号《政府网站与政务新媒体检查指标》单项否决项：栏目不更新（动态、要闻类
  2 周；通知公告、政策文件类一级栏目 6 个月；累计超过（含）5 个即否决）、空白栏目超过（含）5 个、
  首页 2 周不更新、互动回应差（1 年内存在超过 3 个月未回应的留言）、安全泄密等严重问题。
- 国办发〔2015〕15号 普查评分表：未注明发布时间视为不更新；办事指南 8 类要素每缺一类扣 2 分。
- 《政府网站发展指引》（国办发〔2017〕47号）网页设计规范的 <head> 元数据（PubDate 等）。
- 《无障碍环境建设法》（2023-09-01 施行）第三十二条：替代文本、标题层级作为提示项。

把公开页面上的完整身份证号、手机号和未转义的脚本按"安全、泄密类严重问题"从严处理，
这是本工具的做法（2019 年指标原文列举的是泄露国家秘密、页面被挂马或篡改等）。

只读本地文件，从不联网：外部链接只列出，不访问。
"""
from __future__ import annotations

import posixpath
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from .. import idcard
from .pages import Page, external_links, is_external, load_site, parse_pubdate, resolve

VETO, SCORE, HINT = "否决", "扣分", "提示"
SEVERITY_ORDER = {VETO: 0, SCORE: 1, HINT: 2}

STALE_NEWS_DAYS = 14  # 2 周
STALE_NOTICE_MONTHS = 6
VETO_STALE_COLUMNS = 5  # 超过（含）5 个
VETO_BLANK_COLUMNS = 5
UNANSWERED_MONTHS = 3
MESSAGE_WINDOW_MONTHS = 12  # 监测时间点前 1 年内的留言
GUIDE_ELEMENTS = ("事项名称", "设定依据", "申请条件", "办理材料", "办理地点", "办理时间", "联系电话", "办理流程")
SITE_WIDE = ""  # page of a finding about the whole site

# rule id -> (中文名, 默认级别, 整改提示)
RULES: dict[str, tuple[str, str, str]] = {
    "home-stale": ("首页不更新", VETO, "首页（或全部二级页面）2 周内必须有新信息。"),
    "column-stale": ("栏目不更新", SCORE,
                     "动态、要闻类栏目 2 周内、通知公告和政策文件类一级栏目 6 个月内要有更新；"
                     "无力维护的栏目应整合或下线。"),
    "column-stale-total": ("栏目不更新（累计）", VETO, "未按期更新的栏目超过（含）5 个即单项否决，须逐一补发或整合下线。"),
    "column-blank": ("空白栏目", SCORE, "有栏目无内容：补充内容，或把栏目下线。"),
    "column-blank-total": ("空白栏目（累计）", VETO, "空白栏目超过（含）5 个即单项否决。"),
    "message-unanswered": ("互动回应差", VETO, "有效留言须及时答复；超过 3 个月未回应（包括拖过 3 个月才答复）属单项否决。"),
    "id-exposed": ("泄露身份证号", VETO, "立即撤下或改为脱敏显示（如 990102********1234），并按程序报告。"),
    "phone-exposed": ("泄露手机号", VETO, "立即撤下或改为脱敏显示（如 154****1234）；公开联系方式用办公电话。"),
    "script-unescaped": ("未转义的脚本", VETO,
                         "用户提交的内容必须经 html.escape 转义后再发布；检查页面是否被篡改。"),
    "link-broken": ("内部链接失效", SCORE, "修正链接地址，或恢复被删除的页面。"),
    "pubdate": ("发布时间缺失或格式不符", SCORE,
                "在 <head> 中设置 <meta name=\"PubDate\" content=\"YYYY-MM-DD HH:MM\">；未注明发布时间视为不更新。"),
    "guide-elements": ("办事指南要素缺失", SCORE,
                       "办事指南应有 8 类要素：" + "、".join(GUIDE_ELEMENTS) + "（2015 年普查：每缺一类扣 2 分）。"),
    "img-alt": ("图片缺少替代文本", HINT, "给 <img> 加 alt 文字说明图片内容；纯装饰图片用 alt=\"\"。"),
    "heading-order": ("标题层级跳级", HINT, "标题按 h1→h2→h3 逐级使用，不要跳级，方便读屏软件导航。"),
    "link-external": ("外部链接未检查", HINT, "本工具不联网，外部链接请人工抽查是否可用、是否仍指向原内容。"),
}

# Half- and full-width digits, so that "１３９…" typed on a phone keyboard is found too.
_D = "[0-9０-９]"
_ID_RE = re.compile(rf"(?<!{_D})([1-9１-９]{_D}{{5}})({_D}{{8}})({_D}{{3}})([0-9０-９XxＸｘ])(?!{_D})")
_PHONE_RE = re.compile(rf"(?<!{_D})([1１][3-9３-９]{_D})[ -]?({_D}{{4}})[ -]?({_D}{{4}})(?!{_D})")


@dataclass(frozen=True, order=True)
class Finding:
    rule: str
    name: str
    severity: str
    page: str
    detail: str
    hint: str

    @property
    def key(self) -> tuple[str, str, str]:
        """(page, rule, detail): the same three columns as datasets/site/truth.csv."""
        return (self.page, self.rule, self.detail)


# ---------------------------------------------------------------- dates and masking

def months_before(d: date, n: int) -> date:
    """同一日的 n 个月前；没有这一天时取那个月最后一天（3 月 31 日的 1 个月前是 2 月 28/29 日）。"""
    y, m = divmod(d.year * 12 + d.month - 1 - n, 12)
    m += 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(y, m, min(d.day, day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def message_overdue(posted: date, replied: date | None, as_of: date) -> bool:
    """互动回应差：监测时间点前 1 年内的留言，到监测日仍未答复且已超过 3 个月，或过了 3 个月以后才答复。"""
    if posted < months_before(as_of, MESSAGE_WINDOW_MONTHS):
        return False
    end = replied if replied is not None and replied <= as_of else as_of
    return posted < months_before(end, UNANSWERED_MONTHS)


def normalize(text: str) -> str:
    """全角数字、字母转半角（NFKC），这样 "１３９…" 也能被找出来。"""
    return unicodedata.normalize("NFKC", text)


def _valid_birth(s: str) -> bool:
    s = normalize(s)
    try:
        d = date(int(s[:4]), int(s[4:6]), int(s[6:]))
    except ValueError:
        return False
    return 1900 <= d.year


def find_ids(text: str) -> list[str]:
    """文本中的完整 18 位身份证号（半角化后；出生日期码须是有效日期）。已脱敏的号码不算。"""
    return [normalize(m.group(0)).upper() for m in _ID_RE.finditer(text) if _valid_birth(m.group(2))]


def find_phones(text: str) -> list[str]:
    """文本中的完整 11 位手机号（允许 3-4-4 分段的空格或短横线），返回去掉分隔符的号码。"""
    return [normalize("".join(m.groups())) for m in _PHONE_RE.finditer(text)]


def mask_id(number: str) -> str:
    """A found ID number masked the one way (`idcard.mask`): 990102********1234."""
    return idcard.mask(normalize(number).upper())


def mask_phone(number: str) -> str:
    """A found mobile number masked the one way (`idcard.mask_phone`): 154****1234."""
    return idcard.mask_phone(re.sub(r"[ -]", "", normalize(number)))


def redact(text: str) -> str:
    """把文本里的完整身份证号、手机号换成脱敏形式（报告输出前的最后一道保险）。"""
    text = _ID_RE.sub(lambda m: mask_id(m.group(0)) if _valid_birth(m.group(2)) else m.group(0), text)
    return _PHONE_RE.sub(lambda m: mask_phone("".join(m.groups())), text)


# ---------------------------------------------------------------- page parsing


# ---------------------------------------------------------------- columns

@dataclass
class Column:
    path: str  # "news/s02/" (directory with an index.html that has ColumnName)
    name: str
    rule: str | None  # "2周" / "6个月" / None
    articles: list[Page]

    @property
    def index(self) -> str:
        return self.path + "index.html"

    @property
    def latest(self) -> datetime | None:
        dates = [a.pubdate for a in self.articles if a.pubdate]
        return max(dates) if dates else None


def column_rule(name: str, top_level: bool = True) -> str | None:
    """按栏目名判断更新要求：动态、要闻类 "2周"；通知公告、政策文件类一级栏目 "6个月"；其他 None。"""
    if "动态" in name or "要闻" in name:
        return "2周"
    if top_level and any(k in name for k in ("通知", "公告", "政策文件")):
        return "6个月"
    return None


def columns(pages: dict[str, Page]) -> list[Column]:
    """栏目 = 含 ColumnName 元数据的 index.html 所在目录；栏目内容 = 目录（含子目录）中的文章页。"""
    out = []
    for path, page in pages.items():
        if posixpath.basename(path) != "index.html" or "ColumnName" not in page.meta:
            continue
        prefix = path[: -len("index.html")]
        if not prefix:  # the home page is not a column
            continue
        name = page.meta["ColumnName"]
        arts = [p for q, p in pages.items() if q.startswith(prefix) and p.is_article]
        out.append(Column(prefix, name, column_rule(name, prefix.count("/") == 1), arts))
    return out


def window_start(rule: str, as_of: date) -> date:
    """更新窗口的第一天：2 周 = 监测日前 14 天（含）；6 个月 = 6 个月前的同一日（含）。"""
    if rule == "2周":
        return as_of - timedelta(days=STALE_NEWS_DAYS)
    return months_before(as_of, STALE_NOTICE_MONTHS)


# ---------------------------------------------------------------- the audit

def _f(rule: str, page: str, detail: str, severity: str | None = None) -> Finding:
    name, sev, hint = RULES[rule]
    return Finding(rule, name, severity or sev, page, detail, hint)


def _column_findings(cols: list[Column], as_of: date) -> list[Finding]:
    out: list[Finding] = []
    stale, blank = [], []
    for col in cols:
        if not col.articles:
            blank.append(col)
            continue
        if col.rule is None:
            continue
        latest = col.latest
        if latest is None or latest.date() < window_start(col.rule, as_of):
            label = "2 周" if col.rule == "2周" else "6 个月"
            when = f"最新发布 {latest:%Y-%m-%d}" if latest else "无有效发布时间（视为不更新）"
            stale.append((col, f"{when}，超过 {label}未更新"))
    stale_veto = len(stale) >= VETO_STALE_COLUMNS
    blank_veto = len(blank) >= VETO_BLANK_COLUMNS
    for col, detail in stale:
        out.append(_f("column-stale", col.index, detail, VETO if stale_veto else SCORE))
    for col in blank:
        out.append(_f("column-blank", col.index, "栏目无内容", VETO if blank_veto else SCORE))
    if stale_veto:
        out.append(_f("column-stale-total", SITE_WIDE,
                      f"{len(stale)} 个栏目未按期更新（超过（含）{VETO_STALE_COLUMNS} 个即单项否决）"))
    if blank_veto:
        out.append(_f("column-blank-total", SITE_WIDE,
                      f"{len(blank)} 个空白栏目（超过（含）{VETO_BLANK_COLUMNS} 个即单项否决）"))
    return out


def _message(page: Page, as_of: date) -> tuple[datetime | None, datetime | None, bool]:
    """(留言时间, 答复时间, 互动回应差)；时间没有或写错的为 None，答复时间写错的不判。"""
    posted = parse_pubdate(page.posted[0].replace("T", " ")) if page.posted else None
    replied = parse_pubdate(page.replied[0].replace("T", " ")) if page.replied else None
    overdue = posted is not None and (replied is not None or not page.replied) and message_overdue(
        posted.date(), replied.date() if replied else None, as_of)
    return posted, replied, overdue


def _page_findings(path: str, page: Page, existing: set[str], as_of: date) -> list[Finding]:
    out: list[Finding] = []
    # 互动回应差
    posted, replied, overdue = _message(page, as_of)
    if overdue:
        out.append(_f("message-unanswered", path, f"留言时间 {posted:%Y-%m-%d}，" + (
            f"答复时间 {replied:%Y-%m-%d}，超过 3 个月才答复" if replied and replied.date() <= as_of
            else "超过 3 个月未回应")))
    # 安全泄密类
    text = "\n".join(page.texts)
    for masked in dict.fromkeys(mask_id(n) for n in find_ids(text)):
        out.append(_f("id-exposed", path, masked))
    for masked in dict.fromkeys(mask_phone(n) for n in find_phones(text)):
        out.append(_f("phone-exposed", path, masked))
    for label in dict.fromkeys(page.scripts):
        out.append(_f("script-unescaped", path, label))
    # 扣分、提示
    for tag, attr, url in dict.fromkeys(page.links):
        if is_external(url) or urlsplit(url).scheme:
            continue
        target = resolve(path, url)
        if target is None or target not in existing:
            out.append(_f("link-broken", path, url))
    if page.is_article:
        raw = page.meta.get("PubDate")
        if raw is None or not raw.strip():
            out.append(_f("pubdate", path, "缺少 PubDate"))
        elif page.pubdate is None:
            out.append(_f("pubdate", path, f"PubDate 格式不符：{raw}"))
    if path.startswith("guides/") and page.is_article:
        h2 = {t for level, t in page.headings if level == 2}
        missing = [e for e in GUIDE_ELEMENTS if e not in h2]
        if missing:
            out.append(_f("guide-elements", path, "缺少：" + "、".join(missing)))
    for src, alt in page.images:
        if alt is None:
            out.append(_f("img-alt", path, src))
    jumps = []
    prev = 0
    for level, _text in page.headings:
        if level > prev + 1:
            jumps.append(f"h{prev}→h{level}" if prev else f"首个标题为 h{level}")
        prev = level
    if jumps:
        out.append(_f("heading-order", path, "；".join(jumps)))
    return out


def audit(site_dir: str | Path, as_of: date) -> list[Finding]:
    """巡检一个网站目录，返回问题清单（否决项在前）。不联网。"""
    root = Path(site_dir)
    pages = load_site(root)
    # non-HTML files (images, css) also satisfy internal links
    existing = {f.relative_to(root).as_posix() for f in root.rglob("*") if f.is_file()}
    findings = _column_findings(columns(pages), as_of)
    dated = [p.pubdate for p in pages.values() if p.pubdate]
    if dated and max(dated).date() < as_of - timedelta(days=STALE_NEWS_DAYS):
        findings.append(_f("home-stale", "index.html", f"全站最新发布 {max(dated):%Y-%m-%d}，超过 2 周"))
    for path, page in pages.items():
        findings.extend(_page_findings(path, page, existing, as_of))
    ext = external_links(pages)
    if ext:
        hosts = sorted({urlsplit(u).netloc for _p, u in ext})
        findings.append(_f("link-external", SITE_WIDE,
                           f"{len({u for _p, u in ext})} 个外部链接（{len(ext)} 处，主机：{'、'.join(hosts)}）未访问"))
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], list(RULES).index(f.rule), f.page, f.detail))


def has_veto(findings: list[Finding]) -> bool:
    return any(f.severity == VETO for f in findings)


# ---------------------------------------------------------------- tables for lessons

def findings_frame(findings: list[Finding]):
    """问题清单 → pandas 表（列：severity, name, rule, page, detail, hint）。"""
    import pandas as pd

    cols = ["severity", "name", "rule", "page", "detail", "hint"]
    return pd.DataFrame([{c: getattr(f, c) for c in cols} for f in findings], columns=cols)


def pages_frame(pages: dict[str, Page]):
    """每页一行：page, column, title, pubdate（缺失或格式不符为 NaT）, is_article。"""
    import pandas as pd

    rows = [{"page": path, "column": p.meta.get("ColumnName", ""), "title": p.title,
             "pubdate": p.pubdate, "pubdate_raw": p.meta.get("PubDate"), "is_article": p.is_article}
            for path, p in pages.items()]
    df = pd.DataFrame(rows)
    df["pubdate"] = pd.to_datetime(df["pubdate"])
    return df


def columns_frame(pages: dict[str, Page], as_of: date):
    """每个栏目一行：栏目路径、名称、更新要求、文章数、最新发布、窗口起点、状态（正常/未更新/空白/不检查）。"""
    import pandas as pd

    rows = []
    for col in columns(pages):
        start = window_start(col.rule, as_of) if col.rule else None
        latest = col.latest
        if not col.articles:
            status = "空白"
        elif col.rule is None:
            status = "不检查"
        elif latest is None or latest.date() < start:
            status = "未更新"
        else:
            status = "正常"
        rows.append({"column": col.path, "name": col.name, "rule": col.rule or "", "articles": len(col.articles),
                     "latest": latest, "window_start": start, "status": status})
    return pd.DataFrame(rows)


def messages_frame(pages: dict[str, Page], as_of: date):
    """每条留言一行：page, title, posted, replied, waited_days（未答复的算到监测日）,
    overdue（互动回应差：超过 3 个月未回应，或超过 3 个月才答复）。"""
    import pandas as pd

    rows = []
    for path, p in pages.items():
        if not p.posted:
            continue
        posted, replied, overdue = _message(p, as_of)
        end = replied.date() if replied else as_of
        rows.append({"page": path, "title": p.title, "posted": posted, "replied": replied,
                     "waited_days": (end - posted.date()).days if posted else None, "overdue": overdue})
    return pd.DataFrame(rows)


def guide_matrix(pages: dict[str, Page]):
    """办事指南 × 8 类要素：有该要素（h2 小标题）为 True。"""
    import pandas as pd

    rows = {}
    for path, p in pages.items():
        if path.startswith("guides/") and p.is_article:
            h2 = {t for level, t in p.headings if level == 2}
            rows[path] = {e: e in h2 for e in GUIDE_ELEMENTS}
    return pd.DataFrame.from_dict(rows, orient="index")


def _luminance(colour: str) -> float:
    c = colour.lstrip("#")
    if len(c) == 3:
        c = "".join(ch * 2 for ch in c)
    out = []
    for i in (0, 2, 4):
        v = int(c[i:i + 2], 16) / 255
        out.append(v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4)
    return 0.2126 * out[0] + 0.7152 * out[1] + 0.0722 * out[2]


def contrast_ratio(fg: str, bg: str) -> float:
    """两种颜色（#rrggbb）的对比度，按 WCAG 2.x 的相对亮度公式，范围 1–21。"""
    a, b = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


# ---------------------------------------------------------------- reports


# ---------------------------------------------------------------- command line
