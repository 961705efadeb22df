"""`shequ bank stats`: counts by type and the 双向细目表 (primary skill × level), on screen
and in xlsx, with Chinese skill names."""
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from shequ import bank
from shequ.bank import stats as bankstats

FILES = Path(__file__).parents[1] / "files" / "bank"


@pytest.fixture(scope="session")
def shequ(run_shequ):
    """`shequ bank …`, in-process."""
    return lambda *args: run_shequ("bank", *args)


def test_stats_prints_type_counts_and_the_grid_in_chinese(shequ):
    items = bank.load_ok()
    r = shequ("stats")
    assert r.returncode == 0, r.stdout + r.stderr
    for kind, n in bankstats.stats(items)["by_type"].items():
        assert any(line.split()[:2] == [kind, str(n)] for line in r.stdout.splitlines()), kind
    assert "双向细目表" in r.stdout
    for sid, name in bank.load_skills().items():
        n = sum(1 for it in items if it.skills[0] == sid)
        row = next(line.split() for line in r.stdout.splitlines() if line.startswith(name + " "))
        assert int(row[-1]) == n, name
    assert "governance" not in r.stdout


def test_grid_cells_add_up_to_the_bank():
    items = bank.load_ok()
    types, grid = bankstats.stats_tables(items, bank.load_skills())
    assert grid[0] == ["知识点（主）", "识记", "理解", "应用", "合计"]
    assert grid[-1][-1] == len(items) == types[-1][1]
    assert sum(r[1] for r in types[1:-1]) == len(items)
    for row in grid[1:]:
        assert sum(row[1:4]) == row[4]
    gov = next(r for r in grid if r[0] == "社区建设与治理")
    assert gov[1] == sum(1 for it in items if it.skills[0] == "governance" and it.level == "识记")


def test_stats_xlsx_has_both_tables(tmp_path, shequ):
    out = tmp_path / "细目表.xlsx"
    r = shequ("stats", "--xlsx", out)
    assert r.returncode == 0, r.stderr
    wb = load_workbook(out)
    assert wb.sheetnames == ["题型统计", "双向细目表"]
    types, grid = bankstats.stats_tables(bank.load_ok(), bank.load_skills())
    assert [[c.value for c in row] for row in wb["双向细目表"].iter_rows()] == grid
    assert [c.value for c in wb["题型统计"]["A"]] == [r[0] for r in types]


def test_stats_bad_output_name_exits_2(tmp_path, shequ):
    r = shequ("stats", "--xlsx", tmp_path / "细目表.txt")
    assert r.returncode == 2 and ".xlsx" in r.stderr and "Traceback" not in r.stderr


def test_stats_on_a_bank_with_problems_says_so_and_exits_1(tmp_path, shequ):
    shutil.copy(FILES / "answer-not-in-options.yaml", tmp_path)
    r = shequ("stats", "--dir", tmp_path)
    assert r.returncode == 1 and "题库有 1 处问题" in r.stdout
