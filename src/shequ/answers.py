"""Reading and scoring answers the way Chinese input methods produce them.

One scoring function, `check`, serves both graders: the kernel-free exam grader calls it
in-process, and the hidden test cell of every exam item calls it inside a kernel (stock
nbgrader). It never raises: nonsense and blanks score 0.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

KINDS = ("单选", "多选", "判断", "填空", "简答")
POLICIES = ("partial", "all_or_nothing")

TRUE_WORDS = {"对", "√", "✓", "✔", "正确", "是", "T", "TRUE", "Y", "YES", "R", "RIGHT"}
FALSE_WORDS = {"错", "×", "✗", "✘", "X", "错误", "否", "不对", "F", "FALSE", "N", "NO", "WRONG"}

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
    # NFKC folds full-width letters, digits and punctuation to their ASCII forms
    return unicodedata.normalize("NFKC", value).strip()


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
