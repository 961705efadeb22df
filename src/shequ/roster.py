"""The roster: community workers as nbgrader students (`shequ roster sync [FILE]`).

Reads `datasets/staff.csv` or a trainer's export (CSV in UTF-8 with or without BOM or GBK, or
an .xlsx workbook; Chinese or English headers), checks every row against the district
(`datasets/district/communities.csv`), and only when no row is bad creates or updates the
gradebook's students (id, 姓 → last_name, 名 → first_name). Running it twice changes nothing.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .errors import ShequError

# header (as people write it) -> field
HEADERS = {
    "worker_id": ["worker_id", "id", "工号", "编号", "人员编号", "学员编号", "student_id", "学号"],
    "name": ["name", "姓名", "full_name"],
    "last_name": ["last_name", "姓", "surname"],
    "first_name": ["first_name", "名", "given_name"],
    "street": ["street", "街道", "所属街道", "街道名称"],
    "community": ["community", "社区", "所属社区", "社区名称", "社区（村）"],
    "community_code": ["community_code", "社区代码", "社区编码"],
    "role": ["role", "岗位", "职务"],
    "sex": ["sex", "性别", "gender"],
    "email": ["email", "邮箱", "电子邮箱"],
}
_LOOKUP = {h.strip().lower(): f for f, hs in HEADERS.items() for h in hs}


class RosterError(ShequError):
    """A file that cannot be read as a roster at all."""


@dataclass
class Loaded:
    rows: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "第 N 行：…" (Chinese), row numbers as in Excel


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def split_name(name: str) -> tuple[str, str]:
    """(姓, 名): compound surnames (欧阳, 司马 …) keep both characters."""
    from .idcard import COMPOUND_SURNAMES

    name = name.strip()
    k = 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1
    return name[:k], name[k:]


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # superset of GBK/GB2312: what Excel/WPS write on Chinese Windows
    except UnicodeDecodeError:
        raise RosterError("文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV，或 .xlsx") from None


def _table(path: Path) -> list[list[str]]:
    if not path.exists():
        raise RosterError(f"找不到文件 {path}")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as e:  # noqa: BLE001 - any unreadable workbook
            raise RosterError(f"无法读取 Excel 文件 {path.name}：{e}") from None
        ws = wb.worksheets[0]
        out = []
        for row in ws.iter_rows(values_only=True):
            out.append(["" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                        for v in row])
        wb.close()
        return out
    if path.suffix.lower() == ".xls":
        raise RosterError("不支持旧版 .xls：请在 Excel/WPS 中另存为 .xlsx 或 CSV")
    text = _decode(path.read_bytes())
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;，")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def load(path: Path | str | None = None) -> Loaded:
    """Rows of a roster file, checked; problems name the spreadsheet row (header = row 1)."""
    path = Path(path) if path else paths.DATASETS / "staff.csv"
    table = _table(path)
    while table and not any(c.strip() for c in table[0]):
        table.pop(0)
    if not table:
        raise RosterError(f"{path.name} 是空文件")
    header = [_LOOKUP.get(c.strip().lstrip("\ufeff").lower()) for c in table[0]]
    if "worker_id" not in header:
        raise RosterError(f"{path.name} 缺少“工号”列（可用表头：工号/worker_id）。读到的表头：{table[0]}")
    if "name" not in header and not ("last_name" in header and "first_name" in header):
        raise RosterError(f"{path.name} 缺少“姓名”列（或“姓”“名”两列）。读到的表头：{table[0]}")
    streets, communities = _district()
    out = Loaded()
    seen: dict[str, int] = {}
    for n, raw in enumerate(table[1:], start=2):
        if not any(c.strip() for c in raw):
            continue
        row = {}
        for f, v in zip(header, raw):
            if f and f not in row:
                row[f] = v.strip()
        wid = row.get("worker_id", "")
        problems = []
        if not wid:
            problems.append("缺少工号")
        elif not all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in wid):
            problems.append(f"工号 {wid!r} 只能由字母、数字和 - _ . 组成")
        elif wid in seen:
            problems.append(f"工号 {wid} 与第 {seen[wid]} 行重复")
        else:
            seen[wid] = n
        name = row.get("name") or (row.get("last_name", "") + row.get("first_name", ""))
        if not name:
            problems.append("缺少姓名")
        street, comm = row.get("street", ""), row.get("community", "")
        if "street" in header and street not in streets:
            problems.append(f"街道“{street}”不在本区的街道中" if street else "缺少街道")
        if "community" in header:
            if not comm:
                problems.append("缺少社区")
            elif comm not in communities:
                problems.append(f"社区“{comm}”不在本区的社区中")
            elif street and street in streets and street not in communities[comm]:
                problems.append(f"社区“{comm}”不属于{street}（属于{'、'.join(sorted(communities[comm]))}）")
        if problems:
            out.problems.append(f"第 {n} 行：" + "；".join(problems))
            continue
        last, first = ((row["last_name"], row.get("first_name", "")) if row.get("last_name")
                       else split_name(name))
        out.rows.append({**row, "worker_id": wid, "name": name, "last_name": last, "first_name": first,
                         "row": n})
    if not out.rows and not out.problems:
        out.problems.append(f"{path.name} 没有数据行")
    return out


def _district() -> tuple[set[str], dict[str, set[str]]]:
    with open(paths.DATASETS / "district" / "communities.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    comms: dict[str, set[str]] = {}
    for r in rows:
        comms.setdefault(r["community"], set()).add(r["street"])
    return {r["street"] for r in rows}, comms


def sync(rows: list[dict], db_url: str | None = None) -> SyncResult:
    """Create or update the gradebook's students; never deletes one (they may have grades)."""
    from nbgrader.api import Gradebook, MissingEntry

    from . import grading

    res = SyncResult()
    with Gradebook(db_url or grading.db_url(), course_id="shequ") as gb:
        for r in rows:
            wid = str(r["worker_id"])  # a purely numeric id stays a string (nbgrader needs it quoted on the CLI)
            want = {"last_name": r["last_name"], "first_name": r["first_name"]}
            if r.get("email"):
                want["email"] = r["email"]
            try:
                st = gb.find_student(wid)
            except MissingEntry:
                gb.add_student(wid, **want)
                res.created.append(wid)
                continue
            if all(getattr(st, k) == v for k, v in want.items()):
                res.unchanged.append(wid)
            else:
                gb.update_or_create_student(wid, **want)
                res.updated.append(wid)
    return res


def student_ids(db_url: str | None = None) -> set[str]:
    """Ids of the gradebook's students (empty when there is no gradebook yet)."""
    from . import grading

    url = db_url or grading.db_url()
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return set()
    from nbgrader.api import Gradebook

    with Gradebook(url, course_id="shequ") as gb:
        return {s.id for s in gb.students}
