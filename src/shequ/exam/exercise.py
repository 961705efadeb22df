"""Course exercises → nbgrader sources: `shequ course build [COURSE]`.

Each graded exercise `courses/<course>/exercises/NN-name.ipynb` becomes the nbgrader
assignment `<prefix>-NN-name` (prefix = initials of the course folder: info-collection →
ic, site-maintenance → sm): the notebook is copied byte for byte to
`grading/source/<assignment>/<assignment>.ipynb`, the data files its metadata lists under
`shequ.files` (paths inside `datasets/`) are copied beside it under their bare file name, and
a manifest `grading/manifests/<assignment>.json` maps every graded test cell to its skills,
so exercise scores reach the results table (`results.build`) the way exam items do.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from .. import paths
from ..errors import ShequError
from .manifest import EXERCISE, write_manifest


class CourseError(ShequError):
    """An exercise that breaks the course conventions (courses/README.md)."""


def courses() -> list[str]:
    """Course folders (those with an exercises/ folder)."""
    return sorted(p.name for p in paths.COURSES.iterdir() if (p / "exercises").is_dir())


def prefix(course: str) -> str:
    """Assignment-name prefix of a course: the initials of its folder name."""
    return "".join(part[0] for part in course.split("-") if part)


def exercises(course: str | None = None) -> list[tuple[str, Path]]:
    """(assignment name, exercise notebook) of every exercise, of one course or all."""
    names = [course] if course else courses()
    out = []
    for name in names:
        d = paths.COURSES / name / "exercises"
        if not d.is_dir():
            raise CourseError(f"找不到课程 {name}（courses/{name}/exercises/ 不存在）。可用：" + "、".join(courses()))
        for nb in sorted(d.glob("[0-9][0-9]-*.ipynb")):
            out.append((f"{prefix(name)}-{nb.stem}", nb))
    return out


def _skill_ids() -> set[str]:
    data = yaml.safe_load(paths.SKILLS.read_text(encoding="utf-8"))
    return {s["id"] for s in data["skills"]}


def manifest(assignment: str, nb_path: Path, course: str, skill_ids: set[str] | None = None) -> dict:
    """The exercise's manifest (the format `results.build` reads); raises CourseError."""
    rel = nb_path.relative_to(paths.ROOT) if nb_path.is_relative_to(paths.ROOT) else nb_path
    try:
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CourseError(f"{rel}: 不是有效的笔记本（{e}）") from None
    meta = nb.get("metadata", {}).get("shequ")
    if not isinstance(meta, dict):
        raise CourseError(f"{rel}: 缺少笔记本元数据 metadata.shequ（title、skills、files），见 courses/README.md")
    skills = meta.get("skills") or {}
    known = skill_ids if skill_ids is not None else _skill_ids()
    cells = []
    for c in nb.get("cells", []):
        g = c.get("metadata", {}).get("nbgrader", {})
        if not (g.get("grade") and not g.get("solution")):
            continue
        gid = g["grade_id"]
        if gid not in skills:
            raise CourseError(f"{rel}: 测试单元格 {gid} 没有在 metadata.shequ.skills 中标注技能")
        unknown = [s for s in skills[gid] if s not in known]
        if unknown:
            raise CourseError(f"{rel}: {gid} 的技能 {unknown} 不在 exams/skills.yaml 中")
        cells.append({"cell": gid, "item": f"{assignment}/{gid}", "type": "练习", "level": "应用",
                      "skills": list(skills[gid]), "points": float(g.get("points", 0)),
                      "grade_ids": [gid]})
    if not cells:
        raise CourseError(f"{rel}: 没有评分的测试单元格（nbgrader “Autograder tests”）")
    extra = set(skills) - {c["cell"] for c in cells}
    if extra:
        raise CourseError(f"{rel}: metadata.shequ.skills 中的 {sorted(extra)} 不是测试单元格")
    return {"assignment": assignment, "kind": EXERCISE, "paper": assignment, "round": "", "date": "",
            "form": "", "title": meta.get("title", assignment), "course": course,
            "max_score": sum(c["points"] for c in cells), "cells": cells}


def build(course: str | None = None, out_root: Path | None = None) -> list[dict]:
    """Write the nbgrader source folder and manifest of every exercise; returns manifests."""
    out_root = out_root or paths.GRADING
    skill_ids = _skill_ids()
    todo = []
    for assignment, nb_path in exercises(course):
        c = nb_path.parent.parent.name
        m = manifest(assignment, nb_path, c, skill_ids)
        files = json.loads(nb_path.read_text(encoding="utf-8"))["metadata"]["shequ"].get("files", [])
        missing = [f for f in files if not (paths.DATASETS / f).is_file()]
        if missing:
            raise CourseError(f"{nb_path.name}: metadata.shequ.files 中的 {missing} 不在 datasets/ 中")
        names = [Path(f).name for f in files]
        if len(set(names)) != len(names) or f"{assignment}.ipynb" in names:
            raise CourseError(f"{nb_path.name}: metadata.shequ.files 中有同名文件：{files}")
        todo.append((assignment, nb_path, files, m))
    # check everything before writing anything
    for assignment, nb_path, files, m in todo:
        src = out_root / "source" / assignment
        shutil.rmtree(src, ignore_errors=True)  # generated: rebuilt whole
        src.mkdir(parents=True)
        shutil.copyfile(nb_path, src / f"{assignment}.ipynb")
        for f in files:
            shutil.copyfile(paths.DATASETS / f, src / Path(f).name)
        write_manifest(m, out_root)
    return [m for *_, m in todo]
