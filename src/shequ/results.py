"""The tidy results table: one row per graded cell, rebuilt from the nbgrader gradebook.

worker × assessment × round × item × score × max × skills, joined with the roster
(街道, 社区, 岗位). `nbgrader export` has totals only, so this reads the gradebook's tables.
Objective exam items also carry the worker's raw typed `answer` (read from the autograded
notebook) and the option permutation `perm` of the form, so a chosen displayed letter can
be traced back to the bank option (distractor analysis across forms, see itemstats).

Exports (`shequ results build`): results.csv (this table, UTF-8, English headers: what
`load` reads), results.parquet (same, typed), results-excel.csv (UTF-8 with BOM, Chinese
headers: Excel on Chinese Windows opens it) and results.xlsx (Chinese headers, one sheet
per view). Rebuilding from the same gradebook gives byte-identical files.
"""
from __future__ import annotations

import io
import json
import os
import re
import zipfile
from pathlib import Path

import pandas as pd

from . import paths

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
EXCEL_MAX_ROWS = 1_048_575  # one header row + this many rows per sheet

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
    import sqlalchemy as sa

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


def _answer_text(source: str, name: str) -> str:
    """The raw typed answer: the string assigned in the answer cell ('' when blank); a cell
    that is not a literal assignment keeps its source (it scores 0, and reads as unreadable)."""
    from .grading import INVALID, literal_answer

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
        if m.get("kind", "exam") != "exam":
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
    # a manual score, once given, overrides the automatic one (nbgrader's own rule)
    g["score"] = g["manual_score"].where(g["manual_score"].notna(), g["auto_score"])
    g["score"] = g["score"] + g["extra_credit"].fillna(0)
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
                "worker_id": r.worker_id, "assessment": m_name, "kind": m.get("kind", "exam"),
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


# ---- xlsx ---------------------------------------------------------------------------------

_FIXED_TIME = "2026-01-01T00:00:00Z"


def _cell_value(v):
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "item"):  # numpy scalars
        v = v.item()
    if isinstance(v, float):
        return round(v, 4)
    if isinstance(v, (list, tuple, set)):
        return "、".join(map(str, v))
    return v


def write_xlsx(sheets: dict[str, pd.DataFrame | str], path: Path, notes: dict[str, str] | None = None) -> Path:
    """One sheet per view (Chinese sheet names and headers; a str sheet is a note). Bytes
    are reproducible: fixed document dates and zip timestamps."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EDF2F7")
    for name, df in sheets.items():
        ws = wb.create_sheet(re.sub(r"[\[\]:*?/\\]", "_", name)[:31])
        note = (notes or {}).get(name)
        if note:
            c = WriteOnlyCell(ws, value=note)
            c.font = Font(italic=True, color="555555")
            ws.append([c])
        if isinstance(df, str):
            for line in df.splitlines():
                ws.append([line])
            continue
        d = df.reset_index() if not isinstance(df.index, pd.RangeIndex) else df
        if len(d) > EXCEL_MAX_ROWS:
            ws.append([f"共 {len(d)} 行，超过 Excel 单表上限：请用 CSV 或 parquet 文件。"])
            continue
        for i, col in enumerate(d.columns):
            width = max(8, min(40, 2 * len(str(col)) + 2))
            ws.column_dimensions[_col_letter(i)].width = width
        header = []
        for col in d.columns:
            c = WriteOnlyCell(ws, value=str(col))
            c.font, c.fill = bold, fill
            c.alignment = Alignment(horizontal="center")
            header.append(c)
        ws.append(header)
        for row in d.itertuples(index=False, name=None):
            ws.append([_cell_value(v) for v in row])
    wb.properties.creator = "shequ"
    buf = io.BytesIO()
    wb.save(buf)
    _reproducible_zip(buf.getvalue(), path)
    return path


def _col_letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


def _reproducible_zip(data: bytes, path: Path) -> None:
    """Rewrite an xlsx (a zip) with fixed entry times and document dates."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                                 rb"\g<1>" + _FIXED_TIME.encode() + rb"\g<3>", content)
            zi = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            z.writestr(zi, content)
    path.write_bytes(out.getvalue())


def export_all(df: pd.DataFrame, out_dir: Path, sheets: dict[str, pd.DataFrame | str] | None = None,
               notes: dict[str, str] | None = None) -> dict[str, Path]:
    """results.csv, results.parquet, results-excel.csv (BOM, Chinese headers: the row-level
    table for Excel) and results.xlsx (one sheet per view, Chinese headers) in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return {
        "csv": save(df, out_dir / "results.csv"),
        "parquet": save_parquet(df, out_dir / "results.parquet"),
        "excel_csv": export_csv_excel(df, out_dir / "results-excel.csv"),
        "xlsx": write_xlsx(sheets or {"说明": "没有可汇总的考试成绩。"}, out_dir / "results.xlsx", notes),
    }


def rebuild(db_url: str, roster: pd.DataFrame, manifest_map: dict[str, dict], autograded: Path,
            out_dir: Path) -> tuple[pd.DataFrame, dict[str, Path]]:
    """Gradebook → results table → every export (csv, parquet, Excel csv, xlsx workbook).
    What `shequ results build` and `shequ demo` both run; idempotent."""
    from . import analytics  # analytics builds on this module

    table = build(db_url, roster, manifest_map, autograded=autograded)
    files = export_all(table, out_dir, analytics.workbook(categorise(table.copy()), roster))
    return table, files


def load_roster(path: str | Path | None = None) -> pd.DataFrame | None:
    """The roster (datasets/staff.csv by default); None when the file is missing."""
    p = Path(path) if path else paths.DATASETS / "staff.csv"
    if not p.is_file():
        return None
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    return df if len(df) else None
