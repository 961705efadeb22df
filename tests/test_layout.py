"""The package's stated import rules (CONTRIBUTING.md), read from the source: data flows one
way, lessons never depend on a generator."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from shequ import paths

SRC = paths.ROOT / "src"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every shequ module a file imports, at any depth in the file (function-level too)."""
    mod = module_name(path)
    pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("shequ")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("shequ"):
                continue
            out.add(target)
            out |= {f"{target}.{a.name}" for a in node.names}  # `from . import x` may name a module
    return out


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in SRC.rglob("*.py")}
    g = {}
    for mod, p in files.items():
        deps = set()
        for target in imports_of(p):
            while target and target not in files:  # `from shequ.bank import load` names a function
                target = target.rsplit(".", 1)[0] if "." in target else ""
            parts = target.split(".")
            deps |= {".".join(parts[:k]) for k in range(1, len(parts) + 1)} & set(files)  # packages run too
        g[mod] = deps - {mod}
    return g


def reach(g: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for d in g.get(todo.pop(), ()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def under(mods, *prefixes) -> set[str]:
    return {m for m in mods if any(m == p or m.startswith(p + ".") for p in prefixes)}


G = graph()


def test_the_import_graph_sees_the_package():
    assert {"shequ.results", "shequ.bank.load", "shequ.grading.sandbox", "shequ.synth.site"} <= set(G)
    assert "shequ.grading.course" in G["shequ.grading.bulk"]


@pytest.mark.parametrize("mod", sorted(under(G, "shequ.courses", "shequ.site")))
def test_lesson_libraries_never_import_the_generators(mod):
    assert not under(reach(G, mod), "shequ.synth"), f"{mod} 依赖了生成器 shequ.synth"


def test_the_results_table_never_imports_analytics_or_reports():
    assert not under(reach(G, "shequ.results"), "shequ.analytics", "shequ.report")


@pytest.mark.parametrize("mod", sorted(under(G, "shequ.bank", "shequ.exam")))
def test_bank_and_exam_import_nothing_downstream(mod):
    down = under(reach(G, mod), "shequ.grading", "shequ.results", "shequ.analytics", "shequ.report")
    assert not down, f"{mod} 依赖了下游模块 {sorted(down)}"


def test_the_sandboxed_kernel_imports_only_the_light_modules():
    # every exercise kernel starts by importing shequ.grading.sandbox: no pandas, nbgrader, results
    assert reach(G, "shequ.grading.sandbox") <= {"shequ", "shequ.grading", "shequ.paths"}


@pytest.mark.parametrize("nb", sorted((paths.COURSES).rglob("*.ipynb")), ids=lambda p: p.name)
def test_lessons_never_import_the_generators(nb):
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    code = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "shequ.synth" not in code and "from shequ import synth" not in code
