"""The tidy results table: one row per graded cell, rebuilt from the nbgrader gradebook.

worker × assessment × round × item × score × max × skills, joined with the roster
(街道, 社区, 岗位). `nbgrader export` has totals only, so this reads the gradebook's tables.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from . import paths

COLUMNS = ["worker_id", "assessment", "kind", "paper", "round", "date", "form", "cell",
           "item", "type", "level", "skills", "score", "max_score", "street", "community",
           "role"]
# Chinese headers for Excel/CSV exports meant for people
ZH = {"worker_id": "工号", "name": "姓名", "assessment": "测评", "kind": "类别", "paper": "试卷",
      "round": "轮次", "date": "日期", "form": "卷别", "cell": "单元格", "item": "题号", "type": "题型",
      "level": "认知层次", "skills": "知识点", "score": "得分", "max_score": "满分",
      "street": "街道", "community": "社区", "role": "岗位"}

GRADES_SQL = """
SELECT st.id AS worker_id, a.name AS assessment, n.name AS notebook, bc.name AS cell,
       g.auto_score, g.manual_score, g.extra_credit, gc.max_score
FROM grade g
JOIN grade_cells gc ON g.cell_id = gc.id
JOIN base_cell bc ON bc.id = gc.id
JOIN submitted_notebook sn ON g.notebook_id = sn.id
JOIN submitted_assignment sa ON sn.assignment_id = sa.id
JOIN student st ON sa.student_id = st.id
JOIN assignment a ON sa.assignment_id = a.id
JOIN notebook n ON sn.notebook_id = n.id
"""


def read_grades(db_url: str) -> pd.DataFrame:
    """Every grade in the gradebook with its cell and worker (scores may be None)."""
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as con:
            df = pd.read_sql(sa.text(GRADES_SQL), con)
    finally:
        engine.dispose()
    return df


def manifests(root: Path | None = None) -> dict[str, dict]:
    d = (root or paths.GRADING) / "manifests"
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(d.glob("*.json"))}


def build(db_url: str, roster: pd.DataFrame, manifest_map: dict[str, dict]) -> pd.DataFrame:
    """The results table from gradebook grades, paper/exercise manifests and the roster."""
    g = read_grades(db_url)
    # a manual score, once given, overrides the automatic one (nbgrader's own rule)
    g["score"] = g["manual_score"].where(g["manual_score"].notna(), g["auto_score"])
    g["score"] = g["score"] + g["extra_credit"].fillna(0)
    rows = []
    for m_name, m in manifest_map.items():
        cells = {}
        for c in m["cells"]:
            # exams grade in `qNN-test` (objective) or `qNN` (简答); exercises name their cells
            for gid in c.get("grade_ids") or (f"{c['cell']}-test", c["cell"]):
                cells[gid] = c
        sub = g[g["assessment"] == m_name]
        for r in sub.itertuples(index=False):
            c = cells.get(r.cell)
            if c is None:
                continue
            rows.append({
                "worker_id": r.worker_id, "assessment": m_name, "kind": m.get("kind", "exam"),
                "paper": m.get("paper", m_name), "round": m.get("round", ""), "date": m.get("date", ""),
                "form": m.get("form", ""), "cell": c["cell"], "item": c["item"], "type": c["type"],
                "level": c.get("level", ""), "skills": ";".join(c["skills"]),
                "score": r.score, "max_score": float(r.max_score),
            })
    df = pd.DataFrame(rows, columns=[c for c in COLUMNS if c not in ("street", "community", "role")])
    ros = roster[["worker_id", "street", "community", "role"]]
    df = df.merge(ros, on="worker_id", how="left")
    df = df.sort_values(["assessment", "worker_id", "cell"], kind="stable").reset_index(drop=True)
    return df[COLUMNS]


def by_skill(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (graded cell, skill): an item with two skills counts for both."""
    out = df.assign(skill=df["skills"].str.split(";")).explode("skill")
    return out.drop(columns=["skills"])


def default_path() -> Path:
    env = os.environ.get("SHEQU_RESULTS")
    return Path(env) if env else paths.BUILD / "results" / "results.csv"


def load(path: str | Path | None = None) -> pd.DataFrame:
    p = Path(path) if path else default_path()
    if not p.exists():
        raise FileNotFoundError(f"找不到结果表 {p}：先运行 `make demo`（或 `shequ results build`）。")
    return pd.read_csv(p, dtype={"worker_id": str, "round": str, "date": str, "form": str},
                       keep_default_na=False, na_values={"score": [""]})


def save(df: pd.DataFrame, path: Path | None = None) -> Path:
    p = path or default_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(p, index=False, encoding="utf-8", lineterminator="\n")
    return p


def export_csv_excel(df: pd.DataFrame, path: Path) -> Path:
    """CSV with Chinese headers and a BOM, so Excel on Chinese Windows opens it correctly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.rename(columns=ZH).to_csv(path, index=False, encoding="utf-8-sig")
    return path
