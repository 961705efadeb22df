"""Loading exams/bank/*.yaml with line numbers (the checks are in `check`).

Every problem is reported as `file:line` with a Chinese message and a hint; loading never
raises on bad content (a trainer's typo must not become a traceback).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

import yaml

from .. import paths
from ..errors import ShequError
from .model import Item, Problem, by_id

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 20x faster


def load_skills(path: Path | None = None) -> dict[str, str]:
    """Skill id -> Chinese name."""
    data = yaml.safe_load((path or paths.SKILLS).read_text(encoding="utf-8"))
    return {s["id"]: s["name"] for s in data["skills"]}


def _rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(paths.ROOT))
    except ValueError:
        return str(p)


def _decode(raw: bytes, rel: str, problems: list[Problem]) -> str | None:
    try:
        return raw.decode("utf-8-sig")  # a BOM from Windows editors is harmless
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
    try:
        raw.decode("gb18030")
        what = "文件不是 UTF-8 编码，看起来是 GBK（Windows 记事本、WPS、Excel 常用）。"
    except UnicodeDecodeError:
        what = "文件不是 UTF-8 编码。"
    problems.append(Problem(rel, line, what, "用编辑器“另存为”UTF-8 编码后再检查。"))
    return None


# PyYAML's English problems, in words a trainer can act on
YAML_PROBLEMS = [
    ("mapping values are not allowed", "这一行多了一个“: ”（冒号加空格）",
     "文字里含“: ”时，把整段文字用引号括起来，或改用中文冒号“：”。"),
    ("could not find expected ':'", "缺少冒号“:”", "每个字段写成“字段: 值”，冒号后有一个空格。"),
    ("expected <block end>", "缩进不一致", "同一层的字段左边对齐（题目字段前是 4 个空格）。"),
    ("did not find expected key", "缩进不一致或缺少字段名", "同一层的字段左边对齐，新题目以“  - id:”开头。"),
    ("did not find expected '-'", "列表项缺少“- ”", "列表的每一项以“- ”开头。"),
    ("did not find expected ',' or ']'", "方括号 [ ] 没有闭合或缺少逗号", "检查 [ ] 是否成对，各项之间用英文逗号。"),
    ("did not find expected ',' or '}'", "花括号 { } 没有闭合或缺少逗号", "检查 { } 是否成对，各项之间用英文逗号。"),
    ("end of stream", "引号或括号没有闭合，文件意外结束", "检查引号、括号是否成对。"),
    ("found unknown escape character", "双引号里有无效的反斜杠“\\”", "改用单引号，或把“\\”写成“\\\\”。"),
    ("expected a single document", "文件里有多个文档（---）", "一个题库文件只写一个文档，删除多余的“---”。"),
    ("constructor for the tag", "不支持的标签（以“!”开头）", "删除“!”开头的标签。"),
]


def _yaml_problem(e: yaml.YAMLError, text: str, rel: str) -> Problem:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    if "end of stream" in str(e) and getattr(e, "context_mark", None):
        mark = e.context_mark  # where the unclosed quote or bracket starts, not the file's end
    line = mark.line + 1 if mark else 1
    tab = re.search(r"^ *\t", text, re.M)
    if tab:  # a tab in the indentation is the usual cause; point at it
        return Problem(rel, text.count("\n", 0, tab.start()) + 1, "YAML 格式错误：行首用了 Tab 缩进。",
                       "YAML 只能用空格缩进：把行首的 Tab 换成空格（题目字段前是 4 个空格）。")
    what = getattr(e, "problem", None) or str(e).splitlines()[0]
    for key, cn, hint in YAML_PROBLEMS:
        if key in str(e):
            return Problem(rel, line, f"YAML 格式错误：{cn}。", f"{hint}（原文：{what}）")
    return Problem(rel, line, f"YAML 格式错误：{what}。",
                   "检查缩进（用空格，不用 Tab）、冒号后的空格，含冒号或引号的文字请加引号。")


def _duplicate_keys(node: yaml.Node, rel: str, problems: list[Problem]) -> None:
    """PyYAML keeps the last of two equal keys silently; a trainer must hear about it."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for k, _ in node.value:
            line = k.start_mark.line + 1
            if isinstance(k, yaml.ScalarNode) and k.value in seen:
                problems.append(Problem(rel, line, f"字段“{k.value}”重复（第 {seen[k.value]} 行已写过），"
                                        "只会保留后一个。", "删除多余的一个。", field=k.value))
            elif isinstance(k, yaml.ScalarNode):
                seen[k.value] = line
    children = node.value if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) else []
    for child in children:
        for n in (child if isinstance(child, tuple) else (child,)):
            _duplicate_keys(n, rel, problems)


def _read_file(path: Path, problems: list[Problem]) -> tuple[dict | None, dict]:
    """Parse one bank file; returns (data, {item index: (line, {field: line})})."""
    rel = _rel(path)
    text = _decode(path.read_bytes(), rel, problems)
    if text is None:
        return None, {}
    try:
        loader = LOADER(text)  # one parse gives both the line numbers and the data
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
        data = {} if data is None else data  # an empty file is a bank file with nothing in it
    except yaml.YAMLError as e:
        problems.append(_yaml_problem(e, text, rel))
        return None, {}
    except RecursionError:
        problems.append(Problem(rel, 1, "YAML 格式错误：嵌套层数太多。"))
        return None, {}
    if node is not None:
        _duplicate_keys(node, rel, problems)
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
    from . import check as bankcheck  # the checks live beside, loading stays small

    bank_dir = bank_dir or paths.BANK
    files = sorted(files) if files is not None else sorted(bank_dir.glob("*.yaml"))
    skills = load_skills()
    items: list[Item] = []
    problems: list[Problem] = []
    if not files:
        problems.append(Problem(_rel(bank_dir), 0, "题库目录里没有 .yaml 文件。"))
    for stray in sorted(bank_dir.glob("*.yml")):
        problems.append(Problem(_rel(stray), 1, "题库文件的扩展名应为 .yaml，这个 .yml 文件不会被读入。",
                                "把文件改名为 .yaml。"))
    prefixes: dict[str, str] = {}
    for path in files:
        data, lines = _read_file(path, problems)
        if data is None:
            continue
        items += bankcheck.check_file(path, _rel(path), data, lines, skills, problems)
        bankcheck.check_prefix_unique(data, _rel(path), prefixes, problems)
    bankcheck.check_bank(items, problems)
    ids = by_id(items)
    for it in items:  # make enemies symmetric
        for e in it.enemies:
            if e in ids and it.id not in ids[e].enemies:
                ids[e].enemies.append(it.id)
    return items, problems


def load_ok(bank_dir: Path | None = None) -> list[Item]:
    """Items of a bank that passes the check; raises BankError listing the problems."""
    items, problems = load(bank_dir)
    if problems:
        raise BankError(problems)
    return items


class BankError(ShequError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"题库有 {len(problems)} 处问题")
