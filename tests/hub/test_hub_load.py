"""Thirty workers at once on a real district server: every submission arrives exactly once
and is graded exactly once (the figures are printed by bench/hub_load.py, not timed here)."""
import pytest

from shequ.hub import load

pytestmark = pytest.mark.slow
WORKERS = 30


def test_thirty_workers_log_in_spawn_and_submit_at_once_and_each_is_graded_once(scratch_hub):
    hub = scratch_hub(workers=WORKERS, trainers=1)
    res = load.run(hub)
    assert res.workers == WORKERS and len(res.spawn_s) == WORKERS
    assert res.arrived == {x: 1 for x in hub.logins}, res.arrived
    assert res.graded == {x: 1 for x in hub.logins}, res.graded
    assert res.server_rss_mb and res.kernel_rss_mb > 0
    print("\n".join(res.lines()))
