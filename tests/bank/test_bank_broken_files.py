"""Each deliberately broken bank file in tests/files/bank/ gets its own specific message
from the real command: `file:line`, the expected phrase, exactly one problem, exit 1."""
import random
import shutil
from pathlib import Path

import pytest
import yaml

from shequ import bank

FILES = Path(__file__).parents[1] / "files" / "bank"

# file -> (line reported, phrase the message must contain)
EXPECTED = {
    "answer-not-in-options.yaml": (12, "答案 D 不在选项中"),
    "bad-id.yaml": (5, "题号“tst-1”格式不对"),
    "bad-level.yaml": (15, "认知层次“掌握”无效"),
    "bad-scoring.yaml": (19, "计分规则“half”无效"),
    "bad-type.yaml": (6, "题型“选择”无效"),
    "duplicate-id.yaml": (20, "题号重复"),
    "duplicate-key.yaml": (13, "字段“answer”重复"),
    "enemy-self.yaml": (19, "互斥题（enemies）里写了本题自己"),
    "enemy-unknown.yaml": (5, "互斥题 tst-0009 不在题库中"),
    "empty-file.yaml": (1, "文件顶层应有 topic、prefix 和 items"),
    "essay-missing-rubric.yaml": (5, "简答题缺少评分要点"),
    "essay-rubric-sum.yaml": (9, "评分要点分值合计 3，与题目分值 4 不一致"),
    "facility-out-of-range.yaml": (16, "预估得分率（facility）应在 0 与 1 之间"),
    "fill-blank-count-mismatch.yaml": (8, "题干有 2 个空，答案给了 1 组"),
    "fill-no-blank.yaml": (7, "填空题的题干里没有空"),
    "fill-variant-with-separator.yaml": (8, "考生无法这样作答"),
    "gbk-encoded.yaml": (1, "看起来是 GBK"),
    "id-prefix-mismatch.yaml": (5, "题号前缀与文件的 prefix（tst）不一致"),
    "judge-answer-not-dui-cuo.yaml": (8, "判断题答案应为“对”或“错”，现在是“正确”"),
    "judge-with-options.yaml": (8, "判断题不应有选项"),
    "jwh-law-without-version-in-stem.yaml": (7, "没有在题干中写明考哪个版本"),
    "law-without-version.yaml": (17, "引用了法规或文件但没有写版本或日期"),
    "missing-answer.yaml": (5, "缺少答案"),
    "missing-explanation.yaml": (5, "缺少解析"),
    "missing-prefix.yaml": (1, "缺少 prefix"),
    "missing-source.yaml": (5, "缺少出处"),
    "missing-topic.yaml": (1, "缺少 topic"),
    "multi-one-correct.yaml": (12, "多选题至少要有两个正确选项"),
    "near-duplicate-stem.yaml": (20, "几乎相同"),
    "not-yaml.yaml": (7, "YAML 格式错误：这一行多了一个“: ”"),
    "options-not-abc.yaml": (8, "选项标号应依次为 A、B、C"),
    "points-not-positive.yaml": (18, "分值（points）应为正数"),
    "repeated-option.yaml": (8, "选项重复"),
    "single-choice-two-answers.yaml": (12, "单选题只能有一个答案"),
    "stem-law-source-without-version.yaml": (17, "题干引用了法规或文件，出处却没有写版本或日期"),
    "tab-indent.yaml": (15, "行首用了 Tab 缩进"),
    "unclosed-quote.yaml": (7, "引号或括号没有闭合"),
    "unknown-field.yaml": (19, "未知字段“remark”"),
    "unknown-skill.yaml": (14, "未知技能“gonvernance”"),
}


@pytest.fixture(scope="session")
def run_check(run_shequ):
    """`shequ bank check --dir FOLDER`, in-process."""
    return lambda folder: run_shequ("bank", "check", "--dir", folder)


def test_every_broken_file_has_an_expectation():
    assert sorted(p.name for p in FILES.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_gets_its_own_message(name, tmp_path, run_check):
    line, phrase = EXPECTED[name]
    shutil.copy(FILES / name, tmp_path / name)
    r = run_check(tmp_path)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "Traceback" not in out
    assert f"{name}:{line}:" in r.stdout, r.stdout
    assert phrase in r.stdout, r.stdout
    assert "发现 1 处问题" in r.stdout, r.stdout  # one scenario, one message


def test_two_files_with_the_same_prefix_are_reported(tmp_path, run_check):
    text = (FILES / "missing-source.yaml").read_text(encoding="utf-8")
    good = yaml.safe_load(text)
    good["items"][0]["source"] = "《中华人民共和国宪法》（2018年修正）第一百一十一条"
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(good, allow_unicode=True), encoding="utf-8")
    good["items"][0].update(id="tst-0002", stem="居民委员会的主任由谁选举？请选出正确的一项。",
                            options={"A": "街道办事处", "B": "居民", "C": "区政府"})
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(good, allow_unicode=True), encoding="utf-8")
    r = run_check(tmp_path)
    assert r.returncode == 1
    assert "b.yaml:1:" in r.stdout and "题号前缀 tst 已被" in r.stdout


def test_a_yml_file_is_not_silently_skipped(tmp_path, run_check):
    shutil.copy(FILES / "missing-source.yaml", tmp_path / "topic.yml")
    r = run_check(tmp_path)
    assert r.returncode == 1
    assert "topic.yml:1:" in r.stdout and "扩展名应为 .yaml" in r.stdout


def test_a_missing_folder_is_unusable_input_exit_2(tmp_path, run_check):
    r = run_check(tmp_path / "nope")
    assert r.returncode == 2
    assert "找不到题库目录" in r.stderr and "Traceback" not in r.stderr


JUNK = [None, "", " ", 0, -1, 1.5, True, "对", "AB", "Z", [], [[]], [["x"]], {}, {"A": None},
        {"A": "x", "B": "x"}, [{"point": None}], "____", "《某某法》", ["governance", {}], [None]]


def test_random_junk_in_any_field_never_raises(tmp_path):
    """Whatever a trainer types into a field, the check answers with problems, not a crash."""
    base = yaml.safe_load((FILES / "missing-source.yaml").read_text(encoding="utf-8"))["items"][0]
    rng = random.Random(7)
    fields = list(base) + ["rubric", "scoring", "options"]
    for _ in range(400):
        raw = dict(base, type=rng.choice(["单选", "多选", "判断", "填空", "简答"]))
        for f in rng.sample(fields, 3):
            raw[f] = rng.choice(JUNK)
        doc = {"topic": "测试", "prefix": "tst", "items": [raw]}
        (tmp_path / "x.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        bank.load(tmp_path)  # must not raise
