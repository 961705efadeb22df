"""Data-quality checks for the residents registry: classify, report, look up, correct.

Works on a DataFrame read with `residents.load()` (all columns text, blanks as "").
Every record gets a list of problems; the *primary* problem is the first in PRIORITY, the
order in which a worker should fix them (a duplicate is deleted before its phone is checked).
"""
from __future__ import annotations

from datetime import date

import pandas as pd

from .. import idcard
from .residents import MAX_AGE, REF_DATE, REQUIRED

# code -> (中文名称, 处理建议); order = priority.
PROBLEMS: dict[str, tuple[str, str]] = {
    "missing": ("必填项缺失", "入户或电话补采"),
    "duplicate": ("重复登记", "核对是同一人后删除后一条，缺的信息并入保留的一条"),
    "legacy15": ("15 位旧身份证号", "自动升位为 18 位"),
    "fullwidth": ("身份证号格式不规范（全角、空格、小写 x）", "自动规范化"),
    "id_invalid": ("身份证号无效（长度、字符或日期）", "核对身份证原件后更正"),
    "check_digit": ("身份证号校验码错误", "核对身份证原件后更正"),
    "impossible_age": ("年龄不合理", "核对证件后更正出生日期和身份证号"),
    "birth_mismatch": ("出生日期与身份证号不符", "以身份证原件为准更正"),
    "sex_mismatch": ("性别与身份证号不符", "以身份证原件为准更正"),
    "bad_phone": ("手机号格式错误", "电话回访或入户更正"),
}
PRIORITY = list(PROBLEMS)


def id_format(raw: object) -> str:
    """身份证号的写法：规范、空、15位、含空格、含全角、小写x、其他（只看写法，不看校验）。"""
    s = "" if raw is None or raw != raw else str(raw)
    if s == "":
        return "空"
    if any(ch.isspace() for ch in s):
        return "含空格"
    if any("\uff10" <= ch <= "\uff19" for ch in s):
        return "含全角"
    if s.endswith("x"):
        return "小写x"
    if len(s) == 15 and s.isdigit():
        return "15位"
    if len(s) == 18:
        return "规范"
    return "其他"


def check_record(rec: dict, seen: set[str], on: date = REF_DATE) -> list[tuple[str, str, str]]:
    """All problems of one record as (code, field, 中文说明). `seen` holds the standardised
    ID numbers of earlier records and is updated here."""
    found = []
    empty = [c for c in REQUIRED if str(rec.get(c, "")).strip() == ""]
    for c in empty:
        found.append(("missing", c, f"{c} 为空"))
    raw = str(rec.get("id_number", ""))
    norm = idcard.normalise(raw)
    std = idcard.standardise(norm) if len(norm) == 15 else norm
    if std and std in seen:
        found.append(("duplicate", "id_number", "身份证号与前面的记录相同"))
    if std:
        seen.add(std)
    if len(norm) == 15 and norm.isdigit():
        found.append(("legacy15", "id_number", "15 位旧号码"))
    if raw and norm != raw:
        found.append(("fullwidth", "id_number", "含全角字符、空格或小写 x"))
    born = None
    if std:
        chk = idcard.is_valid(std, today=on)
        if chk.code == "check_digit":
            found.append(("check_digit", "id_number", chk.reason))
        elif chk.code == "future_date":
            found.append(("impossible_age", "id_number", chk.reason))
        elif not chk.ok and len(norm) != 15:
            found.append(("id_invalid", "id_number", chk.reason))
        if chk.ok or chk.code in ("check_digit", "future_date"):
            parsed = idcard.parse(std)
            born, sex = parsed.birth_date, parsed.sex
            if chk.ok and idcard.age(born, on) > MAX_AGE:
                found.append(("impossible_age", "birth_date",
                              f"按身份证号已 {idcard.age(born, on)} 岁"))
            if rec.get("birth_date") and rec["birth_date"] != born.isoformat():
                found.append(("birth_mismatch", "birth_date", "与身份证号第 7–14 位不一致"))
            if rec.get("sex") and rec["sex"] != sex:
                found.append(("sex_mismatch", "sex", "与顺序码奇偶不一致（奇男偶女）"))
    phone = str(rec.get("phone", ""))
    if phone and not idcard.is_mobile(phone):
        found.append(("bad_phone", "phone", f"{len(idcard.normalise(phone))} 位，不符合 1[3-9] 开头的 11 位"))
    return sorted(found, key=lambda f: PRIORITY.index(f[0]))


def _records(df: pd.DataFrame):
    """Rows as dicts of plain str (much faster than DataFrame.to_dict on string columns)."""
    cols = list(df.columns)
    return (dict(zip(cols, values)) for values in zip(*(df[c].tolist() for c in cols)))


def problems(df: pd.DataFrame, on: date = REF_DATE) -> pd.DataFrame:
    """One row per problem: person_id, problem, 问题, field, detail（按文件顺序判断重复）。"""
    seen: set[str] = set()
    rows = []
    for rec in _records(df):
        for code, field, detail in check_record(rec, seen, on):
            rows.append({"person_id": rec["person_id"], "problem": code,
                         "问题": PROBLEMS[code][0], "field": field, "detail": detail})
    return pd.DataFrame(rows, columns=["person_id", "problem", "问题", "field", "detail"])


def classify(df: pd.DataFrame, on: date = REF_DATE) -> pd.Series:
    """Each record's primary problem code ("" for a clean record), indexed like df."""
    seen: set[str] = set()
    codes = [(check_record(rec, seen, on) or [("", "", "")])[0][0]
             for rec in _records(df)]
    return pd.Series(codes, index=df.index, name="problem")


def report(df: pd.DataFrame, on: date = REF_DATE) -> pd.DataFrame:
    """汇总表：每类主要问题的条数、占全部记录的百分比和处理建议。"""
    primary = classify(df, on)
    counts = primary[primary != ""].value_counts()
    out = pd.DataFrame({
        "问题": [PROBLEMS[c][0] for c in PRIORITY],
        "条数": [int(counts.get(c, 0)) for c in PRIORITY],
    }, index=pd.Index(PRIORITY, name="problem"))
    out["占比%"] = (out["条数"] / len(df) * 100).round(2)
    out["处理建议"] = [PROBLEMS[c][1] for c in PRIORITY]
    return out


def by_group(df: pd.DataFrame, by: str = "community", on: date = REF_DATE) -> pd.DataFrame:
    """按社区（或街道、小区）统计有问题的记录数和问题率，问题率高的在前。"""
    bad = classify(df, on) != ""
    g = df.assign(_bad=bad).groupby(by)
    out = pd.DataFrame({"记录数": g.size(), "有问题": g["_bad"].sum()})
    out["问题率%"] = (out["有问题"] / out["记录数"] * 100).round(1)
    return out.sort_values(["问题率%", "有问题"], ascending=False)


def masked(df: pd.DataFrame, style: str = "standard") -> pd.DataFrame:
    """A copy for display: name, id_number and phone masked (idcard.mask*)."""
    out = df.copy()
    if "name" in out:
        out["name"] = out["name"].map(idcard.mask_name)
    if "id_number" in out:
        out["id_number"] = out["id_number"].map(lambda s: idcard.mask(s, style))
    if "phone" in out:
        out["phone"] = out["phone"].map(idcard.mask_phone)
    return out


def lookup(df: pd.DataFrame, key: str, on: date = REF_DATE) -> pd.DataFrame:
    """按人员编号、户编号或姓名查找（姓名忽略空格），返回脱敏后的记录和问题说明。"""
    names = df["name"].str.replace(r"\s+", "", regex=True)
    hit = df[(df["person_id"] == key) | (df["household_id"] == key)
             | (names == key.replace(" ", ""))]
    probs = problems(df, on)
    text = probs.groupby("person_id")["问题"].agg("；".join)
    out = masked(hit)[["person_id", "name", "sex", "birth_date", "id_number", "phone",
                       "community", "estate", "building", "unit", "room", "household_id"]]
    return out.assign(问题=out["person_id"].map(text).fillna(""))


def correct(df: pd.DataFrame, on: date = REF_DATE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """自动能改的就改：规范化并升位身份证号、删除重复登记、由身份证号补全空的出生日期和性别。

    其余问题（校验码、不一致、手机号、年龄）要核对原件，不自动改，留在返回表里待核实。
    返回 (更正后的表, 更正日志)；日志里的身份证号已脱敏。
    """
    out = df.copy()
    log = []
    std = out["id_number"].map(idcard.standardise)
    for pid, before, after in zip(out["person_id"], out["id_number"], std):
        if before != after:
            action = "15 位升 18 位" if len(idcard.normalise(before)) == 15 else "规范化"
            log.append((pid, action, "id_number", idcard.mask(before), idcard.mask(after)))
    out["id_number"] = std
    dup = out["id_number"].ne("") & out["id_number"].duplicated(keep="first")
    for pid in out.loc[dup, "person_id"]:
        log.append((pid, "删除重复登记", "", "", ""))
    out = out[~dup].copy()
    gaps = out.index[(out["birth_date"] == "") | (out["sex"] == "")]
    for i in gaps:  # only the few records with a gap are parsed
        rec = out.loc[i]
        if not idcard.is_valid(rec["id_number"], today=on):
            continue
        p = idcard.parse(rec["id_number"])
        if rec["birth_date"] == "":
            out.at[i, "birth_date"] = p.birth_date.isoformat()
            log.append((rec["person_id"], "由身份证号补全", "birth_date", "", p.birth_date.isoformat()))
        if rec["sex"] == "":
            out.at[i, "sex"] = p.sex
            log.append((rec["person_id"], "由身份证号补全", "sex", "", p.sex))
    cols = ["person_id", "更正", "field", "更正前", "更正后"]
    return out.reset_index(drop=True), pd.DataFrame(log, columns=cols)
