"""Every kind of mistake a user can make at the command line ends the same way: a Chinese
message naming what is wrong, exit status 2, no traceback, and nothing written."""
import os
import subprocess
import sys

import pytest

CASES = {
    "unknown course": (["course", "build", "no-such-course"], "找不到课程"),
    "unknown blueprint": (["paper", "build", "no-such-paper"], "no-such-paper"),
    "missing roster file": (["roster", "sync", "no-such-roster.csv"], "no-such-roster.csv"),
    "submissions for an unknown assignment": (["submissions", "import", "basics-r1-a", "answers"], "没有作业"),
    "missing bank folder": (["bank", "check", "--dir", "no-such-bank"], "no-such-bank"),
    "nothing built to release": (["course", "release"], "shequ course build"),
    "unknown command": (["bogus"], "命令没有“bogus”"),
    "a word where a number belongs": (["grade", "--jobs", "two", "ic-01-id-check"], "应为整数"),
    "missing argument": (["site", "audit"], "缺少参数：网站目录"),
    "unknown option": (["bank", "check", "--colour"], "无法识别的参数：--colour"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_user_mistake_gets_a_chinese_message_and_exit_2(case, tmp_path):
    args, names = CASES[case]
    course = tmp_path / "grading"
    course.mkdir()
    env = {**os.environ, "SHEQU_GRADING": str(course)}
    env.pop("SHEQU_DB_URL", None)
    r = subprocess.run([sys.executable, "-m", "shequ", *args], capture_output=True, text=True,
                       env=env, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("错误：") and names in r.stderr, r.stderr
    assert "Traceback" not in r.stdout + r.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["grading"]  # nothing written
