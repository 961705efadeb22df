"""Exam papers: pick items to a blueprint, shuffle parallel forms, write nbgrader sources.

Each form becomes its own nbgrader assignment (`<paper>-<round>[-<form>]`) whose source
notebook holds the keys only in hidden tests; a manifest beside (never inside) the
source maps every graded cell back to its bank item, option permutation, skills, points.
"""
from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import yaml

from .. import bank as bankmod
from .. import paths
from ..bank import LEVELS, Item
from ..errors import ShequError
from . import cells as cellfmt
from .manifest import write_manifest

FORM_NAMES = string.ascii_uppercase


class PaperError(ShequError):
    """A blueprint the bank cannot satisfy, or a malformed blueprint."""


@dataclass
class Section:
    type: str
    count: int
    points: float | None = None  # None: each item's own points


@dataclass
class Blueprint:
    name: str
    title: str
    sections: list[Section]
    grid: dict[str, dict[str, int]]
    target_facility: float | None
    time_limit: int
    pass_mark: float
    seed: int
    rounds: list[dict[str, str]] = field(default_factory=list)
    scoring: str | None = None
    source: str = ""
    forms: int = 1
    anchors: int = 0   # items every later round repeats from the baseline (the rest are new)


def load_blueprint(name: str, papers_dir: Path | None = None) -> Blueprint:
    path = (papers_dir or paths.PAPERS) / f"{name}.yaml"
    if not path.exists():
        raise PaperError(f"找不到试卷蓝图 {path}。可用：" +
                         "、".join(p.stem for p in sorted(path.parent.glob("*.yaml"))))
    try:
        d = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise PaperError(f"{path}: YAML 格式错误：{e}") from None
    try:
        sections = [Section(s["type"], int(s["count"]), s.get("points")) for s in d["sections"]]
        return Blueprint(
            name=name, title=d["title"], sections=sections, grid=d.get("blueprint") or {},
            target_facility=d.get("target_facility"), time_limit=int(d.get("time_limit_minutes", 60)),
            pass_mark=float(d.get("pass_mark", 60)), seed=int(d.get("seed", 1)),
            rounds=d.get("rounds") or [], scoring=d.get("scoring"), source=str(path),
            forms=int(d.get("forms", 1)), anchors=int(d.get("anchors", 0) or 0))
    except (KeyError, TypeError, ValueError) as e:
        raise PaperError(f"{path}: 蓝图缺少或写错字段：{e}。参照 exams/papers/ 中的示例。") from None


def select(bp: Blueprint, items: list[Item], fixed: list[Item] | None = None,
           exclude: set[str] | None = None, seed: str | int | None = None) -> list[Item]:
    """Pick items meeting the section counts and the skill x level grid; seeded. `fixed`
    items are on the paper already (a later round's anchors) and count toward both;
    `exclude` ids are never picked (the baseline's other items)."""
    rng = random.Random(bp.seed if seed is None else seed)
    pool = sorted((it for it in items if it.id not in (exclude or set())), key=lambda it: it.id)
    rng.shuffle(pool)
    need_type = {s.type: s.count for s in bp.sections}
    chosen: list[Item] = []
    used: set[str] = set()   # chosen, and the enemies of what is chosen (bank `enemies`)
    missing = []

    def take(it: Item) -> None:
        chosen.append(it)
        used.add(it.id)
        used.update(it.enemies)
        need_type[it.type] -= 1

    for it in fixed or []:
        take(it)
    for skill in sorted(bp.grid):
        for level in LEVELS:
            n = int(bp.grid[skill].get(level, 0) or 0)
            n -= sum(1 for it in fixed or [] if it.skills[0] == skill and it.level == level)
            cands = [it for it in pool if it.skills[0] == skill and it.level == level
                     and it.type in need_type and it.id not in used]
            got = 0
            while got < n:
                open_types = [t for t, k in need_type.items() if k > 0]
                # prefer the section with the most places left, so types stay balanced
                cands_ok = [it for it in cands if it.id not in used and it.type in open_types]
                if not cands_ok:
                    break
                cands_ok.sort(key=lambda it: -need_type[it.type])
                take(cands_ok[0])
                got += 1
            if got < n:
                missing.append(f"{skill} × {level}：需要 {n} 题，题库只能提供 {got} 题")
    if missing:
        raise PaperError("题库无法满足双向细目表：\n  " + "\n  ".join(missing) +
                         "\n  请补充题目，或在蓝图中减少这些格子的题数。")
    for t, k in need_type.items():
        if k <= 0:
            continue
        for it in pool:
            if need_type[t] > 0 and it.type == t and it.id not in used:
                take(it)
        if need_type[t] > 0:
            raise PaperError(f"题库中的{t}题不够：还需要 {k} 题，只有 {k - need_type[t]} 题可用"
                             "（已选题目的互斥题不能再选）。")
    if bp.target_facility is not None:
        chosen = _tune_facility(chosen, pool, bp.target_facility, locked={it.id for it in fixed or []})
    order = {s.type: i for i, s in enumerate(bp.sections)}
    return sorted(chosen, key=lambda it: (order[it.type], it.id))


def round_items(bp: Blueprint, items: list[Item], round_label: str | None) -> list[Item]:
    """The items of one round: the baseline's selection for the first round (and for a
    blueprint without `anchors`); for a later round, `anchors` of the baseline's items
    (the same ones every round, spread over the sections) and new items for the rest."""
    base = select(bp, items)
    labels = [str(r.get("label")) for r in bp.rounds]
    if not bp.anchors or round_label is None or not labels or str(round_label) == labels[0]:
        return base
    if bp.anchors >= len(base):
        raise PaperError(f"{bp.source}: anchors（{bp.anchors}）必须少于试卷题数（{len(base)}）。")
    anchors = anchor_items(bp, base)
    keep = {it.id for it in anchors}
    k = labels.index(str(round_label)) if str(round_label) in labels else len(labels)
    seen = {it.id for it in base} - keep     # every earlier round's other items stay off
    for j in range(1, k + 1):
        chosen = select(bp, items, fixed=anchors, exclude=seen, seed=f"{bp.seed}-round-{j}")
        seen |= {it.id for it in chosen} - keep
    return chosen


def anchor_items(bp: Blueprint, base: list[Item]) -> list[Item]:
    """`bp.anchors` of the baseline's items, each section in proportion to its size."""
    rng = random.Random(f"{bp.seed}-anchors")
    by_type: dict[str, list[Item]] = {}
    for it in base:
        by_type.setdefault(it.type, []).append(it)
    share = {t: round(bp.anchors * len(v) / len(base)) for t, v in by_type.items()}
    while sum(share.values()) > bp.anchors:
        share[max(share, key=share.get)] -= 1
    while sum(share.values()) < bp.anchors:
        share[max(by_type, key=lambda t: len(by_type[t]) - share[t])] += 1
    out = []
    for t, v in by_type.items():
        v = sorted(v, key=lambda it: it.id)
        rng.shuffle(v)
        out += v[:share[t]]
    return out


def _tune_facility(chosen, pool, target, rounds=200, locked: set[str] | None = None):
    """Swap like for like (same type, skill, level) to bring mean facility to target, never
    bringing in an item that is, or is an enemy of, one already chosen, and never swapping
    out a `locked` one (an anchor)."""
    chosen = list(chosen)
    locked = locked or set()

    def mean(xs):
        return sum(x.facility for x in xs) / len(xs)

    for _ in range(rounds):
        gap = mean(chosen) - target
        if abs(gap) < 0.01:
            break
        best = None
        for i, it in enumerate(chosen):
            if it.id in locked:
                continue
            others = {e for j, c in enumerate(chosen) if j != i for e in (c.id, *c.enemies)}
            for alt in pool:
                if alt.id == it.id or alt.type != it.type or alt.skills[0] != it.skills[0] \
                        or alt.level != it.level or alt.id in others or set(alt.enemies) & others:
                    continue
                new_gap = gap + (alt.facility - it.facility) / len(chosen)
                if abs(new_gap) < abs(gap) and (best is None or abs(new_gap) < best[0]):
                    best = (abs(new_gap), i, alt)
        if best is None:
            break
        _, i, alt = best
        chosen[i] = alt
    return chosen


def assignment_name(paper: str, round_label: str | None, form: int, forms: int) -> str:
    name = paper if not round_label else f"{paper}-{round_label}"
    return f"{name}-{FORM_NAMES[form].lower()}" if forms > 1 else name


def _form_layout(items: list[Item], bp: Blueprint, rng: random.Random, shuffle: bool):
    """Question order (shuffled within each section) and option permutations."""
    out = []
    for s in bp.sections:
        sec = [it for it in items if it.type == s.type]
        if shuffle:
            rng.shuffle(sec)
        for it in sec:
            letters = list(it.options)
            if shuffle and it.type in ("单选", "多选"):
                rng.shuffle(letters)
            # perm[k] = original letter shown at display position k
            out.append((it, "".join(letters), s.points))
    return out


def _display_key(it: Item, perm: str) -> Any:
    if it.type in ("单选", "多选"):
        shown = {orig: string.ascii_uppercase[k] for k, orig in enumerate(perm)}
        return "".join(sorted(shown[ch] for ch in it.answer))
    return it.answer


def build(name: str, round_label: str | None = None, forms: int | None = None,
          bank_items: list[Item] | None = None, out_root: Path | None = None,
          papers_dir: Path | None = None) -> list[dict]:
    """Write the nbgrader source notebook and manifest of every form; returns manifests."""
    bp = load_blueprint(name, papers_dir)
    items = bank_items if bank_items is not None else bankmod.load_ok()
    chosen = round_items(bp, items, round_label)
    forms = forms or bp.forms
    out_root = out_root or paths.GRADING
    date = next((r.get("date", "") for r in bp.rounds if r.get("label") == round_label), "")
    manifests = []
    for f in range(forms):
        # form A keeps bank order in round-less builds; every other form is shuffled
        rng = random.Random(f"{bp.seed}-{round_label}-{f}")
        layout = _form_layout(chosen, bp, rng, shuffle=forms > 1 or f > 0)
        aname = assignment_name(name, round_label, f, forms)
        cells = []
        for q, (it, perm, sec_points) in enumerate(layout, start=1):
            pts = float(sec_points if sec_points is not None else it.points)
            cell = {
                "cell": f"q{q:02d}", "item": it.id, "type": it.type, "points": pts,
                "skills": it.skills, "level": it.level, "facility": it.facility,
                "perm": perm, "key": _display_key(it, perm),
                "scoring": bp.scoring or it.scoring,
                # for feedback and the grader's view only: the manifest is never released
                "explanation": it.explanation, "source": it.source, "stem": it.stem,
                "options": [it.options[orig] for orig in perm],
            }
            if it.type == "简答":
                cell.update(answer=it.answer, rubric=it.rubric)
            cells.append(cell)
        manifest = {
            "assignment": aname, "kind": "exam", "paper": name, "title": bp.title,
            "round": round_label or "", "date": date, "form": FORM_NAMES[f],
            "forms": forms, "time_limit": bp.time_limit, "pass_mark": bp.pass_mark,
            "max_score": sum(c["points"] for c in cells), "cells": cells,
        }
        nb = notebook(bp, manifest, {it.id: it for it in chosen})
        src = out_root / "source" / aname
        src.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(src / f"{aname}.ipynb"))
        write_manifest(manifest, out_root)
        manifests.append(manifest)
    return manifests


def assign_forms(workers: list[dict], forms: int) -> dict[str, int]:
    """Reproducible form per worker: alternating A, B, … within each 社区 by worker id,
    so neighbours at one table hold different forms and every 社区 gets a balanced mix."""
    out: dict[str, int] = {}
    by_com: dict[str, list[str]] = {}
    for w in workers:
        by_com.setdefault(w["community"], []).append(w["worker_id"])
    for ids in by_com.values():
        for k, wid in enumerate(sorted(ids)):
            out[wid] = k % forms
    return out


# ---- notebook ---------------------------------------------------------------------------


def _stem_md(q: int, it: Item, perm: str, points: float) -> str:
    head = f"**第 {q} 题**（{it.type}，{points:g} 分）\n\n{it.stem}"
    if it.type in ("单选", "多选"):
        opts = "\n".join(f"- **{string.ascii_uppercase[k]}.** {it.options[orig]}"
                         for k, orig in enumerate(perm))
        head += "\n\n" + opts
    return head


def notebook(bp: Blueprint, manifest: dict, items: dict[str, Item]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "shequ": {"kind": "exam", "paper": manifest["paper"], "form": manifest["form"]},
    }
    form = f"（{manifest['form']}卷）" if manifest["forms"] > 1 else ""
    pass_score = manifest["max_score"] * bp.pass_mark / 100
    header = (f"# {bp.title}{form}\n\n"
              f"考试时间 {bp.time_limit} 分钟，满分 {manifest['max_score']:g} 分，"
              f"{pass_score:g} 分（{bp.pass_mark:g}%）及格。共 {len(manifest['cells'])} 题。\n\n{cellfmt.HOW_TO}")
    cells = [cellfmt.markdown(header, "header", cellfmt.nbg(cellfmt.EXAM_MARK, locked=True))]
    for c in manifest["cells"]:
        q = int(c["cell"][1:])
        it = items[c["item"]]
        qid = c["cell"]
        cells.append(cellfmt.markdown(_stem_md(q, it, c["perm"], c["points"]), f"{qid}-stem",
                         cellfmt.nbg(f"{qid}-stem", locked=True)))
        if it.type == "简答":
            cells.append(cellfmt.essay_cell(qid, it.answer, c["points"]))
            continue
        cells.append(cellfmt.answer_cell(qid, it.key_text()))
        cells.append(cellfmt.test_cell(qid, it.type, c["key"], c["points"], c["scoring"]))
    names = [c["cell"] for c in manifest["cells"] if c["type"] != "简答"]
    cells.append(cellfmt.code(
        "# 交卷前运行本单元格：列出还没有作答的题目\n"
        f"_题目 = {names!r}\n"
        "_未答 = [q for q in _题目 if not str(globals().get(q, '')).strip()]\n"
        "print('尚未作答：' + '、'.join(_未答) if _未答 else '客观题已全部作答。')",
        "check-blank", cellfmt.nbg("check-blank", locked=True)))
    nb.cells = cells
    return nb
