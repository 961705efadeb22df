"""The notebook pages (overview, item analysis, street reports) of the hardest results-table
shapes render, with every link resolving: one round only, tiny 社区, exercises and an id not
on the roster; three rounds with different items and a second paper."""
from __future__ import annotations

import re

import pytest
from report_shapes import ROSTER, check_report, make_table

from shequ.analytics import views as an
from shequ.report import render as report

pytestmark = pytest.mark.slow

SHAPES = {
    "one-round-tiny-exercises-unknown": dict(seed=11, papers={"basics": 1}, exercises=1, tiny=True, unknown=True,
                                             workers=70),
    "three-rounds-new-items-two-papers": dict(seed=12, papers={"basics": 3, "trial": 1}, drop_streets=5,
                                              same_items=False, workers=90),
}


def section_rows(text: str, heading: str) -> int:
    """Body rows of the first table after `heading`."""
    part = text.split(heading, 1)[1]
    table = part.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return table.count("<tr")


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_notebook_pages_render_for_hard_shapes(shape, tmp_path):
    df = make_table(**SHAPES[shape])
    out = tmp_path / "report"
    report.render(df, ROSTER, out_dir=out, streets=None)
    found = check_report(out)
    streets = [p for p in found if p.startswith("streets/")]
    assert "overview.html" in found and "item-analysis.html" in found and streets
    for name in streets:
        text = found[name]
        street = re.search(r"<title>街道报告：(.+?)</title>", text).group(1)
        comms = df.loc[(df["street"] == street).to_numpy() & (df["kind"] == "exam").to_numpy(),
                       "community"].astype(str).nunique()
        assert "一分钟看懂" in text
        # one row per 社区 in the ranked table and in the progress table (not one street row)
        assert section_rows(text, "社区（点击看本社区人员）") == comms, name
        if len(an.round_order(df[(df["paper"] == "basics").to_numpy()])) > 1:
            assert section_rows(text, "各社区的进步") == comms, name
        for i in range(comms):   # every 社区 link opens its section
            assert f'href="#c{i + 1}"' in text and f'id="c{i + 1}"' in text
