"""社区 on the report pages: the ranked, coloured 社区 table (district overview and street
reports; on a street report its rows open each 社区's section) and the per-社区 sections
with their people. Names appear only in the sections (street reports go to that 街道's head only)."""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..analytics import views as an
from .html import HTML, _color
from .html import table as data_table


def anchor(i: int) -> str:
    return f"c{i + 1}"


def names_of(df: pd.DataFrame) -> list[str]:
    return sorted(map(str, an.worker_info(df)["community"].astype(str).unique()), key=an._natural)


def table(df: pd.DataFrame, plan: pd.DataFrame | None = None, anchors: bool = False) -> HTML:
    """One row per 社区, ranked and coloured by the latest round's mean: every round's mean
    (the trend), the change since the first round and, given a street's retraining `plan`,
    its counts. With `anchors` (the street page) each name opens that 社区's section; with
    several streets in `df` (the district) a 街道 column is added."""
    rounds = an.round_order(df)
    summ = an.group_summary(df, "community")
    keys = ["street", "community"]
    m = summ.pivot_table(index=keys, columns="round", values="mean", observed=True, dropna=False)
    n = summ.pivot_table(index=keys, columns="round", values="n", observed=True)
    groups = sorted({tuple(x) for x in summ[keys].to_numpy()}, key=lambda k: (an._natural(k[0]), an._natural(k[1])))
    m = m.reindex(index=pd.MultiIndex.from_tuples(groups, names=keys), columns=rounds)
    n = n.reindex(index=m.index, columns=rounds)
    last = rounds[-1]
    order = sorted(groups, key=lambda g: (np.isnan(m.loc[g, last]), -np.nan_to_num(m.loc[g, last]), g))
    ranked = [g for g in order if np.isfinite(m.loc[g, last])]
    several = len({g[0] for g in groups}) > 1
    counts = plan is not None
    if counts:
        need = plan[plan["level"] == "需再培训"].groupby("community")["worker_id"].nunique()
        watch = plan.groupby("community")["worker_id"].nunique()
    head = ("<tr><th>名次</th>" + ("<th>街道</th>" if several else "")
            + f"<th>社区{'（点击看本社区人员）' if anchors else ''}</th>"
            + "".join(f"<th>{html.escape(r)}</th>" for r in rounds)
            + f"<th>较{html.escape(rounds[0])}（百分点）</th>"
            + ("<th>需再培训人数</th><th>需再培训或建议关注人数</th>" if counts else "") + "</tr>")
    comms = names_of(df)
    rows = []
    for g in order:
        street, c = g
        rank = str(ranked.index(g) + 1) if g in ranked else "—"
        cells = []
        for r in rounds:
            v, k = m.loc[g, r], n.loc[g, r]
            txt = an.num(v) + ("" if pd.isna(k) else f"（n={int(k)}）")
            cells.append(f'<td style="background:{_color(float(v)) if np.isfinite(v) else "#e2e2e2"}">{txt}</td>')
        change = m.loc[g, last] - m.loc[g, rounds[0]] if len(rounds) > 1 else np.nan
        name = f'<a href="#{anchor(comms.index(c))}">{html.escape(c)}</a>' if anchors else html.escape(c)
        rows.append(f"<tr><td>{rank}</td>" + (f"<td>{html.escape(street)}</td>" if several else "")
                    + f"<td>{name}</td>{''.join(cells)}<td>{an.num(change, signed=True)}</td>"
                    + (f"<td>{int(need.get(c, 0))}</td><td>{int(watch.get(c, 0))}</td>" if counts else "") + "</tr>")
    note = (f'<p class="note" id="top">按“{html.escape(last)}”的平均得分率排名（人数少于 {an.MIN_N} 的社区显示“—”、不排名）；'
            f"颜色红低绿高。各轮数字连起来就是本社区的变化趋势；“较{html.escape(rounds[0])}”只在两轮都有数字时给出。</p>")
    return HTML(f'{note}<div class="scroll"><table class="data ranked"><thead>{head}</thead>'
                f'<tbody>{"".join(rows)}</tbody></table></div>')


def sections(df: pd.DataFrame, roster: pd.DataFrame | None, street: str,
                       plan: pd.DataFrame) -> HTML:
    """Each 社区's people: every round's 得分率 and the change, and their retraining items."""
    prog = an.worker_progress(df, roster, street)
    parts = []
    for i, c in enumerate(names_of(df)):
        people = prog[prog["community"] == c].drop(columns=["community"])
        mine = plan[plan["community"] == c]
        parts.append(f'<h3 id="{anchor(i)}">{html.escape(c)}（{len(people)} 人）</h3>')
        parts.append(str(data_table(an.label(people), note="每人各轮得分率；“较首轮”= 最近一轮 − 第一次参加的那一轮")))
        if len(mine):
            parts.append(str(data_table(an.retraining_summary(mine).drop(columns=["社区"]),
                                   note="本社区再培训名单（依据见下方“再培训名单”）")))
        parts.append('<p class="links"><a href="#top">↑ 回到社区列表</a></p>')
    return HTML("".join(parts))
