"""Charts with Chinese labels, shared by the HTML report and the analytics notebooks.

Each function draws one figure; given a path it saves a PNG and closes the figure (the
report), otherwise it returns the figure (a notebook shows it).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from . import analytics, bank
from .plotting import plt, setup


def _finish(fig, path: Path | None):
    fig.tight_layout()
    if path is None:
        return fig
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def skill_names() -> dict[str, str]:
    return bank.load_skills()


def street_rounds(df: pd.DataFrame, path: Path | None = None):
    setup()
    s = analytics.group_summary(df, "street").pivot(index="street", columns="round", values="平均得分率")
    fig, ax = plt.subplots(figsize=(10, 4.5))
    s.plot.bar(ax=ax, rot=0, width=0.8)
    ax.set_xlabel("街道")
    ax.set_ylabel("平均得分率（%）")
    ax.set_ylim(0, 100)
    ax.set_title("各街道各轮平均得分率")
    ax.legend(title="轮次")
    return _finish(fig, path)


def community_bars(df: pd.DataFrame, round_label: str, path: Path | None = None):
    """Every 社区's mean with its 95% interval and n; small groups greyed."""
    setup()
    d = df[df["round"] == round_label]
    t = analytics.totals(d)
    g = t.groupby(["street", "community"])["pct"].agg(["mean", "std", "count"]).reset_index()
    g["half"] = 1.96 * g["std"].fillna(0) / np.sqrt(g["count"])
    g = g.sort_values("mean")
    fig, ax = plt.subplots(figsize=(10, max(6, 0.24 * len(g))))
    streets = sorted(g["street"].unique())
    cmap = plt.get_cmap("tab10")
    colors = [cmap(streets.index(s) % 10) if n >= analytics.MIN_N else "#cccccc"
              for s, n in zip(g["street"], g["count"])]
    ax.barh(g["community"] + "（" + g["count"].astype(str) + "人）", g["mean"], xerr=g["half"],
            color=colors, error_kw={"elinewidth": 0.8, "ecolor": "#555"})
    ax.set_xlim(0, 100)
    ax.set_xlabel("平均得分率（%），误差线为 95% 区间")
    ax.set_title(f"各社区平均得分率（{round_label}；灰色：人数少于 {analytics.MIN_N}）")
    handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(i % 10)) for i in range(len(streets))]
    ax.legend(handles, streets, title="街道", loc="lower right", fontsize=8)
    return _finish(fig, path)


def skill_heatmap(matrix: pd.DataFrame, title: str, path: Path | None = None):
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


def skill_progress(progress: pd.DataFrame, path: Path | None = None):
    setup()
    names = skill_names()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for col in progress.columns:
        ax.plot(progress.index, progress[col], marker="o", label=names.get(col, col))
    ax.set_xlabel("轮次")
    ax.set_ylabel("得分率（%）")
    ax.set_ylim(0, 100)
    ax.set_title("各技能各轮得分率")
    ax.legend(fontsize=8, ncol=2)
    return _finish(fig, path)
