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
from ..errors import ShequError

EXAM, EXERCISE = "exam", "exercise"


class ManifestError(ShequError):
    """An exam whose manifest is missing or unreadable: it is not graded (and never executed)."""


def manifest_is_exam(manifest: dict | None) -> bool:
    """What a manifest says (one without a kind is an exam)."""
    return manifest is not None and manifest.get("kind", EXAM) == EXAM


def marked_exam(nb) -> bool:
    """The exam marker `paper.build` puts in a source notebook's metadata."""
    meta = nb.get("metadata", {}) if isinstance(nb, dict) else nb.metadata
    return (meta.get("shequ") or {}).get("kind") == EXAM


def source_is_exam(source_notebook: Path) -> bool:
    """Whether a trainer-side source notebook carries the exam marker (False when it is not
    there or cannot be read: then its manifest decides alone)."""
    try:
        return marked_exam(json.loads(Path(source_notebook).read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError):
        return False


def files_say_exam(assignment: str, root: Path | None = None, source_dir: Path | None = None) -> bool:
    """What the trainer's files say: the source notebook (grading/source/<a>/<a>.ipynb) carries
    the exam marker, or the manifest says exam. One part of the rule `grading.gradebook.is_exam`,
    which also asks the gradebook; never the submitted file, which the worker can edit."""
    src = Path(source_dir) if source_dir else (root or paths.GRADING) / "source"
    if source_is_exam(src / assignment / f"{assignment}.ipynb"):
        return True
    p = manifest_dir(root) / f"{assignment}.json"
    if not p.exists():
        return False
    try:
        return manifest_is_exam(json.loads(p.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return True  # an unreadable manifest: treat as an exam, so it is refused, never executed


def exam_manifest(assignment: str, root: Path | None = None) -> dict:
    """The manifest of an exam; ManifestError (Chinese, with the fix) when it is missing or
    cannot be read: the exam is then not graded at all."""
    p = manifest_dir(root) / f"{assignment}.json"
    fix = f"重新运行 shequ paper build 生成 grading/manifests/{assignment}.json，再评分"
    try:
        m = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"试卷 {assignment} 的清单不见了（{p}）：没有评分，也没有运行任何作答。{fix}。") from None
    except (OSError, ValueError) as e:
        raise ManifestError(f"试卷 {assignment} 的清单无法读取（{p}：{type(e).__name__}）：没有评分，也没有运行任何作答。"
                            f"{fix}。") from None
    if not isinstance(m, dict) or not isinstance(m.get("cells"), list):
        raise ManifestError(f"试卷 {assignment} 的清单格式不对（{p}）：没有评分，也没有运行任何作答。{fix}。")
    return m


def manifest_dir(root: Path | None = None) -> Path:
    return (root or paths.GRADING) / "manifests"


def write_manifest(manifest: dict, out_root: Path | None = None) -> Path:
    d = manifest_dir(out_root)
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"{manifest['assignment']}.json"
    p.write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                 encoding="utf-8")
    return p


def load_all(root: Path | None = None) -> dict[str, dict]:
    """Every manifest of a course, by assignment name."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(manifest_dir(root).glob("*.json"))}
