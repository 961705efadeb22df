"""The one spreadsheet reader and writer: CSV as Excel and WPS save it (UTF-8 with or without
BOM, UTF-16, GBK), .xlsx in and out, and atomic writes (never half a file).

Everything a trainer hands in (roster, bank template) is read by `read_rows`; every workbook
the suite writes (bank template, bank statistics, results and report workbooks) by
`write_xlsx`, whose bytes depend only on the content (fixed dates and zip times).
"""
from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ShequError

EXCEL_MAX_ROWS = 1_048_575  # one header row + this many rows per sheet
_FIXED_TIME = "2026-01-01T00:00:00Z"


class SheetError(ShequError):
    """A file that cannot be read as a table at all."""


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write via a temp file in the same folder and os.replace: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def decode(raw: bytes) -> tuple[str, str]:
    """(text, encoding label) of a CSV from Excel/WPS: BOM'd UTF-8 or UTF-16, plain UTF-8, or
    GBK (read as GB 18030, its superset: what Chinese Windows writes)."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8", errors="replace"), "UTF-8（带 BOM）"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "UTF-16"
    for enc, label in (("utf-8", "UTF-8"), ("gb18030", "GBK")):
        try:
            return raw.decode(enc), label
        except UnicodeDecodeError:
            pass
    raise SheetError("文件的编码无法识别（不是 UTF-8，也不是 GBK）。请在 Excel 中“另存为 → CSV UTF-8”，或另存为 .xlsx。")


def read_rows(path: Path, sheet: str | None = None) -> tuple[dict[str, list[list]], str]:
    """Every sheet of a .xlsx (values as Excel stores them), or the one table of a CSV (as
    text), as ({sheet name: rows}, encoding label). A CSV's one sheet is named "".
    `sheet` picks the first sheet to list (xlsx: the named one when present, else the first)."""
    path = Path(path)
    if not path.is_file():
        raise SheetError(f"找不到文件：{path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises many kinds on a file that is not xlsx
            raise SheetError(f"无法打开 Excel 文件 {path.name}（{type(e).__name__}）：请确认是 .xlsx 格式，"
                             "旧的 .xls 请在 Excel 中另存为 .xlsx。") from None
        names = list(wb.sheetnames)
        if sheet in names:
            names.remove(sheet)
            names.insert(0, sheet)
        out = {n: [list(r) for r in wb[n].iter_rows(values_only=True)] for n in names}
        wb.close()
        return out, "xlsx"
    if suffix not in (".csv", ".txt", ".tsv"):
        old = "（旧版 Excel 格式）" if suffix == ".xls" else ""
        raise SheetError(f"不支持的文件类型“{path.suffix}”{old}：请用 .xlsx 或 .csv（旧的 .xls 请在 Excel/WPS 中另存为 .xlsx）。")
    text, label = decode(path.read_bytes())
    # the delimiter is the one the header row uses most (cells below may hold Chinese commas)
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    delim = max(",\t;，", key=header.count) if any(d in header for d in ",\t;，") else ","
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delim)]
    except csv.Error as e:
        raise SheetError(f"CSV 文件格式有误：{e}") from None
    return {"": rows}, label


def cell_str(v: Any) -> str:
    """A cell as plain text: whole numbers without “.0” (an id typed as a number stays an id)."""
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# ---- writing ------------------------------------------------------------------------------

MAX_WIDTH = 60        # widest fitted column (characters); longer text wraps or is cut off
WIDTH_SAMPLE = 200    # data rows looked at when fitting a column's width
# the HTML heatmap's colours (report.html._color): low red, middle yellow, high green
SCALE_COLORS = ("D73027", "FEE08B", "1A9850")


@dataclass
class Sheet:
    """One sheet: a header and rows, or a DataFrame, or a text (one line per row).

    A table gets a frozen header row (below the note, when there is one), an autofilter over
    header and data, and columns as wide as their header and first values (Chinese characters
    count double)."""
    name: str
    rows: Any                                   # list of lists (header first) | DataFrame | str
    note: str = ""                              # an italic line above the table
    widths: dict[str, float] = field(default_factory=dict)   # column header -> width (else fitted)
    wrap: bool = False                          # wrap text in data cells (long 题干)
    choices: dict[str, str] = field(default_factory=dict)    # column header -> "a,b,c" drop-down
    freeze: str | None = None                   # e.g. "B2"; None: below the header; "": nothing frozen
    freeze_cols: int = 0                        # with freeze=None: also keep this many columns in view
    autofilter: bool = True                     # filter buttons on the header row
    scales: list[str] = field(default_factory=list)          # column headers with a red→green scale
    scale_range: tuple[float, float] = (0.0, 100.0)          # values at full red and full green


def _value(v):
    """A cell value openpyxl can store: None for missing (None, NaN, NaT, pd.NA), plain Python
    numbers rounded to 4 places, lists joined with 、."""
    if v is None or type(v).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(v, "item"):  # numpy scalars
        v = v.item()
    if isinstance(v, float):
        return None if v != v else round(v, 4) + 0.0  # NaN is not itself; + 0.0 turns -0.0 into 0
    if isinstance(v, (list, tuple, set)):
        return "、".join(map(str, v))
    return v


def _table(rows) -> tuple[list[str], list] | None:
    if isinstance(rows, str):
        return None
    if hasattr(rows, "itertuples"):
        import pandas as pd

        d = rows.reset_index() if not isinstance(rows.index, pd.RangeIndex) else rows
        return [str(c) for c in d.columns], d.itertuples(index=False, name=None)
    rows = list(rows)
    return ([str(c) for c in rows[0]] if rows else []), rows[1:]


def text_width(v: Any) -> int:
    """Display width of a cell's text: East Asian wide and full-width characters count 2
    (a column of Chinese text needs about twice the characters' count)."""
    if v is None:
        return 0
    if isinstance(v, float):
        v = round(v, 4)
    return max(sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)
               for line in str(v).split("\n"))


def fit_widths(header: list[str], sample: list[list], fixed: dict[str, float] | None = None,
               cap: float = MAX_WIDTH) -> list[float]:
    """Column widths fitting the header (plus room for the filter button) and the sampled
    values, between 8 and `cap`; `fixed` widths win."""
    fixed = fixed or {}
    out = []
    for i, col in enumerate(header):
        if col in fixed:
            out.append(fixed[col])
            continue
        w = max([text_width(col) + 4] + [text_width(_value(r[i])) + 2 for r in sample if i < len(r)])
        out.append(float(max(8, min(cap, w))))
    return out


def write_xlsx(path: Path, sheets: list[Sheet]) -> Path:
    """Write a workbook (write-only mode: fast for big sheets); bold, shaded header row,
    frozen and filtered (see `Sheet`), optional colour scales. Text starting with “=” stays
    text, never a formula. Bytes depend only on the content."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.formatting.rule import ColorScaleRule
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook(write_only=True)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="EDF2F7")
    wrap = Alignment(wrap_text=True, vertical="top")
    for sh in sheets:
        ws = wb.create_sheet(re.sub(r"[\[\]:*?/\\]", "_", sh.name)[:31])
        table = _table(sh.rows)
        top = 1 + bool(sh.note)          # the header's row
        if table is not None and sh.freeze is None:
            ws.freeze_panes = f"{get_column_letter(sh.freeze_cols + 1)}{top + 1}"
        elif table is not None and sh.freeze:
            ws.freeze_panes = sh.freeze
        note = []
        if sh.note:
            c = WriteOnlyCell(ws, value=sh.note)
            c.font = Font(italic=True, color="555555")
            note = [c]
        if table is None:
            ws.column_dimensions["A"].width = 110
            if note:
                ws.append(note)
            for line in sh.rows.splitlines():
                ws.append([line])
            continue
        header, body = table
        if hasattr(sh.rows, "__len__") and len(sh.rows) > EXCEL_MAX_ROWS:
            if note:
                ws.append(note)
            ws.append([f"共 {len(sh.rows)} 行，超过 Excel 单表上限：请用 CSV 或 parquet 文件。"])
            continue
        # write-only mode writes widths and panes with the first row (the note's too): size first
        body = iter(body)
        sample = [list(r) for _, r in zip(range(WIDTH_SAMPLE), body)]
        for i, w in enumerate(fit_widths(header, sample, sh.widths)):
            ws.column_dimensions[get_column_letter(i + 1)].width = w
        if note:
            ws.append(note)
        first = top + 1
        for col, values in sh.choices.items():
            if col in header:
                letter = get_column_letter(header.index(col) + 1)
                dv = DataValidation(type="list", formula1=f'"{values}"', allow_blank=True)
                dv.add(f"{letter}{first}:{letter}5000")
                ws.data_validations.append(dv)
        cells = []
        for col in header:
            c = WriteOnlyCell(ws, value=col)
            c.font, c.fill = bold, fill
            c.alignment = Alignment(horizontal="center")
            cells.append(c)
        ws.append(cells)
        n = 0
        for row in itertools.chain(sample, body):
            n += 1
            out = []
            for v in row:
                v = _value(v)
                if (isinstance(v, str) and v.startswith("=")) or (sh.wrap and v is not None):
                    c = WriteOnlyCell(ws, value=v)
                    if isinstance(v, str) and v.startswith("="):
                        c.data_type = "s"  # text, not a formula
                    if sh.wrap:
                        c.alignment = wrap
                    v = c
                out.append(v)
            ws.append(out)
        last = get_column_letter(max(len(header), 1))
        if sh.autofilter and header:
            ws.auto_filter.ref = f"A{top}:{last}{top + n}"
        lo, hi = sh.scale_range
        for col in sh.scales:
            if col in header and n:
                letter = get_column_letter(header.index(col) + 1)
                ws.conditional_formatting.add(f"{letter}{first}:{letter}{top + n}", ColorScaleRule(
                    start_type="num", start_value=lo, start_color=SCALE_COLORS[0],
                    mid_type="num", mid_value=(lo + hi) / 2, mid_color=SCALE_COLORS[1],
                    end_type="num", end_value=hi, end_color=SCALE_COLORS[2]))
    wb.properties.creator = "shequ"
    buf = io.BytesIO()
    wb.save(buf)
    write_atomic(path, _reproducible_zip(buf.getvalue()))
    return path


def _reproducible_zip(data: bytes) -> bytes:
    """An xlsx (a zip) with fixed entry times and document dates."""
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
    return out.getvalue()
