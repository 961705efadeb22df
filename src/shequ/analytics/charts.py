"""Charts with Chinese labels, shared by the HTML report and the analytics notebooks.

Each function draws one figure from a view (a table `analytics.views` computed), never from
the raw results table; given a path it saves a PNG and closes the figure (the report),
otherwise it returns the figure (a notebook shows it). Grids of numbers (heatmaps) are HTML
tables (`report.html.heat_table`), which stay readable and searchable in the browser.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .. import bank
from ..plotting import plt, setup
from . import views as analytics

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


def distinct_colors(k: int) -> tuple[list, list[str]]:
    """k colours no two alike (tab10, then tab20's light shades, then a spread of hues),
    each with its own marker, so a line is told apart even in grey print."""
    import matplotlib as mpl

    base = list(mpl.colormaps["tab10"].colors) + list(mpl.colormaps["tab20"].colors[1::2])
    if k > len(base):
        base += [mpl.colormaps["hsv"](i / (k - len(base) + 1)) for i in range(k - len(base))]
    marks = ["o", "s", "^", "D", "v", "P", "X", "*", "<", ">"]
    return base[:k], [marks[i % len(marks)] for i in range(k)]


def street_rounds(s: pd.DataFrame, rounds: list[str], path: Path | None = None):
    """Mean 得分率 per 街道 and round, with 95 % intervals (`s`: group_summary by street)."""
    setup()
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
    ax.set_title("各街道各轮平均得分率（误差线：95% 区间）", pad=28)
    # above the plot, never on the bars
    ax.legend(title="轮次", ncol=len(rounds), fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.08),
              frameon=False)
    return _finish(fig, path)


def score_hist(bins: pd.DataFrame, path: Path | None = None, pass_pct: float = analytics.PASS_PCT):
    """Distribution of workers' 得分率 in each round (district; `bins`: score_bins)."""
    setup()
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


def street_box(t: pd.DataFrame, round_label: str, path: Path | None = None):
    """Spread of 得分率 within each 街道 in one round (`t`: round_totals, one row per worker)."""
    setup()
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


def skill_progress(progress: pd.DataFrame, path: Path | None = None, title: str = "各技能各轮得分率（全区）"):
    setup()
    names = skill_names()
    fig, ax = plt.subplots(figsize=(10, 4.2))
    colors, markers = distinct_colors(len(progress.columns))
    for col, c, mk in zip(progress.columns, colors, markers):
        ax.plot(list(map(str, progress.index)), progress[col], marker=mk, color=c, label=names.get(col, col))
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
    groups = list(summary.groupby("community"))
    colors, markers = distinct_colors(len(groups))
    for (c, g), col, mk in zip(groups, colors, markers):
        g = g.set_index("round").reindex(rounds)
        n = int(g["n"].max()) if g["n"].notna().any() else 0
        ax.plot(rounds, g["mean"], marker=mk, color=col, label=f"{c}（n≤{n}）")
    ax.set_ylim(0, 100)
    ax.set_xlabel("轮次")
    ax.set_ylabel("平均得分率（%）")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
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
