"""Coordinators' Excel workbooks, formatted for reading in Excel or WPS:

- `district_sheets`: the district workbook (build/report/workbook.xlsx) and the trainers'
  workbook, one sheet per view;
- `street_sheets` / `write_street_books`: one retraining workbook per 街道 (names and 工号:
  only for that 街道's head), named like the 街道's HTML page.

The views come labelled from `shequ.analytics`; what a spreadsheet still needs is done here:
skill ids → Chinese names, booleans → 是/否 (对/错 for answer values), score bands “0–5%”
instead of pandas interval text, no “-0”, and which columns get a red→green colour scale.
Every table sheet has a frozen header and filter buttons (`sheets.write_xlsx`).
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .. import sheets
from ..analytics import items as itemstats
from ..analytics import views as av

# colour ranges (value at full red, at full green), as the HTML heatmaps use them
DISTRICT_RANGE = (40.0, 100.0)   # report.html.heat_table's default: group means rarely go below 40
PEOPLE_RANGE = (0.0, 100.0)      # one person's 得分率 spans the whole scale (street report)

L = av.LABELS
SCORE_COLUMNS = {L["mean"], L["pct"], L["pre"], L["post"], L["first"], L["est"], L["parent"],
                 itemstats.LABELS["facility"], itemstats.PAPER_LABELS["mean"]}
SKILL_TEXT_COLUMNS = {itemstats.LABELS["skills"], L["skill"]}   # cells naming skills ("policy;service")
ANSWER_COLUMNS = {"答案", "标准答案", "作答"}   # booleans that are an answer (判断题): 对/错
PEOPLE_COLUMNS = [L["community"], L["name"], L["worker_id"], L["role"]]

_BAND = re.compile(r"^\s*[\[(]\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*[\])]\s*$")
_NEG_ZERO = re.compile(r"(?<![\d.])[-+]0(?![\d.])")   # “较首轮 -0 个百分点” reads as 0


def _skill_names(names: dict[str, str] | None) -> dict[str, str]:
    if names is not None:
        return names
    from ..bank import load_skills

    return load_skills()


def _band(v) -> str | None:
    """“0–5%” for a score band (a pandas Interval or its text “[0.0, 5.0)”), else None."""
    if isinstance(v, pd.Interval):
        lo, hi = v.left, v.right
    else:
        m = _BAND.match(v) if isinstance(v, str) else None
        if not m:
            return None
        lo, hi = map(float, m.groups())
    return f"{lo:g}–{hi:g}%"


def tidy(frame: pd.DataFrame, skill_names: dict[str, str]) -> pd.DataFrame:
    """A labelled view ready for a sheet: Chinese skill names in headers and skill cells,
    是/否 (对/错 in answer columns) for booleans, score bands as “0–5%”, no -0."""
    out = frame.rename(columns={c: skill_names[c] for c in frame.columns if c in skill_names})
    for c in out.columns:
        col = out[c]
        if col.dtype.kind == "f":
            out[c] = col + 0.0                       # -0.0 + 0.0 is 0.0
            continue
        if col.dtype.kind not in "bO" and not isinstance(col.dtype, (pd.CategoricalDtype, pd.IntervalDtype)):
            continue
        yes, no = ("对", "错") if c in ANSWER_COLUMNS else ("是", "否")
        skills = c in SKILL_TEXT_COLUMNS

        def cell(v, yes=yes, no=no, skills=skills):
            if isinstance(v, bool) or type(v).__name__ == "bool_":
                return yes if v else no
            band = _band(v)
            if band is not None:
                return band
            if isinstance(v, str):
                if skills and v:
                    return "、".join(skill_names.get(s, s) for s in re.split(r"[;；]", v) if s)
                return _NEG_ZERO.sub("0", v)
            return v
        out[c] = col.astype(object).map(cell)
    return out


def _street_of_community(book: dict) -> dict[str, str]:
    """社区 → 街道 from any view listing both (when every 社区 name is in one 街道 only)."""
    found = [v[[L["street"], L["community"]]] for v in book.values()
             if isinstance(v, pd.DataFrame) and {L["street"], L["community"]} <= set(v.columns)]
    if not found:
        return {}
    pairs = pd.concat(found).dropna().astype(str).drop_duplicates()
    if pairs[L["community"]].duplicated().any():
        return {}
    return dict(zip(pairs[L["community"]], pairs[L["street"]]))


def district_sheets(views: dict, skill_names: dict[str, str] | None = None) -> list[sheets.Sheet]:
    """The sheets of a district (or trainers') workbook from {sheet name: labelled view or
    text}: one sheet per entry, in order; colour scales on the score columns and the skill
    columns of the 街道×技能, 社区×技能 and 技能各轮 sheets."""
    names = _skill_names(skill_names)
    skill_headers = set(names.values())
    street_of = _street_of_community(views)
    out = []
    for name, view in views.items():
        if not isinstance(view, pd.DataFrame):
            text = str(view)
            if name == "说明":   # the colour scales' key (the definitions come from analytics)
                lo, hi = DISTRICT_RANGE
                text += (f"\n颜色（得分率各列）：红低、黄中、绿高，{lo:g}% 及以下全红、{hi:g}% 全绿（与报告网页的热力图相同）；"
                         "每人各轮为 0–100%。表头可筛选、排序。")
            out.append(sheets.Sheet(name, text))
            continue
        frame = tidy(view, names)
        cols = list(frame.columns)
        # the 社区×技能 view has no 街道 column: add it, so a 街道 can be filtered
        if cols and cols[0] == L["community"] and L["street"] not in cols and street_of:
            frame.insert(0, L["street"], frame[L["community"]].astype(str).map(street_of))
            cols = list(frame.columns)
        scales = [c for c in cols if c in SCORE_COLUMNS]
        scale_range, freeze_cols = DISTRICT_RANGE, 0
        if "×技能" in name or name == "技能各轮":
            scales += [c for c in cols if c in skill_headers]
            freeze_cols = sum(c in (L["street"], L["community"], L["round"]) for c in cols[:2])
        if name == "每人各轮":   # the trainers' workbook: each round's column is a person's 得分率
            scales += [c for c in cols if c not in PEOPLE_COLUMNS + [L["street"], L["change"]]
                       and frame[c].dtype.kind == "f"]
            scale_range, freeze_cols = PEOPLE_RANGE, 1
        out.append(sheets.Sheet(name, frame, scales=scales, scale_range=scale_range, freeze_cols=freeze_cols))
    return out


# ---- street retraining workbooks -------------------------------------------------------

def street_note(street: str) -> str:
    """The 说明 sheet of a street workbook (the rule as the street report states it)."""
    line, sure, watch = f"{av.MASTERY_PCT:g}%", f"{100 * av.SURE:g}%", f"{100 * av.WATCH:g}%"
    return f"""{street} 再培训工作簿
全部数据为合成数据（演示用），不对应任何真实人员。
本工作簿含姓名和工号，只发给{street}负责人，不要转发。

各表：
再培训名单：按人汇总（先列需再培训的人），每人列出需再培训的技能和建议关注的技能。
逐项依据：每人每个上了名单的技能一行；“依据”一列写明哪个技能、哪一轮、几道题、得分率，掌握度估计及其区间、低于掌握线的可能性，以及与第一轮相比的变化。
每人各轮：每人每轮的得分率（%）；“较首轮”= 最近一轮 − 第一次参加的那一轮（百分点）。
每人技能画像：每人每个技能的得分率（%），用每人最近一次参加的测评（加上课程练习）计算；空白为没有该技能的题。
只列出本街道有成绩的人。得分率 = 得分 / 满分（%）。颜色：红低、黄中、绿高（0–100%）。

再培训规则：每人每个技能的掌握度估计综合了他的全部作答——最近一次测评里这个技能的题（加上课程练习）是主要依据，
他在其他技能上、在这个技能以前各轮的表现和本社区这一轮的整体表现帮助判断题少的技能（经验贝叶斯）；题越少，区间越宽。
需再培训：掌握度低于掌握线 {line} 的可能性至少 {sure}——有把握；
建议关注：可能性在 {watch}–{sure} 之间——更可能低于掌握线，但还不确定，下次测评再看。"""


def _people_first(frame: pd.DataFrame) -> pd.DataFrame:
    """社区, 姓名, 工号, 岗位 first (the order of the retraining list), then the rest."""
    first = [c for c in PEOPLE_COLUMNS if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]]


def street_sheets(df: pd.DataFrame, roster: pd.DataFrame | None, street: str,
                  skill_names: dict[str, str] | None = None) -> list[sheets.Sheet]:
    """The retraining workbook of one 街道: 说明, 再培训名单, 逐项依据, 每人各轮, 每人技能画像
    (only that 街道's workers)."""
    names = _skill_names(skill_names)
    plan = av.retraining(df, roster, street, skill_names=names)
    summary = tidy(av.retraining_summary(plan), names)
    detail = tidy(av.label(plan), names)
    progress = _people_first(tidy(av.label(av.worker_progress(df, roster, street)), names))
    profiles = _people_first(tidy(av.label(av.worker_profiles(df, roster, street, names)), names))
    rounds = [c for c in progress.columns if c not in PEOPLE_COLUMNS + [L["change"]]]
    skills = [c for c in profiles.columns if c not in PEOPLE_COLUMNS]
    return [
        sheets.Sheet("说明", street_note(street)),
        sheets.Sheet("再培训名单", summary, note=f"{street}：按人汇总，先列需再培训的人（规则见“说明”）",
                     wrap=True, freeze_cols=2),
        sheets.Sheet("逐项依据", detail, note=f"{street}：每人每个低于掌握线 {av.MASTERY_PCT:g}% 的技能一行",
                     widths={L["reason"]: sheets.MAX_WIDTH}, wrap=True, freeze_cols=2,
                     scales=[L["pct"]], scale_range=PEOPLE_RANGE),
        sheets.Sheet("每人各轮", progress, note=f"{street}：每人每轮得分率（%）；较首轮 = 最近一轮 − 第一次参加的那一轮",
                     freeze_cols=2, scales=rounds, scale_range=PEOPLE_RANGE),
        sheets.Sheet("每人技能画像", profiles, note=f"{street}：每人每个技能的得分率（%，最近一次测评加课程练习）",
                     freeze_cols=2, scales=skills, scale_range=PEOPLE_RANGE),
    ]


def write_street_books(df: pd.DataFrame, roster: pd.DataFrame | None, out_dir: Path,
                       slugs: dict[str, str], streets: list[str]) -> list[Path]:
    """One retraining workbook per 街道 in `streets`: out_dir/<slug>.xlsx (the slug of the
    街道's HTML page, `analytics.street_slugs`). Returns the files written, in order."""
    names = _skill_names(None)
    out_dir = Path(out_dir)
    return [sheets.write_xlsx(out_dir / f"{slugs[s]}.xlsx", street_sheets(df, roster, s, names))
            for s in streets]
