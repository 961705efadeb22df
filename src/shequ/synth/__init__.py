"""Everything made up, build-time only: the district and roster, the residents registry,
the website snapshot and network records, and the simulation of answers (simulate, trial).

One registry of generators: `files()` is every generated file under datasets/ (including the
generated section of datasets/README.md), `write()` writes them, `stale()` lists what
differs from the generators (the data-drift check). Lessons and `shequ.courses` /
`shequ.site` never import this package.
"""
from __future__ import annotations

from pathlib import Path

from .. import paths

BEGIN = "<!-- 以下由 shequ.synth 生成（shequ data generate），请勿手工修改 -->"
END = "<!-- 生成部分结束 -->"


def generators() -> dict:
    """{name: function returning {path under datasets/: text or bytes}}."""
    from . import district, residents, site

    return {"district": district.district_files, "residents": residents.files, "site": site.files}


def readme(current: str) -> str:
    """datasets/README.md with its generated section (the residents data dictionary) renewed."""
    from .residents import dictionary_markdown

    if BEGIN not in current or END not in current:
        raise ValueError("datasets/README.md 缺少生成部分的标记行")
    head, rest = current.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{dictionary_markdown()}{END}{tail}"


def files(root: Path | None = None) -> dict[str, str | bytes]:
    """Every generated file, {path relative to datasets/: content}."""
    root = root or paths.DATASETS
    out: dict[str, str | bytes] = {}
    for gen in generators().values():
        out.update(gen())
    out["README.md"] = readme((root / "README.md").read_text(encoding="utf-8"))
    return out


def _bytes(content: str | bytes) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


def write(root: Path | None = None, generated: dict | None = None) -> list[Path]:
    """Write the generated files under datasets/ (or root); returns their paths."""
    root = root or paths.DATASETS
    written = []
    for rel, content in (generated if generated is not None else files(root)).items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        data = _bytes(content)
        if not p.exists() or p.read_bytes() != data:
            p.write_bytes(data)
        written.append(p)
    return written


def stale(root: Path | None = None) -> list[str]:
    """Generated files that are missing or differ from what the generators make."""
    root = root or paths.DATASETS
    return [rel for rel, content in files(root).items()
            if not (root / rel).exists() or (root / rel).read_bytes() != _bytes(content)]
