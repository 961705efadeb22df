"""Schema and meaning checks for bank files (used by bank.load and `shequ bank check`)."""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..answers import KINDS, POLICIES
from .model import BLANK, FIELDS, JWH_LAW, LAW_RE, LEVELS, OBJECTIVE, YEAR_RE, Item, Problem

LETTERS = "ABCDEF"
ID_RE = re.compile(r"^[a-z][a-z0-9]*-\d{4}$")
NEAR_DUP = 0.75  # Jaccard of character trigrams (stem + options) from which two items look the same;
# 0.8 was a real duplicate here (the same hotline question in two files), distinct items stay below 0.6
TOP_FIELDS = ("topic", "prefix", "items")
SCORING_HINT = "填 partial（部分得分，默认）或 all_or_nothing（全对才得分）。"


def check_file(path: Path, rel: str, data: Any, lines: dict, skills: dict[str, str],
               problems: list[Problem]) -> list[Item]:
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        problems.append(Problem(rel, 1, "文件顶层应有 topic、prefix 和 items（题目列表）。",
                                "参照 exams/README.md 的格式。"))
        return []
    prefix = data.get("prefix")
    if not isinstance(prefix, str) or not re.fullmatch(r"[a-z][a-z0-9]*", prefix):
        problems.append(Problem(rel, 1, "缺少 prefix（题号前缀，小写英文字母）。",
                                "在文件开头写 prefix: gov 之类。"))
        prefix = None
    topic = data.get("topic")
    if not isinstance(topic, str) or not topic.strip():
        problems.append(Problem(rel, 1, "缺少 topic（本文件的主题，中文）。", "在文件开头写 topic: 居民自治与居委会 之类。"))
    for k in data:
        if k not in TOP_FIELDS:
            problems.append(Problem(rel, 1, f"文件顶层有未知字段“{k}”。", "顶层只能有 topic、prefix、items。"))
    items = []
    for i, raw in enumerate(data["items"]):
        line, fl = lines.get(i, (1, {}))
        item = check_item(raw, rel, line, fl, prefix, skills, problems)
        if item is not None:
            item.topic = str(data.get("topic", ""))
            items.append(item)
    return items


def check_item(raw: Any, rel: str, line: int, fl: dict[str, int], prefix: str | None,
                skills: dict[str, str], problems: list[Problem]) -> Item | None:
    if not isinstance(raw, dict):
        problems.append(Problem(rel, line, "题目应是一组“字段: 值”。", "参照 exams/README.md。"))
        return None
    iid = str(raw.get("id", ""))
    n_before = len(problems)

    def bad(fld: str, msg: str, hint: str = "") -> None:
        problems.append(Problem(rel, fl.get(fld, line), msg, hint, iid, fld))

    if "id" not in raw or not iid.strip():
        bad("id", "缺少题号（id）。", "题号写作 前缀-四位数字，如 gov-0001。")
    elif not ID_RE.match(iid):
        bad("id", f"题号“{iid}”格式不对。", "题号写作 前缀-四位数字，如 gov-0001。")
    elif prefix and not iid.startswith(prefix + "-"):
        bad("id", f"题号前缀与文件的 prefix（{prefix}）不一致。", f"改为 {prefix}-NNNN。")
    for k in raw:
        if k not in FIELDS:
            bad(k, f"未知字段“{k}”。", "可用字段：" + "、".join(FIELDS))
    kind = raw.get("type")
    if kind not in KINDS:
        bad("type", f"题型“{kind}”无效。", "题型只能是 " + "、".join(KINDS))
        return None
    stem = raw.get("stem")
    if not isinstance(stem, str) or not stem.strip():
        bad("stem", "缺少题干（stem）。")
        stem = ""
    options = raw.get("options") or {}
    answer = raw.get("answer")
    if kind in ("单选", "多选"):
        options = _check_options(options, bad)
        _check_choice_answer(kind, answer, options, bad)
    elif raw.get("options"):
        bad("options", f"{kind}题不应有选项。", "删除 options。")
        options = {}
    if kind == "判断" and answer is None:
        bad("answer", "缺少答案（answer）。", "判断题写 answer: 对 或 answer: 错。")
    elif kind == "判断" and answer not in ("对", "错"):
        bad("answer", f"判断题答案应为“对”或“错”，现在是“{answer}”。")
    if kind == "填空":
        _check_fill(answer, stem, bad)
    rubric = raw.get("rubric") or []
    points = raw.get("points")
    if points is None:
        bad("points", "缺少分值（points）。", "写正数，如 points: 1。")
        points = 0
    elif not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
        bad("points", f"分值（points）应为正数，现在是“{points}”。")
        points = 0
    if kind == "简答":
        if not isinstance(answer, str) or not answer.strip():
            bad("answer", "简答题缺少参考答案（answer）。")
        _check_rubric(rubric, points, bad)
    elif rubric:
        bad("rubric", "只有简答题需要评分要点（rubric）。")
    scoring = raw.get("scoring", "partial")
    if scoring not in POLICIES:
        bad("scoring", f"计分规则“{scoring}”无效。", SCORING_HINT)
    expl = raw.get("explanation")
    if kind in OBJECTIVE and (not isinstance(expl, str) or not expl.strip()):
        bad("explanation", "缺少解析（explanation）。", "说明为什么这样答，并注明出处。")
    elif expl is not None and not isinstance(expl, str):
        bad("explanation", "解析（explanation）应是一段文字。")
    sk = raw.get("skills")
    if not isinstance(sk, list) or not sk:
        bad("skills", "缺少知识点（skills）。", "从 exams/skills.yaml 中选 id，如 [governance]。")
        sk = []
    for s in sk:
        if not isinstance(s, str) or s not in skills:
            bad("skills", f"未知技能“{s}”。",
                "可用（exams/skills.yaml）：" + "、".join(f"{k}（{v}）" for k, v in skills.items()))
    level = raw.get("level")
    if level is None:
        bad("level", "缺少认知层次（level）。", "只能是 识记、理解、应用。")
    elif level not in LEVELS:
        bad("level", f"认知层次“{level}”无效。", "只能是 识记、理解、应用。")
    fac = raw.get("facility")
    if fac is None:
        bad("facility", "缺少预估得分率（facility）。", "写 0 与 1 之间的数，越大越容易，如 facility: 0.6。")
        fac = 0.5
    elif not isinstance(fac, (int, float)) or isinstance(fac, bool) or not 0 < fac < 1:
        bad("facility", f"预估得分率（facility）应在 0 与 1 之间，现在是“{fac}”。")
        fac = 0.5
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        bad("source", "缺少出处（source）。", "写明文件和条款，如《居民身份证法》（2011年修正）第五条。")
        source = ""
    elif any(LAW_RE.search(part) and not YEAR_RE.search(part) for part in re.split(r"[；;]", source)):
        bad("source", "引用了法规或文件但没有写版本或日期。",
            "在出处中写明版本，如“（2018年修正）”“（2021-11-01 施行）”。")
    elif LAW_RE.search(stem or "") and not YEAR_RE.search(source):
        bad("source", "题干引用了法规或文件，出处却没有写版本或日期。",
            "在出处写明所依据法规的版本，如“《居民身份证法》（2011年修正）第五条”。")
    if JWH_LAW in (stem or "") + (source or "") and not re.search(r"2018|2025", stem or ""):
        bad("stem", "涉及《城市居民委员会组织法》的题目没有在题干中写明考哪个版本。",
            "该法2025年修订、2026-01-01施行；在题干写“根据2018年修正的……”或“根据2025年修订的……”。")
    enemies = raw.get("enemies") or []
    if not isinstance(enemies, list) or not all(isinstance(e, str) and ID_RE.match(e) for e in enemies):
        bad("enemies", f"互斥题（enemies）应是题号列表，现在是“{enemies}”。",
            "写成 enemies: [dig-0013, svc-0006]：这些题与本题考同一事实或互相泄露答案，不会同卷出现。")
        enemies = []
    elif iid in enemies:
        bad("enemies", "互斥题（enemies）里写了本题自己。", "删除本题题号。")
    if len(problems) > n_before:
        return None
    if kind in ("单选", "多选"):
        answer = "".join(sorted(answer.strip()))
    return Item(id=iid, type=kind, stem=stem, answer=answer,
                explanation=expl or "", skills=list(sk), level=level, facility=float(fac),
                source=source, points=float(points), options=dict(options), scoring=scoring,
                rubric=list(rubric), enemies=list(dict.fromkeys(enemies)), file=rel, line=line)


def _check_options(options: Any, bad) -> dict[str, str]:
    if not isinstance(options, dict) or len(options) < 2:
        bad("options", "选择题至少要有两个选项（options）。", "写成 A: …  B: … 的形式。")
        return {}
    keys = [str(k) for k in options]
    if keys != list(LETTERS[:len(keys)]) or len(keys) > 6:
        bad("options", f"选项标号应依次为 A、B、C…（最多 F），现在是 {'、'.join(keys)}。")
    texts = [_norm(str(v)) for v in options.values()]
    if any(not t for t in texts):
        bad("options", "有空选项。")
    dups = {t for t in texts if texts.count(t) > 1 and t}
    if dups:
        bad("options", "选项重复：" + "、".join(sorted(dups)) + "。", "每个选项的内容应不同。")
    return {str(k): str(v) for k, v in options.items()}


def _check_choice_answer(kind: str, answer: Any, options: dict[str, str], bad) -> None:
    if isinstance(answer, list):
        bad("answer", "选择题答案应写成字母串，如 answer: ACD。")
        return
    if not isinstance(answer, str) or not answer.strip():
        bad("answer", "缺少答案（answer）。")
        return
    letters = answer.strip()
    if any(ch not in LETTERS for ch in letters):
        bad("answer", f"答案“{answer}”应只含大写字母 A–F。")
        return
    missing = [ch for ch in letters if options and ch not in options]
    if missing:
        bad("answer", f"答案 {''.join(missing)} 不在选项中（选项有 {'、'.join(options)}）。")
    if len(set(letters)) != len(letters):
        bad("answer", f"答案“{answer}”中有重复字母。")
    if kind == "单选" and len(letters) != 1:
        bad("answer", f"单选题只能有一个答案，现在是“{answer}”。", "多个正确选项请把题型改为 多选。")
    if kind == "多选" and len(set(letters)) < 2:
        bad("answer", "多选题至少要有两个正确选项。", "只有一个正确选项请改为 单选。")


def _check_fill(answer: Any, stem: str, bad) -> None:
    n = stem.count(BLANK)
    if n == 0:
        bad("stem", f"填空题的题干里没有空（{BLANK}）。", "在要填的位置写四个下划线 ____。")
    ok = (isinstance(answer, list) and answer and all(
        isinstance(v, list) and v and all(isinstance(x, (str, int, float)) and str(x).strip() for x in v)
        for v in answer))
    if not ok:
        bad("answer", "填空题答案应是列表，每个空一个子列表，列出可接受的写法。",
            '如 answer: [["一千户至三千户", "1000户至3000户"]]')
        return
    if n and len(answer) != n:
        bad("answer", f"题干有 {n} 个空，答案给了 {len(answer)} 组。",
            "每个空一个子列表：[[第1空的写法…], [第2空的写法…]]。")
    for v in (str(x) for b in answer for x in b):
        if re.search(r"[|｜；;]", v):
            bad("answer", f"可接受的写法“{v}”里有“|”或“；”。", "Excel 模板用“|”分隔写法、用“；”分隔空，请改写。")
        elif len(answer) > 1 and re.search(r"[，,、]", v):
            bad("answer", f"多个空的题，写法“{v}”里有分隔符（；，、），考生无法这样作答。",
                "作答时各空用“；”“，”“、”分隔，写法里不能含这些符号。")


def _check_rubric(rubric: Any, points: float, bad) -> None:
    if not isinstance(rubric, list) or not rubric:
        bad("rubric", "简答题缺少评分要点（rubric）。", "列出 - point: 要点  score: 分值")
        return
    total = 0.0
    for r in rubric:
        if not isinstance(r, dict) or not str(r.get("point", "")).strip() or \
                not isinstance(r.get("score"), (int, float)):
            bad("rubric", "评分要点每条要有 point（要点）和 score（分值）。")
            return
        total += r["score"]
    if points and abs(total - points) > 1e-9:
        bad("rubric", f"评分要点分值合计 {total:g}，与题目分值 {points:g} 不一致。")


def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKC", s)
    return re.sub(r"[\s\W_]+", "", s).casefold()


def _grams(s: str) -> set[str]:
    s = _norm(s)
    return {s[i:i + 3] for i in range(max(1, len(s) - 2))}


def check_bank(items: list[Item], problems: list[Problem]) -> None:
    """Checks across files: duplicate ids and near-duplicate stems."""
    seen: dict[str, Item] = {}
    for it in items:
        if it.id in seen:
            first = seen[it.id]
            problems.append(Problem(it.file, it.line, f"题号重复（{where(first)} 已用过）。",
                                    "给其中一题换一个未用过的题号。", it.id, "id"))
        else:
            seen[it.id] = it
    for it in items:
        for e in it.enemies:
            if e not in seen:
                problems.append(Problem(it.file, it.line, f"互斥题 {e} 不在题库中。",
                                        "改成已有的题号，或删除它。", it.id, "enemies"))
    # near-duplicates via a trigram index: scales to thousands of items
    grams = [_grams(it.stem + "".join(it.options.values())) for it in items]
    index: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(grams):
        for x in g:
            index[x].append(i)
    for i, g in enumerate(grams):
        shared: dict[int, int] = defaultdict(int)
        for x in g:
            posting = index[x]
            if len(posting) > 200:  # too common to tell items apart
                continue
            for j in posting:
                if j > i:
                    shared[j] += 1
        for j, n in shared.items():
            jac = n / len(g | grams[j])
            if jac >= NEAR_DUP:
                a, b = items[i], items[j]
                problems.append(Problem(b.file, b.line,
                                        f"题干与 {a.id}（{where(a)}）几乎相同（相似度 {jac:.0%}）。",
                                        "删除其中一题，或改写成考不同的知识点。", b.id, "stem"))


def where(it: Item) -> str:
    """`file:line`; items read from an import sheet carry their row instead of a file."""
    return f"{it.file}:{it.line}" if it.file else f"表格第 {it.line} 行"


def check_prefix_unique(data: Any, rel: str, seen: dict[str, str], problems: list[Problem]) -> None:
    """One prefix, one file: the import finds a new item's file by its prefix."""
    prefix = data.get("prefix") if isinstance(data, dict) else None
    if not isinstance(prefix, str):
        return
    if prefix in seen:
        problems.append(Problem(rel, 1, f"题号前缀 {prefix} 已被 {seen[prefix]} 使用。",
                                "每个主题文件用自己的前缀。", field="prefix"))
    else:
        seen[prefix] = rel
