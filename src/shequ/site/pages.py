"""Pages of a community website: the site template (how a page is written safely, with the
网页设计规范 metadata of 国办发〔2017〕47号) and the parser that reads pages back (links, images,
headings, metadata). The audit and the lessons read pages through here; so does the generator
of the synthetic snapshot, which writes them with the same template.
"""
from __future__ import annotations

import html
import posixpath
import re
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

PUBDATE_FORMAT = "%Y-%m-%d %H:%M"


def parse_pubdate(value: str | None) -> datetime | None:
    """PubDate "YYYY-MM-DD HH:MM" → datetime；缺失或格式不符得 None。"""
    if not value:
        return None
    try:
        return datetime.strptime(value.strip(), PUBDATE_FORMAT)
    except ValueError:
        return None


@dataclass
class Page:
    path: str  # relative to the site root, "/" separators
    meta: dict[str, str]
    links: list[tuple[str, str, str]]  # (tag, attribute, value)
    images: list[tuple[str, str | None]]  # (src, alt or None)
    headings: list[tuple[int, str]]
    texts: list[str]  # visible text and attribute values, for the leak scan
    visible: list[str]  # text inside <body> only, as a reader sees it
    scripts: list[str]  # unescaped-script evidence, one label each
    posted: list[str]  # <time class="posted" datetime=…>
    replied: list[str]

    @property
    def title(self) -> str:
        return self.meta.get("ArticleTitle", "")

    @property
    def is_article(self) -> bool:
        return "ArticleTitle" in self.meta

    @property
    def pubdate(self) -> datetime | None:
        return parse_pubdate(self.meta.get("PubDate"))


class _Parser(HTMLParser):
    URL_ATTRS = {("a", "href"), ("img", "src"), ("link", "href"), ("script", "src"),
                 ("iframe", "src"), ("source", "src"), ("area", "href")}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.links: list[tuple[str, str, str]] = []
        self.images: list[tuple[str, str | None]] = []
        self.headings: list[tuple[int, str]] = []
        self.texts: list[str] = []
        self.visible: list[str] = []
        self.scripts: list[str] = []
        self.posted: list[str] = []
        self.replied: list[str] = []
        self._in_body = False
        self._heading: tuple[int, list[str]] | None = None
        self._skip = 0  # inside <script>/<style>

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "body":
            self._in_body = True
        if tag == "meta" and "name" in a:
            self.meta[a["name"]] = a.get("content", "")
        for k, v in a.items():
            if (tag, k) in self.URL_ATTRS and v.strip():
                if v.strip().lower().startswith("javascript:"):
                    self.scripts.append("javascript: 链接")
                else:
                    self.links.append((tag, k, v.strip()))
            if k.startswith("on"):
                self.scripts.append(f"事件属性 {k}")
            if k in ("alt", "title", "content", "value", "href", "placeholder"):
                self.texts.append(v)
        if tag == "img":
            self.images.append((a.get("src", ""), a.get("alt") if "alt" in a else None))
        if tag == "script" and self._in_body:
            self.scripts.append("<script> 元素")
        if tag in ("script", "style"):
            self._skip += 1
        if re.fullmatch(r"h[1-6]", tag):
            self._heading = (int(tag[1]), [])
        if tag == "time":
            cls = a.get("class", "").split()
            if "posted" in cls:
                self.posted.append(a.get("datetime", ""))
            if "replied" in cls:
                self.replied.append(a.get("datetime", ""))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        if self._heading and tag == f"h{self._heading[0]}":
            level, parts = self._heading
            self.headings.append((level, "".join(parts).strip()))
            self._heading = None

    def handle_data(self, data):
        if self._skip:
            return
        self.texts.append(data)
        if self._in_body and data.strip():
            self.visible.append(data.strip())
        if self._heading:
            self._heading[1].append(data)


def _read(p: Path) -> str:
    raw = p.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # pages saved from old editors are often GBK
        return raw.decode("gb18030", errors="replace")


def parse_page(text: str, path: str = "") -> Page:
    """解析一页 HTML，取出元数据、链接、图片、标题、文本等。"""
    p = _Parser()
    p.feed(text)
    p.close()
    return Page(path, p.meta, p.links, p.images, p.headings, p.texts, p.visible, p.scripts, p.posted, p.replied)


def load_site(site_dir: str | Path) -> dict[str, Page]:
    """读入目录下全部 .html 页面：{相对路径: Page}。"""
    root = Path(site_dir)
    pages = {}
    for f in sorted(root.rglob("*.html")):
        rel = f.relative_to(root).as_posix()
        pages[rel] = parse_page(_read(f), rel)
    return pages


def is_external(url: str) -> bool:
    """带协议或主机名的链接（http:、https:、//host）算外部链接。"""
    parts = urlsplit(url)
    return bool(parts.scheme or parts.netloc)


def resolve(page: str, href: str) -> str | None:
    """站内链接 → 站点内的文件路径（去掉 #片段 和 ?参数；目录补 index.html）；跳出站点根目录得 None。"""
    target = urlsplit(href).path
    if not target:  # "#top" or "?page=2": the page itself
        return page
    if target.startswith("/"):
        joined = target.lstrip("/")
    else:
        joined = posixpath.join(posixpath.dirname(page), target)
    norm = posixpath.normpath(joined)
    if norm == ".":
        norm = ""
    if norm.startswith(".."):
        return None
    if target.endswith("/") or norm == "":
        norm = posixpath.join(norm, "index.html")
    return norm


def external_links(pages: dict[str, Page]) -> list[tuple[str, str]]:
    """全部外部链接 (页面, 地址)，只列出，不访问。"""
    out = []
    for path, page in pages.items():
        for _tag, _attr, url in page.links:
            if is_external(url) and urlsplit(url).scheme in ("http", "https", ""):
                out.append((path, url))
    return out


SITE_NAME = "明湖区社区综合服务网"


PORTAL = "www.minghu.example.gov.cn"  # fictional district portal; the site is a 子站 of it


SITE_ID_CODE = "9901020001"  # fictional (no province 99)


esc = html.escape


NAV = [("index.html", "首页"), ("notices/index.html", "通知公告"), ("news/index.html", "社区动态"),
       ("guides/index.html", "办事指南"), ("policies/index.html", "政策文件"),
       ("messages/index.html", "互动留言"), ("topics/index.html", "专题专栏"), ("about.html", "关于本站")]


CSS = """body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;color:#1a1a1a;background:#fff;margin:0}
.site-header{background:#0b4f8a;color:#fff;padding:.6em 1em}.site-header a{color:#fff}
nav a{margin-right:1em}main{padding:1em;max-width:60em}.meta{color:#555}
footer{border-top:1px solid #ccc;padding:1em;color:#333;font-size:.9em}
"""


def rel(src: str, dst: str) -> str:
    """Relative URL from page src to site file dst (both relative to the site root)."""
    return posixpath.relpath(dst, posixpath.dirname(src) or ".")


def page_html(path: str, title: str, body: str, *, column: str | None = None,
              pubdate: datetime | str | None = None, source: str | None = None,
              article: bool = False, description: str | None = None) -> str:
    """Render one page from the site template. Every value is escaped here; body is trusted HTML.

    Metadata follows the 网页设计规范 of 国办发〔2017〕47号: SiteName/SiteDomain/SiteIDCode,
    ColumnName, and for content pages ArticleTitle, PubDate (YYYY-MM-DD HH:MM), ContentSource.
    """
    meta = [("SiteName", SITE_NAME), ("SiteDomain", PORTAL), ("SiteIDCode", SITE_ID_CODE)]
    if column:
        meta.append(("ColumnName", column))
    if description:
        meta.append(("ColumnDescription", description))
    if article:
        meta.append(("ArticleTitle", title))
        if pubdate is not None:
            meta.append(("PubDate", pubdate if isinstance(pubdate, str) else f"{pubdate:%Y-%m-%d %H:%M}"))
        if source:
            meta.append(("ContentSource", source))
    nav = "".join(f"<a href=\"{esc(rel(path, href))}\">{esc(name)}</a>" for href, name in NAV)
    lines = [
        "<!DOCTYPE html>",
        "<html lang=\"zh-CN\">",
        "<head>",
        "<meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        *(f"<meta name=\"{k}\" content=\"{esc(v)}\">" for k, v in meta),
        f"<title>{esc(title)} - {esc(SITE_NAME)}</title>",
        f"<link rel=\"stylesheet\" href=\"{esc(rel(path, 'static/site.css'))}\">",
        "</head>",
        "<body>",
        "<header class=\"site-header\">",
        f"<p class=\"site-name\"><a href=\"{esc(rel(path, 'index.html'))}\">{esc(SITE_NAME)}</a></p>",
        f"<nav>{nav}</nav>",
        "</header>",
        "<main id=\"content\">",
        body.rstrip("\n"),
        "</main>",
        "<footer>",
        f"<p>主办：明湖区人民政府办公室　承办：明湖区信息中心　网站标识码：{SITE_ID_CODE}（虚构）</p>",
        f"<p><a href=\"https://{PORTAL}/\">明湖区人民政府门户网站</a>　"
        "本站为培训用合成数据，所有单位、人名、号码均为虚构。</p>",
        "</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(lines) + "\n"


def article_body(title: str, when: datetime | None, source: str, paragraphs: list[str],
                 extra: str = "") -> str:
    """Standard article body: h1, date/source line, escaped paragraphs, then trusted extra HTML."""
    parts = [f"<h1>{esc(title)}</h1>"]
    stamp = f"发布时间：{when:%Y-%m-%d %H:%M}　" if when else ""
    parts.append(f"<p class=\"meta\">{stamp}来源：{esc(source)}</p>")
    parts += [f"<p>{esc(p)}</p>" for p in paragraphs]
    if extra:
        parts.append(extra.rstrip("\n"))
    return "\n".join(parts)
