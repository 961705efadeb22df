"""Where things live in the project tree (one place, so nothing hard-codes paths)."""
from __future__ import annotations

import os
from pathlib import Path

# src/shequ/paths.py -> project root; SHEQU_ROOT lets tests work on a copy.
ROOT = Path(os.environ.get("SHEQU_ROOT") or Path(__file__).resolve().parents[2])
DATASETS = ROOT / "datasets"
EXAMS = ROOT / "exams"
BANK = EXAMS / "bank"
PAPERS = EXAMS / "papers"
SKILLS = EXAMS / "skills.yaml"
COURSES = ROOT / "courses"
# SHEQU_GRADING lets a test grade in a scratch course folder
GRADING = Path(os.environ.get("SHEQU_GRADING") or ROOT / "grading")
ANALYTICS = ROOT / "analytics"
BUILD = ROOT / "build"
# JupyterHub page overrides (c.JupyterHub.template_paths): shipped with the package, not ROOT
HUB_TEMPLATES = Path(__file__).resolve().parent / "hub" / "templates"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite database URL (the gradebook's); None for any other database.
    Here, not in grading.gradebook, because the light sandbox module needs it too."""
    return Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None
