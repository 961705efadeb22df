"""The manifest: for each assignment, what every graded cell is (bank item, option order,
key, skills, points, 解析). Written beside the nbgrader source under grading/manifests/,
never released; grading, feedback and the results table read it.

The one schema (`paper.build` and `exercise.manifest` write it):
  assignment, kind ("exam" | "exercise"), paper, round, date, form, title, max_score, cells[]
  cells[]: cell, item, type, points, skills, level; exams also key, perm, scoring, stem,
  options, explanation, source (简答: answer, rubric); exercises grade_ids.
"""
from __future__ import annotations

import json
from pathlib import Path

from .. import paths

EXAM, EXERCISE = "exam", "exercise"


def is_exam(manifest: dict | None) -> bool:
    """The one rule: an assignment is an exam when its manifest says so (a manifest without
    a kind is an exam: it is never executed)."""
    return manifest is not None and manifest.get("kind", EXAM) == EXAM


def marked_exam(nb) -> bool:
    """The exam marker `paper.build` puts in a source notebook's metadata (used when nbgrader
    generates the release, before any manifest is read)."""
    return nb.metadata.get("shequ", {}).get("kind") == EXAM


def manifest_dir(root: Path | None = None) -> Path:
    return (root or paths.GRADING) / "manifests"


def write_manifest(manifest: dict, out_root: Path | None = None) -> Path:
    d = manifest_dir(out_root)
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"{manifest['assignment']}.json"
    p.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                 encoding="utf-8")
    return p


def load_manifest(assignment: str, root: Path | None = None) -> dict | None:
    p = manifest_dir(root) / f"{assignment}.json"
    if not p.exists():
        return None
    return json.loads(p.read_text(encoding="utf-8"))


def load_all(root: Path | None = None) -> dict[str, dict]:
    """Every manifest of a course, by assignment name."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(manifest_dir(root).glob("*.json"))}
