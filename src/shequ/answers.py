"""Reading and scoring answers the way Chinese input methods produce them.

One reader, `read_cell`, and one scoring function, `check`, serve both graders: the
kernel-free exam grader calls them in-process on the answer cell's text; the hidden test
cell of every exam item calls `check(…, typed("q07"), …)` inside a kernel (stock nbgrader),
and `typed` reads the same answer cell's text from the kernel's input history with the same
reader. Neither ever raises: nonsense and blanks score 0.
"""
from __future__ import annotations

import ast
import re
import unicodedata
import warnings
from typing import Any

KINDS = ("单选", "多选", "判断", "填空", "简答")
POLICIES = ("partial", "all_or_nothing")

TRUE_WORDS = {"对", "√", "✓", "✔", "正确", "是", "T", "TRUE", "Y", "YES", "R", "RIGHT"}
FALSE_WORDS = {"错", "×", "✗", "✘", "X", "错误", "否", "不对", "F", "FALSE", "N", "NO", "WRONG"}

INVALID = object()  # an answer cell that holds anything but a literal assignment
MAX_CELL = 100_000   # characters: a longer "answer" is not one (and could exhaust the parser)
# quotes people type around an answer: ASCII, Chinese/curly, corner brackets, full-width
QUOTES = "\"'“”‘’„‟「」『』＂＇"
_ASSIGN = re.compile(r"\A\s*([A-Za-z_]\w*)\s*=\s*(.*?)\s*\Z", re.S)

# separators people type between letters or blanks: 、，,；; / | 和 plus white space
_SEP = re.compile(r"[\s、，,；;/|和]+")
_TRAILING = "。.．!！"


def _text(value: Any) -> str | None:
    """The answer as normalised text, or None when it is not a plain value."""
    if value is None:
        return ""
    if isinstance(value, bool):  # True/False typed for 判断
        return "对" if value else "错"
    if isinstance(value, (int, float)):
        value = repr(value) if isinstance(value, float) else str(value)
    if not isinstance(value, str):
        return None
    # NFKC folds full-width letters, digits and punctuation to their ASCII forms; quotes
    # typed inside the quotes ("“B”") are not part of the answer
    return unicodedata.normalize("NFKC", value).strip().strip(QUOTES).strip()


def choice_letters(value: Any, letters: str = "ABCDEF") -> frozenset[str] | None:
    """Letters chosen in a 单选/多选 answer; None when it is not a list of letters."""
    s = _text(value)
    if s is None:
        return None
    s = _SEP.sub("", s.upper()).rstrip(_TRAILING)
    if not s or any(ch not in letters for ch in s):
        return None if s else frozenset()
    return frozenset(s)


def truth_value(value: Any) -> bool | None:
    """True/False for a 判断 answer, None when blank or unreadable."""
    s = _text(value)
    if not s:
        return None
    s = s.upper().rstrip(_TRAILING).strip()
    if s in TRUE_WORDS:
        return True
    if s in FALSE_WORDS:
        return False
    return None


def _fill_norm(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).casefold()
    return re.sub(r"\s+", "", s).strip(_TRAILING + "“”\"'‘’")


def fill_parts(value: Any, blanks: int) -> list[str] | None:
    """Split a 填空 answer into one string per blank."""
    s = _text(value)
    if s is None:
        return None
    if blanks == 1:
        return [s]
    parts = [p for p in re.split(r"[；;，,、\n]+", s) if p.strip()]
    return parts


def _round(x: float) -> float:
    return round(x + 0.0, 4)


def check(qid: str, answer: Any, kind: str, key: Any, points: float,
          policy: str = "partial") -> float:
    """Score one answer. `key`: letter(s) for 单选/多选, 对/错 for 判断, and for 填空 a
    list with one list of accepted variants per blank. Never raises."""
    try:
        points = float(points)
        if kind == "单选":
            got = choice_letters(answer)
            return _round(points if got is not None and len(got) == 1 and got == frozenset(key) else 0.0)
        if kind == "多选":
            got = choice_letters(answer)
            want = frozenset(key)
            if not got:
                return 0.0
            if got == want:
                return _round(points)
            if policy == "partial" and got < want:
                return _round(points / 2)
            return 0.0
        if kind == "判断":
            got = truth_value(answer)
            want = truth_value(key)
            return _round(points if got is not None and got == want else 0.0)
        if kind == "填空":
            blanks = [[_fill_norm(v) for v in variants] for variants in key]
            parts = fill_parts(answer, len(blanks))
            if not parts:
                return 0.0
            right = sum(1 for part, ok in zip(parts, blanks) if _fill_norm(part) in ok)
            return _round(points * right / len(blanks))
        return 0.0  # 简答 is graded by a person
    except Exception:  # a grader must not crash on what a worker typed
        return 0.0


# ---- reading an answer cell ----------------------------------------------------------------

def read_cell(source: Any, name: str) -> tuple[Any, str]:
    """(value, reason) of an exam answer cell `name = "…"`, read as text, never executed.

    value: the literal assigned (None for a blank cell), or INVALID with the reason in Chinese
    (code in the cell, text that cannot be read). Chinese, curly or doubled quotes around the
    answer (`q01 = “B”`, `q15 = ""B""`) are read as the letters they wrap. Never raises,
    whatever the cell holds: any size, any characters, any nesting."""
    try:
        return _read(source, name)
    except (Exception, RecursionError, MemoryError):  # noqa: BLE001 - a grader must not crash on an answer
        return INVALID, "作答格无法读取"


def _read(source: Any, name: str) -> tuple[Any, str]:
    if not isinstance(source, str):
        return INVALID, "作答格不是文字"
    if len(source) > MAX_CELL:
        return INVALID, f"作答格超过 {MAX_CELL} 个字符"
    if not source.strip():
        return None, ""
    try:
        with warnings.catch_warnings():  # "invalid escape sequence" and the like: not the trainer's news
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError):  # ValueError: a NUL character
        return _read_typed(source, name)
    value: Any = None  # an emptied cell counts as blank
    for stmt in tree.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id == name):
            return INVALID, "作答格里写了代码（只能在引号里写答案）"
        try:
            value = ast.literal_eval(stmt.value)  # evaluates literals only, runs nothing
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return INVALID, "作答格里写了代码（只能在引号里写答案）"
    return value, ""


def _read_typed(source: str, name: str) -> tuple[Any, str]:
    """A cell Python cannot parse: one assignment `name = …` whose value is text wrapped in
    quotes of any kind (“B”, ""B"", 「B」) is that text; anything else cannot be read."""
    m = _ASSIGN.match("\n".join(ln for ln in source.splitlines() if not ln.strip().startswith("#")))
    if not m or m.group(1) != name:
        return INVALID, "作答格格式不对，无法读取"
    raw = m.group(2)
    inner = raw.strip(QUOTES + " \t")
    if raw[:1] in QUOTES and raw[-1:] in QUOTES and inner and not any(q in inner for q in QUOTES) \
            and "\n" not in inner:
        return inner, ""
    return INVALID, "作答格格式不对，无法读取"


def typed(name: str) -> Any:
    """Inside a kernel (the hidden test of stock nbgrader): what the worker typed in the answer
    cell `name`, read from the kernel's input history by `read_cell`, so a cell Python cannot
    run (`q01 = “B”`) scores as in the kernel-free grader. INVALID scores 0 in `check`."""
    try:
        from IPython import get_ipython

        history = list(get_ipython().user_ns.get("In", []))
    except Exception:  # noqa: BLE001 - not in IPython: nothing to read
        history = []
    pattern = re.compile(rf"^\s*{re.escape(name)}\s*=", re.M)  # the last input that assigns it
    for source in reversed(history):
        if isinstance(source, str) and pattern.search(source):
            return read_cell(source, name)[0]
    return None
