"""Shared by the report tests: results tables of chosen shapes, the checks every rendered
report must pass, and the small report the browser tests open (in headless Chromium)."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from shequ import bank, results
from shequ.grading import roster as roster_mod

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

ROSTER = roster_mod.frame()
POOL = [it for it in bank.load_ok() if it.type in ("单选", "判断", "多选")][:120]


def make_table(seed: int, papers: dict[str, int], exercises: int = 0, drop_streets: int = 0,
               tiny: bool = False, unknown: bool = False, workers: int = 80,
               items: int = 12, same_items: bool = True) -> pd.DataFrame:
    """A synthetic results table of a chosen shape: `papers` = {paper: rounds}."""
    rng = np.random.default_rng(seed)
    ros = ROSTER.copy()
    streets = sorted(ros["street"].unique())
    ros = ros[ros["street"].isin(streets[drop_streets:])]
    ros = ros.sample(n=min(workers, len(ros)), random_state=seed).sort_values("worker_id")
    if tiny:   # every 社区 of the first street down to 1–3 people
        first = sorted(ros["street"].unique())[0]
        small = ros[ros["street"] == first].groupby("community").head(int(rng.integers(1, 4)))
        ros = pd.concat([ros[ros["street"] != first], small])
    people = [dict(r) for r in ros[["worker_id", "street", "community", "role"]].to_dict("records")]
    rows = []

    def add(p, kind, paper, assessment, rnd, date, chosen):
        form = "A" if int(p["worker_id"][-1:] or 0) % 2 else "B"
        ability = rng.uniform(0.3, 0.95)
        for k, it in enumerate(chosen):
            rows.append({**p, "assessment": assessment, "kind": kind, "paper": paper, "round": rnd, "date": date,
                         "form": form if kind == "exam" else "", "cell": f"q{k + 1:02d}", "item": it.id,
                         "type": it.type, "level": it.level, "skills": ";".join(it.skills),
                         "score": float(rng.random() < ability), "max_score": 1.0})

    base = list(rng.choice(len(POOL), items, replace=False))
    for paper, n_rounds in papers.items():
        for r in range(n_rounds):
            pick = base if same_items else list(rng.choice(len(POOL), items, replace=False))
            chosen = [POOL[i] for i in pick]
            label, date = f"r{r + 1}", f"2026-{3 * r + 3:02d}-15"
            for p in people:
                if rng.random() < 0.85:
                    add(p, "exam", paper, f"{paper}-{label}-a", label, date, chosen)
    for e in range(exercises):
        chosen = [POOL[i] for i in rng.choice(len(POOL), 3, replace=False)]
        for p in people:
            if rng.random() < 0.6:
                add(p, "exercise", f"ex-{e + 1:02d}", f"ex-{e + 1:02d}", "", "", chosen)
    df = pd.DataFrame(rows, columns=results.COLUMNS)
    if unknown and len(df):   # the OS user a shared JupyterLab submits as: not on the roster
        first = df[df["worker_id"] == df["worker_id"].iloc[0]]
        df = pd.concat([df, first.assign(worker_id="root", street="", community="", role="")], ignore_index=True)
    return results.categorise(df)


def pages(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text(encoding="utf-8") for p in sorted(out.rglob("*.html"))}


MEAN_WITH_SMALL_N = re.compile(r"(?<![\d.])\d+\.\d（n=[1-4]）")
MINUS_ZERO = re.compile(r"(?<![\d.\w])-0(?:\.0+)?(?![\d.])")


def check_report(out: Path) -> dict[str, str]:
    """Every page parses, every local link and image resolves, no placeholder, no `nan`, no
    `-0`, no mean shown for a group under 5, no page for a nameless street."""
    assert not list(out.parent.glob(f".{out.name}-*")), "staging folder left behind"
    found = pages(out)
    assert "index.html" in found
    for name, text in found.items():
        body = re.sub(r"<(style|script)\b.*?</\1>", "", text, flags=re.S)
        visible = re.sub(r"<[^>]+>", " ", body)
        assert "{first}" not in visible and "{last}" not in visible, name
        assert not re.search(r"\bnan\b|\bNaN\b", visible), (name, re.search(r".{40}\bnan\b.{40}", visible, re.I))
        assert not MINUS_ZERO.search(visible), (name, MINUS_ZERO.search(visible))
        assert not MEAN_WITH_SMALL_N.search(visible), (name, MEAN_WITH_SMALL_N.search(visible))
        assert "<title>街道报告：</title>" not in text, name
        for ref in re.findall(r'(?:href|src)="([^"#]+)', body):
            if ref.startswith(("data:", "http")):
                assert ref.startswith("data:"), f"{name}: link leaves the report: {ref}"
                continue
            assert ((out / name).parent / ref).exists(), f"{name}: broken link {ref}"
    return found


def browser_report(tmp_path_factory, simulated_results) -> dict:
    """A report of 150 simulated workers with its notebook pages, in a tmp folder (never the
    user's build/report/), for the tests that open it in Chromium."""
    import pytest

    from shequ.report import render

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (Debian package chromium)")
    df, _, _ = simulated_results(tmp_path_factory.mktemp("grading"), seed=3, plant=False, workers=150)
    out = tmp_path_factory.mktemp("built") / "report"
    index = render.render(df, ROSTER, out_dir=out)
    present = ROSTER[ROSTER["worker_id"].isin(set(df["worker_id"].astype(str)))]
    return {"index": index, "out": out, "roster": present, "df": df}
