"""What a report covers: one series' exam rounds under the blueprint's names, plus the course
exercises of the same workers (never as a round); nobody else."""
from __future__ import annotations

from report_shapes import ROSTER, make_table

from shequ.analytics import series, views


def test_the_series_table_keeps_its_takers_exercises_but_never_as_a_round():
    df = make_table(8, {"basics": 2, "trial": 1}, exercises=2, workers=60)
    t = series.report_table(df, ROSTER)
    exam = t[t["kind"] == "exam"]
    assert set(exam["paper"].astype(str)) == {"basics"}
    assert views.round_order(t) == ["基线测评", "第一次跟踪测评"]
    ex = t[t["kind"] != "exam"]
    assert len(ex) and set(ex["round"].astype(str)) == {""}
    assert set(ex["worker_id"].astype(str)) <= set(exam["worker_id"].astype(str))
    # the same table handed in again comes back the same (the report hands its notebooks one)
    again = series.report_table(t, ROSTER)
    assert len(again) == len(t) and views.round_order(again) == views.round_order(t)
