"""HTML for people: the page frame (Chinese font stack, CSS for screen, phone and A4 print,
a small offline script that sorts and filters tables), and tables: plain data tables,
heatmap tables and ranking tables with drawn intervals, each in a box that scrolls sideways.
Notebooks display these as they are; the report embeds them."""
from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd

from ..analytics import views as analytics
from ..bank import load_skills


def _color(v: float, vmin: float = 40, vmax: float = 100) -> str:
    """Red → yellow → green for a 得分率."""
    if v is None or not np.isfinite(v):
        return "#e2e2e2"
    x = min(1.0, max(0.0, (v - vmin) / (vmax - vmin)))
    stops = [(0.0, (215, 48, 39)), (0.5, (254, 224, 139)), (1.0, (26, 152, 80))]
    for (a, ca), (b, cb) in zip(stops, stops[1:]):
        if x <= b:
            t = (x - a) / (b - a)
            rgb = [round(ca[i] + t * (cb[i] - ca[i])) for i in range(3)]
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return "#1a9850"


class HTML:
    """An HTML fragment a notebook displays as is (and a report can embed)."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


def heat_table(matrix: pd.DataFrame, title: str = "", n: pd.Series | None = None,
               names: dict[str, str] | None = None, index_label: str | list[str] = "",
               vmin: float = 40, vmax: float = 100, fmt: str = "{:.0f}", mark_below: float | None = None) -> HTML:
    """A heatmap as an HTML table: cell colour from red (low) to green (high); a withheld
    cell (NaN, e.g. fewer than MIN_N workers) is grey with “—”; optional n column."""
    names = names if names is not None else load_skills()
    cols = list(matrix.columns)
    head = "".join(f'<th scope="col">{html.escape(str(names.get(c, c)))}</th>' for c in cols)
    ncol = '<th scope="col">n</th>' if n is not None else ""
    rows = []
    for idx, r in matrix.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            ok = v is not None and not pd.isna(v)
            txt = fmt.format(v) if ok else "—"
            style = f"background:{_color(float(v) if ok else np.nan, vmin, vmax)}"
            if ok and mark_below is not None and v < mark_below:
                style += ";font-weight:bold;outline:2px solid #822727;outline-offset:-2px"
            cells.append(f'<td style="{style}">{txt}</td>')
        nn = ""
        if n is not None:
            k = n.get(idx, np.nan)
            nn = f"<td>{'' if pd.isna(k) else int(k)}</td>"
        keys = idx if isinstance(idx, tuple) else (idx,)
        rows.append("<tr>" + "".join(f'<th scope="row">{html.escape(str(k))}</th>' for k in keys)
                    + f"{nn}{''.join(cells)}</tr>")
    cap = f"<caption>{html.escape(title)}</caption>" if title else ""
    legend = ('<div class="heat-legend">颜色：<span style="background:#d73027">低</span>'
              '<span style="background:#fee08b">中</span><span style="background:#1a9850">高</span>'
              f'（{vmin:g}–{vmax:g}）；灰色“—”：人数少于 {analytics.MIN_N} 或无数据，不显示。</div>')
    # a (街道, 社区) index gets one column per level
    labels = list(index_label) if isinstance(index_label, (list, tuple)) else [index_label]
    labels += [""] * (matrix.index.nlevels - len(labels))
    first = "".join(f'<th scope="col">{html.escape(str(x))}</th>' for x in labels)
    return HTML(f'<div class="scroll"><table class="heat">{cap}<thead><tr>{first}{ncol}{head}</tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table></div>{legend}")


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, (bool, np.bool_)):
        return "是" if v else ""
    if isinstance(v, (float, np.floating)):
        return "—" if not np.isfinite(v) else f"{v + 0.0:g}"   # + 0.0: -0.0 shows as 0
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    try:
        if pd.isna(v):
            return "—"
    except (TypeError, ValueError):
        pass
    return str(v)


def table(df: pd.DataFrame, max_rows: int | None = None, note: str = "") -> HTML:
    """A table for people: no index, numbers right-aligned and text left-aligned (long text
    wraps), “—” for withheld figures, True shown as 是. Round numbers before (analytics.label
    and itemstats.labelled do). Wide tables scroll inside their own box. An empty table is
    a sentence saying so (a header with no rows reads like a broken page)."""
    if df.empty:
        lead = f"{html.escape(note)}：" if note else ""
        return HTML(f'<p class="note">{lead}没有符合条件的记录。</p>')
    d = df if max_rows is None or len(df) <= max_rows else df.head(max_rows)
    kinds = []
    for c in d.columns:
        k = d[c].dtype.kind
        if k in "iuf":
            kinds.append("num")
        else:
            longest = d[c].astype(str).str.len().max() if len(d) else 0
            kinds.append("txt long" if longest and longest > 24 else "txt")
    head = "".join(f'<th scope="col" class="{k}">{html.escape(str(c))}</th>' for c, k in zip(d.columns, kinds))
    rows = []
    for row in d.itertuples(index=False, name=None):
        rows.append("<tr>" + "".join(f'<td class="{k}">{html.escape(_fmt(v))}</td>' for v, k in zip(row, kinds))
                    + "</tr>")
    more = f'<p class="note">只显示前 {max_rows} 行，共 {len(df)} 行（完整表见 Excel 工作簿）。</p>' \
        if d is not df else ""
    pre = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return HTML(f'{pre}<div class="scroll"><table class="data"><thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table></div>{more}')


def interval_table(rank: pd.DataFrame, title: str, value: str = "est", lo: str = "est_lo",
                   hi: str = "est_hi", raw: str = "mean", unit: str = "%", scale=(0.0, 100.0)) -> HTML:
    """A ranking as an HTML table with a drawn interval in each row (fast for many groups):
    the bar spans the 95 % interval of the shrunk estimate, the dot is the estimate, the
    ring the group's raw figure. Groups under the minimum n are grey and not ranked."""
    r = rank.copy()
    vals = pd.concat([r[lo], r[hi], r[raw] if raw in r.columns else r[value]]).dropna()
    if vals.empty:
        return HTML(f'<p class="note">{html.escape(title)}：没有可排名的组。</p>')
    a, b = scale if scale else (float(vals.min()), float(vals.max()))
    if scale is None:
        pad = 0.05 * (b - a or 1)
        a, b = a - pad, b + pad

    def pos(v):
        return 100 * (min(max(float(v), a), b) - a) / (b - a)
    rows = []
    for x in r.itertuples(index=False):
        d = x._asdict()
        small = d["n"] < analytics.MIN_N
        est, l, h = d.get(value), d.get(lo), d.get(hi)
        rv = d.get(raw) if raw in d else None
        bar = ""
        if est is not None and np.isfinite(est):
            col = "#bbb" if small else "#2b6cb0"
            bar = (f'<div class="iv"><span class="iv-line" style="left:{pos(l):.1f}%;width:{max(0.5, pos(h) - pos(l)):.1f}%;background:{col}"></span>'
                   f'<span class="iv-dot" style="left:{pos(est):.1f}%;background:{col}"></span>')
            if rv is not None and np.isfinite(rv):
                bar += f'<span class="iv-raw" style="left:{pos(rv):.1f}%"></span>'
            bar += "</div>"
        rank_txt = "—" if small or not np.isfinite(d.get("rank", np.nan)) else \
            f"{int(d['rank'])}（{int(d['rank_lo'])}–{int(d['rank_hi'])}）"
        fmt = analytics.num
        name = html.escape(str(d.get("community", d.get("street", ""))))
        street = html.escape(str(d.get("street", ""))) if "community" in d else ""
        cls = ' class="small"' if small else ""
        rows.append(f"<tr{cls}><td>{rank_txt}</td><td>{name}</td><td>{street}</td><td>{int(d['n'])}</td>"
                    f"<td>{'—' if small else fmt(rv)}</td><td>{fmt(est)}</td><td>{fmt(l)}–{fmt(h)}</td>"
                    f"<td class='ivcell'>{bar}</td></tr>")
    head = "".join(f'<th scope="col">{h}</th>' for h in (
        "名次（90%区间）", "社区" if "community" in r.columns else "街道", "街道" if "community" in r.columns else "",
        "n", f"原始值{unit}", f"收缩估计{unit}", "95%区间", f"区间图（{a:.0f}–{b:.0f}{unit}）"))
    style = ("<style>.iv{position:relative;height:12px;width:260px;max-width:40vw;background:#f4f4f4}"
             ".iv-line{position:absolute;top:5px;height:3px}"
             ".iv-dot{position:absolute;top:2px;width:9px;height:9px;margin-left:-4px;border-radius:50%}"
             ".iv-raw{position:absolute;top:1px;width:9px;height:9px;margin-left:-5px;border-radius:50%;"
             "border:1px solid #333}tr.small td{color:#999}</style>")
    legend = (f'<p class="note">{html.escape(title)}：蓝点为收缩估计，蓝线为其 95% 区间，空心圈为本组原始值；'
              f"灰色行人数少于 {analytics.MIN_N}，不排名。</p>")
    return HTML(style + legend + f'<div class="scroll"><table class="data ranking"><thead><tr>{head}</tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table></div>')


FONT_STACK = '"Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif'


CSS = f"""
body {{ font-family: {FONT_STACK}; margin: 2em auto; max-width: 1180px; padding: 0 1em; color: #222; line-height: 1.6;
       overflow-wrap: break-word; }}
h1 {{ border-bottom: 3px solid #2b6cb0; padding-bottom: .3em; }}
h2 {{ margin-top: 2em; color: #2b6cb0; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 13px; }}
th, td {{ border: 1px solid #ccc; padding: 3px 8px; text-align: right; }}
th {{ background: #edf2f7; }}
td:first-child, th:first-child {{ text-align: left; }}
.scroll {{ max-width: 100%; overflow-x: auto; }}
table.data td.num, table.data th.num {{ text-align: right; white-space: nowrap; }}
table.data td.txt, table.data th.txt {{ text-align: left; white-space: nowrap; }}
table.data td.long {{ white-space: normal; min-width: 22em; }}
table.heat td {{ text-align: center; min-width: 2.6em; }}
table.heat tbody th, table.ranking td {{ white-space: nowrap; }}
table.ranking :is(td, th):is(:nth-child(2), :nth-child(3)) {{ text-align: left; }}
table.heat caption {{ font-weight: bold; text-align: left; padding: .3em 0; }}
.heat-legend {{ font-size: 12px; color: #555; }}
.heat-legend span {{ display: inline-block; padding: 0 .6em; margin: 0 .2em; color: #222; }}
img, svg {{ max-width: 100%; height: auto; }}
img {{ border: 1px solid #eee; }}
.note {{ color: #666; font-size: 13px; }}
nav a, .links a {{ margin-right: 1.2em; }}
.summary {{ background: #f0f7ff; border-left: 4px solid #2b6cb0; padding: .3em 1em; margin: 1em 0; }}
.summary-title {{ margin: .3em 0; font-size: 1.1em; }}
.summary ul {{ margin: .3em 0; padding-left: 1.4em; }}
.privacy {{ background: #fff5f5; border-left: 4px solid #c53030; padding: .4em .8em; }}
.jp-OutputArea-output pre, pre {{ white-space: pre-wrap; }}
/* sorting and filtering (the script at the end of the page adds the buttons and boxes) */
th button.sort {{ font: inherit; color: inherit; background: none; border: 0; padding: 0; cursor: pointer;
                  text-align: inherit; }}
/* a no-break space keeps the mark on the header's last line */
th button.sort::after {{ content: "\\00a0↕"; color: #a0aec0; }}
th[aria-sort="ascending"] button.sort::after {{ content: "\\00a0▲"; color: #2b6cb0; }}
th[aria-sort="descending"] button.sort::after {{ content: "\\00a0▼"; color: #2b6cb0; }}
.filter {{ margin: .6em 0 -.4em; font-size: 13px; }}
.filter input {{ font: inherit; padding: 2px 6px; width: 16em; max-width: 60vw; }}
.filter-count {{ margin-left: .8em; color: #666; }}
@media screen {{ tr.filtered-out {{ display: none; }} }}
@media (max-width: 600px) {{
  body {{ margin: 1em auto; padding: 0 .6em; }}
  table {{ font-size: 12px; }}
  th, td {{ padding: 2px 5px; }}
  table.data td.long {{ min-width: 16em; }}
}}
/* A4: every column on the page (smaller type, long text wraps), a new page per section */
@page {{ size: A4; margin: 12mm 10mm; }}
@media print {{
  body {{ margin: 0; max-width: none; padding: 0; font-size: 10pt; line-height: 1.4; }}
  * {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
  nav, .links, .filter {{ display: none !important; }}
  .scroll {{ overflow: visible; }}
  table {{ font-size: 7.5pt; max-width: 100%; }}
  th, td {{ padding: 1px 3px; }}
  /* headers and long text wrap; short cells (ids, names, numbers) stay whole */
  th, table.data th.txt, table.data th.num, table.heat tbody th {{ white-space: normal; }}
  table.data td.long {{ min-width: 0; }}
  /* Chinese text cells (round names, 社区) may wrap too; ASCII ids never break inside */
  table.data td.txt {{ white-space: normal; }}
  /* the item statistics have 20-odd columns: smaller still */
  table:has(> thead th:nth-child(14)) {{ font-size: 6.5pt; }}
  table:has(> thead th:nth-child(14)) :is(th, td) {{ padding: 1px 2px; }}
  table.heat td {{ min-width: 0; }}
  table.ranking .iv {{ width: 30mm; max-width: none; }}
  th button.sort::after {{ content: none; }}
  tr, img, .heat-legend {{ break-inside: avoid; }}
  thead {{ display: table-header-group; }}
  h2, h3, caption, .note {{ break-after: avoid; }}
  img {{ border: 0; }}
  /* a new page for every h2 but the page's first */
  body > h2 ~ h2, body > h2 ~ .md h2, body > .md:has(h2) ~ .md h2, body > .md:has(h2) ~ h2 {{ break-before: page; }}
}}
"""

# Sorting (click a header; numbers by value, “—” and blanks always last, text by zh-CN
# collation) and a filter box above every table of more than 10 rows. Plain script, no
# network; without it the tables are simply static.
SCRIPT = r"""
(function () {
  "use strict";
  var zh = new Intl.Collator("zh-CN", {numeric: true});
  var NUM = /^\s*([-+\u2212]?\d+(?:\.\d+)?)/;
  function cell(row, i) { var c = row.cells[i]; return c ? c.textContent.trim() : ""; }
  function gone(t) { return t === "" || t.charAt(0) === "\u2014"; }
  function num(t) { var m = NUM.exec(t); return m ? parseFloat(m[1].replace("\u2212", "-")) : NaN; }
  function sort(table, th, i) {
    var body = table.tBodies[0], dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    var rows = Array.prototype.map.call(body.rows, function (r, k) {
      var t = cell(r, i);
      return {r: r, k: k, t: t, gone: gone(t), n: num(t)};
    });
    var numeric = rows.every(function (x) { return x.gone || !isNaN(x.n); });
    rows.sort(function (a, b) {
      if (a.gone || b.gone) { return a.gone === b.gone ? a.k - b.k : (a.gone ? 1 : -1); }
      return dir * ((numeric ? a.n - b.n : 0) || zh.compare(a.t, b.t)) || a.k - b.k;
    });
    rows.forEach(function (x) { body.appendChild(x.r); });
    Array.prototype.forEach.call(th.parentNode.cells, function (h) {
      if (h.querySelector("button.sort")) { h.setAttribute("aria-sort", "none"); }
    });
    th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
  }
  function filter(table, anchor) {
    var rows = table.tBodies[0].rows, box = document.createElement("div");
    box.className = "filter";
    box.innerHTML = '<label>\u7b5b\u9009\uff1a<input type="search" placeholder="\u8f93\u5165\u6587\u5b57\uff0c' +
      '\u53ea\u663e\u793a\u542b\u6709\u5b83\u7684\u884c"></label><span class="filter-count" aria-live="polite"></span>';
    anchor.parentNode.insertBefore(box, anchor);
    var input = box.querySelector("input"), count = box.querySelector(".filter-count");
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase(), shown = 0;
      Array.prototype.forEach.call(rows, function (r) {
        var hit = !q || r.textContent.toLowerCase().indexOf(q) >= 0;
        r.classList.toggle("filtered-out", !hit);
        shown += hit ? 1 : 0;
      });
      count.textContent = q ? "\u663e\u793a " + shown + " / " + rows.length + " \u884c" : "";
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.data, table.heat"), function (table) {
    if (!table.tHead || table.tBodies.length !== 1) { return; }
    var body = table.tBodies[0], head = table.tHead.rows[table.tHead.rows.length - 1];
    Array.prototype.forEach.call(head.cells, function (th, i) {
      th.setAttribute("scope", "col");
      var empty = Array.prototype.every.call(body.rows, function (r) { return cell(r, i) === ""; });
      if (empty || th.colSpan > 1) { return; }   // e.g. the drawn intervals
      var b = document.createElement("button");
      b.type = "button";
      b.className = "sort";
      b.title = "\u70b9\u51fb\u6392\u5e8f";
      while (th.firstChild) { b.appendChild(th.firstChild); }
      th.appendChild(b);
      th.setAttribute("aria-sort", "none");
      b.addEventListener("click", function () { sort(table, th, i); });
    });
    if (body.rows.length > 10) { filter(table, table.closest(".scroll") || table); }
  });
})();
"""

_BARE_TABLE = re.compile(r'(?<!<div class="scroll">)(<table\b.*?</table>)', re.DOTALL)
_THEAD = re.compile(r"<thead>.*?</thead>", re.DOTALL)
_UNSCOPED_TH = re.compile(r"<th(?=[\s>])(?![^>]*\bscope=)")


def page(title: str, body: str, back: str | None = None) -> str:
    """A whole report page: the CSS (screen, phone, A4 print) and the sort/filter script;
    a table not already in a scroll box gets one, so only the table scrolls on a phone, and
    its column headers get scope="col"."""
    nav = f'<p class="links"><a href="{back}">← 返回报告首页</a></p>' if back else ""
    body = _BARE_TABLE.sub(r'<div class="scroll">\1</div>', body)
    body = _THEAD.sub(lambda m: _UNSCOPED_TH.sub('<th scope="col"', m.group()), body)
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>{html.escape(title)}</title><style>{CSS}</style></head>'
            f"<body>{nav}{body}{nav}<script>{SCRIPT}</script></body></html>\n")


def table_html(df: pd.DataFrame) -> str:
    return str(table(df))
