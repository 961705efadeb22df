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
