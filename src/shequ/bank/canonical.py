"""Bank files as text: the one canonical YAML writer and reader.

Canonical form of a bank file: the leading comment block, then topic, prefix, items; item
keys in ITEM_KEYS order; block style, except skills and 填空 answers in flow style; text
without surrounding white space; a blank line between items. Export then import gives the
same bytes, because both sides go through `render`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..sheets import write_atomic

ITEM_KEYS = ("id", "type", "stem", "options", "answer", "scoring", "rubric", "explanation",
             "skills", "level", "facility", "source", "points", "enemies")


@dataclass
class BankFile:
    name: str          # file name in the bank folder, e.g. selfgov.yaml
    topic: str
    prefix: str
    header: str = ""   # the leading comment block, without "# "
    items: list[dict] = field(default_factory=list)


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)  # indent lists under their key


class _Flow(list):
    pass


class _Quoted(str):
    pass


_STR = "tag:yaml.org,2002:str"
_Dumper.add_representer(str, lambda d, s: d.represent_scalar(_STR, s, style="|" if "\n" in s else None))
_Dumper.add_representer(_Quoted, lambda d, s: d.represent_scalar(_STR, str(s), style='"'))
_Dumper.add_representer(_Flow, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def _text(v: Any) -> str:
    return str(v).strip()


def _num(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def canonical_item(raw: dict) -> dict:
    """One item in canonical key order and value form (same meaning as `raw`)."""
    out: dict[str, Any] = {}
    for k in list(ITEM_KEYS) + [k for k in raw if k not in ITEM_KEYS]:
        if k not in raw or (k in ("options", "rubric", "enemies") and not raw[k]):
            continue
        if k == "scoring" and raw[k] == "partial":  # the default goes unsaid
            continue
        out[k] = _canon_value(k, raw[k], raw.get("type"))
    return out


def _canon_value(k: str, v: Any, kind: Any) -> Any:
    if k == "answer" and kind == "多选" and isinstance(v, str):
        return "".join(sorted(v.strip()))
    if isinstance(v, str):
        return v.strip()
    if k == "options" and isinstance(v, dict):
        return {str(o): _text(t) for o, t in v.items()}
    if k in ("skills", "enemies") and isinstance(v, list):
        return _Flow(v)
    if k == "answer" and isinstance(v, list):
        return _Flow(_Flow(_Quoted(_text(x)) for x in b) if isinstance(b, list) else b for b in v)
    if k == "rubric" and isinstance(v, list):
        return [_canon_rubric(r) for r in v]
    if k in ("points", "facility"):
        return _num(v)
    return v


def _canon_rubric(r: Any) -> Any:
    if not isinstance(r, dict):
        return r
    out = {"point": _text(r.get("point", "")), "score": _num(r.get("score"))}
    return out | {k: v for k, v in r.items() if k not in out}


def render(bf: BankFile) -> str:
    """The canonical text of a bank file."""
    head = "".join(("# " + line).rstrip() + "\n" for line in bf.header.splitlines())
    doc = {"topic": bf.topic, "prefix": bf.prefix, "items": [canonical_item(it) for it in bf.items]}
    body = yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1 << 30,
                     default_flow_style=False)
    body = body.replace("\n  - id: ", "\n\n  - id: ").replace("items:\n\n", "items:\n", 1)
    return head + body


def read_file(path: Path) -> BankFile:
    """A bank file that parses (run the check first); keeps its leading comments."""
    text = path.read_bytes().decode("utf-8-sig")
    header = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        header.append(re.sub(r"^# ?", "", line))
    from .load import LOADER

    data = yaml.load(text, Loader=LOADER) or {}
    return BankFile(path.name, str(data.get("topic", "")), str(data.get("prefix", "")),
                    "\n".join(header), list(data.get("items") or []))


def read_bank(bank_dir: Path) -> dict[str, BankFile]:
    return {p.name: read_file(p) for p in sorted(bank_dir.glob("*.yaml"))}


def format_bank(bank_dir: Path) -> list[str]:
    """Rewrite every file of a (checked) bank in canonical form; returns the files changed."""
    changed = []
    for name, bf in read_bank(bank_dir).items():
        path = bank_dir / name
        text = render(bf)
        if path.read_bytes() != text.encode("utf-8"):
            write_atomic(path, text)
            changed.append(name)
    return changed
