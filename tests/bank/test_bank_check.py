"""`shequ bank check`: the committed bank passes; broken files get specific messages."""
import subprocess
import sys
from pathlib import Path

from shequ import bank
from shequ.bank import stats as bankstats

FILES = Path(__file__).parents[1] / "files" / "bank"


def run_check(*args):
    return subprocess.run([sys.executable, "-m", "shequ", "bank", "check", *args],
                          capture_output=True, text=True)


def test_committed_bank_passes_the_check():
    items, problems = bank.load()
    assert problems == [], "\n".join(map(str, problems[:10]))
    assert len(items) >= 40
    kinds = bankstats.stats(items)["by_type"]
    assert all(kinds[k] > 0 for k in ("单选", "多选", "判断", "填空"))


def test_check_command_reports_file_line_and_hint_and_exits_nonzero(tmp_path):
    (tmp_path / "x.yaml").write_text(
        "topic: 测试\nprefix: tst\nitems:\n"
        "  - id: tst-0001\n    type: 单选\n    stem: 题干\n    options: {A: 甲, B: 乙}\n"
        "    answer: C\n    explanation: 解析\n    skills: [governance]\n    level: 识记\n"
        "    facility: 0.5\n    source: 出处\n    points: 1\n", encoding="utf-8")
    r = run_check("--dir", str(tmp_path))
    assert r.returncode == 1
    assert "x.yaml:8" in r.stdout and "答案 C 不在选项中" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr


def test_yaml_that_does_not_parse_gets_a_line_number_not_a_traceback(tmp_path):
    (tmp_path / "bad.yaml").write_text("topic: 测试\nprefix: tst\nitems:\n  - id: [unclosed\n", encoding="utf-8")
    r = run_check("--dir", str(tmp_path))
    assert r.returncode == 1
    assert "bad.yaml:" in r.stdout and "YAML 格式错误" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
