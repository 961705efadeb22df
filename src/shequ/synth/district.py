"""Seeded generator of the fictional district (明湖区) and its staff roster.

All data is synthetic. The district code 990102 does not exist in GB/T 2260 (there is no
province 99), so nothing generated here can collide with a real place or person.
"""
from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from pathlib import Path

from .. import paths

SEED = 20260101
DISTRICT_CODE = "990102"
DISTRICT_NAME = "明湖区"

# 8 街道, 43 社区 (the size of the district in the seed documents).
STREETS: list[tuple[str, list[str]]] = [
    ("湖滨街道", ["湖滨社区", "柳岸社区", "望湖社区", "渔港社区", "荷塘社区", "观澜社区"]),
    ("东城街道", ["东门社区", "朝阳里社区", "新华社区", "文庙社区", "和平社区"]),
    ("西关街道", ["西关社区", "太平社区", "永安社区", "石桥社区", "纺织社区", "铁路社区"]),
    ("南苑街道", ["南苑社区", "花园社区", "育才社区", "丰收社区", "春晖社区"]),
    ("北山街道", ["北山社区", "松林社区", "矿区社区", "泉水社区", "青石社区"]),
    ("新港街道", ["新港社区", "海棠社区", "金沙社区", "港湾社区", "启航社区", "学府社区"]),
    ("高新街道", ["科创社区", "软件园社区", "云谷社区", "明珠社区", "智汇社区"]),
    ("锦园街道", ["锦园社区", "翠竹社区", "桂香社区", "兰亭社区", "梅岭社区"]),
]

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN_M = list("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林国建文志海峰")
GIVEN_F = list("芳娜敏静丽艳娟霞秀玲燕红梅琳莉萍慧倩婷雪颖洁琴云兰凤英佳欣悦怡晨蕾")

# role, how many per 社区 (min, max)
ROLES: list[tuple[str, tuple[int, int]]] = [
    ("书记", (1, 1)),
    ("主任", (1, 1)),
    ("副主任", (0, 1)),
    ("委员", (1, 2)),
    ("网格员", (2, 4)),
    ("信息员", (1, 2)),
]


@dataclass(frozen=True)
class Community:
    street_code: str
    street_name: str
    community_code: str
    community_name: str


def communities() -> list[Community]:
    """The district's 社区 with 统计用区划代码-style codes (9-digit 街道, 12-digit 社区)."""
    out = []
    for s, (street, names) in enumerate(STREETS, start=1):
        street_code = f"{DISTRICT_CODE}{s:03d}"  # 001–099 are 街道 in the 12-digit scheme
        for c, name in enumerate(names, start=1):
            out.append(Community(street_code, street, f"{street_code}{c:03d}", name))
    return out


def _name(rng: random.Random, sex: str) -> str:
    given = GIVEN_M if sex == "男" else GIVEN_F
    n = 1 if rng.random() < 0.35 else 2
    return rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(n))


def staff(seed: int = SEED) -> list[dict[str, str]]:
    """About 350 community workers, 5–15 per 社区."""
    rng = random.Random(seed)
    rows = []
    for com in communities():
        for role, (lo, hi) in ROLES:
            for _ in range(rng.randint(lo, hi)):
                sex = "女" if rng.random() < 0.62 else "男"
                rows.append({
                    "worker_id": f"w{len(rows) + 1:04d}",
                    "name": _name(rng, sex),
                    "sex": sex,
                    "street": com.street_name,
                    "community": com.community_name,
                    "community_code": com.community_code,
                    "role": role,
                    "hire_year": str(rng.randint(2006, 2026)),
                })
    return rows


def trainers(seed: int = SEED) -> list[dict[str, str]]:
    """The district training centre's trainers (区培训中心): the graders on the hub."""
    rng = random.Random(seed + 7)
    return [{"worker_id": f"t{i:02d}", "name": _name(rng, "女" if rng.random() < 0.5 else "男"),
             "unit": "区社区工作者培训中心"} for i in range(1, 5)]


def csv_text(rows: list[dict[str, str]]) -> str:
    """Rows as CSV text with \\n line ends (byte-stable across platforms)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def district_files(seed: int = SEED) -> dict[str, str]:
    """Every generated file of the district, as {relative path: text}."""
    coms = communities()
    streets = []
    for com in coms:
        if not streets or streets[-1]["street_code"] != com.street_code:
            streets.append({"street_code": com.street_code, "street": com.street_name,
                            "district_code": DISTRICT_CODE, "district": DISTRICT_NAME})
    return {
        "district/streets.csv": csv_text(streets),
        "district/communities.csv": csv_text([
            {"community_code": c.community_code, "community": c.community_name,
             "street_code": c.street_code, "street": c.street_name} for c in coms]),
        "staff.csv": csv_text(staff(seed)),
        "trainers.csv": csv_text(trainers(seed)),
    }


def write(files: dict[str, str | bytes], root: Path | None = None) -> list[Path]:
    """Write generated files (text as UTF-8, or bytes) under datasets/; returns their paths."""
    root = root or paths.DATASETS
    written = []
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        written.append(p)
    return written
