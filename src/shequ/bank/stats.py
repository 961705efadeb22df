"""Bank statistics: counts by type and the 双向细目表 (skill × level), as text and xlsx."""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from .. import sheets
from ..answers import KINDS
from .canonical import _num
from .model import LEVELS, Item


def stats(items: list[Item]) -> dict[str, Any]:
    """Counts by type and the 双向细目表 grid (primary skill x level)."""
    by_type: dict[str, int] = defaultdict(int)
    grid: dict[str, dict[str, int]] = defaultdict(lambda: {lv: 0 for lv in LEVELS})
    for it in items:
        by_type[it.type] += 1
        grid[it.skills[0]][it.level] += 1
    return {"by_type": {k: by_type.get(k, 0) for k in KINDS}, "grid": dict(grid)}


def stats_tables(items: list, skills: dict[str, str]) -> tuple[list[list], list[list]]:
    """(题型 table, 双向细目表 grid): rows with a header row first; the grid counts items by
    primary skill (the first listed, as paper blueprints do) and cognitive level."""
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
    sheets.write_xlsx(out, [sheets.Sheet("题型统计", types, widths={types[0][0]: 18}),
                            sheets.Sheet("双向细目表", grid, widths={grid[0][0]: 18})])
