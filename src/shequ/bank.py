"""The question bank: loading exams/bank/*.yaml with line numbers, and checking it.

Every problem is reported as `file:line` with a Chinese message and a hint; loading never
raises on bad content (a trainer's typo must not become a traceback).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from . import paths
from .answers import KINDS, POLICIES

LEVELS = ("识记", "理解", "应用")
OBJECTIVE = ("单选", "多选", "判断", "填空")
BLANK = "____"
FIELDS = ("id", "type", "stem", "options", "answer", "explanation", "skills", "level",
          "facility", "source", "points", "scoring", "rubric")
# a cited law, regulation or standard must carry a version or date
# (a district 意见 or 通知 without a date is a fine source; a law is not)
LAW_RE = re.compile(r"《[^》]*(法|条例|办法|规定|规则|标准|规范|指引|指标)》")
YEAR_RE = re.compile(r"(19|20)\d\d")
JWH_LAW = "城市居民委员会组织法"


@dataclass
class Item:
    id: str
    type: str
    stem: str
    answer: Any
    explanation: str
    skills: list[str]
    level: str
    facility: float
    source: str
    points: float
    options: dict[str, str] = field(default_factory=dict)
    scoring: str = "partial"
    rubric: list[dict] = field(default_factory=list)
    file: str = ""
    line: int = 0
    topic: str = ""

    @property
    def blanks(self) -> int:
        return self.stem.count(BLANK)

    def key_text(self) -> str:
        """The answer as a person reads it."""
        if self.type == "填空":
            return "；".join(v[0] for v in self.answer)
        return str(self.answer)


@dataclass
class Problem:
    file: str
    line: int
    message: str
    hint: str = ""
    item: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        who = f" 题目 {self.item}：" if self.item else " "
        hint = f"\n    提示：{self.hint}" if self.hint else ""
        return f"{where}:{who}{self.message}{hint}"


def load_skills(path: Path | None = None) -> dict[str, str]:
    """Skill id -> Chinese name."""
    data = yaml.safe_load((path or paths.SKILLS).read_text(encoding="utf-8"))
    return {s["id"]: s["name"] for s in data["skills"]}


def _rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(paths.ROOT))
    except ValueError:
        return str(p)


def _read_file(path: Path, problems: list[Problem]) -> tuple[dict | None, dict]:
    """Parse one bank file; returns (data, {item index: (line, {field: line})})."""
    rel = _rel(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        problems.append(Problem(rel, 1, f"文件不是 UTF-8 编码（第 {e.start} 字节）。",
                                "用编辑器另存为 UTF-8 编码。"))
        return None, {}
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark else 1
        what = getattr(e, "problem", None) or str(e).splitlines()[0]
        problems.append(Problem(rel, line, f"YAML 格式错误：{what}。",
                                "检查缩进（用空格，不用 Tab）、冒号后的空格，含冒号或引号的文字请加引号。"))
        return None, {}
    lines: dict[int, tuple[int, dict[str, int]]] = {}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == "items" and isinstance(v, yaml.SequenceNode):
                for i, item_node in enumerate(v.value):
                    fl = {}
                    if isinstance(item_node, yaml.MappingNode):
                        fl = {fk.value: fk.start_mark.line + 1 for fk, _ in item_node.value}
                    lines[i] = (item_node.start_mark.line + 1, fl)
    return data, lines


def load(bank_dir: Path | None = None, files: Iterable[Path] | None = None
         ) -> tuple[list[Item], list[Problem]]:
    """Load every bank file; returns the well-formed items and the problems found."""
    from . import bankcheck  # the checks live beside, loading stays small

    bank_dir = bank_dir or paths.BANK
    files = sorted(files) if files is not None else sorted(bank_dir.glob("*.yaml"))
    skills = load_skills()
    items: list[Item] = []
    problems: list[Problem] = []
    if not files:
        problems.append(Problem(_rel(bank_dir), 0, "题库目录里没有 .yaml 文件。"))
    for path in files:
        data, lines = _read_file(path, problems)
        if data is None:
            continue
        items += bankcheck.check_file(path, _rel(path), data, lines, skills, problems)
    bankcheck.check_bank(items, problems)
    return items, problems


def by_id(items: Iterable[Item]) -> dict[str, Item]:
    return {it.id: it for it in items}


def load_ok(bank_dir: Path | None = None) -> list[Item]:
    """Items of a bank that passes the check; raises BankError listing the problems."""
    items, problems = load(bank_dir)
    if problems:
        raise BankError(problems)
    return items


class BankError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"题库有 {len(problems)} 处问题")


def stats(items: list[Item]) -> dict[str, Any]:
    """Counts by type and the 双向细目表 grid (primary skill x level)."""
    by_type: dict[str, int] = defaultdict(int)
    grid: dict[str, dict[str, int]] = defaultdict(lambda: {lv: 0 for lv in LEVELS})
    for it in items:
        by_type[it.type] += 1
        grid[it.skills[0]][it.level] += 1
    return {"by_type": {k: by_type.get(k, 0) for k in KINDS}, "grid": dict(grid)}


__all__ = ["Item", "Problem", "BankError", "load", "load_ok", "load_skills", "stats",
           "LEVELS", "OBJECTIVE", "KINDS", "POLICIES", "FIELDS"]
