"""Pieces of the street report (analytics/street-report.ipynb): the ranked, coloured 社区
table whose rows open each 社区's section, and the per-社区 sections with their people.
Names appear only here (a street report goes to that 街道's head only)."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..analytics import views as an
from .html import HTML, _color, table


def anchor(i: int) -> str:
    return f"c{i + 1}"


def communities(df: pd.DataFrame) -> list[str]:
    return sorted(map(str, an.worker_info(df)["community"].astype(str).unique()), key=an._natural)


def community_table(df: pd.DataFrame, roster: pd.DataFrame | None, street: str,
                    plan: pd.DataFrame) -> HTML:
    """One row per 社区: rank and colour by the latest round's mean, every round's mean (the
    trend), the change since the first round, retraining counts; the name opens its section."""
    rounds = an.round_order(df)
    summ = an.group_summary(df, "community")
    m = summ.pivot_table(index="community", columns="round", values="mean", observed=True, dropna=False)
    n = summ.pivot_table(index="community", columns="round", values="n", observed=True)
    comms = communities(df)
    m = m.reindex(index=comms, columns=rounds)
    n = n.reindex(index=comms, columns=rounds)
    last = rounds[-1]
    order = sorted(comms, key=lambda c: (np.isnan(m.loc[c, last]), -np.nan_to_num(m.loc[c, last]), c))
    ranked = [c for c in order if np.isfinite(m.loc[c, last])]
    need = plan[plan["level"] == "需再培训"].groupby("community")["worker_id"].nunique()
    watch = plan.groupby("community")["worker_id"].nunique()
    head = ("<tr><th>名次</th><th>社区（点击看本社区人员）</th>"
            + "".join(f"<th>{html.escape(r)}</th>" for r in rounds)
            + f"<th>较{html.escape(rounds[0])}（百分点）</th><th>需再培训人数</th><th>需再培训或建议关注人数</th></tr>")
    rows = []
    for c in order:
        i = comms.index(c)
        rank = str(ranked.index(c) + 1) if c in ranked else "—"
        cells = []
        for r in rounds:
            v, k = m.loc[c, r], n.loc[c, r]
            txt = an.num(v) + ("" if pd.isna(k) else f"（n={int(k)}）")
            cells.append(f'<td style="background:{_color(float(v)) if np.isfinite(v) else "#e2e2e2"}">{txt}</td>')
        first_v = next((m.loc[c, r] for r in rounds if np.isfinite(m.loc[c, r])), np.nan)
        change = m.loc[c, last] - first_v if len(rounds) > 1 and np.isfinite(m.loc[c, rounds[0]]) else np.nan
        rows.append(f'<tr><td>{rank}</td><td><a href="#{anchor(i)}">{html.escape(c)}</a></td>{"".join(cells)}'
                    f"<td>{an.num(change, signed=True)}</td><td>{int(need.get(c, 0))}</td>"
                    f"<td>{int(watch.get(c, 0))}</td></tr>")
    note = (f'<p class="note" id="top">按“{html.escape(last)}”的平均得分率排名（人数少于 {an.MIN_N} 的社区显示“—”、不排名）；'
            "颜色红低绿高。各轮数字连起来就是本社区的变化趋势。</p>")
    return HTML(f'{note}<div class="scroll"><table class="data ranked"><thead>{head}</thead>'
                f'<tbody>{"".join(rows)}</tbody></table></div>')


def community_sections(df: pd.DataFrame, roster: pd.DataFrame | None, street: str,
                       plan: pd.DataFrame) -> HTML:
    """Each 社区's people: every round's 得分率 and the change, and their retraining items."""
    prog = an.worker_progress(df, roster, street)
    parts = []
    for i, c in enumerate(communities(df)):
        people = prog[prog["community"] == c].drop(columns=["community"])
        mine = plan[plan["community"] == c]
        parts.append(f'<h3 id="{anchor(i)}">{html.escape(c)}（{len(people)} 人）</h3>')
        parts.append(str(table(an.label(people), note="每人各轮得分率；“较首轮”= 最近一轮 − 第一次参加的那一轮")))
        if len(mine):
            parts.append(str(table(an.retraining_summary(mine).drop(columns=["社区"]),
                                   note="本社区再培训名单（依据见下方“再培训名单”）")))
        parts.append('<p class="links"><a href="#top">↑ 回到社区列表</a></p>')
    return HTML("".join(parts))
