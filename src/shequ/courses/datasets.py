"""Paths to the committed synthetic datasets (lessons and tests read them through here)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from .. import paths

# 监测时间点 of the synthetic website snapshot (datasets/site/): the audit lessons check as of it
SITE_SNAPSHOT_DATE = date(2026, 3, 16)


def path(name: str) -> Path:
    """Path of a file under datasets/, e.g. path("staff.csv")."""
    p = paths.DATASETS / name
    if not p.exists():
        raise FileNotFoundError(f"数据文件不存在：{p}（先运行 `shequ data generate`）")
    return p
