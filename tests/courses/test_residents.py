"""shequ.residents and shequ.quality: the generated registry, its faults and their detection."""
import io

import pandas as pd
import pytest

from shequ import idcard, paths
from shequ.courses import quality, residents
from shequ.synth import residents as gen_residents


@pytest.fixture(scope="module")
def generated():
    return gen_residents.files()


@pytest.fixture(scope="module")
def tables(generated):
    return {k: pd.read_csv(io.StringIO(v), dtype=str, keep_default_na=False)
            for k, v in generated.items()}


def test_generating_twice_gives_identical_text(generated):
    assert gen_residents.files() == generated


def test_committed_files_equal_regenerated_ones(generated):
    for rel, text in generated.items():
        path = paths.DATASETS / rel
        assert path.read_bytes() == text.encode("utf-8"), f"{rel} 与生成结果不同：运行 gen_residents.write()"


def test_csv_is_utf8_with_newline_endings_and_small(generated):
    for rel, text in generated.items():
        assert "\r" not in text, rel
    assert len(generated["residents.csv"].encode("utf-8")) < 3_000_000


def test_size_and_columns(tables):
    df = tables["residents.csv"]
    assert 12_000 <= len(df) <= 20_000
    assert list(df.columns) == residents.COLUMNS
    assert df["person_id"].is_unique
    assert df["community_code"].nunique() == 43


def test_every_id_number_uses_the_fictional_address_code(tables):
    std = tables["residents.csv"]["id_number"].map(idcard.standardise)
    assert std[std != ""].str.startswith("990102").all()


def test_fault_counts_follow_the_stated_rates(tables):
    truth = tables["residents_faults.csv"]
    base = len(tables["residents.csv"]) - (truth["fault_type"] == "duplicate").sum()
    counts = truth["fault_type"].value_counts()
    for fault, (rate, _) in residents.FAULTS.items():
        assert counts[fault] == round(rate * base), fault
    assert truth["person_id"].is_unique


def test_quality_classifies_every_fault_and_passes_clean_records(tables):
    df, truth = tables["residents.csv"], tables["residents_faults.csv"]
    expected = df["person_id"].map(dict(zip(truth["person_id"], truth["fault_type"]))).fillna("")
    got = quality.classify(df)
    wrong = df.loc[got != expected, "person_id"].tolist()
    assert not wrong, f"分类与真值不符：{wrong[:10]}"


def test_clean_records_have_no_problem_at_all(tables):
    df, truth = tables["residents.csv"], tables["residents_faults.csv"]
    probs = quality.problems(df)
    assert set(probs["person_id"]) == set(truth["person_id"])


def test_duplicates_follow_a_clean_original_with_the_same_person(tables):
    df, truth = tables["residents.csv"], tables["residents_faults.csv"]
    pos = {p: i for i, p in enumerate(df["person_id"])}
    faulty = set(truth["person_id"])
    for pid, note in truth.loc[truth["fault_type"] == "duplicate", ["person_id", "note"]].values:
        orig = note.split()[1]
        assert pos[orig] < pos[pid] and orig not in faulty
        a, b = df.iloc[pos[orig]], df.iloc[pos[pid]]
        assert idcard.standardise(a["id_number"]) == idcard.standardise(b["id_number"])


def test_correct_fixes_what_can_be_fixed_automatically(tables):
    df = tables["residents.csv"]
    fixed, log = quality.correct(df)
    left = quality.classify(fixed).value_counts()
    for code in ("duplicate", "legacy15", "fullwidth"):
        assert code not in left
    assert len(fixed) == len(df) - (tables["residents_faults.csv"]["fault_type"] == "duplicate").sum()
    # the log is for coordinators: no full ID number in it
    assert not log.astype(str).apply(lambda c: c.str.contains(r"\d{17}[\dX]")).any().any()


def test_households_match_the_housing_table(tables):
    df, housing = tables["residents.csv"], tables["housing.csv"]
    truth = tables["residents_faults.csv"]
    once = df[~df["person_id"].isin(truth.loc[truth["fault_type"] == "duplicate", "person_id"])]
    sizes = once.groupby("household_id").size()
    occupied = housing[housing["household_id"] != ""].set_index("household_id")
    assert (occupied["residents"].astype(int) == sizes.reindex(occupied.index)).all()
    assert (housing.loc[housing["use"] == "空置", "residents"] == "0").all()
    assert set(df["housing"]) == {"自住", "出租"}


def test_special_groups_agree_with_households(tables):
    df, truth = tables["residents.csv"], tables["residents_faults.csv"]
    clean = df[~df["person_id"].isin(truth["person_id"])]
    dup_households = df.loc[df["person_id"].isin(
        truth.loc[truth["fault_type"] == "duplicate", "person_id"]), "household_id"]
    clean = clean[~clean["household_id"].isin(dup_households)]
    sizes = df.groupby("household_id").size()
    age = residents.ages(clean["birth_date"])
    alone = clean["special_group"].str.contains("独居老人")
    assert (age[alone] >= 60).all() and (clean.loc[alone, "household_id"].map(sizes) == 1).all()
    groups = set(clean["special_group"].str.split("、").explode()) - {""}
    assert groups <= set(residents.SPECIAL_GROUPS)


def test_census_categories_use_the_half_year_rule():
    df = pd.DataFrame({"hukou_status": ["户籍人口", "市内人户分离", "外来人口", "外来人口"],
                       "months_here": ["", "8", "6", "5"]})
    assert residents.census_category(df).tolist() == [
        "户籍人口", "市辖区内人户分离", "流动人口", "离开户口登记地不满半年"]


def test_ages_are_whole_years_on_the_reference_date():
    s = pd.Series(["1966-12-15", "1966-11-01", "", "2026-10-31"])
    assert residents.ages(s).tolist()[:2] == [59, 60]
    assert pd.isna(residents.ages(s)[2]) and residents.ages(s)[3] == 0


def test_readme_holds_the_generated_data_dictionary():
    text = (paths.DATASETS / "README.md").read_text(encoding="utf-8")
    assert gen_residents.dictionary_markdown() in text
    for column in residents.COLUMNS:
        assert f"`{column}`" in text


def test_exercise_samples_are_small_and_clean_where_promised(tables):
    for rel in [k for k in tables if k.startswith("exercises/")]:
        assert len(tables[rel]) <= 200, rel
    reg = tables["exercises/ic-registry-sample.csv"]
    std = reg["id_number"].map(idcard.standardise)
    assert std.duplicated().sum() == 7 and reg["name"].duplicated().sum() >= 2
    pub = tables["exercises/ic-publish-sample.csv"]
    assert pub["id_number"].map(lambda s: bool(idcard.is_valid(s, today=residents.REF_DATE))).all()
    assert pub["name"].str.startswith("欧阳").any()
