"""The coordinator report: index page and workbook (fast, no notebooks executed), the
HTML a notebook becomes, and the analytics notebooks as stored in git."""
from __future__ import annotations

import json

import nbformat
import pandas as pd
import pytest

from shequ import paths, results
from shequ.report import notebooks
from shequ.report import render as report


@pytest.fixture(scope="module")
def small(tmp_path_factory, simulated_results):
    df, _, _ = simulated_results(tmp_path_factory.mktemp("grading"), seed=5, plant=False, workers=90)
    roster = pd.read_csv(paths.DATASETS / "staff.csv", dtype=str)
    return df, roster


def test_index_and_workbook_without_notebooks(small, tmp_path):
    df, roster = small
    index = report.render(df, roster, out_dir=tmp_path / "report", notebooks=False)
    html = index.read_text(encoding="utf-8")
    for words in ("各街道各轮平均得分率", "合成数据", "街道 × 技能", "需再培训人数", "Cronbach α", "Microsoft YaHei"):
        assert words in html, words
    assert (tmp_path / "report" / report.WORKBOOK).stat().st_size > 5000
    images = sorted((tmp_path / "report" / "img").glob("*.png"))
    assert len(images) == 3 and all(img.stat().st_size > 5000 for img in images)
    # district page: no names, no worker ids; the work folder (with the table) is not inside
    present = roster[roster["worker_id"].isin(set(df["worker_id"].astype(str)))]
    assert not [n for n in present["name"] if n in html]
    assert not [w for w in present["worker_id"] if w in html]
    assert not (tmp_path / "report" / "results.feather").exists()


def test_notebook_html_shows_outputs_but_no_code_and_no_stderr():
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("secret_code = 1\nprint('x')")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="给负责人看的文字\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="DeprecationWarning: 内部警告"),
                    nbformat.v4.new_output("display_data", data={"text/html": "<table><tr><td>表</td></tr></table>",
                                                                 "text/plain": "x"})]
    nb.cells = [nbformat.v4.new_markdown_cell("## 标题 <x>"), code]
    html = notebooks.notebook_html(nb)
    assert "给负责人看的文字" in html and "<table><tr><td>表</td></tr></table>" in html and "<h2" in html
    assert "secret_code" not in html and "DeprecationWarning" not in html


@pytest.mark.parametrize("name", ["overview", "street-report", "item-analysis"])
def test_analytics_notebooks_are_stored_clean_with_a_parameters_cell(name):
    raw = json.loads((paths.ANALYTICS / f"{name}.ipynb").read_text(encoding="utf-8"))
    nb = nbformat.reads(json.dumps(raw), 4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    ids = [c.id for c in nb.cells]
    assert len(set(ids)) == len(ids) and all(i.startswith(ids[0].split("-")[0] + "-") for i in ids)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1 and "results_path = None" in params[0].source
    if name == "street-report":
        assert "street = None" in params[0].source


def test_results_load_caches_only_when_asked(tmp_path, small):
    df, _ = small
    p = results.save_feather(df, tmp_path / "t.feather")
    a = results.load(p, cache=True)
    assert results.load(p, cache=True) is a
    assert results.load(p) is not a
    s = df["street"].astype(str).iloc[0]
    assert set(results.load(p, street=s, cache=True)["street"].astype(str)) == {s}


def test_index_is_computed_in_process_when_forking_is_unsafe(small, tmp_path):
    import threading

    df, roster = small
    hold = threading.Event()
    other = threading.Thread(target=hold.wait, daemon=True)   # a threaded caller (e.g. a Jupyter kernel)
    other.start()
    try:
        tm = {}
        index = report.render(df, roster, out_dir=tmp_path / "report", notebooks=False, timings=tm)
    finally:
        hold.set()
    assert "index_wait" not in tm and "index_and_workbook_cpu" in tm
    assert "各街道各轮平均得分率" in index.read_text(encoding="utf-8")
