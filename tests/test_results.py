"""The results table rebuilt from a gradebook: scores, raw answers, option permutations,
exercises; exports (CSV with BOM, parquet, xlsx) that are identical when rebuilt; the
`shequ results build` command."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from shequ import analytics, cli, results
from shequ.report import render
from shequ.grading.course import COURSE_ID

pytestmark = pytest.mark.slow  # creates nbgrader gradebooks (nbgrader runs its alembic migrations)

QUIZ = [  # cell, bank item, type, points, perm, displayed key
    ("q01", "itm-a", "单选", 1.0, "BCDA", "A"),
    ("q02", "itm-b", "判断", 1.0, "", "对"),
    ("q03", "itm-c", "填空", 1.0, "", [["十八"]]),
    ("q04", "itm-d", "简答", 3.0, "", ""),
]
WORKERS = {"w1": ("张一", "A"), "w2": ("李二", "A"), "w3": ("王三", "B")}
TYPED = {  # worker -> cell -> typed answer (the cell source is `qNN = "<typed>"`)
    "w1": {"q01": "a", "q02": "√", "q03": "十八", "q04": "居民自治"},
    "w2": {"q01": "C", "q02": "错", "q03": "", "q04": ""},
    "w3": {"q01": "B", "q02": "对", "q03": "18"},
}
SCORES = {"w1": {"q01": 1, "q02": 1, "q03": 1, "q04": None},
          "w2": {"q01": 0, "q02": 0, "q03": 0, "q04": 0},
          "w3": {"q01": 1, "q02": 1, "q03": 0, "q04": 2}}   # w3's 简答 graded by hand


def manifest(name: str, form: str, perm_b: bool) -> dict:
    cells = []
    for cell, item, kind, pts, perm, key in QUIZ:
        if perm_b and perm:
            perm, key = "DABC", "C"        # form B shows bank B at position C
        cells.append({"cell": cell, "item": item, "type": kind, "points": pts, "perm": perm, "key": key,
                      "skills": ["policy"] if cell != "q03" else ["collection", "policy"], "level": "识记",
                      "facility": 0.6, "scoring": "partial"})
    return {"assignment": name, "kind": "exam", "paper": "quiz", "round": "r1", "date": "2026-03-15",
            "form": form, "forms": 2, "max_score": 6.0, "cells": cells}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from nbgrader.api import Gradebook

    from shequ.grading import course  # noqa: F401  (puts nbgrader's `alembic` on PATH)

    root = tmp_path_factory.mktemp("course")
    (root / "manifests").mkdir()
    ms = {"quiz-r1-a": manifest("quiz-r1-a", "A", False), "quiz-r1-b": manifest("quiz-r1-b", "B", True),
          "ex-01": {"assignment": "ex-01", "kind": "exercise", "paper": "ex-01", "cells": [
              {"cell": "task1", "item": "ex-01/task1", "type": "练习", "skills": ["quality"], "grade_ids": ["t1a", "t1b"]}]}}
    for n, m in ms.items():
        (root / "manifests" / f"{n}.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    url = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(url, course_id=COURSE_ID) as gb:
        for n in ("quiz-r1-a", "quiz-r1-b"):
            gb.add_assignment(n)
            gb.add_notebook(n, n)
            for cell, _, kind, pts, *_ in QUIZ:
                gid = cell if kind == "简答" else f"{cell}-test"
                gb.add_grade_cell(gid, n, n, max_score=pts, cell_type="markdown" if kind == "简答" else "code")
        gb.add_assignment("ex-01")
        gb.add_notebook("ex-01", "ex-01")
        for gid in ("t1a", "t1b"):
            gb.add_grade_cell(gid, "ex-01", "ex-01", max_score=1.0, cell_type="code")
        for w in WORKERS:
            gb.add_student(w)
        for w, (_, form) in WORKERS.items():
            a = f"quiz-r1-{form.lower()}"
            with gb.db.no_autoflush:
                gb.add_submission(a, w)
            for cell, _, kind, *_ in QUIZ:
                gid = cell if kind == "简答" else f"{cell}-test"
                g = gb.find_grade(gid, a, a, w)
                s = SCORES[w].get(cell)
                if kind == "简答":
                    g.manual_score = s
                else:
                    g.auto_score = s
            with gb.db.no_autoflush:
                gb.add_submission("ex-01", w)
            for gid in ("t1a", "t1b"):
                gb.find_grade(gid, "ex-01", "ex-01", w).auto_score = 1.0 if w != "w2" else 0.0
            gb.db.commit()
    # autograded notebooks: answer cells are the solution cells named like the manifest cell
    for w, (_, form) in WORKERS.items():
        a = f"quiz-r1-{form.lower()}"
        cells = []
        for cell, _, kind, *_ in QUIZ:
            typed = TYPED[w].get(cell)
            if kind == "简答":
                cells.append({"cell_type": "markdown", "metadata": {"nbgrader": {"grade_id": cell, "solution": True,
                                                                                 "grade": True}}, "source": typed or ""})
                continue
            src = f"{cell} = {json.dumps(typed, ensure_ascii=False)}" if typed is not None else ""
            cells.append({"cell_type": "code", "metadata": {"nbgrader": {"grade_id": cell, "solution": True,
                                                                         "grade": False}}, "source": src,
                          "outputs": [], "execution_count": None})
            cells.append({"cell_type": "code", "metadata": {"nbgrader": {"grade_id": f"{cell}-test", "grade": True}},
                          "source": "check(...)", "outputs": [], "execution_count": None})
        d = root / "autograded" / w / a
        d.mkdir(parents=True)
        (d / f"{a}.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                                  "nbformat_minor": 5}, ensure_ascii=False), encoding="utf-8")
    roster = pd.DataFrame([{"worker_id": w, "name": n, "street": "湖滨街道", "community": "湖滨社区", "role": "网格员"}
                           for w, (n, _) in WORKERS.items()])
    (root / "staff.csv").write_text(roster.to_csv(index=False), encoding="utf-8")
    return {"root": root, "url": url, "manifests": ms, "roster": roster}


@pytest.fixture(scope="module")
def table(course):
    return results.build(course["url"], course["roster"], course["manifests"], autograded=course["root"] / "autograded")


def test_every_graded_cell_is_a_row_with_score_answer_and_permutation(table):
    exam = table[table["kind"] == "exam"].set_index(["worker_id", "cell"])
    assert len(exam) == 12
    assert exam.loc[("w1", "q01"), "answer"] == "a" and exam.loc[("w1", "q01"), "perm"] == "BCDA"
    assert exam.loc[("w3", "q01"), "answer"] == "B" and exam.loc[("w3", "q01"), "perm"] == "DABC"
    assert exam.loc[("w2", "q03"), "answer"] == ""                  # blank
    assert exam.loc[("w1", "q04"), "answer"] == ""                  # 简答: no literal answer column
    assert pd.isna(exam.loc[("w1", "q04"), "score"])                # waiting for a person
    assert exam.loc[("w3", "q04"), "score"] == 2                    # the manual score counts
    assert exam.loc[("w1", "q03"), "skills"] == "collection;policy"
    assert list(table.columns) == results.COLUMNS + results.OPTIONAL


def test_exercise_cells_graded_under_several_grade_ids_become_rows(table):
    ex = table[table["kind"] == "exercise"]
    assert len(ex) == 6 and set(ex["item"]) == {"ex-01/task1"} and set(ex["answer"]) == {""}


def test_displayed_letters_trace_back_to_the_same_bank_option_on_both_forms(table):
    from shequ.analytics import items as itemstats

    exam = table[table["kind"] == "exam"]
    opts = [itemstats.bank_choice(t, a, p) for t, a, p in zip(exam["type"], exam["answer"], exam["perm"])]
    got = dict(zip(zip(exam["worker_id"], exam["cell"]), opts))
    # w1 typed "a" on form A (A shows bank B), w3 typed "B" on form B (B shows bank A? no: DABC → B is bank A)
    assert got[("w1", "q01")] == "B"
    assert got[("w3", "q01")] == "A"
    assert got[("w2", "q01")] == "D"


def test_exports_are_rebuilt_byte_for_byte(course, table, tmp_path):
    df = results.categorise(table.copy())
    a = results.export_all(table, tmp_path / "a")
    b = results.export_all(table, tmp_path / "b")
    a["xlsx"] = render.write_book(analytics.workbook(df, course["roster"]), tmp_path / "a" / "results.xlsx")
    b["xlsx"] = render.write_book(analytics.workbook(results.categorise(table.copy()), course["roster"]),
                                  tmp_path / "b" / "results.xlsx")
    for k in a:
        assert a[k].read_bytes() == b[k].read_bytes(), k


def test_excel_csv_has_a_bom_and_chinese_headers(course, table, tmp_path):
    files = results.export_all(table, tmp_path)
    raw = files["excel_csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    header = raw[3:].decode("utf-8").splitlines()[0].split(",")
    assert header[:3] == ["工号", "测评", "类别"] and "作答原文" in header and "选项顺序" in header
    assert pd.read_csv(files["excel_csv"], encoding="utf-8-sig", dtype=str).shape[0] == len(table)


def test_parquet_and_csv_load_to_the_same_table(course, table, tmp_path):
    files = results.export_all(table, tmp_path)
    p, c = results.load(files["parquet"]), results.load(files["csv"])
    pd.testing.assert_frame_equal(p.astype(str), c.astype(str))
    assert isinstance(p["street"].dtype, pd.CategoricalDtype)
    only = results.load(files["parquet"], street="湖滨街道")
    assert len(only) == len(table)


def test_xlsx_has_one_sheet_per_view_with_chinese_headers(course, table, tmp_path):
    from openpyxl import load_workbook

    df = results.categorise(table.copy())
    xlsx = render.write_book(analytics.workbook(df, course["roster"]), tmp_path / "results.xlsx")
    wb = load_workbook(xlsx, read_only=True)
    names = wb.sheetnames
    assert names[:2] == ["说明", "每人各轮"]
    assert {"参加情况_街道", "得分与及格_社区", "试卷信度", "题目分析", "干扰项_题库选项"} <= set(names)
    head = [c.value for c in next(wb["题目分析"].iter_rows(max_row=1))]
    assert "得分率P(%)" in head and "区分度DI(%)·题-余相关" in head
    head = [c.value for c in next(wb["每人各轮"].iter_rows(max_row=1))]
    assert head[:4] == ["工号", "街道", "社区", "岗位"]


def test_cli_builds_the_results_from_a_gradebook(course, tmp_path, capsys):
    out = tmp_path / "out"
    rc = cli.main(["results", "build", "--grading", str(course["root"]), "--roster",
                   str(course["root"] / "staff.csv"), "--out", str(out)])
    assert rc == 0, capsys.readouterr()
    for f in ("results.csv", "results.parquet", "results-excel.csv", "results.xlsx"):
        assert (out / f).stat().st_size > 0
    assert "结果表 18 行" in capsys.readouterr().out
    first = (out / "results.xlsx").read_bytes()
    assert cli.main(["results", "build", "--grading", str(course["root"]), "--roster",
                     str(course["root"] / "staff.csv"), "--out", str(out)]) == 0
    assert (out / "results.xlsx").read_bytes() == first


def test_cli_says_what_is_missing_instead_of_a_traceback(tmp_path, capsys):
    (tmp_path / "manifests").mkdir()
    assert cli.main(["results", "build", "--grading", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "没有清单" in capsys.readouterr().err
