"""Coordinators' Excel workbooks: frozen headers, filters, fitted widths and colour scales
(sheets.write_xlsx), Chinese labels in the district workbook, and the per-街道 retraining
workbooks (report.workbook)."""
from __future__ import annotations

import re
import unicodedata
import zipfile

import pandas as pd
import pytest
from openpyxl import load_workbook

from shequ import analytics, bank, paths, sheets
from shequ.analytics import items as itemstats
from shequ.analytics import series
from shequ.report import render as report
from shequ.report import workbook

STREET_SHEETS = ["说明", "再培训名单", "逐项依据", "每人各轮", "每人技能画像"]


def shown_width(v) -> int:
    """What a column needs for a value: wide (CJK, full-width) characters count 2."""
    if v is None:
        return 0
    return max(sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)
               for line in str(v).split("\n"))


def header_row(ws) -> int:
    """The header's row: 1, or 2 below a note line (a note is a row with one cell)."""
    first = [c.value for c in ws[1]]
    return 2 if sum(v is not None for v in first) == 1 and ws.max_column > 1 else 1


def table_sheets(wb):
    return [ws for ws in wb.worksheets if ws.max_column > 1]


def scaled_columns(ws) -> dict[str, list]:
    """Header → colour-scale rules on that column's data."""
    top = header_row(ws)
    head = {c.column_letter: c.value for c in ws[top]}
    out: dict[str, list] = {}
    for cf in ws.conditional_formatting:
        for rng in cf.sqref.ranges:
            letter = re.match(r"[A-Z]+", rng.coord).group()
            out.setdefault(head[letter], []).extend(r for r in cf.rules if r.type == "colorScale")
    return out


def width(ws, letter: str) -> float:
    """A column's width as saved (equal neighbours are saved as one <col min max> range)."""
    from openpyxl.utils import column_index_from_string

    i = column_index_from_string(letter)
    return next(d.width for d in ws.column_dimensions.values() if d.min <= i <= d.max)


def raw_xml(path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/"))


# ---- sheets.write_xlsx on small tables (fast) -------------------------------------------

def test_a_table_sheet_freezes_its_header_below_the_note_and_filters_header_and_data(tmp_path):
    rows = [["社区", "得分率(%)", "岗位"], ["东门社区", 80.0, "网格员"], ["和平社区", 55.5, "书记"]]
    p = sheets.write_xlsx(tmp_path / "a.xlsx", [sheets.Sheet("无说明", rows), sheets.Sheet("有说明", rows, note="一行说明"),
                                                sheets.Sheet("文字", "第一行\n第二行")])
    wb = load_workbook(p)
    assert wb["无说明"].freeze_panes == "A2" and wb["无说明"].auto_filter.ref == "A1:C3"
    assert wb["有说明"].freeze_panes == "A3" and wb["有说明"].auto_filter.ref == "A2:C4"
    assert wb["有说明"]["A2"].value == "社区" and wb["有说明"]["A1"].value == "一行说明"
    assert width(wb["有说明"], "B") >= shown_width("得分率(%)") + 2   # widths survive the note row
    assert wb["文字"].freeze_panes is None and not wb["文字"].auto_filter.ref


def test_explicit_freeze_and_widths_of_existing_callers_are_kept(tmp_path):
    rows = [["题号", "题干"], ["gov-0001", "很长的题干" * 20]]
    p = sheets.write_xlsx(tmp_path / "a.xlsx", [sheets.Sheet("题目", rows, freeze="B2", widths={"题干": 50}),
                                                sheets.Sheet("不冻结", rows, freeze="", autofilter=False)])
    wb = load_workbook(p)
    assert wb["题目"].freeze_panes == "B2" and width(wb["题目"], "B") == 50
    assert wb["不冻结"].freeze_panes is None and not wb["不冻结"].auto_filter.ref


def test_a_score_column_gets_a_red_yellow_green_scale_from_0_to_100(tmp_path):
    frame = pd.DataFrame({"社区": ["东门社区", "和平社区"], "得分率(%)": [80.0, 35.0], "人数n": [9, 8]})
    p = sheets.write_xlsx(tmp_path / "a.xlsx", [sheets.Sheet("表", frame, note="说明", scales=["得分率(%)"])])
    ws = load_workbook(p)["表"]
    rules = [(str(cf.sqref), r) for cf in ws.conditional_formatting for r in cf.rules]
    assert [s for s, _ in rules] == ["B3:B4"]
    scale = rules[0][1].colorScale
    assert [(v.type, v.val) for v in scale.cfvo] == [("num", 0.0), ("num", 50.0), ("num", 100.0)]
    assert [c.rgb[-6:] for c in scale.color] == ["D73027", "FEE08B", "1A9850"]   # low red, high green


def test_columns_fit_the_longest_chinese_header_and_wide_values(tmp_path):
    head = ["提高的收缩估计(百分点)", "依据", "n"]
    reason = "社会救助：r3 共 4 题，得分率 0%（95% 区间 0–49%）"
    p = sheets.write_xlsx(tmp_path / "a.xlsx", [sheets.Sheet("表", [head, [1.5, reason, 3], [2.0, "短", 4]])])
    ws = load_workbook(p)["表"]
    assert width(ws, "A") >= shown_width(head[0]) + 2   # + the filter button
    assert width(ws, "B") >= shown_width(reason)
    assert width(ws, "C") <= 10
    long = sheets.write_xlsx(tmp_path / "b.xlsx", [sheets.Sheet("表", [["依据"], ["很长" * 80]])])
    assert width(load_workbook(long)["表"], "A") == sheets.MAX_WIDTH


def test_minus_zero_is_written_as_zero(tmp_path):
    frame = pd.DataFrame({"较首轮(百分点)": [-0.0, round(-0.04, 1), 1.0]})
    p = sheets.write_xlsx(tmp_path / "a.xlsx", [sheets.Sheet("表", frame)])
    assert "<v>-0" not in raw_xml(p)


def test_the_same_sheets_give_the_same_bytes(tmp_path):
    frame = pd.DataFrame({"社区": ["东门社区"], "得分率(%)": [80.0]})
    make = [sheets.Sheet("表", frame, note="说明", scales=["得分率(%)"], freeze_cols=1), sheets.Sheet("文字", "一行")]
    a = sheets.write_xlsx(tmp_path / "a.xlsx", make).read_bytes()
    assert sheets.write_xlsx(tmp_path / "b.xlsx", make).read_bytes() == a


def test_tidy_gives_chinese_skills_yes_no_right_wrong_bands_and_no_minus_zero():
    names = {"governance": "社区建设与治理", "policy": "政策法规"}
    frame = pd.DataFrame({
        "知识点": ["governance;policy", "policy"], "正确答案": [True, False], "答案": [True, False],
        "得分率区间": [pd.Interval(0.0, 5.0, closed="left"), "[95.0, 100.0)"],
        "依据": ["较首轮 -0 个百分点", "较首轮 -10 个百分点"], "governance": [-0.0, 1.0]})
    out = workbook.tidy(frame, names)
    assert out["知识点"].tolist() == ["社区建设与治理、政策法规", "政策法规"]
    assert out["正确答案"].tolist() == ["是", "否"] and out["答案"].tolist() == ["对", "错"]
    assert out["得分率区间"].tolist() == ["0–5%", "95–100%"]
    assert out["依据"].tolist() == ["较首轮 0 个百分点", "较首轮 -10 个百分点"]
    assert "社区建设与治理" in out.columns and str(out["社区建设与治理"].iloc[0]) == "0.0"


# ---- the real workbooks, from a simulated district (slow: ~20 s to build) -------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory, simulated_results):
    df, _, _ = simulated_results(tmp_path_factory.mktemp("grading"), seed=5, plant=False, workers=150)
    roster = pd.read_csv(paths.DATASETS / "staff.csv", dtype=str)
    out = tmp_path_factory.mktemp("report")
    trainer = out / "results.xlsx"
    report.render(df, roster, out_dir=out / "report", notebooks=False, trainer_workbook=trainer)
    df = series.report_table(df, roster)   # what the report shows: rounds under the blueprint's names
    streets = sorted(map(str, df["street"].unique()))
    slugs = analytics.street_slugs(streets, roster)
    books = [out / "report" / "streets" / f"{slugs[s]}.xlsx" for s in streets]   # written by render
    return {"df": df, "roster": roster, "district": out / "report" / report.WORKBOOK, "trainer": trainer,
            "streets": streets, "slugs": slugs, "street_books": dict(zip(streets, books)), "out": out}


@pytest.mark.slow
def test_every_table_sheet_has_a_frozen_header_and_a_filter_over_all_rows(built):
    paths_ = [built["district"], built["trainer"], *built["street_books"].values()]
    for path in paths_:
        wb = load_workbook(path)
        tables = table_sheets(wb)
        assert len(tables) >= 4, path.name
        for ws in tables:
            top = header_row(ws)
            assert ws.freeze_panes and int(re.sub(r"[A-Z]", "", ws.freeze_panes)) == top + 1, (path.name, ws.title)
            assert ws.auto_filter.ref == f"A{top}:{ws.cell(top, ws.max_column).column_letter}{ws.max_row}", \
                (path.name, ws.title)


@pytest.mark.slow
def test_score_and_skill_columns_have_colour_scales(built):
    wb = load_workbook(built["district"])
    skill_names = set(bank.load_skills().values())
    last = analytics.round_order(built["df"])[-1]
    expect = {"得分与及格_街道": {"平均得分率(%)"}, "得分与及格_社区": {"平均得分率(%)"},
              "社区得分排名": {"平均得分率(%)", "收缩估计(%)"}, "技能进步": {"前测得分率(%)", "后测得分率(%)"},
              "题目分析": {"得分率P(%)"}, f"街道×技能_{last}": skill_names, f"社区×技能_{last}": skill_names,
              "技能各轮": skill_names}
    for name, cols in expect.items():
        got = scaled_columns(wb[name])
        assert cols <= set(got), (name, cols - set(got))
        assert all(r.colorScale.color[0].rgb.endswith("D73027") for rules in got.values() for r in rules)
    assert not scaled_columns(wb["得分分布"])   # counts of people, not scores
    for name, cols in {"逐项依据": {"得分率(%)"}, "每人技能画像": skill_names}.items():
        got = scaled_columns(load_workbook(built["street_books"][built["streets"][0]])[name])
        assert cols <= set(got), name


@pytest.mark.slow
def test_columns_fit_their_chinese_header_and_values(built):
    for path in (built["district"], *built["street_books"].values()):
        wb = load_workbook(path)
        longest = max((c.value for ws in table_sheets(wb) for c in ws[header_row(ws)]), key=shown_width)
        for ws in table_sheets(wb):
            top = header_row(ws)
            for col in ws.iter_cols(min_row=top, max_row=min(ws.max_row, top + 50)):
                w = width(ws, col[0].column_letter)
                need = max([shown_width(col[0].value) + 2, *(shown_width(c.value) for c in col[1:])])
                assert w >= min(need, sheets.MAX_WIDTH), (path.name, ws.title, col[0].value, w, need)
                if col[0].value == longest:
                    assert w >= shown_width(longest)


@pytest.mark.slow
def test_district_workbook_has_no_skill_codes_true_false_interval_bins_or_minus_zero(built):
    codes = set(bank.load_skills())
    interval = re.compile(r"[\[(]\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*[\])]")
    minus_zero = re.compile(r"(?<![\d.])-0(?![\d.])")

    def wrong(v) -> bool:
        if isinstance(v, bool):
            return True
        if not isinstance(v, str):
            return False
        return (v.strip().upper() in ("TRUE", "FALSE") or bool(set(re.findall(r"[A-Za-z]+", v)) & codes)
                or bool(interval.search(v)) or bool(minus_zero.search(v)))
    for path in (built["district"], built["trainer"]):   # the trainers' workbook holds the same views
        wb = load_workbook(path)
        bad = [(ws.title, c.coordinate, c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row
               if wrong(c.value)]
        assert not bad, (path.name, bad[:10])
        assert not re.search(r"<v>-0(\.0*)?</v>", raw_xml(path)), path.name
    wb = load_workbook(built["district"])
    bands = [r[0] for r in wb["得分分布"].iter_rows(min_row=2, values_only=True)]
    assert bands[0] == "0–5%" and bands[-1] == "95–100%"
    dis = wb["干扰项_题库选项"]
    head = [c.value for c in dis[1]]
    assert {r[head.index(itemstats.DISTRACTOR_LABELS["key"])] for r in dis.iter_rows(min_row=2, values_only=True)} \
        == {"是", "否"}


@pytest.mark.slow
def test_district_workbook_bytes_are_identical_when_written_again(built, tmp_path):
    df, roster = built["df"], built["roster"]
    ana = itemstats.analyse(df, itemstats.info_for(df))
    views = analytics.district_views(df, roster, ana, bank.load_skills())
    again = report.write_book({"说明": analytics.DEFINITIONS, **views}, tmp_path / "again.xlsx")
    assert again.read_bytes() == built["district"].read_bytes()


@pytest.mark.slow
def test_each_street_workbook_holds_only_that_streets_workers(built):
    df = built["df"]
    info = analytics.worker_info(df).reset_index().astype(str)
    all_ids = set(info["worker_id"])
    for street, path in built["street_books"].items():
        assert path.exists() and path.name == f"{built['slugs'][street]}.xlsx" and path.name.isascii()
        wb = load_workbook(path)
        assert wb.sheetnames == STREET_SHEETS
        mine = set(info.loc[info["street"] == street, "worker_id"])
        found: dict[str, set] = {}
        text = []
        for ws in wb.worksheets:
            for row in ws.iter_rows(values_only=True):
                text += [str(v) for v in row if v is not None]
            if ws.max_column > 1:
                top = header_row(ws)
                head = [c.value for c in ws[top]]
                found[ws.title] = {r[head.index("工号")] for r in ws.iter_rows(min_row=top + 1, values_only=True)}
        assert found["每人各轮"] == mine and found["每人技能画像"] == mine, street
        assert found["再培训名单"] <= mine and found["逐项依据"] == found["再培训名单"], street
        others = all_ids - mine
        assert not [t for t in text if t in others], street
        assert not [s for s in built["streets"] if s != street and any(s in t for t in text)], street


@pytest.mark.slow
def test_street_workbook_matches_the_retraining_views_and_explains_the_rule(built):
    df, roster = built["df"], built["roster"]
    street = built["streets"][0]
    wb = load_workbook(built["street_books"][street])
    note = "\n".join(str(r[0]) for r in wb["说明"].iter_rows(values_only=True) if r[0])
    for words in ("合成数据", f"只发给{street}负责人", f"可能性至少 {100 * analytics.SURE:g}%",
                  f"掌握线 {analytics.MASTERY_PCT:g}%", "需再培训", "建议关注", "经验贝叶斯"):
        assert words in note, words
    plan = analytics.retraining(df, roster, street, skill_names=bank.load_skills())
    ws = wb["逐项依据"]
    top = header_row(ws)
    head = [c.value for c in ws[top]]
    rows = list(ws.iter_rows(min_row=top + 1, values_only=True))
    assert len(rows) == len(plan) and [r[head.index("工号")] for r in rows] == plan["worker_id"].tolist()
    reason = ws.cell(top + 1, head.index("依据") + 1)
    assert reason.alignment.wrap_text and width(ws, reason.column_letter) >= 50
    summary = wb["再培训名单"]
    assert summary.max_row - header_row(summary) == plan["worker_id"].nunique()


@pytest.mark.slow
def test_street_workbook_bytes_are_identical_when_written_again(built, tmp_path):
    street = built["streets"][-1]
    again = workbook.write_street_books(built["df"], built["roster"], tmp_path, built["slugs"], [street])
    assert again == [tmp_path / f"{built['slugs'][street]}.xlsx"]
    assert again[0].read_bytes() == built["street_books"][street].read_bytes()
