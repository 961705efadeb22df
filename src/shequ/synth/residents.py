"""Seeded generator of the 明湖区 residents registry (信息采集 course data).

社区 → 网格 → 小区 → 楼栋 → 单元 → 户（房屋）→ 人, plus a housing table and a business
table. All data is synthetic: every ID number starts with the fictional address code 990102
(no province 99 exists), phone numbers use segments missing from the 2023 MIIT allocation
table, names are random combinations. Faults are injected at fixed rates and recorded in
residents_faults.csv so lessons and tests can check detection against the truth.
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from .. import idcard
from ..courses.residents import COLUMNS, DATA_DICTIONARY, FAULTS, MAX_AGE, REF_DATE, SPECIAL_GROUPS  # noqa: F401
from . import district as synth

SEED = synth.SEED
ADDRESS_CODE = synth.DISTRICT_CODE  # 990102: fictional, so no ID can be a real person's
# Segments absent from the MIIT 2023-03 allocation summary: valid format, unlikely to be real.
PHONE_PREFIXES = ["154", "163", "164", "168", "169"]


# Fictional name parts for estates and businesses.
ESTATE_STEMS = list(
    "翠湖 金桂 阳光 丽景 和园 春江 碧水 东方 盛世 御景 锦绣 怡和 康乐 幸福 福寿 祥和 "
    "银杏 枫林 紫荆 玉兰 海棠 青松 明月 清风 朝晖 晨曦 长安 永宁 泰和 华庭 蓝湾 绿洲 "
    "书香 文华 新城 东湖 西湖 南湖 北湖 星河 天悦 云栖 观湖 临湖 滨江 江南 水岸 荷风".split())
ESTATE_SUFFIXES = ["花园", "小区", "家园", "苑", "新村", "公寓", "佳园", "雅居", "宿舍区", "嘉园"]
BUSINESSES = [  # (name suffix, industry, type, staff range)
    ("超市", "零售", "个体工商户", (2, 8)), ("便利店", "零售", "个体工商户", (1, 4)),
    ("面馆", "餐饮", "个体工商户", (2, 6)), ("饭店", "餐饮", "企业", (5, 20)),
    ("理发店", "居民服务", "个体工商户", (1, 4)), ("药房", "医药零售", "企业", (2, 6)),
    ("物业服务有限公司", "物业管理", "企业", (8, 30)), ("快递服务站", "物流", "企业", (3, 10)),
    ("幼儿园", "教育", "事业单位", (10, 30)), ("社区卫生服务站", "卫生", "事业单位", (5, 15)),
    ("家政服务有限公司", "居民服务", "企业", (5, 20)), ("汽车维修店", "维修", "个体工商户", (2, 8)),
    ("科技有限公司", "信息技术", "企业", (10, 60)), ("养老服务中心", "养老", "社会组织", (6, 20)),
]
OUTSIDE_EMPLOYERS = [  # employers outside 明湖区 (fictional)
    "市第一人民医院", "市公交集团", "市自来水公司", "江北物流园某公司", "市职业技术学院",
    "开发区电子厂", "市地铁运营公司", "城南建材市场", "市商业银行", "外卖配送站点",
]


# ---------------------------------------------------------------- generation helpers

def _birth(rng: random.Random, age: int) -> date:
    """A birth date giving exactly `age` 周岁 on REF_DATE (born no later than REF_DATE - 1 day)."""
    latest = _years_before(REF_DATE, age)  # on this day the person turns `age`
    earliest = _years_before(REF_DATE, age + 1) + timedelta(days=1)
    latest = min(latest, REF_DATE - timedelta(days=1))
    return earliest + timedelta(days=rng.randint(0, (latest - earliest).days))


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 2 月 29 日
        return d.replace(year=d.year - years, day=28)


class _Ids:
    """Unique 18-digit numbers: 990102 + birth date + sequence (odd 男, even 女) + check."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def make(self, born: date, sex: str) -> str:
        while True:
            seq = self.rng.randrange(1, 999, 2) if sex == "男" else self.rng.randrange(2, 999, 2)
            body = f"{ADDRESS_CODE}{born:%Y%m%d}{seq:03d}"
            if body not in self.used:
                self.used.add(body)
                return body + idcard.check_digit(body)


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        p = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10 ** 8):08d}"
        if p not in used:
            used.add(p)
            return p


def _name(rng: random.Random, sex: str, surname: str | None = None) -> str:
    if surname is None:
        surname = rng.choice(["欧阳", "司马", "上官", "诸葛"]) if rng.random() < 0.01 \
            else rng.choice(synth.SURNAMES)
    given = synth.GIVEN_M if sex == "男" else synth.GIVEN_F
    n = 1 if rng.random() < 0.35 else 2
    return surname + "".join(rng.choice(given) for _ in range(n))


def _surname(name: str) -> str:
    return name[:2] if name[:2] in idcard.COMPOUND_SURNAMES and len(name) >= 3 else name[0]


# Household templates: list of (relation, sex or None, age range). Weights per housing use.
def _household(rng: random.Random, use: str) -> list[tuple[str, str, tuple[int, int]]]:
    r = rng.random()
    if use == "出租":
        if r < 0.35:
            return [("户主", None, (19, 45))]
        if r < 0.60:
            return [("户主", "男", (22, 45)), ("配偶", "女", (21, 45))]
        if r < 0.85:
            return [("户主", "男", (26, 50)), ("配偶", "女", (25, 48)), ("子女", None, (0, 14))]
        return [("户主", None, (19, 40))] + [("非亲属", None, (19, 40))] * rng.randint(1, 2)
    if r < 0.10:
        return [("户主", None, (60, 95))]
    if r < 0.24:
        return [("户主", "男", (60, 92)), ("配偶", "女", (60, 90))]
    if r < 0.52:
        kids = [("子女", None, (0, 24))] * (1 if rng.random() < 0.65 else 2)
        return [("户主", "男", (28, 62)), ("配偶", "女", (27, 60))] + kids
    if r < 0.66:
        return [("户主", "男", (33, 55)), ("配偶", "女", (32, 54)), ("子女", None, (0, 16)),
                ("父母", None, (58, 90))] + ([("父母", None, (58, 90))] if rng.random() < 0.5 else [])
    if r < 0.76:
        return [("户主", "男", (24, 40)), ("配偶", "女", (23, 39))]
    if r < 0.86:
        return [("户主", None, (22, 59))]
    if r < 0.93:
        return [("户主", None, (58, 88)), ("子女", None, (28, 55))]
    return [("户主", "男", (48, 66)), ("配偶", "女", (46, 64)), ("子女", None, (22, 34)),
            ("孙子女", None, (0, 6))]


def _layout(rng: random.Random, com: synth.Community, names: set[str]) -> list[dict]:
    """Estates of one 社区 with their rooms (the housing table rows, without ids)."""
    rooms = []
    n_estates = rng.randint(2, 3)
    for e in range(n_estates):
        while True:
            estate = rng.choice(ESTATE_STEMS) + rng.choice(ESTATE_SUFFIXES)
            if estate not in names:
                names.add(estate)
                break
        old = rng.random() < 0.5  # 老旧小区: more floors of rentals, no lift
        for b in range(1, rng.randint(2, 4) + 1):
            floors = rng.randint(4, 6) if old else rng.randint(5, 8)
            units = rng.randint(1, 2)
            for u in range(1, units + 1):
                for f in range(1, floors + 1):
                    for door in (1, 2):
                        rooms.append({
                            "street": com.street_name, "community_code": com.community_code,
                            "community": com.community_name, "grid": f"网格{e // 2 + 1}",
                            "estate": estate, "building": f"{b}栋", "unit": f"{u}单元",
                            "room": f"{f}{door:02d}", "floor": str(f),
                            "area_m2": str(rng.choice([48, 56, 62, 75, 86, 90, 98, 110, 125])),
                            "old": old,
                        })
    return rooms


def _businesses(rng: random.Random) -> list[dict[str, str]]:
    rows = []
    for com in synth.communities():
        stem = com.community_name.removesuffix("社区")
        for suffix, industry, kind, (lo, hi) in rng.sample(BUSINESSES, rng.randint(5, 8)):
            name = ("明湖区" if kind == "事业单位" else "") + stem + suffix
            rows.append({
                "business_id": f"b{len(rows) + 1:04d}", "name": name, "type": kind,
                "industry": industry, "street": com.street_name,
                "community_code": com.community_code, "community": com.community_name,
                "employees": str(rng.randint(lo, hi)),
            })
    return rows


# ---------------------------------------------------------------- the clean registry

def _clean(seed: int) -> tuple[list[dict], list[dict], list[dict]]:
    """Clean people (without person_id), housing rows and businesses."""
    rng = random.Random(seed * 31 + 7)
    ids, phones, estate_names = _Ids(rng), set(), set()
    businesses = _businesses(rng)
    by_street: dict[str, list[str]] = {}
    for b in businesses:
        by_street.setdefault(b["street"], []).append(b["name"])
    all_business = [b["name"] for b in businesses]
    people: list[dict] = []
    housing: list[dict] = []
    n_households = 0
    for com in synth.communities():
        for room in _layout(rng, com, estate_names):
            old = room.pop("old")
            r = rng.random()
            use = "空置" if r < 0.12 else ("出租" if r < (0.45 if old else 0.25) else "自住")
            house = {"house_id": f"f{len(housing) + 1:05d}", **room, "use": use,
                     "household_id": "", "residents": "0"}
            housing.append(house)
            if use == "空置":
                continue
            n_households += 1
            hh = f"h{n_households:05d}"
            house["household_id"] = hh
            members = _household(rng, use)
            if use == "出租":
                status = "外来人口" if rng.random() < 0.65 else "市内人户分离"
            else:
                r = rng.random()
                status = "户籍人口" if r < 0.80 else ("市内人户分离" if r < 0.92 else "外来人口")
            months = rng.randint(1, 5) if rng.random() < 0.12 else rng.randint(6, 150)
            rows = []
            for relation, sex, (lo, hi) in members:
                sex = sex or rng.choice(["男", "女"])
                # older people: more 60s than 90s (a triangular draw), others uniform
                age = min(hi, int(rng.triangular(lo, hi + 1, lo))) if lo >= 58 else rng.randint(lo, hi)
                if relation == "子女" and rows:  # children younger than the head by 20+ years
                    age = min(age, max(0, rows[0]["_age"] - 20))
                if relation == "孙子女":
                    age = min(age, max(0, rows[-1]["_age"] - 18))
                born = _birth(rng, age)
                surname = _surname(rows[0]["name"]) if relation in ("子女", "孙子女") and rows \
                    and rows[0]["sex"] == "男" else None
                rows.append({
                    "_age": age, "_born": born,
                    "name": _name(rng, sex, surname), "sex": sex,
                    "birth_date": born.isoformat(), "id_number": ids.make(born, sex),
                    "phone": "", "street": room["street"],
                    "community_code": room["community_code"], "community": room["community"],
                    "grid": room["grid"], "estate": room["estate"], "building": room["building"],
                    "unit": room["unit"], "room": room["room"], "household_id": hh,
                    "relation": relation, "hukou_status": status,
                    "months_here": "" if status == "户籍人口" else str(min(months, age * 12 + 1)),
                    "resident_type": "常住" if status == "户籍人口" else "流动",
                    "special_group": "", "employer": "", "housing": use,
                })
            head_phone = ""
            for p in rows:  # adults get their own phone; children share the head's
                if p["_age"] >= 16:
                    p["phone"] = _phone(rng, phones)
                    head_phone = head_phone or p["phone"]
            for p in rows:
                p["phone"] = p["phone"] or head_phone
                a = p["_age"]
                if 18 <= a <= 59 and rng.random() < 0.75 or 60 <= a <= 64 and rng.random() < 0.2:
                    r = rng.random()
                    p["employer"] = rng.choice(by_street[room["street"]]) if r < 0.5 else \
                        rng.choice(all_business) if r < 0.8 else rng.choice(OUTSIDE_EMPLOYERS)
            _special(rng, rows)
            house["residents"] = str(len(rows))
            people.extend(rows)
    return people, housing, businesses


def _special(rng: random.Random, rows: list[dict]) -> None:
    """重点人群 labels, consistent with the household (独居/空巢 are derived, not random)."""
    ages = [p["_age"] for p in rows]
    local = rows[0]["hukou_status"] == "户籍人口"  # 低保/特困 are applied for at the hukou place
    household = ""
    if local:
        r = rng.random()
        if len(rows) == 1 and r < 0.06:
            household = "特困"
        elif r < 0.03:
            household = "低保"
        elif r < 0.045:
            household = "低保边缘"
    for p in rows:
        groups = [household] if household else []
        if rng.random() < (0.06 if p["_age"] >= 60 else 0.015):
            groups.append("残疾人")
        if p["_age"] >= 60 and len(rows) == 1:
            groups.append("独居老人")
        elif p["_age"] >= 60 and min(ages) >= 60:
            groups.append("空巢老人")
        p["special_group"] = "、".join(g for g in SPECIAL_GROUPS if g in groups)


# ---------------------------------------------------------------- fault injection

_FW = str.maketrans("0123456789", "０１２３４５６７８９")


def _inject(rng: random.Random, people: list[dict]) -> tuple[list[dict], list[dict]]:
    """Returns (records with faults and duplicates, truth rows). Originals of duplicates are clean."""
    n = len(people)
    order = list(range(n))
    rng.shuffle(order)
    chosen: dict[int, str] = {}
    pos = 0
    for fault, (rate, _) in FAULTS.items():
        want, got = round(rate * n), 0
        while got < want:
            i = order[pos]
            pos += 1
            p = people[i]
            if fault == "legacy15" and not 1900 <= p["_born"].year <= 1999:
                order.append(i)  # try this person again for a later fault
                continue
            chosen[i] = fault
            got += 1
    out: list[dict] = []
    truth: list[tuple[dict, str, str, str, dict | None]] = []  # record, fault, field, note, original
    for i, p in enumerate(people):
        rec = {k: v for k, v in p.items() if not k.startswith("_")}
        out.append(rec)
        fault = chosen.get(i)
        if fault == "duplicate":  # the second entry follows the (clean) original
            dup = dict(rec)
            field, note = _duplicate_variant(rng, dup, p["_born"])
            out.append(dup)
            truth.append((dup, fault, field, note, rec))
        elif fault:
            field, note = _fault(rng, fault, rec, p["_born"], p["_age"])
            truth.append((rec, fault, field, note, None))
    for k, rec in enumerate(out, start=1):
        rec["person_id"] = f"p{k:06d}"
    rows = [{"person_id": rec["person_id"], "fault_type": fault, "field": field,
             "note": f"与 {orig['person_id']} 为同一人；{note}" if orig else note}
            for rec, fault, field, note, orig in truth]
    rows.sort(key=lambda r: r["person_id"])
    return [{c: rec[c] for c in COLUMNS} for rec in out], rows


def _duplicate_variant(rng: random.Random, dup: dict, born: date) -> tuple[str, str]:
    r = rng.random()
    if r < 0.3:
        dup["name"] = dup["name"][0] + " " + dup["name"][1:]
        return "name", "姓名中多了空格"
    if r < 0.5:
        s = dup["id_number"]
        dup["id_number"] = f"{s[:6]} {s[6:14]} {s[14:]}"
        return "id_number", "身份证号分段带空格"
    if r < 0.7:
        s = dup["id_number"]
        dup["id_number"] = s[:-1] + "x" if s.endswith("X") else s[:6] + s[6:].translate(_FW)
        return "id_number", "身份证号写法不同（小写 x 或全角数字）"
    if r < 0.85 and born.year < 2000:
        s = dup["id_number"]
        dup["id_number"] = s[:6] + s[8:17]
        return "id_number", "第二次登记用了 15 位旧号码"
    dup["phone"] = "1" + dup["phone"][1:3] + f"{rng.randrange(10 ** 8):08d}"
    return "phone", "联系电话不同"


def _fault(rng: random.Random, fault: str, rec: dict, born: date, age: int) -> tuple[str, str]:
    s = rec["id_number"]
    if fault == "missing":
        field = rng.choice(["id_number", "id_number", "phone", "phone", "birth_date", "sex"])
        rec[field] = ""
        return field, "该项为空"
    if fault == "legacy15":
        rec["id_number"] = s[:6] + s[8:17]
        return "id_number", "登记的是 15 位旧号码"
    if fault == "fullwidth":
        k = rng.randint(0, 12)
        rec["id_number"] = s[:k] + s[k:].translate(_FW)
        return "id_number", "部分或全部数字为全角"
    if fault == "check_digit":
        wrong = rng.choice([c for c in "0123456789X" if c != s[-1]])
        rec["id_number"] = s[:-1] + wrong
        return "id_number", "最后一位被改错"
    if fault == "impossible_age":
        # a century typo: 19xx -> 18xx (120+ years old) or -> 20xx/21xx (born in the future)
        shift = 100 if age >= 20 and rng.random() < 0.67 else -100
        bad = _years_before(born, shift)
        body = s[:6] + f"{bad:%Y%m%d}" + s[14:17]
        rec["id_number"] = body + idcard.check_digit(body)
        rec["birth_date"] = bad.isoformat()
        return "birth_date", "出生年份错了一百年（身份证号和出生日期一致）"
    if fault == "birth_mismatch":
        for _ in range(20):
            r = rng.random()
            if r < 0.4 and born.day <= 12 and born.day != born.month:
                other = date(born.year, born.day, born.month)  # 月、日颠倒
            elif r < 0.7:
                other = born + timedelta(days=rng.choice([-1, 1]))
            else:
                other = _years_before(born, rng.choice([-1, 1]))
            if other != born and other < REF_DATE:
                rec["birth_date"] = other.isoformat()
                return "birth_date", "出生日期与身份证号第 7–14 位不一致"
        raise AssertionError("no mismatching date found")  # pragma: no cover
    if fault == "sex_mismatch":
        rec["sex"] = "女" if rec["sex"] == "男" else "男"
        return "sex", "性别与顺序码奇偶不一致"
    if fault == "bad_phone":
        p = rec["phone"]
        r = rng.random()
        rec["phone"] = (p[:-1] if r < 0.3 else p + str(rng.randint(0, 9)) if r < 0.55
                        else "1" + rng.choice("012") + p[2:] if r < 0.8
                        else str(rng.randint(2, 8)) + p[-7:])
        return "phone", "位数或号段不对"
    raise ValueError(fault)


# ---------------------------------------------------------------- exercise extracts

def _pick(rows: list[dict], faults: dict[str, str], **where) -> list[dict]:
    return [r for r in rows if r["person_id"] not in faults
            and all(r[k] == v for k, v in where.items())]


def _exercise_files(rows: list[dict], truth: list[dict], seed: int) -> dict[str, list[dict]]:
    rng = random.Random(seed * 31 + 11)
    faults = {t["person_id"]: t["fault_type"] for t in truth}
    by_id = {r["person_id"]: r for r in rows}
    out: dict[str, list[dict]] = {}

    # 01 id-check: 30 numbers, about a third of them faulty.
    bad = [by_id[t["person_id"]] for t in truth
           if t["fault_type"] in ("check_digit", "legacy15", "fullwidth", "impossible_age")]
    sample = rng.sample(_pick(rows, faults), 20) + rng.sample(bad, 10)
    sample.sort(key=lambda r: r["person_id"])
    out["exercises/ic-id-sample.csv"] = [
        {"person_id": r["person_id"], "id_number": r["id_number"]} for r in sample]

    # 02 dedup: one 社区 with duplicates in every format, plus namesakes (different people).
    com = rows[0]["community_code"]
    base = [dict(r) for r in _pick(rows, faults, community_code=com)][:60]
    same_sex = [r for r in base[4:] if r["sex"] == base[3]["sex"]]
    for r in same_sex[-2:]:  # namesakes: same name, different people
        r["name"] = base[3]["name"]
    pool = [r for r in base if r not in same_sex[-2:]]
    with_x = next(r for r in pool if r["id_number"].endswith("X"))
    old = next(r for r in pool if "1930" < r["birth_date"] < "1999" and r is not with_x)
    others = rng.sample([r for r in pool if r is not with_x and r is not old], 5)
    extra = []
    for v, r in zip(["lower_x", "legacy15", "space", "fullwidth", "name_space", "phone", "same"],
                    [with_x, old] + others):
        d = dict(r)
        s = d["id_number"]
        if v == "lower_x":
            d["id_number"] = s[:-1] + "x"
        elif v == "legacy15":
            d["id_number"] = s[:6] + s[8:17]
        elif v == "space":
            d["id_number"] = f"{s[:6]} {s[6:14]} {s[14:]}"
        elif v == "fullwidth":
            d["id_number"] = s.translate(_FW)
        elif v == "name_space":
            d["name"] = d["name"][0] + " " + d["name"][1:]
        elif v == "phone":
            d["phone"] = d["phone"][:3] + f"{rng.randrange(10 ** 8):08d}"
        d["_orig"] = s
        extra.append(d)
    registry = list(base)
    rng.shuffle(registry)
    for d in extra:  # somewhere after its original, so "keep the first" is the right answer
        i = next(k for k, r in enumerate(registry) if r["id_number"] == d["_orig"])
        registry.insert(rng.randint(i + 1, len(registry)), d)
    for k, r in enumerate(registry, start=1):
        r["person_id"] = f"r{k:03d}"
    out["exercises/ic-registry-sample.csv"] = [
        {c: r[c] for c in ("person_id", "name", "sex", "birth_date", "id_number", "phone",
                           "estate", "building", "unit", "room")} for r in registry]

    # 03 building summary: one 小区, plus people turning 60 just after REF_DATE.
    estate = rows[len(rows) // 2]["estate"]
    people = [dict(r) for r in _pick(rows, faults, estate=estate)]
    late = date(REF_DATE.year - 60, 12, 15).isoformat()  # 59 on REF_DATE, "60" by year difference
    for r in [p for p in people if p["relation"] == "户主"][:3]:
        r["birth_date"] = late
    out["exercises/ic-building-sample.csv"] = [
        {c: r[c] for c in ("person_id", "sex", "birth_date", "building", "unit", "room",
                           "household_id", "hukou_status", "months_here", "resident_type")}
        for r in people]

    # 04 mask table: a 低保 公示 draft (fictional amounts), with a compound surname.
    dibao = [r for r in _pick(rows, faults) if "低保" in r["special_group"].split("、")
             and r["relation"] == "户主"]
    dibao = sorted(rng.sample(dibao, 14), key=lambda r: r["person_id"])
    sizes = {}
    for r in rows:
        sizes[r["household_id"]] = sizes.get(r["household_id"], 0) + 1
    pub = []
    for k, r in enumerate(dibao):
        name = r["name"] if k != 2 else "欧阳" + r["name"][len(_surname(r["name"])):]
        pub.append({"community": r["community"], "name": name, "id_number": r["id_number"],
                    "phone": r["phone"],
                    "address": f"{r['estate']}{r['building']}{r['unit']}{r['room']}",
                    "family_size": str(sizes[r["household_id"]]),
                    "monthly_amount": str(sizes[r["household_id"]] * rng.choice([320, 360, 410]))})
    out["exercises/ic-publish-sample.csv"] = pub
    return out


# ---------------------------------------------------------------- public API

def generate(seed: int = SEED) -> dict[str, list[dict[str, str]]]:
    """All tables as lists of rows: residents, residents_faults, housing, businesses, exercises."""
    people, housing, businesses = _clean(seed)
    rows, truth = _inject(random.Random(seed * 31 + 9), people)
    tables = {
        "residents.csv": rows,
        "residents_faults.csv": truth,
        "housing.csv": housing,
        "businesses.csv": businesses,
    }
    tables.update(_exercise_files(rows, truth, seed))
    return tables


def files(seed: int = SEED) -> dict[str, str]:
    """Every generated file of the residents registry, as {path relative to datasets/: text}."""
    return {rel: synth.csv_text(rows) for rel, rows in generate(seed).items()}


def write(root: Path | None = None, seed: int = SEED) -> list[Path]:
    """Write the files under datasets/ (or root); returns the paths written."""
    return synth.write(files(seed), root)


def dictionary_markdown() -> str:
    """The residents section of datasets/README.md (generated from DATA_DICTIONARY and FAULTS)."""
    lines = [
        "## 居民信息登记表（信息采集课程）",
        "",
        "由 `shequ.synth.residents.files()` 生成（固定种子，重复生成逐字节相同）。**全部为合成数据**：",
        "姓名随机组合；公民身份号码的地址码一律为虚构的 `990102`（不存在 99 省级代码），",
        "校验码按 GB 11643-1999 计算，因此格式合法但不可能是任何真实的人；手机号只用",
        "工信部 2023 年 3 月网号分配表中未列出的号段（154、163、164、168、169），以减少与真实号码",
        "重合的可能（仍然请勿拨打）。",
        f"登记时点 {REF_DATE.isoformat()}，年龄一律按这一天计算周岁。",
        "",
        "| 文件 | 内容 |",
        "|---|---|",
        "| `residents.csv` | 居民登记表，一人一行（含故意注入的错误记录，见下） |",
        "| `residents_faults.csv` | 注入错误的真值表：person_id, fault_type, field（出错的列）, note（说明） |",
        "| `housing.csv` | 房屋表（以房管人）：house_id, 社区/网格/小区/楼栋/单元/房号, floor, area_m2（建筑面积）, use（自住/出租/空置）, household_id（空置为空）, residents（住户人数） |",
        "| `businesses.csv` | 单位表（以业管人）：business_id, name, type（企业/个体工商户/事业单位/社会组织）, industry, 所在街道/社区, employees |",
        "| `exercises/ic-*.csv` | 评分练习用的小样本，从上面的表中抽取（练习二的样本另加了重复和同名） |",
        "",
        "层级：区（990102 明湖区）→ 街道（9 位代码）→ 社区（12 位代码）→ 网格 → 小区 → 楼栋 → 单元 → 户（房屋）→ 人。",
        "",
        "### residents.csv 字段",
        "",
        "| 列名 | 中文名 | 说明 |",
        "|---|---|---|",
    ]
    lines += [f"| `{c}` | {zh} | {desc} |" for c, zh, desc in DATA_DICTIONARY]
    lines += [
        "",
        "### 注入的错误（residents_faults.csv）",
        "",
        "先生成干净记录，再按下列比例（占干净记录数）随机挑人注入，每条出错记录只有一种错误；",
        "重复登记是在原记录后面紧跟着插入的第二条记录（原记录本身是干净的），第二条的写法可能",
        "还有差异（姓名带空格、身份证号带空格或全角、用 15 位旧号码、电话不同），一律记为 duplicate。",
        "",
        "| fault_type | 错误 | 比例 |",
        "|---|---|---|",
    ]
    lines += [f"| `{k}` | {label} | {rate:.1%} |" for k, (rate, label) in FAULTS.items()]
    lines += [
        "",
        "`shequ.courses.quality.classify()` 能把每一条出错记录归到上表的类别，干净记录不报错（`tests/courses/test_residents.py` 检查）。",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- helpers for lessons
