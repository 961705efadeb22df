"""公民身份号码（GB 11643-1999）与手机号、姓名的校验、解析和脱敏。

纯函数，不读写文件。用户看到的提示信息用中文。
校验码按 ISO 7064:1983 MOD 11-2（GB 11643-1999 第 5 条）；15 位旧号码按 GB 11643-1989。
"""
from __future__ import annotations

import re
from datetime import date
from typing import NamedTuple

# W_i = 2^(i-1) mod 11, positions i = 18..2 counted from the right (GB 11643-1999).
WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Y = S mod 11 -> check character; index is Y.
CHECK_CODES = "10X98765432"

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")

# 常见复姓：脱敏姓名时保留两个字。
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 司徒 令狐 夏侯 长孙 宇文 轩辕 "
    "端木 南宫 独孤 西门 闻人 澹台 公冶 呼延 赫连 万俟 钟离 申屠 太史".split())

# Full-width digits/letters and the ideographic space -> ASCII.
_FULLWIDTH = {0xFF10 + i: 0x30 + i for i in range(10)}
_FULLWIDTH.update({0xFF38: ord("X"), 0xFF58: ord("X")})  # Ｘ ｘ


class Check(NamedTuple):
    """校验结果：ok 为 True 时 code、reason 为空串。可直接用作真假值。"""

    ok: bool
    code: str  # ASCII 代码，便于统计：length, legacy15, non_digit, bad_date, future_date, check_digit, address
    reason: str  # 给用户看的中文说明

    def __bool__(self) -> bool:  # `if is_valid(x):` must mean "valid", not "non-empty tuple"
        return self.ok


class Parsed(NamedTuple):
    """从号码中读出的信息。"""

    address_code: str
    birth_date: date
    sequence: str
    sex: str  # "男" / "女"
    check: str  # 18 位号码的校验码；15 位旧号码为空串


def normalise(value: object) -> str:
    """去掉所有空白（含全角空格），全角数字转半角，小写 x 转大写 X。None/NaN 得空串。"""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    s = str(value).translate(_FULLWIDTH)
    s = re.sub(r"\s+", "", s.replace("\u3000", " "))
    return s.replace("x", "X")


def make(address: str, birth: date, seq: int) -> str:
    """An 18-digit number from a 6-digit address code, a birth date and a 3-digit sequence
    code, with its check digit (for synthetic data: use a fictional address code)."""
    body = f"{address}{birth:%Y%m%d}{seq:03d}"
    return body + check_digit(body)


def check_digit(body17: str) -> str:
    """17 位本体码 → 校验码（"0"–"9" 或 "X"）。"""
    if len(body17) != 17 or not body17.isdigit() or not body17.isascii():
        raise ValueError(f"本体码必须是 17 位数字：{body17!r}")
    s = sum(int(a) * w for a, w in zip(body17, WEIGHTS))
    return CHECK_CODES[s % 11]


def _date(yyyymmdd: str) -> date | None:
    try:
        return date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None


def is_valid(id_number: str, today: date | None = None,
             address_codes: set[str] | None = None) -> Check:
    """校验一个 18 位公民身份号码（先用 normalise 规范化再传入）。

    依次检查：长度、字符、地址码（仅当给出 address_codes）、出生日期、是否晚于 today、校验码。
    """
    s = "" if id_number is None else str(id_number)
    if s == "":
        return Check(False, "empty", "号码为空")
    if len(s) == 15 and s.isdigit() and s.isascii():
        return Check(False, "legacy15", "15 位旧号码（GB 11643-1989），需要升位为 18 位")
    if len(s) != 18:
        return Check(False, "length", f"长度应为 18 位，实际 {len(s)} 位")
    body, last = s[:17], s[17]
    if not (body.isdigit() and body.isascii()) or not (last.isdigit() or last == "X") \
            or not last.isascii():
        return Check(False, "non_digit", "前 17 位必须是数字，第 18 位是数字或大写 X（全角字符要先转半角）")
    if address_codes is not None and s[:6] not in address_codes:
        return Check(False, "address", f"地址码 {s[:6]} 不在行政区划代码表中")
    born = _date(s[6:14])
    if born is None:
        return Check(False, "bad_date", f"出生日期码 {s[6:14]} 不是有效日期")
    if born > (today or date.today()):
        return Check(False, "future_date", f"出生日期 {born.isoformat()} 晚于今天")
    expected = check_digit(body)
    if last != expected:
        return Check(False, "check_digit", f"校验码应为 {expected}，实际是 {last}")
    return Check(True, "", "")


def parse(id_number: str) -> Parsed:
    """读出地址码、出生日期、顺序码、性别（顺序码奇数为男、偶数为女）。

    接受 18 位和 15 位号码；不检查校验码（需要时先用 is_valid）。
    """
    s = normalise(id_number)
    if len(s) == 18:
        ymd, seq, chk = s[6:14], s[14:17], s[17]
    elif len(s) == 15:
        ymd, seq, chk = "19" + s[6:12], s[12:15], ""
    else:
        raise ValueError(f"号码长度应为 18 或 15 位：{len(s)} 位")
    if not ((s[:6] + ymd + seq).isdigit() and s.isascii()):
        raise ValueError("号码中有非数字字符")
    born = _date(ymd)
    if born is None:
        raise ValueError(f"出生日期码 {ymd} 不是有效日期")
    return Parsed(s[:6], born, seq, "男" if int(seq) % 2 == 1 else "女", chk)


def upgrade15to18(id15: str) -> str:
    """15 位旧号码升位：第 6 位后插入世纪 "19"，再补校验码。"""
    s = normalise(id15)
    if len(s) != 15 or not (s.isdigit() and s.isascii()):
        raise ValueError(f"不是 15 位数字号码：{len(s)} 位")
    body = s[:6] + "19" + s[6:]
    if _date(body[6:14]) is None:
        raise ValueError(f"出生日期码 {s[6:12]} 不是有效日期")
    return body + check_digit(body)


def standardise(id_number: object) -> str:
    """规范化，并把 15 位旧号码升为 18 位；其余情况原样返回规范化结果（不保证有效）。"""
    s = normalise(id_number)
    if len(s) == 15 and s.isdigit():
        try:
            return upgrade15to18(s)
        except ValueError:
            return s
    return s


def age(born: date, on: date) -> int:
    """周岁：当年的生日（按月、日比较）到了才加一岁。"""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def mask(id_number: object, style: str = "standard") -> str:
    """身份证号脱敏（惯例做法，不是法定格式）。

    standard：保留前 6 位地址码和后 4 位，隐去出生日期码（18 位号码隐去 8 位）；
    strict：只留首末各 1 位。空值得空串；长度不对的号码一律按 strict 处理。
    """
    s = normalise(id_number)
    if not s:
        return ""
    if style not in ("standard", "strict"):
        raise ValueError(f"未知的脱敏方式：{style}（可选 standard、strict）")
    if style == "standard" and len(s) == 18:
        return s[:6] + "*" * 8 + s[-4:]
    if style == "standard" and len(s) == 15:
        return s[:6] + "*" * 6 + s[-3:]
    if len(s) <= 2:
        return "*" * len(s)
    return s[0] + "*" * (len(s) - 2) + s[-1]


def mask_phone(phone: object) -> str:
    """手机号脱敏：保留前 3 位网号和后 4 位，中间 4 位（HLR 段）用 * 号。"""
    s = normalise(phone)
    if len(s) >= 8:
        return s[:3] + "*" * (len(s) - 7) + s[-4:]
    return "*" * len(s)


def mask_name(name: object) -> str:
    """姓名脱敏：保留姓，名字每个字换成 *（张*、欧阳**）。"""
    s = re.sub(r"\s+", "", "" if name is None or name != name else str(name))
    if not s:
        return ""
    keep = 2 if len(s) >= 3 and s[:2] in COMPOUND_SURNAMES else 1
    return s[:keep] + "*" * (len(s) - keep)


def is_mobile(phone: object) -> bool:
    """11 位手机号格式：^1[3-9]\\d{9}$（只看格式，不保证号段已分配）。"""
    return bool(MOBILE_RE.match(normalise(phone)))


def split_name(name: str) -> tuple[str, str]:
    """(姓, 名): compound surnames (欧阳, 司马 …) keep both characters."""
    name = name.strip()
    k = 2 if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES else 1
    return name[:k], name[k:]
