"""The synthetic district: seeded, committed, and the size the seed documents describe."""
import subprocess
import sys

import pandas as pd

from shequ import paths
from shequ.synth import district as synth


def test_regenerating_the_district_gives_byte_identical_files():
    for rel, text in synth.district_files().items():
        assert (paths.DATASETS / rel).read_bytes() == text.encode("utf-8"), f"{rel} drifted from its generator"


def test_every_committed_dataset_matches_its_generator():
    r = subprocess.run([sys.executable, "-m", "shequ", "data", "generate", "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_district_has_8_streets_and_43_communities():
    coms = pd.read_csv(paths.DATASETS / "district" / "communities.csv", dtype=str)
    assert coms["street"].nunique() == 8
    assert len(coms) == coms["community_code"].nunique() == 43
    assert coms["community_code"].str.fullmatch(r"990102\d{6}").all()


def test_roster_is_about_350_workers_with_5_to_15_per_community():
    staff = pd.read_csv(paths.DATASETS / "staff.csv", dtype=str)
    assert 320 <= len(staff) <= 400
    assert staff["worker_id"].is_unique
    per = staff.groupby("community").size()
    assert per.min() >= 5 and per.max() <= 15
    assert set(staff["role"]) >= {"书记", "主任", "委员", "网格员", "信息员"}
    assert (staff.groupby("community")["role"].apply(lambda r: (r == "书记").sum()) == 1).all()


def test_a_different_seed_gives_a_different_roster():
    assert synth.staff(1) != synth.staff(2)
