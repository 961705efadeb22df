"""Benchmark (not a test): coordinator analytics on a big synthetic results table.

5,000 workers × 12 rounds × 60 items = 3.6 M rows, generated with numpy (not through
simulate.take_paper): 16 街道, 256 社区 of uneven size (some under 5 workers), two forms
per round (A keeps the bank's option order, B shuffles it), 单选/多选/判断/填空 items
with typed answers, a learning gain per 社区.

Timed: generating the table; computing every view (district views, item analysis, and
the three worker views of every 街道); rendering the whole report (index, workbook,
overview, item analysis and the street reports; `--streets N` renders only N of them and
extrapolates the rest from their median time, saying so). Peak memory is the maximum
resident set size of this process and, separately, of the largest notebook kernel
(resource.getrusage). Targets: under 60 s and under 4 GB.

    python bench/analytics.py [--workers 5000] [--rounds 12] [--items 60] [--repeat 3] [--streets N]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import string
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

TYPES = ["单选"] * 20 + ["多选"] * 10 + ["判断"] * 10 + ["填空"] * 20
SKILLS = ["policy", "governance", "service", "assistance", "socialwork", "digital", "collection",
          "quality", "privacy", "website", "network"]
ROLES = ["书记", "主任", "副主任", "委员", "网格员", "信息员"]


def generate(workers: int = 5000, rounds: int = 12, items: int = 60, streets: int = 16,
             communities: int = 256, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The synthetic results table (categoricals) and its roster."""
    rng = np.random.default_rng(seed)
    types = np.array((TYPES * (items // len(TYPES) + 1))[:items])
    # roster: uneven 社区 sizes (a few under 5 workers)
    sizes = rng.gamma(2.0, 1.0, communities)
    comm_of = rng.choice(communities, size=workers, p=sizes / sizes.sum())
    street_of_comm = np.arange(communities) % streets
    wid = np.array([f"b{i:05d}" for i in range(workers)])
    street_names = np.array([f"第{i + 1:02d}街道" for i in range(streets)])
    comm_names = np.array([f"社区{c + 1:03d}" for c in range(communities)])
    roles = rng.choice(ROLES, size=workers)
    roster = pd.DataFrame({"worker_id": wid, "name": [f"测试{i:05d}" for i in range(workers)],
                           "street": street_names[street_of_comm[comm_of]],
                           "community": comm_names[comm_of], "role": roles})
    # items: difficulty, one or two skills, points; the same items every round
    b = rng.normal(-0.8, 0.9, items)
    sk1 = rng.integers(0, len(SKILLS), items)
    sk2 = np.where(rng.random(items) < 0.3, rng.integers(0, len(SKILLS), items), sk1)
    skills = np.array([SKILLS[a] if a == c else f"{SKILLS[a]};{SKILLS[c]}" for a, c in zip(sk1, sk2)])
    points = np.where(types == "多选", 2.0, 1.0)
    n_opt = np.where(types == "多选", 5, 4)
    key_single = rng.integers(0, 4, items)                         # bank key (index)
    theta = rng.normal(0, 0.8, workers)[:, None] + rng.normal(0, 0.4, (workers, len(SKILLS)))
    gain = rng.uniform(0.0, 0.25, communities)
    # rows: worker × round × item
    W, R, I = np.meshgrid(np.arange(workers), np.arange(rounds), np.arange(items), indexing="ij")
    W, R, I = W.ravel(), R.ravel(), I.ravel()
    form = (W + R) % 2                                              # A/B alternate
    logit = (theta[W, sk1[I]] + theta[W, sk2[I]]) / 2 + R * gain[comm_of[W]] - b[I]
    p = 1 / (1 + np.exp(-logit))
    u = rng.random(W.size)
    correct = u < p
    blank = rng.random(W.size) < 0.03
    score = np.where(correct & ~blank, points[I], 0.0)
    half = (types[I] == "多选") & ~correct & ~blank & (rng.random(W.size) < 0.3)
    score = np.where(half, 1.0, score)
    # perms: form A identity, form B a fixed shuffle per item
    perm_b = ["".join(rng.permutation(list(string.ascii_uppercase[:k]))) for k in n_opt]
    perm_cats = sorted({"ABCD", "ABCDE", ""} | set(perm_b))
    perm_code_a = np.array([perm_cats.index("ABCD" if k == 4 else "ABCDE") for k in n_opt])
    perm_code_b = np.array([perm_cats.index(pb) for pb in perm_b])
    choice = np.isin(types, ["单选", "多选"])
    perm_code = np.where(choice[I], np.where(form == 0, perm_code_a[I], perm_code_b[I]), perm_cats.index(""))
    # typed answers (displayed letters): the key when right, another letter when wrong
    answers = ["", "A", "B", "C", "D", "E", "a", " b ", "Ｃ", "BD", "A、C", "ABE", "对", "错", "√", "×", "不知道"]
    ans = np.zeros(W.size, dtype=np.int16)
    disp_key = np.where(form == 0, key_single[I], (key_single[I] + 1) % 4)   # where the key is shown on B
    wrong = (disp_key + rng.integers(1, 4, W.size)) % 4
    letter = np.where(correct, disp_key, wrong)
    single = types[I] == "单选"
    ans = np.where(single, 1 + letter, ans)
    ans = np.where(types[I] == "多选", np.where(correct, 9, np.where(half, 10, 11)), ans)
    ans = np.where(types[I] == "判断", np.where(correct, 12, 13), ans)
    ans = np.where(types[I] == "填空", np.where(correct, 0, 16), ans)
    ans = np.where(blank, 0, ans)
    dates = [f"2026-{m:02d}-15" if m <= 12 else f"2027-{m - 12:02d}-15" for m in range(1, rounds + 1)]
    rnames = [f"r{k + 1:02d}" for k in range(rounds)]
    assess = np.array([f"bench-{r}-{f}" for r in rnames for f in "ab"])
    cat = pd.Categorical.from_codes
    type_cats = sorted(set(types))
    type_code = np.array([type_cats.index(x) for x in types])
    skill_cats = sorted(set(skills))
    skill_code = np.array([skill_cats.index(x) for x in skills])
    role_code = np.array([ROLES.index(x) for x in roles])
    df = pd.DataFrame({
        "worker_id": cat(W, wid),
        "assessment": cat(R * 2 + form, assess),
        "kind": cat(np.zeros(W.size, dtype=np.int8), ["exam"]),
        "paper": cat(np.zeros(W.size, dtype=np.int8), ["bench"]),
        "round": cat(R, rnames),
        "date": cat(R, dates),
        "form": cat(form, ["A", "B"]),
        "cell": cat(I, [f"q{i + 1:02d}" for i in range(items)]),
        "item": cat(I, [f"itm-{i + 1:04d}" for i in range(items)]),
        "type": cat(type_code[I], type_cats),
        "level": cat(I % 3, ["识记", "理解", "应用"]),
        "skills": cat(skill_code[I], skill_cats),
        "score": score,
        "max_score": points[I],
        "street": cat(street_of_comm[comm_of[W]], list(street_names)),
        "community": cat(comm_of[W], list(comm_names)),
        "role": cat(role_code[W], ROLES),
        "answer": cat(ans, answers),
        "perm": cat(perm_code, perm_cats),
    })
    return df, roster


def rss_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


class TreeMemory:
    """Samples the proportional set size (PSS) of this process and all its descendants (the
    notebook kernels, the index process) from /proc every 0.2 s; keeps the peak of the sum
    and the peak of the largest single process."""

    def __init__(self):
        import threading

        self.peak_total = self.peak_one = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _tree() -> dict[int, float]:
        parent, rss = {}, {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    parent[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
                # PSS: pages shared by several processes (a fork) are split among them
                with open(f"/proc/{d}/smaps_rollup") as f:
                    for line in f:
                        if line.startswith("Pss:"):
                            rss[int(d)] = int(line.split()[1]) / 1024
                            break
            except (OSError, IndexError, ValueError):
                continue
        mine, todo = set(), [os.getpid()]
        while todo:
            p = todo.pop()
            mine.add(p)
            todo += [c for c, pp in parent.items() if pp == p and c not in mine]
        return {p: rss.get(p, 0.0) for p in mine}

    def _run(self):
        while not self._stop.wait(0.2):
            t = self._tree()
            self.peak_total = max(self.peak_total, sum(t.values()))
            self.peak_one = max(self.peak_one, max(t.values(), default=0.0))

    def __enter__(self):
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()


def cpu_s() -> float:
    """CPU seconds used so far by this process and its finished children (the kernels)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def compute_views(df: pd.DataFrame, roster: pd.DataFrame) -> dict:
    from shequ import analytics
    from shequ.analytics import items as itemstats

    t = {}
    t0 = time.perf_counter()
    ana = itemstats.analyse(df)
    t["item analysis"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    analytics.district_views(df, roster, ana)
    t["district views"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    for s in sorted(roster["street"].unique()):
        sub = df[(df["street"] == s).to_numpy()]
        analytics.worker_profiles(sub, roster, s)
        analytics.worker_progress(sub, roster, s)
        analytics.retraining(sub, roster, s)
    t["street views (all)"] = time.perf_counter() - t2
    t["all views"] = time.perf_counter() - t0
    return t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--items", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=3, help="repetitions (medians are printed)")
    ap.add_argument("--streets", type=int, default=None,
                    help="render only this many street reports and extrapolate the rest")
    ap.add_argument("--no-render", action="store_true")
    args = ap.parse_args(argv)

    from shequ.report import render as report

    t = time.perf_counter()
    df, roster = generate(args.workers, args.rounds, args.items)
    gen = time.perf_counter() - t
    mem_df = df.memory_usage(deep=True).sum() / 2 ** 20
    n_streets = roster["street"].nunique()
    print(f"表：{len(df):,} 行（{args.workers} 人 × {args.rounds} 轮 × {args.items} 题），"
          f"{n_streets} 个街道、{roster['community'].nunique()} 个社区；内存 {mem_df:.0f} MB；生成 {gen:.1f} s")

    print(f"机器：{os.cpu_count()} 核，开始时 1 分钟平均负载 {os.getloadavg()[0]:.1f}（其他进程也在用 CPU 时，墙钟时间会变长）")
    views, vcpu = [], []
    for _ in range(args.repeat):
        c = cpu_s()
        views.append(compute_views(df.copy(deep=False), roster))   # a new object: no cached aggregates
        vcpu.append(cpu_s() - c)
    med = {k: statistics.median(v[k] for v in views) for k in views[0]}
    print("视图计算（中位数，{} 次）：".format(args.repeat) + "；".join(f"{k} {v:.2f} s" for k, v in med.items())
          + f"；CPU {statistics.median(vcpu):.1f} s")

    if args.no_render:
        print(f"峰值内存（本进程）：{rss_mb():.0f} MB")
        return 0
    streets = sorted(roster["street"].unique())
    chosen = streets if not args.streets else streets[:args.streets]
    renders = []
    with tempfile.TemporaryDirectory() as tmp, TreeMemory() as mem:
        for _ in range(args.repeat):
            tm: dict = {}
            t, c = time.perf_counter(), cpu_s()
            report.render(df.copy(deep=False), roster, out_dir=Path(tmp) / "report", streets=chosen, timings=tm)
            tm["wall"] = time.perf_counter() - t
            tm["cpu"] = cpu_s() - c
            renders.append(tm)
        size = sum(f.stat().st_size for f in (Path(tmp) / "report").rglob("*") if f.is_file()) / 2 ** 20
    wall = statistics.median(r["wall"] for r in renders)
    per_street = statistics.median(v for r in renders for k, v in r.items() if k.startswith("street-"))
    extra = (len(streets) - len(chosen)) * per_street / 2   # two kernels share the rest
    rcpu = statistics.median(r["cpu"] for r in renders)
    print(f"报告渲染（中位数，{args.repeat} 次）：{wall:.1f} s，CPU {rcpu:.1f} s（{len(chosen)}/{len(streets)} 份街道报告；"
          f"每份街道报告中位 {per_street:.2f} s；首页与工作簿（并行的子进程）CPU "
          f"{statistics.median(r.get('index_cpu', 0) for r in renders):.1f} s；报告目录 {size:.0f} MB）")
    if extra:
        print(f"  其余 {len(streets) - len(chosen)} 份街道报告按中位耗时外推（两个内核并行）：+{extra:.1f} s → 约 {wall + extra:.1f} s")
    total = med["all views"] + wall + extra
    idle = statistics.median(vcpu) + (rcpu + 2 * extra) / 2
    print(f"  按 CPU 时间估算空闲 2 核机器上的墙钟：视图 {statistics.median(vcpu):.1f} s + 渲染 {(rcpu + 2 * extra) / 2:.1f} s"
          f" ≈ {idle:.1f} s（渲染用两个内核并行，CPU 时间 / 2）")
    print(f"合计（视图 + 渲染{'，含外推' if extra else ''}）：{total:.1f} s，目标 60 s：{'达到' if total < 60 else '未达到'}"
          f"（空闲机器估计 {idle:.1f} s：{'达到' if idle < 60 else '未达到'}）")
    print(f"峰值内存：本进程 {rss_mb():.0f} MB（getrusage 最大常驻）；渲染时整个进程树（本进程 + 首页进程 + 两个内核）"
          f"同时占用（PSS 之和）峰值 {mem.peak_total:.0f} MB，单个进程峰值 {mem.peak_one:.0f} MB；"
          f"目标 4 GB：{'达到' if max(rss_mb(), mem.peak_total) < 4096 else '未达到'}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
