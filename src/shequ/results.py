"""The tidy results table: one row per graded cell, rebuilt from the nbgrader gradebook.

worker × assessment × round × item × score × max × skills, joined with the roster
(街道, 社区, 岗位). `nbgrader export` has totals only, so this reads the gradebook's tables.
Objective exam items also carry the worker's raw typed `answer` (read from the autograded
notebook) and the option permutation `perm` of the form, so a chosen displayed letter can
be traced back to the bank option (distractor analysis across forms, see itemstats).

Exports (`shequ results build`): results.csv (this table, UTF-8, English headers: what
`load` reads), results.parquet (same, typed) and results-excel.csv (UTF-8 with BOM, Chinese
headers: Excel on Chinese Windows opens it). Rebuilding from the same gradebook gives
byte-identical files. This module is upstream of the analytics and never imports them.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from . import paths
from .exam.manifest import manifest_is_exam
from .grading.gradebook import final_score, read_grades
from .grading.literal import INVALID, literal_answer

COLUMNS = ["worker_id", "assessment", "kind", "paper", "round", "date", "form", "cell",
           "item", "type", "level", "skills", "score", "max_score", "street", "community",
           "role"]
# optional columns: filled by `build` from the autograded notebooks and the manifests
OPTIONAL = ["answer", "perm"]
# string columns with few distinct values: categorical in memory (a 3.6 M-row table stays small)
CATEGORICAL = ["worker_id", "assessment", "kind", "paper", "round", "date", "form", "cell",
               "item", "type", "level", "skills", "street", "community", "role", "answer", "perm"]
OBJECTIVE = ("单选", "多选", "判断", "填空")
# Chinese headers for Excel/CSV exports meant for people
ZH = {"worker_id": "工号", "name": "姓名", "assessment": "测评", "kind": "类别", "paper": "试卷",
      "round": "轮次", "date": "日期", "form": "卷别", "cell": "单元格", "item": "题号", "type": "题型",
      "level": "认知层次", "skills": "知识点", "score": "得分", "max_score": "满分",
      "street": "街道", "community": "社区", "role": "岗位", "answer": "作答原文",
      "perm": "选项顺序"}


def _answer_text(source: str, name: str) -> str:
    """The raw typed answer: the string assigned in the answer cell ('' when blank); a cell
    that is not a literal assignment keeps its source (it scores 0, and reads as unreadable)."""
    value = literal_answer(source, name)
    if value is INVALID:
        return source
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def read_answers(autograded: Path, manifest_map: dict[str, dict]) -> dict[tuple[str, str, str], str]:
    """{(worker, assessment, cell): raw typed answer} for the objective items of every exam,
    from grading/autograded/<worker>/<assignment>/<assignment>.ipynb. An answer cell is the
    nbgrader solution cell whose grade_id is the manifest's cell name."""
    out: dict[tuple[str, str, str], str] = {}
    for name, m in manifest_map.items():
        if not manifest_is_exam(m):
            continue
        wanted = {c["cell"] for c in m["cells"] if c["type"] in OBJECTIVE}
        for nb_path in sorted(Path(autograded).glob(f"*/{name}/{name}.ipynb")):
            worker = nb_path.parent.parent.name
            try:
                nb = json.loads(nb_path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                continue
            for cell in nb.get("cells", []):
                meta = cell.get("metadata", {}).get("nbgrader", {})
                gid = meta.get("grade_id")
                if cell.get("cell_type") == "code" and meta.get("solution") and gid in wanted:
                    src = cell.get("source", "")
                    src = "".join(src) if isinstance(src, list) else src
                    out.setdefault((worker, name, gid), _answer_text(src, gid))
    return out


def build(db_url: str, roster: pd.DataFrame, manifest_map: dict[str, dict],
          autograded: Path | None = None) -> pd.DataFrame:
    """The results table from gradebook grades, paper/exercise manifests and the roster.

    `answer` is read from the autograded notebooks under `autograded` (default
    grading/autograded); it is '' where there is none (a blank, 简答, an exercise)."""
    g = read_grades(db_url)
    g["score"] = final_score(g)
    autograded = Path(autograded) if autograded else paths.GRADING / "autograded"
    answers = read_answers(autograded, manifest_map) if autograded.exists() else {}
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
                "worker_id": r.worker_id, "assessment": m_name, "kind": "exam" if manifest_is_exam(m) else m["kind"],
                "paper": m.get("paper", m_name), "round": m.get("round", ""), "date": m.get("date", ""),
                "form": m.get("form", ""), "cell": c["cell"], "item": c.get("item", c["cell"]),
                "type": c.get("type", ""), "level": c.get("level", ""),
                "skills": ";".join(c.get("skills", [])),
                "score": r.score, "max_score": float(r.max_score),
                "answer": answers.get((r.worker_id, m_name, c["cell"]), ""),
                "perm": c.get("perm", "") or "",
            })
    base = [c for c in COLUMNS if c not in ("street", "community", "role")] + OPTIONAL
    df = pd.DataFrame(rows, columns=base)
    ros = roster[["worker_id", "street", "community", "role"]]
    df = df.merge(ros, on="worker_id", how="left")
    # an item graded in two cells (an exercise cell with two grade ids) is one row per grade
    df = df.sort_values(["assessment", "worker_id", "cell"], kind="stable").reset_index(drop=True)
    return df[COLUMNS + OPTIONAL]


def by_skill(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (graded cell, skill): an item with two skills counts for both.
    (Row-level; the analytics aggregate first and split skills on the few distinct
    skill strings instead, see analytics.skill_table.)"""
    out = df.assign(skill=df["skills"].astype(str).str.split(";")).explode("skill")
    return out.drop(columns=["skills"])


def default_path() -> Path:
    env = os.environ.get("SHEQU_RESULTS")
    return Path(env) if env else paths.BUILD / "results" / "results.csv"


def categorise(df: pd.DataFrame) -> pd.DataFrame:
    """Low-cardinality text columns as categoricals, scores as floats (in place, returned)."""
    for c in CATEGORICAL:
        if c in df.columns and not isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].fillna("").astype(str).astype("category")
    for c in ("score", "max_score"):
        if c in df.columns:
            df[c] = df[c].astype("float64")
    return df


_loaded: dict[tuple, pd.DataFrame] = {}


def load(path: str | Path | None = None, street: str | None = None,
         columns: list[str] | None = None, cache: bool = False) -> pd.DataFrame:
    """The results table (CSV or parquet), text columns as categoricals. `street` keeps only
    that 街道's rows (on parquet without `cache`, only those rows are read). With `cache`
    the whole table is kept in memory for the next call on the same unchanged file (one
    kernel rendering several reports reads it once); treat the result as read-only."""
    p = Path(path) if path else default_path()
    if not p.exists():
        raise FileNotFoundError(f"找不到结果表 {p}：先运行 `make demo`（或 `shequ results build`）。")
    if cache:
        st = p.stat()
        key = (str(p.resolve()), st.st_mtime_ns, st.st_size, tuple(columns or ()))
        if key not in _loaded:
            _loaded.clear()
            _loaded[key] = load(p, columns=columns)
        df = _loaded[key]
        if street is None:
            return df
        return df[(df["street"] == street).to_numpy()].reset_index(drop=True)
    if p.suffix == ".parquet":
        import pyarrow.parquet as pq

        filters = [("street", "==", street)] if street is not None else None
        df = pq.read_table(p, columns=columns, filters=filters).to_pandas()
    elif p.suffix in (".feather", ".arrow"):
        df = pd.read_feather(p, columns=columns)
        if street is not None:
            df = df[(df["street"] == street).to_numpy()].reset_index(drop=True)
    else:
        dtype = {c: str for c in CATEGORICAL}
        df = pd.read_csv(p, dtype=dtype, keep_default_na=False, na_values={"score": [""]},
                         usecols=columns)
        if street is not None:
            df = df[df["street"] == street].reset_index(drop=True)
    return categorise(df)


def save(df: pd.DataFrame, path: Path | None = None) -> Path:
    """The results table as CSV (UTF-8, English headers: the file `load` reads)."""
    p = path or default_path()
    p.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(p, index=False, encoding="utf-8", lineterminator="\n")
    return p


def save_parquet(df: pd.DataFrame, path: Path) -> Path:
    """The results table as parquet (categoricals kept; one row group per ~256k rows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = df if all(isinstance(df[c].dtype, pd.CategoricalDtype) for c in CATEGORICAL if c in df.columns) \
        else categorise(df.copy())
    out.to_parquet(path, index=False, engine="pyarrow", compression="zstd", row_group_size=262_144)
    return path


def save_feather(df: pd.DataFrame, path: Path) -> Path:
    """The table as Arrow IPC (fast to write and read back: the report hands it to its
    notebook kernels this way)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    out = df if all(isinstance(df[c].dtype, pd.CategoricalDtype) for c in CATEGORICAL if c in df.columns) \
        else categorise(df.copy())
    out.reset_index(drop=True).to_feather(path)
    return path


def export_csv_excel(df: pd.DataFrame, path: Path) -> Path:
    """CSV with Chinese headers and a BOM, so Excel on Chinese Windows opens it correctly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    df.rename(columns=ZH).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return path


def export_all(df: pd.DataFrame, out_dir: Path) -> dict[str, Path]:
    """results.csv, results.parquet and results-excel.csv (BOM, Chinese headers: the
    row-level table for Excel) in `out_dir`. The trainers' workbook of views (results.xlsx)
    is written by the report step, which computes the views once (`report.render`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        "csv": save(df, out_dir / "results.csv"),
        "parquet": save_parquet(df, out_dir / "results.parquet"),
        "excel_csv": export_csv_excel(df, out_dir / "results-excel.csv"),
    }


def rebuild(db_url: str, roster: pd.DataFrame, manifest_map: dict[str, dict], autograded: Path,
            out_dir: Path) -> tuple[pd.DataFrame, dict[str, Path]]:
    """Gradebook → results table → its exports (csv, parquet, Excel csv). What `shequ results
    build` and `shequ demo` both run; idempotent."""
    table = build(db_url, roster, manifest_map, autograded=autograded)
    return table, export_all(table, out_dir)
