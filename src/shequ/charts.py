"""Charts with Chinese labels, shared by the HTML report and the analytics notebooks.

Each matplotlib function draws one figure; given a path it saves a PNG and closes the figure
(the report), otherwise it returns the figure (a notebook shows it). Text is expensive to
draw, so grids of numbers (heatmaps) are HTML tables (`heat_table`), which also stay
readable and searchable in the browser.
"""
from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd

from . import analytics, bank
from .plotting import plt, setup

GREY = "#c8c8c8"


def _finish(fig, path: Path | None):
    fig.tight_layout()
    if path is None:
        return fig
    fig.savefig(path, dpi=100, bbox_inches=None)
    plt.close(fig)
    return path


def skill_names() -> dict[str, str]:
    return bank.load_skills()


def street_rounds(df: pd.DataFrame, path: Path | None = None):
    """Mean 得分率 per 街道 and round, with 95 % intervals."""
    setup()
    s = analytics.group_summary(df, "street")
    rounds = analytics.round_order(df)
    streets = sorted(s["street"].unique())
    fig, ax = plt.subplots(figsize=(10, 4.2))
    width = 0.8 / max(1, len(rounds))
    x = np.arange(len(streets))
    for i, r in enumerate(rounds):
        d = s[s["round"] == r].set_index("street").reindex(streets)
        err = np.vstack([(d["mean"] - d["lo"]).to_numpy(), (d["hi"] - d["mean"]).to_numpy()])
        ax.bar(x + (i - (len(rounds) - 1) / 2) * width, d["mean"], width, yerr=err, label=r,
               error_kw={"elinewidth": 0.7, "ecolor": "#444"})
    n = s.groupby("street")["n"].max().reindex(streets)
    ax.set_xticks(x, [f"{st}\n(n≤{int(k)})" for st, k in zip(streets, n)], fontsize=9)
    ax.set_ylabel("平均得分率（%）")
    ax.set_ylim(0, 100)
    ax.set_title("各街道各轮平均得分率（误差线：95% 区间）")
    ax.legend(title="轮次", ncol=len(rounds), fontsize=8, loc="lower right")
    return _finish(fig, path)


def score_hist(df: pd.DataFrame, path: Path | None = None, pass_pct: float = analytics.PASS_PCT):
    """Distribution of workers' 得分率 in each round (district)."""
    setup()
    bins = analytics.score_bins(df)
    fig, ax = plt.subplots(figsize=(9, 3.8))
    mids = np.arange(len(bins)) * 5 + 2.5
    for r in bins.columns:
        ax.step(mids, bins[r].to_numpy(), where="mid", label=f"{r}（n={int(bins[r].sum())}）")
    ax.axvline(pass_pct, color="#c53030", ls="--", lw=1)
    ax.text(pass_pct + 1, ax.get_ylim()[1] * 0.92, f"及格线 {pass_pct:g}%", color="#c53030", fontsize=9)
    ax.set_xlim(0, 100)
    ax.set_xlabel("得分率（%，每 5 个百分点一档）")
    ax.set_ylabel("人数")
    ax.set_title("各轮得分分布（全区）")
    ax.legend(fontsize=8)
    return _finish(fig, path)


def street_box(df: pd.DataFrame, round_label: str, path: Path | None = None):
    """Spread of 得分率 within each 街道 in one round."""
    setup()
    t = analytics.round_totals(df)
    t = t[t["round"] == round_label]
    streets = sorted(t["street"].astype(str).unique())
    data = [t.loc[t["street"].astype(str) == s, "pct"].to_numpy() for s in streets]
    fig, ax = plt.subplots(figsize=(10, 3.8))
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(streets) + 1), [f"{s}\n(n={len(d)})" for s, d in zip(streets, data)], fontsize=9)
    ax.axhline(analytics.PASS_PCT, color="#c53030", ls="--", lw=1)
    ax.set_ylim(0, 100)
    ax.set_ylabel("得分率（%）")
    ax.set_title(f"各街道得分率分布（{round_label}；箱体为四分位，须为 1.5 倍四分位距）")
    return _finish(fig, path)


def ranking_chart(rank: pd.DataFrame, title: str, value: str = "est", lo: str = "est_lo",
                  hi: str = "est_hi", raw: str = "mean", xlabel: str = "得分率（%）",
                  path: Path | None = None, xlim=(0, 100)):
    """Forest plot of a ranking: shrunk estimate with its interval (dot and line), the raw
    group mean (hollow circle); groups under the minimum n in grey."""
    setup()
    r = rank.sort_values(value, na_position="first").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(9, max(3.0, 0.22 * len(r) + 1.2)))
    y = np.arange(len(r))
    small = r["n"] < analytics.MIN_N
    col = np.where(small, GREY, "#2b6cb0")
    ax.hlines(y, r[lo], r[hi], color=col, lw=1.5)
    ax.scatter(r[value], y, color=col, s=18, zorder=3, label="收缩估计与 95% 区间")
    if raw in r.columns:
        ax.scatter(r[raw], y, facecolors="none", edgecolors="#555", s=18, zorder=3, label="本社区原始均值")
    labels = [f"{c}（{s}，n={int(n)}）" for c, s, n in zip(r.get("community", r.index), r["street"], r["n"])] \
        if "community" in r.columns else [f"{s}（n={int(n)}）" for s, n in zip(r["street"], r["n"])]
    ax.set_yticks(y, labels, fontsize=8)
    for t, sm in zip(ax.get_yticklabels(), small):
        if sm:
            t.set_color("#999")
    if xlim:
        ax.set_xlim(*xlim)
    ax.set_xlabel(xlabel)
    ax.set_title(title + f"（灰色：人数少于 {analytics.MIN_N}，不排名）", fontsize=11)
    ax.legend(fontsize=8, loc="lower right")
    return _finish(fig, path)


def skill_heatmap(matrix: pd.DataFrame, title: str, path: Path | None = None):
    """Matplotlib heatmap (kept for small grids; reports use `heat_table`)."""
    setup()
    names = skill_names()
    m = matrix.rename(columns=names)
    fig, ax = plt.subplots(figsize=(1.0 + 0.9 * m.shape[1], 1.2 + 0.45 * m.shape[0]))
    im = ax.imshow(m.values.astype(float), cmap="RdYlGn", vmin=0, vmax=100, aspect="auto")
    ax.set_xticks(range(m.shape[1]), m.columns, rotation=35, ha="right")
    ax.set_yticks(range(m.shape[0]), m.index)
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            v = m.values[i, j]
            if not pd.isna(v):
                ax.text(j, i, f"{v:.0f}", ha="center", va="center", fontsize=8)
    fig.colorbar(im, ax=ax, label="得分率（%）")
    ax.set_title(title)
    return _finish(fig, path)


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
               names: dict[str, str] | None = None, index_label: str = "",
               vmin: float = 40, vmax: float = 100, fmt: str = "{:.0f}", mark_below: float | None = None) -> HTML:
    """A heatmap as an HTML table: cell colour from red (low) to green (high); a withheld
    cell (NaN, e.g. fewer than MIN_N workers) is grey with “—”; optional n column."""
    names = names if names is not None else skill_names()
    cols = list(matrix.columns)
    head = "".join(f"<th>{html.escape(str(names.get(c, c)))}</th>" for c in cols)
    ncol = "<th>n</th>" if n is not None else ""
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
        rows.append(f"<tr><th>{html.escape(str(idx))}</th>{nn}{''.join(cells)}</tr>")
    cap = f"<caption>{html.escape(title)}</caption>" if title else ""
    legend = ('<div class="heat-legend">颜色：<span style="background:#d73027">低</span>'
              '<span style="background:#fee08b">中</span><span style="background:#1a9850">高</span>'
              f'（{vmin:g}–{vmax:g}）；灰色“—”：人数少于 {analytics.MIN_N} 或无数据，不显示。</div>')
    return HTML(f'<table class="heat">{cap}<thead><tr><th>{html.escape(index_label)}</th>{ncol}{head}</tr></thead>'
                f"<tbody>{''.join(rows)}</tbody></table>{legend}")


def skill_progress(progress: pd.DataFrame, path: Path | None = None, title: str = "各技能各轮得分率（全区）"):
    setup()
    names = skill_names()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    for col in progress.columns:
        ax.plot(list(map(str, progress.index)), progress[col], marker="o", label=names.get(col, col))
    ax.set_xlabel("轮次")
    ax.set_ylabel("得分率（%）")
    ax.set_ylim(0, 100)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return _finish(fig, path)


def community_lines(summary: pd.DataFrame, rounds: list[str], title: str, path: Path | None = None):
    """Mean 得分率 per round of each 社区 of one 街道 (withheld groups are gaps)."""
    setup()
    fig, ax = plt.subplots(figsize=(9, 4.0))
    for c, g in summary.groupby("community"):
        g = g.set_index("round").reindex(rounds)
        n = int(g["n"].max()) if g["n"].notna().any() else 0
        ax.plot(rounds, g["mean"], marker="o", label=f"{c}（n≤{n}）")
    ax.set_ylim(0, 100)
    ax.set_xlabel("轮次")
    ax.set_ylabel("平均得分率（%）")
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=2)
    return _finish(fig, path)


def item_scatter(items: pd.DataFrame, title: str = "题目得分率与区分度", path: Path | None = None):
    """Facility (得分率 P) against discrimination (DI, item–rest r) of every item; the
    conclusion colours the dot."""
    setup()
    colors = {"应复查": "#c53030", "留意": "#dd6b20", "提示": "#3182ce", "正常": "#38a169"}
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for sev, g in items.groupby("severity"):
        ax.scatter(g["facility"], g["di"], s=16, color=colors.get(sev, "#555"), label=f"{sev}（{len(g)}）",
                   alpha=0.8)
    ax.axhline(30, color="#999", ls=":", lw=1)
    ax.axhline(0, color="#555", lw=0.8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("得分率 P（%，越大越容易）")
    ax.set_ylabel("区分度 DI（%，题-余相关 ×100）")
    ax.set_title(title)
    ax.legend(fontsize=8, title="结论")
    return _finish(fig, path)


def _fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, (bool, np.bool_)):
        return "是" if v else ""
    if isinstance(v, (float, np.floating)):
        return "—" if not np.isfinite(v) else f"{v:g}"
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
    and itemstats.labelled do). Wide tables scroll inside their own box."""
    d = df if max_rows is None or len(df) <= max_rows else df.head(max_rows)
    kinds = []
    for c in d.columns:
        k = d[c].dtype.kind
        if k in "iuf":
            kinds.append("num")
        else:
            longest = d[c].astype(str).str.len().max() if len(d) else 0
            kinds.append("txt long" if longest and longest > 24 else "txt")
    head = "".join(f'<th class="{k}">{html.escape(str(c))}</th>' for c, k in zip(d.columns, kinds))
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
        fmt = (lambda v: "—" if v is None or not np.isfinite(v) else f"{v:.1f}")
        name = html.escape(str(d.get("community", d.get("street", ""))))
        street = html.escape(str(d.get("street", ""))) if "community" in d else ""
        cls = ' class="small"' if small else ""
        rows.append(f"<tr{cls}><td>{rank_txt}</td><td>{name}</td><td>{street}</td><td>{int(d['n'])}</td>"
                    f"<td>{'—' if small else fmt(rv)}</td><td>{fmt(est)}</td><td>{fmt(l)}–{fmt(h)}</td>"
                    f"<td class='ivcell'>{bar}</td></tr>")
    head = (f"<tr><th>名次（90%区间）</th><th>{'社区' if 'community' in r.columns else '街道'}</th>"
            f"<th>{'街道' if 'community' in r.columns else ''}</th><th>n</th><th>原始值{unit}</th>"
            f"<th>收缩估计{unit}</th><th>95%区间</th><th>区间图（{a:.0f}–{b:.0f}{unit}）</th></tr>")
    style = ("<style>.iv{position:relative;height:12px;width:260px;background:#f4f4f4}"
             ".iv-line{position:absolute;top:5px;height:3px}"
             ".iv-dot{position:absolute;top:2px;width:9px;height:9px;margin-left:-4px;border-radius:50%}"
             ".iv-raw{position:absolute;top:1px;width:9px;height:9px;margin-left:-5px;border-radius:50%;"
             "border:1px solid #333}tr.small td{color:#999}</style>")
    legend = (f'<p class="note">{html.escape(title)}：蓝点为收缩估计，蓝线为其 95% 区间，空心圈为本组原始值；'
              f"灰色行人数少于 {analytics.MIN_N}，不排名。</p>")
    return HTML(style + legend + f'<table class="data ranking"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>')


def notebook_setup() -> None:
    """Inline figures without a second 'tight' layout pass (charts lay themselves out)."""
    setup()
    try:
        from IPython import get_ipython

        ip = get_ipython()
        if ip is not None:
            ip.run_line_magic("config", "InlineBackend.print_figure_kwargs = {'bbox_inches': None}")
    except Exception:  # not in IPython
        pass
