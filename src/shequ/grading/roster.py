"""The roster: community workers as nbgrader students (`shequ roster sync [FILE]`).

Reads `datasets/staff.csv` or a trainer's export (CSV in UTF-8 with or without BOM or GBK, or
an .xlsx workbook; Chinese or English headers), checks every row against the district
(`datasets/district/communities.csv`), and only when no row is bad creates or updates the
gradebook's students (id, 姓 → last_name, 名 → first_name). Running it twice changes nothing.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from .. import paths, sheets
from ..errors import ShequError
from ..idcard import split_name

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


def _table(path: Path) -> list[list[str]]:
    tables, _ = sheets.read_rows(path)
    rows = next(iter(tables.values()), [])  # the first sheet of a workbook
    return [[sheets.cell_str(v).strip() if not isinstance(v, str) else v for v in r] for r in rows]


def default_path() -> Path:
    return paths.DATASETS / "staff.csv"


def load(path: Path | str | None = None) -> Loaded:
    """Rows of a roster file, checked; problems name the spreadsheet row (header = row 1).
    The one roster reader: every command that needs the roster comes through here."""
    path = Path(path) if path else default_path()
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


FRAME_COLUMNS = ["worker_id", "name", "street", "community", "community_code", "role"]


def frame(path: Path | str | None = None, missing_ok: bool = False):
    """The roster as a DataFrame of text columns (worker_id, name, street, community,
    community_code, role, …), from `load`; raises RosterError naming the bad rows. With
    `missing_ok`, a path that is empty or names no file gives None (a report without one)."""
    import pandas as pd

    if missing_ok and (not path or not Path(path).is_file()):
        return None
    loaded = load(path)
    if loaded.problems:
        raise RosterError(f"花名册 {Path(path or default_path()).name} 有问题（改正后重新运行）：\n  "
                          + "\n  ".join(loaded.problems[:20]))
    cols = FRAME_COLUMNS + [c for c in HEADERS if c not in FRAME_COLUMNS and c not in ("last_name", "first_name")]
    rows = [{c: r.get(c, "") for c in cols} for r in loaded.rows]
    return pd.DataFrame(rows, columns=cols, dtype=str)


def known_ids(path: Path | str | None = None) -> set[str]:
    """Worker ids of the roster file (no check of the other columns)."""
    return {r["worker_id"] for r in load(path).rows}
