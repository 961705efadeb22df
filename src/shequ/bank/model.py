"""What a bank item is: the Item and Problem records and the rules every item follows."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

LEVELS = ("识记", "理解", "应用")
OBJECTIVE = ("单选", "多选", "判断", "填空")
BLANK = "____"
FIELDS = ("id", "type", "stem", "options", "answer", "explanation", "skills", "level",
          "facility", "source", "points", "scoring", "rubric", "enemies")
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
    # items that give this one away or test the same fact: never on one paper together
    # (symmetric once loaded: naming the pair on one side is enough)
    enemies: list[str] = field(default_factory=list)
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
    field: str = ""  # the YAML field, so the Excel import can name the column

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        who = f" 题目 {self.item}：" if self.item else " "
        hint = f"\n    提示：{self.hint}" if self.hint else ""
        return f"{where}:{who}{self.message}{hint}"


def by_id(items: Iterable[Item]) -> dict[str, Item]:
    return {it.id: it for it in items}
