"""Bank files in and out: the one canonical YAML writer and the Excel/CSV round trip.

Canonical form of a bank file: the leading comment block, then topic, prefix, items; item
keys in ITEM_KEYS order; block style, except skills and 填空 answers in flow style; text
without surrounding white space; a blank line between items. Export then import gives the
same bytes, because both sides go through `render`.
"""
from __future__ import annotations

import codecs
import copy
import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from .errors import ShequError

ITEM_KEYS = ("id", "type", "stem", "options", "answer", "scoring", "rubric", "explanation",
             "skills", "level", "facility", "source", "points", "enemies")
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


@dataclass
class BankFile:
    name: str          # file name in the bank folder, e.g. selfgov.yaml
    topic: str
    prefix: str
    header: str = ""   # the leading comment block, without "# "
    items: list[dict] = field(default_factory=list)


# ---- canonical YAML ---------------------------------------------------------------------

class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)  # indent lists under their key


class _Flow(list):
    pass


class _Quoted(str):
    pass


_STR = "tag:yaml.org,2002:str"
_Dumper.add_representer(str, lambda d, s: d.represent_scalar(_STR, s, style="|" if "\n" in s else None))
_Dumper.add_representer(_Quoted, lambda d, s: d.represent_scalar(_STR, str(s), style='"'))
_Dumper.add_representer(_Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def _text(v: Any) -> str:
    return str(v).strip()


def _num(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def canonical_item(raw: dict) -> dict:
    """One item in canonical key order and value form (same meaning as `raw`)."""
    out: dict[str, Any] = {}
    for k in list(ITEM_KEYS) + [k for k in raw if k not in ITEM_KEYS]:
        if k not in raw or (k in ("options", "rubric", "enemies") and not raw[k]):
            continue
        if k == "scoring" and raw[k] == "partial":  # the default goes unsaid
            continue
        out[k] = _canon_value(k, raw[k], raw.get("type"))
    return out


def _canon_value(k: str, v: Any, kind: Any) -> Any:
    if k == "answer" and kind == "多选" and isinstance(v, str):
        return "".join(sorted(v.strip()))
    if isinstance(v, str):
        return v.strip()
    if k == "options" and isinstance(v, dict):
        return {str(o): _text(t) for o, t in v.items()}
    if k in ("skills", "enemies") and isinstance(v, list):
        return _Flow(v)
    if k == "answer" and isinstance(v, list):
        return _Flow(_Flow(_Quoted(_text(x)) for x in b) if isinstance(b, list) else b for b in v)
    if k == "rubric" and isinstance(v, list):
        return [_canon_rubric(r) for r in v]
    if k in ("points", "facility"):
        return _num(v)
    return v


def _canon_rubric(r: Any) -> Any:
    if not isinstance(r, dict):
        return r
    out = {"point": _text(r.get("point", "")), "score": _num(r.get("score"))}
    return out | {k: v for k, v in r.items() if k not in out}


def render(bf: BankFile) -> str:
    """The canonical text of a bank file."""
    head = "".join(("# " + line).rstrip() + "\n" for line in bf.header.splitlines())
    doc = {"topic": bf.topic, "prefix": bf.prefix, "items": [canonical_item(it) for it in bf.items]}
    body = yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1 << 30,
                     default_flow_style=False)
    body = body.replace("\n  - id: ", "\n\n  - id: ").replace("items:\n\n", "items:\n", 1)
    return head + body


def read_file(path: Path) -> BankFile:
    """A bank file that parses (run the check first); keeps its leading comments."""
    text = path.read_bytes().decode("utf-8-sig")
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(re.sub(r"^# ?", "", line))
    from .bank import LOADER

    data = yaml.load(text, Loader=LOADER) or {}
    return BankFile(path.name, str(data.get("topic", "")), str(data.get("prefix", "")),
                    "\n".join(header), list(data.get("items") or []))


def read_bank(bank_dir: Path) -> dict[str, BankFile]:
    return {p.name: read_file(p) for p in sorted(bank_dir.glob("*.yaml"))}


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write via a temp file in the same folder and os.replace: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def format_bank(bank_dir: Path) -> list[str]:
    """Rewrite every file of a (checked) bank in canonical form; returns the files changed."""
    changed = []
    for name, bf in read_bank(bank_dir).items():
        path = bank_dir / name
        text = render(bf)
        if path.read_bytes() != text.encode("utf-8"):
            write_atomic(path, text)
            changed.append(name)
    return changed


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
    from .answers import choice_letters, truth_value

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


def _put(ws, row: int, col: int, value: Any):
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, not a formula
    return cell


def _write_xlsx(out: Path, rows: list[dict], files: list[BankFile], skills: dict[str, str]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = ITEMS_SHEET
    _table(ws, HEADERS, [[r[h] for h in HEADERS] for r in rows])
    widths = {"题干": 50, "解析": 50, "出处": 36, "评分要点": 36, "可接受答案": 24, "知识点": 18}
    for i, h in enumerate(HEADERS, 1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = widths.get(h, 16 if "选项" in h else 10)
    wrap = Alignment(wrap_text=True, vertical="top")
    for line in ws.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = wrap
    for col, values in (("题型", "单选,多选,判断,填空,简答"), ("认知层次", "识记,理解,应用"),
                        ("计分规则", "部分得分,全对才得分")):
        dv = DataValidation(type="list", formula1=f'"{values}"', allow_blank=True)
        letter = ws.cell(1, HEADERS.index(col) + 1).column_letter
        dv.add(f"{letter}2:{letter}5000")
        ws.add_data_validation(dv)
    tw = wb.create_sheet(TOPICS_SHEET)
    _table(tw, TOPIC_HEADERS, [[f.name, f.topic, f.prefix, f.header] for f in files])
    for letter, width in zip("ABCD", (18, 24, 10, 80)):
        tw.column_dimensions[letter].width = width
    hw = wb.create_sheet(HELP_SHEET)
    for i, line in enumerate(help_lines(skills), 1):
        hw.cell(i, 1, line)
    hw.column_dimensions["A"].width = 110
    hw["A1"].font = Font(bold=True)
    for sheet in (ws, tw):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
    buf = io.BytesIO()
    wb.save(buf)
    write_atomic(out, buf.getvalue())


def _table(ws, headers, rows) -> None:
    for c, h in enumerate(headers, 1):
        ws.cell(1, c, h)
    for r, values in enumerate(rows, 2):
        for c, v in enumerate(values, 1):
            if v != "":
                _put(ws, r, c, v)
    ws.freeze_panes = "B2"


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
    if not src.is_file():
        raise InputError(f"找不到文件：{src}")
    suffix = src.suffix.lower()
    rep = ImportReport()
    if suffix == ".xlsx":
        item_rows, topic_rows = _read_xlsx(src)
        rep.encoding = "xlsx"
    elif suffix == ".csv":
        text, rep.encoding = _decode_csv(src.read_bytes())
        first = text.split("\n", 1)[0]
        delim = "\t" if "\t" in first and "," not in first else ","
        try:
            item_rows, topic_rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim)), None
        except csv.Error as e:
            raise InputError(f"CSV 文件格式有误：{e}") from None
    else:
        raise InputError(f"不支持的文件类型“{src.suffix}”：请用 .xlsx 或 .csv（旧的 .xls 请在 Excel 中另存为 .xlsx）。")
    items, rep.ignored = _records(item_rows, HEADERS, REQUIRED, f"“{ITEMS_SHEET}”表")
    topics = None
    if topic_rows is not None:
        topics, _ = _records(topic_rows, TOPIC_HEADERS, TOPIC_HEADERS[:3], f"“{TOPICS_SHEET}”表")
    rep.rows = len(items)
    return items, topics, rep


def _read_xlsx(src: Path) -> tuple[list, list | None]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(src, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds on a file that is not xlsx
        raise InputError(f"无法打开 Excel 文件 {src.name}（{type(e).__name__}）：请确认是 .xlsx 格式，"
                         "旧的 .xls 请在 Excel 中另存为 .xlsx。") from None
    names = wb.sheetnames
    items = list(wb[ITEMS_SHEET if ITEMS_SHEET in names else names[0]].iter_rows(values_only=True))
    topics = list(wb[TOPICS_SHEET].iter_rows(values_only=True)) if TOPICS_SHEET in names else None
    wb.close()
    return items, topics


def _decode_csv(raw: bytes) -> tuple[str, str]:
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8", errors="replace"), "UTF-8（带 BOM）"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "UTF-16"
    for enc, label in (("utf-8", "UTF-8"), ("gb18030", "GBK")):
        try:
            return raw.decode(enc), label
        except UnicodeDecodeError:
            pass
    raise InputError("CSV 文件的编码无法识别（不是 UTF-8，也不是 GBK）。请在 Excel 中“另存为 → CSV UTF-8”。")


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
    from . import bankcheck

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
    from . import bankcheck

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

def stats_tables(items: list, skills: dict[str, str]) -> tuple[list[list], list[list]]:
    """(题型 table, 双向细目表 grid): rows with a header row first; the grid counts items by
    primary skill (the first listed, as paper blueprints do) and cognitive level."""
    from .bank import KINDS, LEVELS

    types = [["题型", "题数", "分值合计", "平均预估得分率"]]
    for k in KINDS:
        its = [it for it in items if it.type == k]
        mean = round(sum(it.facility for it in its) / len(its), 2) if its else "—"
        types.append([k, len(its), _num(sum(it.points for it in its)), mean])
    types.append(["合计", len(items), _num(sum(it.points for it in items)), "—"])
    grid = [["知识点（主）", *LEVELS, "合计"]]
    for sid, name in skills.items():
        counts = [sum(1 for it in items if it.skills[0] == sid and it.level == lv) for lv in LEVELS]
        grid.append([name, *counts, sum(counts)])
    totals = [sum(r[i] for r in grid[1:]) for i in range(1, len(LEVELS) + 2)]
    grid.append(["合计", *totals])
    return types, grid


def format_table(rows: list[list]) -> str:
    """A plain-text table that lines up with Chinese (double-width) characters."""
    import unicodedata

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)

    cells = [[str(c) for c in r] for r in rows]
    ws = [max(width(r[i]) for r in cells) for i in range(len(cells[0]))]
    lines = []
    for r in cells:
        first = r[0] + " " * (ws[0] - width(r[0]))
        rest = [" " * (w - width(c)) + c for c, w in zip(r[1:], ws[1:])]
        lines.append("  ".join([first, *rest]).rstrip())
    return "\n".join(lines)


def write_stats_xlsx(out: Path, types: list[list], grid: list[list]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    for ws, (title, rows) in zip((wb.active, wb.create_sheet()), (("题型统计", types), ("双向细目表", grid))):
        ws.title = title
        for r in rows:
            ws.append(r)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.column_dimensions["A"].width = 18
    buf = io.BytesIO()
    wb.save(buf)
    write_atomic(out, buf.getvalue())


# ---- helpers for the command line -------------------------------------------------------

def bank_dir(arg: str | None, may_be_new: bool = False) -> Path:
    """The bank folder; an import may name one that does not exist yet (made on writing)."""
    from . import paths

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
    from . import bank

    if not any(bank_dir.glob("*.yaml")):
        return []
    return bank.load(bank_dir)[1]


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
