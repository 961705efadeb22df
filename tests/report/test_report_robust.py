"""The coordinator report never breaks: it renders from results tables of any shape (papers ×
rounds × missing streets × tiny groups × exercises only × ids not on the roster), follows one
assessment series, swaps a finished report in only when complete, and every link resolves.
Index page and workbook only (no notebook kernels); tests/report/test_report_shapes_notebooks.py
renders the notebook pages of the hardest shapes."""
from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_shapes import ROSTER, check_report, make_table

from shequ import results
from shequ.analytics import charts, series
from shequ.report import render as report

pytestmark = pytest.mark.slow   # each renders whole reports (seconds apiece)

SHAPES = st.fixed_dictionaries({
    "seed": st.integers(0, 10_000),
    "papers": st.dictionaries(st.sampled_from(["basics", "annual", "trial"]), st.integers(1, 3), max_size=2),
    "exercises": st.integers(0, 2),
    "drop_streets": st.integers(0, 6),
    "tiny": st.booleans(),
    "unknown": st.booleans(),
    "workers": st.integers(6, 90),
    "same_items": st.booleans(),
})


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow,
                                                                                   HealthCheck.function_scoped_fixture])
@given(shape=SHAPES)
def test_reports_render_from_results_tables_of_any_shape(shape, tmp_path_factory):
    if not shape["papers"] and not shape["exercises"]:
        shape["exercises"] = 1   # an empty gradebook is `results build`'s error, not the report's
    df = make_table(**shape)
    out = tmp_path_factory.mktemp("shape") / "report"
    report.render(df, ROSTER, out_dir=out, notebooks=False)
    found = check_report(out)
    assert "root" not in found["index.html"]
    s = series.choose(series.known(df, ROSTER)[0])
    if s is None:
        assert "没有测评系列" in found["index.html"]
    else:
        for r in s.rounds:   # the blueprint's names (or the labels of a paper without one)
            assert r.name in found["index.html"]


def test_basics_round_labels_show_as_the_blueprint_names(tmp_path):
    df = make_table(1, {"basics": 3})
    index = report.render(df, ROSTER, out_dir=tmp_path / "report", notebooks=False).read_text(encoding="utf-8")
    for name in ("基线测评", "第一次跟踪测评", "第二次跟踪测评", "2026-03-15"):
        assert name in index
    assert "<th>r1" not in index and "<th class=\"num\">r1" not in index and "r3 参加" not in index


def test_a_later_small_paper_never_hijacks_the_series(tmp_path):
    basics = make_table(2, {"basics": 3}, workers=90)
    trial = make_table(3, {"trial": 1}, workers=6)
    both = results.categorise(pd.concat([basics, trial], ignore_index=True).astype(str)
                              .astype({"score": float, "max_score": float}))
    a = report.render(basics, ROSTER, out_dir=tmp_path / "a", notebooks=False).read_text(encoding="utf-8")
    b = report.render(both, ROSTER, out_dir=tmp_path / "b", notebooks=False).read_text(encoding="utf-8")
    head = b.split("<h2>测评系列</h2>")[0]
    assert head.strip() == a.split("<script>")[0].split("</body>")[0].strip()
    tail = b.split("<h2>测评系列</h2>")[1]
    assert "shequ report --series trial" in tail and "trial-r1-a" in tail
    # the coordinator picks the trial's own report from the index
    assert 'href="series/trial/index.html"' in tail
    check_report(tmp_path / "b")
    own = (tmp_path / "b" / "series" / "trial" / "index.html").read_text(encoding="utf-8")
    assert "试卷 trial" in own and "基线测评" not in own and 'href="../../index.html"' in own
    # the trial on its own: its one round, six people, means under n = 5 withheld
    c = report.render(both, ROSTER, out_dir=tmp_path / "c", notebooks=False, series="trial")
    check_report(tmp_path / "c")
    assert "试卷 trial" in c.read_text(encoding="utf-8")


def test_a_failed_run_leaves_the_previous_report_intact(tmp_path, monkeypatch):
    df = make_table(4, {"basics": 2})
    out = tmp_path / "report"
    report.render(df, ROSTER, out_dir=out, notebooks=False)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def broken(*a, **k):
        raise OSError("磁盘已满（测试）")
    monkeypatch.setattr(charts, "score_hist", broken)
    with pytest.raises(Exception):
        report.render(df, ROSTER, out_dir=out, notebooks=False)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before
    assert not list(tmp_path.glob(".report-*"))


def test_ids_not_on_the_roster_are_left_out_of_every_figure_and_listed(tmp_path, run_shequ):
    clean = make_table(5, {"basics": 2}, exercises=1)
    dirty = make_table(5, {"basics": 2}, exercises=1, unknown=True)
    a = report.render(clean, ROSTER, out_dir=tmp_path / "a", notebooks=False).read_text(encoding="utf-8")
    b = report.render(dirty, ROSTER, out_dir=tmp_path / "b", notebooks=False).read_text(encoding="utf-8")
    note = re.search(r'<p class="note">有 1 个工号不在花名册中.*?</p>', b, re.S)
    assert note and "root" not in b
    assert b.replace(note.group(0), "") .replace("\n\n", "\n") == a.replace("\n\n", "\n")
    path = tmp_path / "results.csv"
    results.save(dirty, path)
    r = run_shequ("report", "--results", str(path), "--out", str(tmp_path / "cli"))
    assert r.returncode == 0, r.stderr
    assert "1 个工号不在花名册中" in r.stdout and "root" in r.stdout


def test_exercises_only_render_a_report_that_says_there_is_no_series(tmp_path):
    df = make_table(6, {}, exercises=2)
    index = report.render(df, ROSTER, out_dir=tmp_path / "report", notebooks=False)
    found = check_report(tmp_path / "report")
    assert "没有测评系列" in found["index.html"] and "ex-01" in found["index.html"]
    assert index.exists()


def test_an_unknown_series_is_a_clear_error(tmp_path, run_shequ):
    path = tmp_path / "results.csv"
    results.save(make_table(7, {"basics": 1}), path)
    r = run_shequ("report", "--results", str(path), "--out", str(tmp_path / "r"), "--series", "nosuch")
    assert r.returncode == 2 and "nosuch" in r.stderr and "basics" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "r").exists() and not list(tmp_path.glob(".r-*"))
