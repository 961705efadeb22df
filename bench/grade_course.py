"""Benchmark (not a test): `shequ grade` on course-exercise submissions, which need a kernel,
with --jobs 1, 2 and 4.

Builds a scratch course (all exercises, real nbgrader generate), hands in N submissions (the
reference solution, the blank release and the plausible wrong solutions, cycled), grades them
all with each job count, repeated and interleaved (1, 2, 4, 1, 2, 4 …), and prints per-submission
time, medians and speed-ups side by side; checks that every run gives the same scores.

    python bench/grade_course.py [--submissions 40] [--repeat 3] [--jobs 1 2 4]
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from shequ import paths
from shequ.exam import exercise as course
from shequ.grading import course as grading
from shequ.grading import run as gradeops

SOL = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION\n?", re.S | re.M)


def submissions_for(root: Path, names: list[str]) -> list[tuple[str, object]]:
    """(assignment, notebook) candidates: solution, each wrong solution, blank; taken one exercise
    at a time in turn, so that a few submissions already cover every exercise."""
    per_exercise = []
    wrong_dir = paths.ROOT / "tests" / "files" / "wrong-solutions"
    for a in names:
        source = nbformat.read(root / "source" / a / f"{a}.ipynb", 4)
        release = nbformat.read(root / "release" / a / f"{a}.ipynb", 4)
        solved = {c.metadata["nbgrader"]["grade_id"]: SOL.sub(lambda m: m.group(1), c.source)
                  for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
        variants = [{}] + [json.loads(w.read_text(encoding="utf-8")) for w in sorted(wrong_dir.glob(f"{a}--*.json"))]
        out = []
        for replace in variants:
            nb = nbformat.from_dict(json.loads(nbformat.writes(release)))
            for c in nb.cells:
                g = c.metadata.get("nbgrader", {}).get("grade_id")
                if g in solved:
                    c.source = replace.get(g, solved[g])
            out.append((a, nb))
        out.append((a, release))
        per_exercise.append(out)
    turns = itertools.zip_longest(*per_exercise)
    return [c for turn in turns for c in turn if c is not None]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--submissions", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--timeout", type=int, default=120)
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="shequ-bench-"))
    root = grading.new_course(tmp / "grading")
    paths.GRADING = root
    os.environ["SHEQU_GRADING"] = str(root)
    os.environ.pop("SHEQU_DB_URL", None)
    try:
        t = time.monotonic()
        names = [m["assignment"] for m in course.build(out_root=root)]
        grading.generate_many(names)
        pool = submissions_for(root, names)
        for k in range(args.submissions):
            a, nb = pool[k % len(pool)]
            d = root / "submitted" / f"b{k:04d}" / a
            d.mkdir(parents=True)
            nbformat.write(nb, str(d / f"{a}.ipynb"))
            (d / "timestamp.txt").write_text("2026-06-01 10:00:00.000000 UTC", encoding="utf-8")
        used = sorted({pool[k % len(pool)][0] for k in range(args.submissions)})
        print(f"准备：{len(names)} 个练习，{args.submissions} 份作答（{len(used)} 个练习），"
              f"{os.cpu_count()} 核，用时 {time.monotonic() - t:.0f} 秒", flush=True)

        walls: dict[int, list[float]] = {j: [] for j in args.jobs}
        scores: dict[int, dict] = {}
        for r in range(args.repeat):
            for j in args.jobs:
                t = time.monotonic()
                rep = gradeops.grade(used, jobs=j, timeout=args.timeout, force=True, out=lambda *a, **k: None)
                wall = time.monotonic() - t
                if rep.failed:
                    print("评分失败：", [(o.assignment, o.worker, o.reason) for o in rep.failed])
                    return 1
                got = {(o.assignment, o.worker): o.score for o in rep.graded}
                if len(got) != args.submissions:
                    print(f"只评了 {len(got)} 份")
                    return 1
                if j in scores and scores[j] != got or scores and next(iter(scores.values())) != got:
                    print(f"--jobs {j} 第 {r + 1} 轮的分数与其他运行不一致")
                    return 1
                scores[j] = got
                walls[j].append(wall)
                print(f"  第 {r + 1} 轮 --jobs {j}：{wall:6.1f} 秒，每份 {wall / args.submissions:5.2f} 秒", flush=True)

        base = statistics.median(walls[args.jobs[0]])
        print(f"\n{'jobs':>5} {'中位总时长':>10} {'每份':>8} {'加速比':>8}   各轮（秒）")
        for j in args.jobs:
            med = statistics.median(walls[j])
            print(f"{j:>5} {med:>10.1f} {med / args.submissions:>8.2f} {base / med:>7.2f}×   "
                  + " ".join(f"{w:.1f}" for w in walls[j]))
        print(f"各次运行分数一致（{args.submissions} 份 × {len(args.jobs) * args.repeat} 次）。"
              f"目标：2 核上 --jobs 2 至少 1.7×。")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
