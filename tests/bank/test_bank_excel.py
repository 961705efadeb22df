"""`shequ bank export` / `shequ bank import`: the Excel round trip is lossless, a bad row
writes nothing and names its Excel row, CSV comes in UTF-8 (with or without BOM) or GBK."""
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from shequ import bank, paths, sheets
from shequ.bank import canonical


@pytest.fixture(scope="session")
def shequ(run_shequ):
    """`shequ bank …`, in-process."""
    return lambda *args: run_shequ("bank", *args)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.glob("*.yaml"))}


@pytest.fixture
def bank_copy(tmp_path):
    d = tmp_path / "bank"
    shutil.copytree(paths.BANK, d)
    return d


@pytest.fixture(scope="module")
def exported_once(tmp_path_factory, shequ):
    out = tmp_path_factory.mktemp("export") / "题库.xlsx"
    r = shequ("export", out)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


@pytest.fixture
def exported(tmp_path, exported_once):
    """A fresh copy of the committed bank's export, for a test to edit."""
    return Path(shutil.copy(exported_once, tmp_path / exported_once.name))


def edit(xlsx: Path, iid: str | None, **cells):
    """Set cells (by Chinese header) in the row of item `iid`, or append a row when None."""
    wb = load_workbook(xlsx)
    ws = wb["题目"]
    header = [c.value for c in ws[1]]
    row = ws.max_row + 1 if iid is None else next(
        r[0].row for r in ws.iter_rows(min_row=2) if r[0].value == iid)
    for name, value in cells.items():
        ws.cell(row, header.index(name) + 1, value)
    wb.save(xlsx)
    return row


def test_committed_bank_files_are_in_canonical_form():
    for name, bf in canonical.read_bank(paths.BANK).items():
        assert (paths.BANK / name).read_text(encoding="utf-8") == canonical.render(bf), \
            f"{name} 不是统一格式：运行 `shequ bank format`"


def test_export_then_import_into_an_empty_folder_gives_the_same_bytes(tmp_path, exported, shequ):
    rebuilt = tmp_path / "rebuilt"
    r = shequ("import", exported, "--dir", rebuilt)
    assert r.returncode == 0, r.stdout + r.stderr
    assert {k: v[0] for k, v in snapshot(rebuilt).items()} == \
        {p.name: p.read_bytes() for p in sorted(paths.BANK.glob("*.yaml"))}


def test_importing_an_unchanged_export_touches_no_file(bank_copy, exported, shequ):
    before = snapshot(bank_copy)
    r = shequ("import", exported, "--dir", bank_copy)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "没有写入任何文件" in r.stdout
    assert snapshot(bank_copy) == before


def test_template_has_chinese_headers_and_chinese_skill_names(exported):
    wb = load_workbook(exported)
    ws = wb["题目"]
    header = [c.value for c in ws[1]]
    assert header[:17] == ["题号", "题型", "题干", "选项A", "选项B", "选项C", "选项D", "选项E", "选项F",
                           "答案", "解析", "知识点", "认知层次", "难度", "出处", "分值", "计分规则"]
    assert {"可接受答案", "评分要点", "主题文件"} <= set(header)
    skills = [r[header.index("知识点")].value for r in ws.iter_rows(min_row=2)]
    names = set(bank.load_skills().values())
    assert all(part in names for s in skills for part in s.split("、"))
    assert set(wb.sheetnames) >= {"题目", "主题文件", "说明"}


def test_changed_and_new_items_land_in_their_file_and_only_that_file(bank_copy, exported, shequ):
    before = snapshot(bank_copy)
    edit(exported, "gov-0003", 题干="根据2018年修正的《城市居民委员会组织法》，居委会一般在多少户的范围内设立？（改）")
    edit(exported, None, 题型="判断", 题干="居民公约由居民会议讨论制定后，报不设区的市、市辖区政府或其派出机关备案（2018年修正本）。",
         答案="√", 解析="2018年修正的《城市居民委员会组织法》第十五条规定居民公约报备案。",
         知识点="社区建设与治理、政策法规", 认知层次="识记", 难度=0.7,
         出处="《中华人民共和国城市居民委员会组织法》（2018年修正）第十五条", 分值=1, 主题文件="selfgov.yaml")
    r = shequ("import", exported, "--dir", bank_copy)
    assert r.returncode == 0, r.stdout + r.stderr
    after = snapshot(bank_copy)
    assert [n for n in after if after[n] != before[n]] == ["selfgov.yaml"]
    items = bank.by_id(bank.load(bank_copy)[0])
    assert items["gov-0003"].stem.endswith("（改）")
    new = items["gov-0046"]  # blank 题号 numbered after the file's last item
    assert (new.type, new.answer, new.skills) == ("判断", "对", ["governance", "policy"])
    bf = canonical.read_file(bank_copy / "selfgov.yaml")
    assert (bank_copy / "selfgov.yaml").read_text(encoding="utf-8") == canonical.render(bf)


def test_bad_rows_write_nothing_and_are_listed_by_excel_row(bank_copy, exported, shequ):
    before = snapshot(bank_copy)
    r5 = edit(exported, "ast-0004", 答案="E")
    r9 = edit(exported, "ast-0008", 知识点="不存在的知识点")
    r12 = edit(exported, "ast-0011", 难度="很难")
    r = shequ("import", exported, "--dir", bank_copy)
    assert r.returncode == 1
    assert f"第 {r5} 行【答案】答案 E 不在选项中" in r.stdout
    assert f"第 {r9} 行【知识点】未知技能“不存在的知识点”" in r.stdout
    assert f"第 {r12} 行【难度】" in r.stdout
    assert "没有写入任何文件" in r.stdout and "Traceback" not in r.stdout + r.stderr
    assert snapshot(bank_copy) == before


def test_duplicate_ids_and_near_duplicate_stems_in_the_sheet_are_caught(bank_copy, exported, shequ):
    wb = load_workbook(exported)
    ws = wb["题目"]
    copy = [c.value for c in ws[2]]  # the first item, again, as a "new" row
    ws.append(copy)
    dup_row = ws.max_row
    ws.append([""] + copy[1:])  # the same item again without a 题号: a near-duplicate
    near_row = ws.max_row
    wb.save(exported)
    r = shequ("import", exported, "--dir", bank_copy)
    assert r.returncode == 1
    assert f"第 {dup_row} 行【题号】题号 {copy[0]} 与第 2 行重复" in r.stdout
    r2 = shequ("import", exported, "--dir", bank_copy, "--dry-run")
    assert r2.returncode == 1  # still the duplicate; remove it and the near-duplicate shows
    ws.delete_rows(dup_row)
    wb.save(exported)
    r3 = shequ("import", exported, "--dir", bank_copy)
    assert r3.returncode == 1 and f"第 {near_row - 1} 行【题干】" in r3.stdout and "几乎相同" in r3.stdout


def test_trainer_spellings_are_read(bank_copy, exported, shequ):
    edit(exported, "col-0024", 答案="a、b、d")  # a 多选 answer typed with an IME
    r = shequ("import", exported, "--dir", bank_copy)
    assert r.returncode == 0, r.stdout
    assert bank.by_id(bank.load(bank_copy)[0])["col-0024"].answer == "ABD"


def test_a_new_topic_file_comes_from_the_topics_sheet(tmp_path, bank_copy, exported, shequ):
    wb = load_workbook(exported)
    wb["主题文件"].append(["housing.yaml", "出租房屋管理", "hou", "出租房屋登记题目"])
    ws = wb["题目"]
    header = [c.value for c in ws[1]]
    row = {h: "" for h in header} | {
        "题型": "判断", "题干": "出租房屋的承租人信息应当登记。", "答案": "对", "解析": "以房管人：出租房屋登记房东和租住人。",
        "知识点": "信息采集", "认知层次": "识记", "难度": 0.8, "出处": "区培训资料《以房管人》", "分值": 1,
        "主题文件": "housing.yaml"}
    ws.append([row[h] for h in header])
    wb.save(exported)
    r = shequ("import", exported, "--dir", bank_copy)
    assert r.returncode == 0, r.stdout
    text = (bank_copy / "housing.yaml").read_text(encoding="utf-8")
    assert text.startswith("# 出租房屋登记题目\ntopic: 出租房屋管理\nprefix: hou\n") and "id: hou-0001" in text


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_csv_import_in_utf8_with_or_without_bom_and_gbk(tmp_path, bank_copy, encoding, shequ):
    csv_file = tmp_path / "题库.csv"
    assert shequ("export", csv_file, "--dir", bank_copy).returncode == 0
    lines = csv_file.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    row = next(i for i, ln in enumerate(lines) if ln.startswith("gov-0001,"))
    lines[row] = lines[row].replace("属于哪一类组织？", "属于哪一类组织？（CSV）", 1)
    keep = [lines[0], lines[row]]  # Excel on Chinese Windows saves GBK; keep to GBK-safe rows
    csv_file.write_bytes("".join(keep).encode(encoding))
    r = shequ("import", csv_file, "--dir", bank_copy)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "修改 1 题" in r.stdout
    assert bank.by_id(bank.load(bank_copy)[0])["gov-0001"].stem.endswith("（CSV）")


def test_unusable_input_exits_2_with_a_chinese_message(tmp_path, bank_copy, shequ):
    cases = {tmp_path / "无.xlsx": "找不到文件", tmp_path / "坏.xlsx": "无法打开 Excel 文件",
             tmp_path / "表.xls": "不支持的文件类型", tmp_path / "缺列.csv": "表头缺少列"}
    (tmp_path / "坏.xlsx").write_text("not a zip", encoding="utf-8")
    (tmp_path / "表.xls").write_bytes(b"\xd0\xcf")
    (tmp_path / "缺列.csv").write_text("题号,题型,题干\n", encoding="utf-8")
    for f, phrase in cases.items():
        r = shequ("import", f, "--dir", bank_copy)
        assert r.returncode == 2 and phrase in r.stderr, (f, r.stderr)
        assert "Traceback" not in r.stderr


def test_dry_run_reports_but_writes_nothing(bank_copy, exported, shequ):
    before = snapshot(bank_copy)
    edit(exported, "web-0001", 分值=2)
    r = shequ("import", exported, "--dir", bank_copy, "--dry-run")
    assert r.returncode == 0 and "将写入 1 个文件：website.yaml" in r.stdout
    assert snapshot(bank_copy) == before


def test_format_rewrites_a_hand_edited_file_without_changing_items(tmp_path, bank_copy, shequ):
    f = bank_copy / "service.yaml"
    f.write_text(f.read_text(encoding="utf-8").replace("    points: 1\n", "    points: 1.0\n", 3), encoding="utf-8")
    before = bank.load(bank_copy)[0]
    r = shequ("format", "--dir", bank_copy)
    assert r.returncode == 0 and "service.yaml" in r.stdout
    assert f.read_bytes() == (paths.BANK / "service.yaml").read_bytes()
    strip = lambda its: [(i.id, i.stem, i.answer, i.points) for i in its]  # noqa: E731
    assert strip(bank.load(bank_copy)[0]) == strip(before)


def test_a_failed_write_leaves_the_old_file_whole_and_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "topic.yaml"
    target.write_text("旧内容\n", encoding="utf-8")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(sheets.os, "replace", boom)
    with pytest.raises(OSError):
        sheets.write_atomic(target, "新内容\n" * 1000)
    assert target.read_text(encoding="utf-8") == "旧内容\n"
    assert [p.name for p in tmp_path.iterdir()] == ["topic.yaml"]
