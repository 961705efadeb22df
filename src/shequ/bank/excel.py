"""The bank in Excel/CSV: export to the Chinese-headed template, import it back.

Import checks every row first and writes nothing when one is bad; export then import gives
the same bank bytes, because both sides go through `canonical.render`.
"""
from __future__ import annotations

import codecs
import copy
import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .. import sheets
from ..errors import ShequError
from ..sheets import write_atomic
from .canonical import BankFile, _num, canonical_item, read_bank, render

LETTERS = "ABCDEF"
# the import template: 题号…分值 as trainers know them, then what makes it lossless
HEADERS = (["题号", "题型", "题干"] + [f"选项{x}" for x in LETTERS] +
           ["答案", "解析", "知识点", "认知层次", "难度", "出处", "分值",
            "计分规则", "可接受答案", "评分要点", "互斥题", "主题文件"])
REQUIRED = ("题号", "题型", "题干", "答案", "解析", "知识点", "认知层次", "难度", "出处", "分值")
TOPIC_HEADERS = ("文件", "主题", "题号前缀", "文件说明")
COLUMN = {"id": "题号", "type": "题型", "stem": "题干", "options": "选项", "answer": "答案",
          "explanation": "解析", "skills": "知识点", "level": "认知层次", "facility": "难度",
          "source": "出处", "points": "分值", "scoring": "计分规则", "rubric": "评分要点",
          "enemies": "互斥题", "prefix": "主题文件", "topic": "主题文件"}
SCORING_CN = {"partial": "部分得分", "all_or_nothing": "全对才得分"}
ITEMS_SHEET, TOPICS_SHEET, HELP_SHEET = "题目", "主题文件", "说明"
FILE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*\.yaml$")
VARIANT_SEP = re.compile(r"\s*[|｜]\s*")
RUBRIC_RE = re.compile(r"^(.*?)\s*[（(]\s*(\d+(?:\.\d+)?)\s*分\s*[）)]\s*$")


class InputError(ShequError):
    """The input cannot be used at all (missing, unreadable, wrong headers): exit 2."""


# ---- rows of the template ---------------------------------------------------------------

def to_row(raw: dict, file: str, names: dict[str, str]) -> dict[str, Any]:
    """One item as a row of the template (column name -> cell value)."""
    it = canonical_item(raw)
    kind, ans = it["type"], it["answer"]
    row: dict[str, Any] = {h: "" for h in HEADERS}
    row.update({"题号": it["id"], "题型": kind, "题干": it["stem"], "解析": it.get("explanation", ""),
                "知识点": "、".join(names.get(s, s) for s in it["skills"]), "认知层次": it["level"],
                "难度": it["facility"], "出处": it["source"], "分值": it["points"], "主题文件": file})
    for k, v in (it.get("options") or {}).items():
        row[f"选项{k}"] = v
    if kind == "填空":
        row["答案"] = "；".join(str(b[0]) for b in ans)
        row["可接受答案"] = _extras_text([[str(x) for x in b] for b in ans])
    else:
        row["答案"] = ans
    if kind == "简答":
        row["评分要点"] = "\n".join(f"{r['point']}（{r['score']:g}分）" for r in it.get("rubric", []))
    scoring = it.get("scoring", "partial")
    if kind == "多选" or scoring != "partial":
        row["计分规则"] = SCORING_CN.get(scoring, scoring)
    row["互斥题"] = "、".join(it.get("enemies") or [])
    return row


def _extras_text(ans: list[list[str]]) -> str:
    if len(ans) == 1:
        return " | ".join(ans[0][1:])
    return "\n".join(f"第{i}空：" + " | ".join(b[1:]) for i, b in enumerate(ans, 1) if b[1:])


def cell_text(v: Any) -> str:
    """A cell as text, the way the trainer sees it."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "对" if v else "错"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, datetime):  # Excel turns a typed 2014-05-01 into a date
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat(" ")
    if isinstance(v, date):
        return v.isoformat()
    return str(v).strip()


def cell_number(v: Any) -> Any:
    """A number cell; text that is not a number is kept, and the check names it."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return _num(round(v, 4))
    s = cell_text(v).replace("％", "%").removesuffix("分")
    try:
        x = float(s[:-1]) / 100 if s.endswith("%") else float(s)
    except ValueError:
        return s
    return _num(round(x, 4))


def from_row(cells: dict[str, Any], names_to_ids: dict[str, str]) -> tuple[dict, list[tuple[str, str]]]:
    """A template row as a raw bank item, plus (column, problem) for what cannot be read."""
    from ..answers import choice_letters, truth_value

    t = {h: cell_text(cells.get(h)) for h in HEADERS}
    errors: list[tuple[str, str]] = []
    kind = t["题型"]
    raw: dict[str, Any] = {"id": t["题号"], "type": kind, "stem": t["题干"]}
    opts = {x: t[f"选项{x}"] for x in LETTERS if t[f"选项{x}"]}
    if opts:
        raw["options"] = opts
    ans = t["答案"]
    if kind in ("单选", "多选"):
        got = choice_letters(ans)
        raw["answer"] = "".join(sorted(got)) if got else ans
    elif kind == "判断":
        tv = truth_value(ans)
        raw["answer"] = ans if tv is None else ("对" if tv else "错")
    elif kind == "填空":
        raw["answer"] = _parse_fill(ans, t["可接受答案"], errors)
    else:
        raw["answer"] = ans
    if t["计分规则"]:
        raw["scoring"] = {v: k for k, v in SCORING_CN.items()}.get(t["计分规则"], t["计分规则"])
    if t["评分要点"] or kind == "简答":
        raw["rubric"] = _parse_rubric(t["评分要点"], errors)
    if t["解析"]:
        raw["explanation"] = t["解析"]
    raw["skills"] = [names_to_ids.get(s, s) for s in re.split(r"[、，,；;/\s]+", t["知识点"]) if s]
    raw["level"] = t["认知层次"]
    raw["facility"] = cell_number(cells.get("难度"))
    raw["source"] = t["出处"]
    raw["points"] = cell_number(cells.get("分值"))
    if t["互斥题"]:
        raw["enemies"] = [e for e in re.split(r"[、，,；;\s]+", t["互斥题"]) if e]
    return {k: v for k, v in raw.items() if v != ""}, errors


def _parse_fill(answer: str, extras: str, errors: list) -> list:
    blanks = [[p.strip()] for p in re.split(r"[；;]", answer) if p.strip()]
    lines = [ln for ln in extras.splitlines() if ln.strip()]
    for i, line in enumerate(lines):
        m = re.match(r"\s*第\s*(\d+)\s*空\s*[：:]\s*(.*)$", line)
        if m:
            idx, text = int(m[1]) - 1, m[2]
        else:  # one blank: every line lists its variants; several: line i is blank i
            idx, text = (0 if len(blanks) == 1 else i), line
        if not 0 <= idx < len(blanks):
            errors.append(("可接受答案", f"写了第 {idx + 1} 空的写法，但“答案”列只有 {len(blanks)} 个空"
                                       "（多个空用“；”分隔）。"))
            continue
        blanks[idx] += [v for v in VARIANT_SEP.split(text.strip()) if v]
    return blanks


def _parse_rubric(text: str, errors: list) -> list[dict]:
    out = []
    for line in (ln.strip() for ln in text.splitlines()):
        if not line:
            continue
        m = RUBRIC_RE.match(line)
        if not m or not m[1]:
            errors.append(("评分要点", f"“{line}”应写成“要点（N分）”，一行一条。"))
            continue
        out.append({"point": m[1], "score": _num(float(m[2]))})
    return out


# ---- export -----------------------------------------------------------------------------

def export(bank_dir: Path, out: Path, skills: dict[str, str], empty: bool = False) -> int:
    """Write the bank (or an empty template) to .xlsx or .csv; returns the item count."""
    files = {} if empty else read_bank(bank_dir)
    rows = [to_row(it, bf.name, skills) for bf in files.values() for it in bf.items]
    if out.suffix.lower() == ".csv":
        buf = io.StringIO(newline="")
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(HEADERS)
        w.writerows([cell_text(r[h]) for h in HEADERS] for r in rows)
        write_atomic(out, codecs.BOM_UTF8 + buf.getvalue().encode("utf-8"))  # BOM: Excel reads UTF-8
    else:
        _write_xlsx(out, rows, list(files.values()), skills)
    return len(rows)


def _write_xlsx(out: Path, rows: list[dict], files: list[BankFile], skills: dict[str, str]) -> None:
    widths = {"题干": 50, "解析": 50, "出处": 36, "评分要点": 36, "可接受答案": 24, "知识点": 18}
    sheets.write_xlsx(out, [
        sheets.Sheet(ITEMS_SHEET, [list(HEADERS)] + [[r[h] if r[h] != "" else None for h in HEADERS] for r in rows],
                     widths={h: widths.get(h, 16 if "选项" in h else 10) for h in HEADERS}, wrap=True,
                     choices={"题型": "单选,多选,判断,填空,简答", "认知层次": "识记,理解,应用",
                              "计分规则": "部分得分,全对才得分"}, freeze="B2"),
        sheets.Sheet(TOPICS_SHEET, [list(TOPIC_HEADERS)] + [[f.name, f.topic, f.prefix, f.header or None] for f in files],
                     widths=dict(zip(TOPIC_HEADERS, (18, 24, 10, 80))), freeze="B2"),
        sheets.Sheet(HELP_SHEET, "\n".join(help_lines(skills))),
    ])


def help_lines(skills: dict[str, str]) -> list[str]:
    return [
        "题库 Excel 模板说明（导入：shequ bank import 文件.xlsx；详见 exams/README.md）",
        "一行一题；表头在第 1 行，列的顺序可以调整，不认识的列（如“备注”）导入时忽略。",
        "题号：前缀-四位数字（如 gov-0046）。已有题号 = 修改该题；新题号 = 新增；留空 = 按“主题文件”自动编号。",
        "题型：单选、多选、判断、填空、简答。",
        "选项A–选项F：单选、多选题填，至少两个，从 A 起连续。",
        "答案：单选一个字母；多选字母串如 ACD；判断 对/错；填空 每空的标准答案，多个空用“；”分隔；简答 参考答案。",
        "可接受答案（填空）：标准答案以外也算对的写法，用“|”分隔；多个空时每空一行，写成“第2空：写法1 | 写法2”。",
        "评分要点（简答）：一行一条，写成“要点（N分）”，各条分值之和等于分值。",
        "计分规则（多选）：部分得分（默认：全对满分、少选且所选都对得一半、有错选 0 分）或 全对才得分。",
        "解析：为什么这样答，并注明出处。出处：文件和条款；法律法规要写版本或日期，如（2018年修正）。",
        "知识点：下列中文名，多个用“、”分隔，第一个是主知识点：",
        *[f"    {name}（{sid}）" for sid, name in skills.items()],
        "认知层次：识记、理解、应用。难度：预估得分率 P，0–1 之间，越大越容易（如 0.65）。分值：正数。",
        "互斥题：与本题考同一事实或互相泄露答案的题号，多个用“、”分隔；组卷时不会同卷出现（写在一方即可）。",
        "主题文件：题目所在的 exams/bank/ 文件；新主题先在“主题文件”表中加一行（文件、主题、题号前缀、文件说明）。",
        "导入前会先检查全部行，有任何一行不对就一个文件也不写，并列出 Excel 行号和问题。",
        "导入不会删除题目：表里没有的题保持不变。删除题目请直接改 exams/bank/ 下的文件。",
    ]


# ---- import -----------------------------------------------------------------------------

@dataclass
class RowProblem:
    row: int
    column: str
    message: str
    hint: str = ""
    sheet: str = ""  # "" = the items sheet

    def __str__(self) -> str:
        where = f"“{self.sheet}”表第 {self.row} 行" if self.sheet else f"第 {self.row} 行"
        col = f"【{self.column}】" if self.column else ""
        return f"{where}{col}{self.message}" + (f"\n    提示：{self.hint}" if self.hint else "")


@dataclass
class ImportReport:
    rows: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept: int = 0          # bank items the sheet does not list (import never deletes)
    written: list[str] = field(default_factory=list)
    encoding: str = ""
    ignored: list[str] = field(default_factory=list)
    problems: list = field(default_factory=list)


def import_table(src: Path, bank_dir: Path, skills: dict[str, str], write: bool = True) -> ImportReport:
    """Validate every row, merge into the bank, write the changed files (nothing on a problem)."""
    items_rec, topic_rec, rep = read_table(src)
    broken = precheck(bank_dir)
    if broken:
        rep.problems = ["题库本身有问题，先运行 `shequ bank check` 改正后再导入："] + [str(p) for p in broken]
        return rep
    orig = read_bank(bank_dir)
    work = copy.deepcopy(orig)
    if topic_rec is not None:
        _apply_topics(work, topic_rec, rep.problems)
    row_of = _apply_items(work, items_rec, skills, rep)
    if not rep.problems:
        _check_merged(work, row_of, skills, rep.problems)
    if rep.problems:
        rep.problems.sort(key=lambda p: (getattr(p, "sheet", "~"), getattr(p, "row", 0)))
        return rep
    listed = set(row_of)
    rep.kept = sum(1 for bf in orig.values() for it in bf.items if it.get("id") not in listed)
    for name, bf in work.items():
        if name not in orig or _content(bf) != _content(orig[name]):
            if write:
                write_atomic(bank_dir / name, render(bf))
            rep.written.append(name)
    return rep


def _content(bf: BankFile) -> tuple:
    """What render writes, without rendering (the YAML emitter is slow)."""
    return bf.topic, bf.prefix, bf.header, [canonical_item(it) for it in bf.items]


def read_table(src: Path) -> tuple[list, list | None, ImportReport]:
    rep = ImportReport()
    tables, rep.encoding = sheets.read_rows(src, ITEMS_SHEET)
    item_rows = next(iter(tables.values()))
    topic_rows = tables.get(TOPICS_SHEET)
    items, rep.ignored = _records(item_rows, HEADERS, REQUIRED, f"“{ITEMS_SHEET}”表")
    topics = None
    if topic_rows is not None:
        topics, _ = _records(topic_rows, TOPIC_HEADERS, TOPIC_HEADERS[:3], f"“{TOPICS_SHEET}”表")
    rep.rows = len(items)
    return items, topics, rep


def _header(h: Any) -> str:
    """Header cell as a column name: spaces and a trailing （…） note do not matter."""
    return re.sub(r"[（(].*?[）)]$", "", re.sub(r"\s+", "", cell_text(h)))


def _records(rows: list, known, required, what: str) -> tuple[list[tuple[int, dict]], list[str]]:
    if not rows or not any(cell_text(v) for v in rows[0]):
        raise InputError(f"{what}第 1 行应是表头（{'、'.join(known)}），现在是空的。")
    header = [_header(h) for h in rows[0]]
    missing = [h for h in required if h not in header]
    if missing:
        raise InputError(f"{what}的表头缺少列：{'、'.join(missing)}。表头（第 1 行）应为：{'、'.join(known)}。")
    dup = sorted({h for h in header if h and header.count(h) > 1})
    if dup:
        raise InputError(f"{what}的表头有重复的列：{'、'.join(dup)}。")
    out = []
    for n, r in enumerate(rows[1:], 2):
        rec = {h: v for h, v in zip(header, r) if h in known}
        if any(cell_text(v) for v in rec.values()):
            out.append((n, rec))
    return out, [h for h in header if h and h not in known]


def _apply_topics(files: dict[str, BankFile], records: list, problems: list) -> None:
    for n, rec in records:
        t = {h: cell_text(rec.get(h)) for h in TOPIC_HEADERS}
        name = _file_name(t["文件"])

        def bad(col: str, msg: str, hint: str = "") -> None:
            problems.append(RowProblem(n, col, msg, hint, TOPICS_SHEET))

        old = files.get(name)
        if not FILE_RE.match(name):
            bad("文件", f"文件名“{t['文件']}”不合适。", "用小写英文、数字、-、_，以 .yaml 结尾，如 housing.yaml。")
        elif not t["主题"]:
            bad("主题", "缺少主题（中文）。")
        elif not re.fullmatch(r"[a-z][a-z0-9]*", t["题号前缀"]):
            bad("题号前缀", f"题号前缀“{t['题号前缀']}”不合适。", "用小写英文字母开头，如 hou。")
        elif old and old.items and old.prefix != t["题号前缀"]:
            bad("题号前缀", f"不能修改已有主题文件的题号前缀（{old.prefix}）：已发布的题号不改。")
        else:
            files[name] = BankFile(name, t["主题"], t["题号前缀"], t["文件说明"], old.items if old else [])


def _file_name(s: str) -> str:
    return s if not s or s.endswith(".yaml") else s + ".yaml"


def _apply_items(files: dict[str, BankFile], records: list, skills: dict[str, str],
                 rep: ImportReport) -> dict[str, int]:
    """Parse, place and check every row; merge the good ones. Returns item id -> row."""
    from . import check as bankcheck

    names_to_ids = {v: k for k, v in skills.items()}
    file_of = {it.get("id"): bf.name for bf in files.values() for it in bf.items}
    parsed, row_of = [], {}
    for n, rec in records:
        raw, errs = from_row(rec, names_to_ids)
        rep.problems += [RowProblem(n, col, msg) for col, msg in errs]
        iid = raw.get("id", "")
        if iid in row_of:
            rep.problems.append(RowProblem(n, "题号", f"题号 {iid} 与第 {row_of[iid]} 行重复。",
                                           "一个题号只能出现一次；新题可以把题号留空，导入时自动编号。"))
        target = _target_file(iid, _file_name(cell_text(rec.get("主题文件"))), files, file_of, n, rep)
        if iid:
            row_of.setdefault(iid, n)
        parsed.append((n, raw, target))
    for n, raw, target in parsed:
        if not raw.get("id") and target:
            raw["id"] = _next_id(files[target].prefix, set(file_of) | set(row_of))
            row_of[raw["id"]] = n
        sink: list = []
        prefix = files[target].prefix if target else None
        bankcheck.check_item(raw, target or "", n, {}, prefix, skills, sink)
        rep.problems += [RowProblem(n, COLUMN.get(p.field, ""), p.message, p.hint) for p in sink]
        if target and not sink:
            _merge(files[target], raw, file_of, rep)
    return row_of


def _target_file(iid: str, name: str, files: dict, file_of: dict, n: int, rep: ImportReport) -> str | None:
    def bad(msg: str, hint: str) -> None:
        rep.problems.append(RowProblem(n, "主题文件", msg, hint))

    if iid in file_of:
        if name and name != file_of[iid]:
            bad(f"题号 {iid} 在 {file_of[iid]} 中，不能改放到 {name}。", "题号发布后不改；清空“主题文件”或改回原文件。")
        return file_of[iid]
    if name:
        if name in files:
            return name
        have = "已有：" + "、".join(files) + "。" if files else "题库里还没有主题文件。"
        bad(f"主题文件 {name} 不存在。", have + "新主题先在 Excel 的“主题文件”表中加一行（CSV 不能新建主题）。")
        return None
    prefix = iid.split("-")[0]
    found = [bf.name for bf in files.values() if prefix and bf.prefix == prefix]
    if found:
        return found[0]
    bad("不知道这道新题放在哪个主题文件。",
        "填写“主题文件”列，或用已有主题的题号前缀：" + "、".join(f"{b.prefix}（{b.name}）" for b in files.values()))
    return None


def _next_id(prefix: str, taken: set) -> str:
    nums = [int(m[1]) for i in taken if (m := re.fullmatch(re.escape(prefix) + r"-(\d{4})", str(i)))]
    return f"{prefix}-{max(nums, default=0) + 1:04d}"


def _merge(bf: BankFile, raw: dict, file_of: dict, rep: ImportReport) -> None:
    for i, old in enumerate(bf.items):
        if old.get("id") == raw["id"]:
            if canonical_item(old) == canonical_item(raw):
                rep.unchanged += 1
            else:
                bf.items[i] = raw
                rep.changed.append(raw["id"])
            return
    bf.items.append(raw)
    rep.added.append(raw["id"])


def _check_merged(files: dict[str, BankFile], row_of: dict[str, int], skills: dict, problems: list) -> None:
    """Checks across items (duplicate ids, near-duplicate stems) on the bank as it would be."""
    from . import check as bankcheck

    sink: list = []
    items, prefixes = [], {}
    for bf in files.values():
        data = {"topic": bf.topic, "prefix": bf.prefix, "items": bf.items}
        lines = {i: (row_of.get(it.get("id"), 0), {}) for i, it in enumerate(bf.items)}
        for it in bankcheck.check_file(Path(bf.name), bf.name, data, lines, skills, sink):
            if it.id in row_of:
                it.file = ""  # reported as 表格第 N 行
            items.append(it)
        bankcheck.check_prefix_unique(data, bf.name, prefixes, sink)
    bankcheck.check_bank(items, sink)
    for p in sink:
        if p.item in row_of:
            problems.append(RowProblem(row_of[p.item], COLUMN.get(p.field, ""), p.message, p.hint))
        else:
            problems.append(f"{p.file}" + (f" 题目 {p.item}" if p.item else "") + f"：{p.message}"
                            + (f"\n    提示：{p.hint}" if p.hint else ""))


# ---- stats ------------------------------------------------------------------------------

# ---- helpers for the command line -------------------------------------------------------

def bank_dir(arg: str | None, may_be_new: bool = False) -> Path:
    """The bank folder; an import may name one that does not exist yet (made on writing)."""
    from .. import paths

    d = Path(arg) if arg else paths.BANK
    if may_be_new and not d.exists():
        return d
    if not d.is_dir():
        raise InputError(f"找不到题库目录：{d}")
    return d


def output_path(arg: str, suffixes: tuple[str, ...]) -> Path:
    out = Path(arg)
    if out.suffix.lower() not in suffixes:
        raise InputError(f"输出文件应以 {' 或 '.join(suffixes)} 结尾：{arg}")
    if not out.parent.is_dir():
        raise InputError(f"目录不存在：{out.parent}")
    return out


def precheck(bank_dir: Path) -> list:
    """Problems of the bank as it is; import and export work only on a bank that passes."""
    from .load import load as load_bank

    if not any(bank_dir.glob("*.yaml")):
        return []
    return load_bank(bank_dir)[1]


def summary(rep: ImportReport, dry_run: bool) -> str:
    lines = [f"读入 {rep.rows} 行（{rep.encoding}）：新增 {len(rep.added)} 题，修改 {len(rep.changed)} 题，"
             f"未变 {rep.unchanged} 题。"]
    for what, ids in (("新增", rep.added), ("修改", rep.changed)):
        if ids:
            more = f" 等 {len(ids)} 题" if len(ids) > 10 else ""
            lines.append(f"  {what}：" + "、".join(ids[:10]) + more)
    if rep.kept:
        lines.append(f"  题库中另有 {rep.kept} 题不在表中，保持不变（导入不会删除题目）。")
    if rep.ignored:
        lines.append("  忽略了不认识的列：" + "、".join(rep.ignored))
    verb = "将写入" if dry_run else "已写入"
    lines.append(f"{verb} {len(rep.written)} 个文件：" + "、".join(rep.written) if rep.written
                 else "题库没有变化，没有写入任何文件。")
    if dry_run and rep.written:
        lines.append("（--dry-run：只检查，没有写入。）")
    return "\n".join(lines)
