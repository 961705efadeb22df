"""Submissions collected offline (USB stick, WeChat group, e-mail): `shequ submissions import`.

Takes a folder or a .zip of notebooks whose file names carry the worker id (`w0012.ipynb`,
`w0012_basics-r1.ipynb`, `20240001-练习一.ipynb`) and files each one where nbgrader collects
submissions: `grading/submitted/<worker>/<assignment>/<assignment>.ipynb` + `timestamp.txt`.
Reports unknown workers, non-notebook files and duplicates: the latest copy (file mtime, or
the date stored in the zip) wins; the older one is kept under `grading/submitted-superseded/`.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat
from nbformat.v4.rwbase import rejoin_lines

from ..errors import ShequError
from . import gradebook, roster
from .course import course_root, nbgrader

MAX_NOTEBOOK_BYTES = 50 * 2**20  # a larger "notebook" is not a worker's answer (or a zip bomb)
TS_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"


class SubmissionError(ShequError):
    """The path cannot be imported at all (missing, not a folder or zip)."""


@dataclass
class Incoming:
    name: str          # as shown to the trainer (path inside the folder or zip)
    data: bytes        # b"" when the file is larger than MAX_NOTEBOOK_BYTES (not read)
    when: float        # seconds since the epoch (mtime, or the zip entry's date)
    size: int = 0      # bytes, as stored


@dataclass
class ImportReport:
    imported: dict[str, str] = field(default_factory=dict)     # worker -> file name
    superseded: list[str] = field(default_factory=list)        # Chinese sentences
    unknown: list[str] = field(default_factory=list)           # file names with no known worker id
    not_notebooks: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)           # Chinese sentences (wrong assignment, too big…)
    warnings: list[str] = field(default_factory=list)


def _zip_name(info: zipfile.ZipInfo) -> str:
    """Zips made on Chinese Windows store GBK names without the UTF-8 flag."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def read_files(path: Path) -> list[Incoming]:
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"找不到 {path}")
    out = []
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file():
                st = p.stat()
                data = p.read_bytes() if st.st_size <= MAX_NOTEBOOK_BYTES else b""
                out.append(Incoming(str(p.relative_to(path)), data, st.st_mtime, st.st_size))
        return out
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if info.is_dir():
                    continue
                data = z.read(info) if info.file_size <= MAX_NOTEBOOK_BYTES else b""
                out.append(Incoming(_zip_name(info), data, time.mktime(info.date_time + (0, 0, -1)), info.file_size))
        return out
    raise SubmissionError(f"{path.name} 既不是文件夹也不是 zip 压缩包")


def worker_of(file_name: str, known: set[str]) -> str | None:
    """The worker id a file name starts with: the longest known id followed by a separator."""
    stem = PurePosixPath(file_name.replace("\\", "/")).name
    stem = stem[: -len(".ipynb")] if stem.lower().endswith(".ipynb") else stem
    best = None
    for wid in known:
        if stem == wid or (stem.startswith(wid) and not stem[len(wid)].isalnum()):
            if best is None or len(wid) > len(best):
                best = wid
    return best


def _id_token(file_name: str) -> str:
    stem = PurePosixPath(file_name.replace("\\", "/")).name.rsplit(".", 1)[0]
    m = re.match(r"[A-Za-z0-9]+", stem)
    return m.group(0) if m else stem


def known_workers(db_url: str | None = None) -> set[str]:
    """The gradebook's students (after `shequ roster sync`); else the roster file's ids."""
    return gradebook.student_ids(db_url) or roster.known_ids()


def _timestamp(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.timezone.utc).strftime(TS_FORMAT)


def _read_ts(p: Path) -> float | None:
    try:
        text = p.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    from dateutil import parser

    try:
        t = parser.parse(text)
    except (ValueError, OverflowError):
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.timestamp()


def import_(assignment: str, path: Path | str, known: set[str] | None = None,
            root: Path | None = None, assignments: set[str] | None = None) -> ImportReport:
    """File every notebook under grading/submitted/; see the module docstring."""
    root = Path(root or course_root())
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", assignment):
        raise SubmissionError(f"作业名 {assignment!r} 只能由字母、数字和 - _ . 组成")
    known = known if known is not None else known_workers()
    if assignments is None:
        assignments = {p.name for p in (root / "source").iterdir()} if (root / "source").is_dir() else set()
    if assignment not in assignments:
        raise SubmissionError(f"没有作业 {assignment}（grading/source/{assignment}/ 不存在）。现有作业："
                           + ("、".join(sorted(assignments)) or "无"))
    rep = ImportReport()
    by_worker: dict[str, list[Incoming]] = {}
    for f in read_files(Path(path)):
        base = PurePosixPath(f.name.replace("\\", "/")).name
        if base.startswith(".") or "__MACOSX" in f.name:
            continue  # Finder/Explorer litter, not something a worker handed in
        if not base.lower().endswith(".ipynb"):
            rep.not_notebooks.append(f.name)
            continue
        if f.size > MAX_NOTEBOOK_BYTES:
            rep.skipped.append(f"{f.name}：文件超过 {MAX_NOTEBOOK_BYTES // 2**20} MB（{f.size / 2**20:.0f} MB），"
                               "不是作答笔记本，未导入")
            continue
        if not f.data.strip():
            rep.skipped.append(f"{f.name}：文件是空的（0 字节），未导入")
            continue
        wid = worker_of(f.name, known)
        if wid is None:
            rep.unknown.append(f"{f.name}（工号 {_id_token(f.name)} 不在花名册中）")
            continue
        rest = base[len(wid):-len(".ipynb")]
        other = [a for a in assignments if a != assignment and a in rest and assignment not in rest]
        if other:
            rep.skipped.append(f"{f.name}：文件名表明是作业 {other[0]}，不是 {assignment}，未导入")
            continue
        by_worker.setdefault(wid, []).append(f)
    aside = root / "submitted-superseded"
    for wid, files in sorted(by_worker.items()):
        files.sort(key=lambda f: (f.when, f.name))
        dest = root / "submitted" / wid / assignment
        nb_path = dest / f"{assignment}.ipynb"
        # a file that is not a notebook (a .docx renamed .ipynb …) never displaces a valid one
        why = {id(f): parse_notebook(f.data)[1] for f in files}
        valid = [f for f in files if not why[id(f)]]
        have_valid = nb_path.exists() and read_submission(nb_path)[0] is not None
        if len(valid) < len(files) and (valid or have_valid):
            for f in files:
                if why[id(f)]:
                    keep = _aside(aside, wid, assignment, f)
                    rep.warnings.append(f"{wid}：{f.name} {why[id(f)]}，没有替换有效的笔记本，已放到 "
                                        f"{keep.relative_to(root)}")
            files = valid
            if not files:
                continue
        latest = files[-1]
        existing_when = _read_ts(dest / "timestamp.txt") if nb_path.exists() else None
        older = files[:-1]
        if existing_when is not None:
            if existing_when > latest.when:  # what is already there is newer: the incoming is kept aside
                older = files
                latest = None
            else:
                stamp = dt.datetime.fromtimestamp(existing_when, dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
                keep = aside / wid / assignment / f"{stamp}-已导入的旧版本.ipynb"
                keep.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(nb_path, keep)
                rep.superseded.append(f"{wid}：grading/submitted 中原有的版本（{_local(existing_when)}）"
                                      f"较旧，已移到 {keep.relative_to(root)}")
        for f in older:
            keep = _aside(aside, wid, assignment, f)
            newer = "成绩目录中已有的版本" if latest is None else latest.name
            rep.superseded.append(f"{wid}：{f.name}（{_local(f.when)}）比 {newer} 旧，已放到 "
                                  f"{keep.relative_to(root)}")
        if latest is None:
            continue
        dest.mkdir(parents=True, exist_ok=True)
        nb_path.write_bytes(latest.data)
        (dest / "timestamp.txt").write_text(_timestamp(latest.when), encoding="utf-8")
        rep.imported[wid] = latest.name
        if why[id(latest)]:
            rep.warnings.append(f"{wid}：{latest.name} {why[id(latest)]}，评分时会报告")
    return rep


def _aside(aside: Path, wid: str, assignment: str, f: Incoming) -> Path:
    """Keep an incoming file under grading/submitted-superseded/<worker>/<assignment>/."""
    stamp = dt.datetime.fromtimestamp(f.when, dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    keep = aside / wid / assignment / f"{stamp}-{_safe(PurePosixPath(f.name.replace(chr(92), '/')).name)}"
    keep.parent.mkdir(parents=True, exist_ok=True)
    keep.write_bytes(f.data)
    return keep


def _local(when: float) -> str:
    return dt.datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M")


def _safe(name: str) -> str:
    return re.sub(r"[^\w.\-]", "_", name)


def collect(assignment: str) -> None:
    """Submissions made through the JupyterLab assignment list: exchange → grading/submitted."""
    nbgrader("collect", assignment, "--update")


def read_submission(path: Path) -> tuple[object | None, str]:
    """A submitted notebook, or None and the reason in Chinese."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return None, "没有找到作答文件"
    return parse_notebook(raw)


def parse_notebook(raw: bytes) -> tuple[object | None, str]:
    """Bytes as a version-4 notebook (an nbformat 3 notebook is upgraded, as nbgrader does),
    or None and the reason in Chinese."""
    if not raw.strip():
        return None, "文件是空的（0 字节或只有空白）"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        return None, f"文件不是有效的笔记本（JSON 无法解析：{type(e).__name__}）"
    if isinstance(data, dict) and data.get("nbformat") == 3 and isinstance(data.get("worksheets"), list):
        try:
            data = json.loads(nbformat.writes(nbformat.reads(raw.decode("utf-8"), as_version=4)))
        except Exception:  # noqa: BLE001 - any broken old notebook
            return None, "文件是旧版（nbformat 3）笔记本，但结构损坏，无法转换"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return None, "文件不是 Jupyter 笔记本（缺少 cells）"
    try:
        return rejoin_lines(nbformat.from_dict(data)), ""
    except (AttributeError, TypeError, KeyError):
        return None, "文件不是 Jupyter 笔记本（单元格结构损坏）"


def source_text(source) -> str:
    """A cell's source as one stripped string (nbformat stores it as a string or a list of lines)."""
    return ("".join(source) if isinstance(source, list) else str(source)).strip()
