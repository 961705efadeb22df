"""The 社区 ranking's prior and error: the street effect is estimated (none in the data: the
prior is the district mean), and a 社区 whose whole staff took part has no sampling error."""
from __future__ import annotations

import numpy as np
import pandas as pd

from shequ.analytics.stats import group_error, parent_prior


def scores(street_shift: float, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(s, 70 + street_shift * i + rng.normal(0, 12)) for i, s in enumerate("ABCDEF") for _ in range(40)]
    return pd.DataFrame(rows, columns=["street", "pct"])


def test_without_a_street_effect_every_street_prior_is_near_the_district_mean():
    d = scores(0.0)
    prior = parent_prior(d["pct"], d["street"])
    raw = d.groupby("street")["pct"].mean()
    grand = d["pct"].mean()
    assert (abs(prior - grand) < abs(raw - grand) + 1e-9).all()
    assert abs(prior - grand).max() < 0.5 * abs(raw - grand).max()


def test_with_a_strong_street_effect_the_prior_follows_each_street():
    d = scores(8.0)
    prior = parent_prior(d["pct"], d["street"])
    raw = d.groupby("street")["pct"].mean()
    assert np.allclose(prior, raw, atol=1.0)
    assert prior.is_monotonic_increasing


def test_a_whole_staff_taking_part_leaves_only_measurement_error():
    var, meas = np.array([150.0, 150.0]), np.array([40.0, 40.0])
    se2 = group_error(var, n=np.array([10, 10]), staff=np.array([10, 20]), measurement=meas)
    assert se2[0] == 40.0 / 10                           # everyone: no sampling error
    assert se2[1] == ((150 - 40) * 0.5 + 40) / 10        # half the staff: sampling error too
